//! Capture-wide statistics (`tshark -z aliiot,tree`, Statistics › Alibaba Cloud IoT): what one
//! packet adds to the tree. The glue turns the paths into stats_tree nodes; counts add up along
//! each path, so a product's count is the sum of its devices'.

use super::flow::{End, END_VALUES};
use super::payload::{self, Body};
use super::session::{Conn, Direction, PduRecord, CONNACK, CONNECT, PUBLISH};

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
    /// Reply time in microseconds, and the class it is a reply of.
    pub reply_time_us: Option<i64>,
    pub unanswered: bool,
    pub end: Option<End>,
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
        product_key: id.product_key.clone(),
        device_name: id.device_name.clone(),
        class: topic.map(|t| t.class),
        is_reply: topic.is_some_and(|t| t.is_reply),
        up: rec.direction.map(|d| d == Direction::DeviceToCloud),
        session_start: rec.msg_type == CONNECT && conn.connect_frame == Some(frame),
        login: rec
            .connack
            .filter(|_| rec.msg_type == CONNACK)
            .map(|c| (c.code, c.accepted, c.meaning)),
        alink_code,
        reply_time_us: rec.reply.map(|r| r.delta_ns / 1000),
        unanswered,
        end: (final_pass && conn.flow.last_frame == frame).then(|| conn.flow.end()),
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
        if code != 200 {
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
            reply_time_us: Some(42_122),
            unanswered: false,
            end: Some(End::Disconnect),
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
