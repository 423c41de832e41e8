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
        Body::File(f) => f.header.code,
        _ => None,
    });
    let unanswered = final_pass
        && rec
            .request
            .and_then(|i| conn.requests.get(i))
            .is_some_and(|r| r.expects_reply && r.response.is_none());
    Some(TapRecord {
        product_key: id.product_key().to_string(),
        device_name: id.device_name().to_string(),
        class: topic.map(|t| t.class),
        is_reply: topic.is_some_and(|t| t.is_reply),
        up: rec.direction.map(|d| d == Direction::DeviceToCloud),
        session_start: rec.msg_type == CONNECT && conn.connect_frame == Some(frame),
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
        let dir = match r.up {
            Some(true) => "Messages up",
            Some(false) => "Messages down",
            None => "Messages",
        };
        let class_label = format!(
            "{}{}",
            class.name,
            super::topic::reply_suffix(class, r.is_reply)
        );
        sink.tick(&[DEVICES, pk, dn, dir, &class_label]);
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
        let mut out = String::from("\n=== Alibaba Cloud IoT devices ===\n");
        let mut lines: Vec<Vec<String>> = vec![COLUMNS.iter().map(|c| c.0.to_string()).collect()];
        for ((pk, dn), r) in &self.rows {
            lines.push(COLUMNS.iter().map(|c| (c.2)(pk, dn, r)).collect());
        }
        let widths: Vec<usize> = (0..COLUMNS.len())
            .map(|i| {
                lines
                    .iter()
                    .map(|l| l[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for l in &lines {
            let cells: Vec<String> = l
                .iter()
                .zip(COLUMNS)
                .zip(&widths)
                .map(|((c, (_, left, _)), &w)| {
                    if *left {
                        format!("{c:<w$}")
                    } else {
                        format!("{c:>w$}")
                    }
                })
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
        out.push_str("===\n");
        out
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
                "Devices/pk/dn/Messages down/thing.event.post reply",
                "Messages by topic class/thing.event.post reply",
                "Reply time by topic class (µs)/thing.event.post <- 42122",
                "Alink reply codes/460 request parameter error",
                "Devices/pk/dn/Error replies",
                "Sessions by end/clean DISCONNECT",
            ]
        );
    }
}
