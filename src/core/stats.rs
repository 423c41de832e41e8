//! Capture-wide statistics (`tshark -z aliiot,tree`, Statistics › Alibaba Cloud IoT): what one
//! packet adds to the tree. The glue turns the paths into stats_tree nodes; counts add up along
//! each path, so a product's count is the sum of its devices'.

use super::fields::END_VALUES;
use super::flow::End;
use super::mqtt::{CONNACK, CONNECT, PUBLISH};
use super::payload::{self, Body};
use super::session::{Conn, Direction, PduRecord};

pub const TREE_NAME: &str = "Alibaba Cloud IoT";

/// What one analysed MQTT packet contributes to the statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct TapRecord {
    pub product_key: String,
    pub device_name: String,
    pub class: Option<super::topic::Class>,
    pub is_reply: bool,
    pub up: Option<bool>,
    pub session_start: bool,
    pub login: Option<(u8, bool, &'static str)>,
    pub alink_code: Option<u64>,
    /// The reply's code is an error (not 200, and not an OTA push's 1000).
    pub alink_error: bool,
    /// Reply time in microseconds, and the class it is a reply of.
    pub reply_time_us: Option<i64>,
    pub unanswered: bool,
    pub end: Option<End>,
    pub sdk: Option<String>,
}

/// The statistics contribution of a packet, from its record and its connection's state.
/// Unanswered requests and session ends are known only on a later pass (`final_pass`).
pub fn tap_record(rec: &PduRecord, conn: &Conn, frame: u32, final_pass: bool) -> Option<TapRecord> {
    let id = rec.identity.as_ref().or(conn.identity.as_ref())?;
    let topic = rec.topics.first().filter(|_| rec.msg_type == PUBLISH);
    let alink_code = rec.payload.as_ref().and_then(|p| match &p.body {
        Body::Alink(a) => a.code,
        Body::AlinkCode(c) => *c,
        Body::File(f) => f.header.code,
        _ => None,
    });
    let unanswered = final_pass
        && rec
            .request
            .and_then(|i| conn.requests.get(i))
            .is_some_and(|r| r.expects_reply && r.response().is_none());
    Some(TapRecord {
        product_key: id.product_key().to_string(),
        device_name: id.device_name().to_string(),
        class: topic.map(|t| t.class),
        is_reply: topic.is_some_and(|t| t.is_reply),
        up: rec.direction.map(|d| d == Direction::DeviceToCloud),
        session_start: rec.msg_type == CONNECT && conn.connect_frame() == Some(frame),
        login: rec
            .connack
            .filter(|_| rec.msg_type == CONNACK)
            .map(|c| (c.code, c.accepted, c.meaning)),
        alink_code,
        alink_error: rec.alink_error(),
        reply_time_us: rec.reply.map(|r| r.delta_ns / 1000),
        unanswered,
        end: (final_pass && conn.flow.last_frame == frame).then(|| conn.flow.end()),
        sdk: conn.sdk.as_deref().map(str::to_string),
    })
}

/// Where the statistics go.
pub trait StatsSink {
    /// Counts one under each node of `path` (creating them as needed).
    fn tick(&mut self, path: &[&str]);
    /// Adds a sample to the average node at the end of `path`.
    fn sample(&mut self, path: &[&str], value: i64);
    /// Counts one under each node of `path` and adds a sample to the last (its average, minimum
    /// and maximum).
    fn sample_f64(&mut self, path: &[&str], value: f64) {
        let _ = value;
        self.tick(path);
    }
    /// Counts `n` under a child `name` of the node the last call reached (not counting its
    /// ancestors again). Only the properties tree has such children.
    fn add_to_last(&mut self, name: &str, n: u32) {
        let _ = (name, n);
    }
}

/// One property value a device reported (`tshark -z aliiot,properties`).
#[derive(Debug, Clone, PartialEq)]
pub struct PropertySample {
    pub name: String,
    /// The thing model's name for it.
    pub display_name: Option<String>,
    pub value: String,
    pub value_num: Option<f64>,
    /// Thing-model findings about this value.
    pub findings: u32,
}

/// The property values of one packet.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyRecord {
    pub product_key: String,
    pub device_name: String,
    pub samples: Vec<PropertySample>,
}

/// The property values a device reports in a packet (posts, batch posts, get replies): none for
/// a packet from the cloud (a set is a wish, not a value).
pub fn property_record(rec: &PduRecord, conn: &Conn) -> Option<PropertyRecord> {
    if rec.direction != Some(Direction::DeviceToCloud) {
        return None;
    }
    let Some(Body::Alink(a)) = rec.payload.as_ref().map(|p| &p.body) else {
        return None;
    };
    if a.properties.is_empty() || a.args != super::tsl::Args::Properties {
        return None;
    }
    let id = rec.identity.as_ref().or(conn.identity.as_ref())?;
    let samples = a
        .properties
        .iter()
        .map(|p| {
            let tsl = p.tsl.as_deref();
            PropertySample {
                name: p.name.clone(),
                display_name: tsl
                    .and_then(|t| t.def.as_ref())
                    .map(|d| d.display_name.to_string()),
                value: p.value.clone(),
                value_num: p.value_num,
                findings: tsl.map_or(0, |t| t.issues.len() as u32),
            }
        })
        .collect();
    Some(PropertyRecord {
        product_key: id.product_key().to_string(),
        device_name: id.device_name().to_string(),
        samples,
    })
}

/// The properties statistics tree (Statistics › Alibaba Cloud IoT properties): product, device,
/// property, with each number's average, minimum and maximum, and the thing-model findings.
pub fn apply_properties(r: &PropertyRecord, sink: &mut dyn StatsSink) {
    let (pk, dn) = (r.product_key.as_str(), r.device_name.as_str());
    for s in &r.samples {
        let path = [pk, dn, s.name.as_str()];
        match s.value_num {
            Some(v) => sink.sample_f64(&path, v),
            None => sink.tick(&path),
        }
        if s.findings > 0 {
            sink.add_to_last("TSL findings", s.findings);
        }
    }
}

/// One line per product, device and property (`tshark -z aliiot,properties`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PropertyRow {
    pub display_name: Option<String>,
    pub count: u32,
    pub numbers: u32,
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    pub last: String,
    pub findings: u32,
}

#[derive(Debug, Default)]
pub struct PropertyTable {
    rows: std::collections::BTreeMap<(String, String, String), PropertyRow>,
}

/// The longest last value shown (in characters).
const MAX_LAST: usize = 24;

impl PropertyTable {
    pub fn add(&mut self, r: &PropertyRecord) {
        for s in &r.samples {
            let key = (r.product_key.clone(), r.device_name.clone(), s.name.clone());
            let row = self.rows.entry(key).or_default();
            if row.display_name.is_none() {
                row.display_name.clone_from(&s.display_name);
            }
            row.count += 1;
            if let Some(v) = s.value_num {
                if row.numbers == 0 {
                    (row.min, row.max) = (v, v);
                }
                row.numbers += 1;
                row.min = row.min.min(v);
                row.max = row.max.max(v);
                row.sum += v;
            }
            row.last = if s.value.chars().count() > MAX_LAST {
                s.value.chars().take(MAX_LAST - 1).chain(['…']).collect()
            } else {
                s.value.clone()
            };
            row.findings += s.findings;
        }
    }

    pub fn clear(&mut self) {
        self.rows.clear();
    }

    /// The table as text, sorted by product, device and property.
    pub fn render(&self) -> String {
        let num = |r: &PropertyRow, v: f64| {
            if r.numbers == 0 {
                "-".to_string()
            } else {
                format!("{}", (v * 1e6).round() / 1e6)
            }
        };
        let mut lines: Vec<Vec<String>> = vec![[
            "Product",
            "Device",
            "Property",
            "Name",
            "Count",
            "Min",
            "Avg",
            "Max",
            "Last",
            "TSL findings",
        ]
        .iter()
        .map(|c| c.to_string())
        .collect()];
        for ((pk, dn, name), r) in &self.rows {
            lines.push(vec![
                pk.clone(),
                dn.clone(),
                name.clone(),
                r.display_name.clone().unwrap_or_else(|| "-".into()),
                r.count.to_string(),
                num(r, r.min),
                num(r, r.sum / r.numbers.max(1) as f64),
                num(r, r.max),
                r.last.clone(),
                r.findings.to_string(),
            ]);
        }
        table("Alibaba Cloud IoT properties", &lines, &[4, 5, 6, 7, 9])
    }
}

/// A text table: a title, a head line and rows, columns padded (`right`: right-aligned).
fn table(title: &str, lines: &[Vec<String>], right: &[usize]) -> String {
    let n = lines.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!("\n=== {title} ===\n");
    for l in lines {
        let cells: Vec<String> = l
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let w = widths[i];
                if right.contains(&i) {
                    format!("{c:>w$}")
                } else {
                    format!("{c:<w$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out.push_str("===\n");
    out
}

pub const DEVICES: &str = "Devices";
pub const CLASSES: &str = "Messages by topic class";
pub const LOGINS: &str = "Logins";
pub const CODES: &str = "Alink reply codes";
pub const REPLY_TIMES: &str = "Reply time by topic class (µs)";
pub const UNANSWERED: &str = "Unanswered requests";
pub const ENDS: &str = "Sessions by end";

/// The top-level nodes, in display order.
pub const TOP: &[&str] = &[
    DEVICES,
    LOGINS,
    CLASSES,
    CODES,
    REPLY_TIMES,
    UNANSWERED,
    ENDS,
];

pub fn apply(r: &TapRecord, sink: &mut dyn StatsSink) {
    let pk = r.product_key.as_str();
    let dn = r.device_name.as_str();
    if r.session_start {
        sink.tick(&[DEVICES, pk, dn, "Sessions"]);
    }
    if let Some((code, accepted, meaning)) = r.login {
        if accepted {
            sink.tick(&[LOGINS, "accepted"]);
        } else {
            let label = format!(
                "refused: {code} {}",
                meaning.split(':').next().unwrap_or(meaning)
            );
            sink.tick(&[LOGINS, &label]);
            sink.tick(&[DEVICES, pk, dn, "Logins refused"]);
        }
    }
    if let Some(class) = r.class {
        let class_label = class_label(class, r.is_reply);
        // Per device only the count each way: a node of Wireshark's stats tree costs a few hundred
        // bytes, so the breakdown by class is its own tree (apply_messages), made when asked for.
        sink.tick(&[DEVICES, pk, dn, direction(r)]);
        sink.tick(&[CLASSES, &class_label]);
        if let Some(us) = r.reply_time_us {
            sink.sample(&[REPLY_TIMES, class.name], us);
        }
    }
    if let Some(code) = r.alink_code {
        let label = match payload::code_meaning(code) {
            Some(m) => format!("{code} {m}"),
            None => code.to_string(),
        };
        sink.tick(&[CODES, &label]);
        if r.alink_error {
            sink.tick(&[DEVICES, pk, dn, "Error replies"]);
        }
    }
    if r.unanswered {
        sink.tick(&[UNANSWERED, r.class.map_or("other", |c| c.name)]);
        sink.tick(&[DEVICES, pk, dn, "Unanswered requests"]);
    }
    if let Some(end) = r.end {
        sink.tick(&[ENDS, END_VALUES[end as usize - 1].1]);
    }
}

fn direction(r: &TapRecord) -> &'static str {
    match r.up {
        Some(true) => "Messages up",
        Some(false) => "Messages down",
        None => "Messages",
    }
}

fn class_label(class: super::topic::Class, is_reply: bool) -> String {
    // Not format!: this runs for every message the statistics see.
    [class.name, super::topic::reply_suffix(class, is_reply)].concat()
}

/// The messages tree (`tshark -z aliiot_messages,tree`, Statistics › Alibaba Cloud IoT messages):
/// per product and device, the messages up and down by topic class.
pub fn apply_messages(r: &TapRecord, sink: &mut dyn StatsSink) {
    if let Some(class) = r.class {
        let label = class_label(class, r.is_reply);
        sink.tick(&[&r.product_key, &r.device_name, direction(r), &label]);
    }
}

/// One line per device (`tshark -z aliiot,devices`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DeviceRow {
    pub sdk: String,
    pub sessions: u32,
    pub messages: u32,
    pub errors: u32,
    pub unanswered: u32,
    pub refused: u32,
    pub worst_reply_us: Option<i64>,
}

#[derive(Debug, Default)]
pub struct DeviceTable {
    rows: std::collections::BTreeMap<(String, String), DeviceRow>,
}

impl DeviceTable {
    pub fn add(&mut self, r: &TapRecord) {
        let row = self
            .rows
            .entry((r.product_key.clone(), r.device_name.clone()))
            .or_default();
        if let Some(sdk) = r.sdk.as_ref().filter(|_| row.sdk.is_empty()) {
            row.sdk = sdk.clone();
        }
        row.sessions += r.session_start as u32;
        row.messages += r.class.is_some() as u32;
        row.errors += r.alink_error as u32;
        row.unanswered += r.unanswered as u32;
        row.refused += r.login.is_some_and(|l| !l.1) as u32;
        if let Some(us) = r.reply_time_us {
            row.worst_reply_us = Some(row.worst_reply_us.map_or(us, |w| w.max(us)));
        }
    }

    pub fn clear(&mut self) {
        self.rows.clear();
    }

    /// The table as text, one line per device, sorted by product and device.
    pub fn render(&self) -> String {
        let mut lines: Vec<Vec<String>> = vec![COLUMNS.iter().map(|c| c.0.to_string()).collect()];
        for ((pk, dn), r) in &self.rows {
            lines.push(COLUMNS.iter().map(|c| (c.2)(pk, dn, r)).collect());
        }
        let right: Vec<usize> = (0..COLUMNS.len()).filter(|i| !COLUMNS[*i].1).collect();
        table("Alibaba Cloud IoT devices", &lines, &right)
    }
}

/// A column of the device table: its head, whether it is left-aligned, and its cell.
type Column = (&'static str, bool, fn(&str, &str, &DeviceRow) -> String);

const COLUMNS: &[Column] = &[
    ("Product", true, |pk, _, _| pk.to_string()),
    ("Device", true, |_, dn, _| dn.to_string()),
    ("SDK", true, |_, _, r| {
        if r.sdk.is_empty() {
            "-".into()
        } else {
            r.sdk.clone()
        }
    }),
    ("Sessions", false, |_, _, r| r.sessions.to_string()),
    ("Refused", false, |_, _, r| r.refused.to_string()),
    ("Messages", false, |_, _, r| r.messages.to_string()),
    ("Errors", false, |_, _, r| r.errors.to_string()),
    ("Unanswered", false, |_, _, r| r.unanswered.to_string()),
    ("Worst reply", false, |_, _, r| {
        r.worst_reply_us
            .map_or("-".into(), |us| format!("{:.3} ms", us as f64 / 1000.0))
    }),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Rec(Vec<String>);
    impl StatsSink for Rec {
        fn tick(&mut self, path: &[&str]) {
            self.0.push(path.join("/"));
        }
        fn sample(&mut self, path: &[&str], value: i64) {
            self.0.push(format!("{} <- {value}", path.join("/")));
        }
        fn add_to_last(&mut self, name: &str, n: u32) {
            self.0.push(format!("+{n} {name}"));
        }
    }

    #[test]
    fn device_table() {
        let mut t = DeviceTable::default();
        let mut r = TapRecord {
            product_key: "a1B2c3D4e5F".into(),
            device_name: "lab-sensor-02".into(),
            class: None,
            is_reply: false,
            up: Some(true),
            session_start: true,
            login: None,
            alink_code: None,
            alink_error: false,
            reply_time_us: None,
            unanswered: false,
            end: None,
            sdk: Some("NodeJS 1.2.8".into()),
        };
        t.add(&r);
        r.session_start = false;
        r.class = Some(crate::core::topic::EVENT_POST);
        r.alink_code = Some(460);
        r.alink_error = true;
        r.reply_time_us = Some(42_122);
        t.add(&r);
        assert_eq!(
            t.render(),
            "\n=== Alibaba Cloud IoT devices ===\n\
             Product      Device         SDK           Sessions  Refused  Messages  Errors  Unanswered  Worst reply\n\
             a1B2c3D4e5F  lab-sensor-02  NodeJS 1.2.8         1        0         1       1           0    42.122 ms\n\
             ===\n"
        );
    }

    #[test]
    fn property_table_and_tree() {
        let sample = |name: &str, value: &str, num, findings| PropertySample {
            name: name.into(),
            display_name: (name == "temperature").then(|| "Temperature".into()),
            value: value.into(),
            value_num: num,
            findings,
        };
        let r = PropertyRecord {
            product_key: "a1B2c3D4e5F".into(),
            device_name: "lab-sensor-02".into(),
            samples: vec![
                sample("temperature", "23.6", Some(23.6), 1),
                sample("mode", "\"a very long text value that goes on\"", None, 0),
            ],
        };
        let mut t = PropertyTable::default();
        t.add(&r);
        let mut r2 = r.clone();
        r2.samples.truncate(1);
        r2.samples[0].value_num = Some(-1.5);
        r2.samples[0].value = "-1.5".into();
        t.add(&r2);
        assert_eq!(
            t.render(),
            "\n=== Alibaba Cloud IoT properties ===\n\
             Product      Device         Property     Name         Count   Min    Avg   Max  Last                      TSL findings\n\
             a1B2c3D4e5F  lab-sensor-02  mode         -                1     -      -     -  \"a very long text value…             0\n\
             a1B2c3D4e5F  lab-sensor-02  temperature  Temperature      2  -1.5  11.05  23.6  -1.5                                 2\n\
             ===\n"
        );
        let mut sink = Rec::default();
        apply_properties(&r, &mut sink);
        assert_eq!(
            sink.0,
            [
                "a1B2c3D4e5F/lab-sensor-02/temperature",
                "+1 TSL findings",
                "a1B2c3D4e5F/lab-sensor-02/mode"
            ]
        );
    }

    #[test]
    fn an_error_reply_counts_everywhere() {
        let r = TapRecord {
            product_key: "pk".into(),
            device_name: "dn".into(),
            class: Some(crate::core::topic::EVENT_POST),
            is_reply: true,
            up: Some(false),
            session_start: false,
            login: None,
            alink_code: Some(460),
            alink_error: true,
            reply_time_us: Some(42_122),
            unanswered: false,
            end: Some(End::Disconnect),
            sdk: None,
        };
        let mut s = Rec::default();
        apply(&r, &mut s);
        assert_eq!(
            s.0,
            [
                "Devices/pk/dn/Messages down",
                "Messages by topic class/thing.event.post reply",
                "Reply time by topic class (µs)/thing.event.post <- 42122",
                "Alink reply codes/460 request parameter error",
                "Devices/pk/dn/Error replies",
                "Sessions by end/clean DISCONNECT",
            ]
        );
        // The messages tree: the class under its device and direction, and nothing else.
        let mut m = Rec::default();
        apply_messages(&r, &mut m);
        assert_eq!(m.0, ["pk/dn/Messages down/thing.event.post reply"]);
        let mut m = Rec::default();
        apply_messages(
            &TapRecord {
                class: None,
                up: None,
                ..r
            },
            &mut m,
        );
        assert!(m.0.is_empty(), "{:?}", m.0);
    }
}
