//! MQTT 5.0 on the platform (protocol reference §8): reason codes explained for an Alibaba
//! device, and the platform's limits checked.

use super::expert::Ei;
use super::expert::Finding;

/// At most this many user properties per CONNECT or PUBLISH.
pub const MAX_USER_PROPERTIES: u32 = 20;
/// Maximum packet size the platform accepts.
pub const MAX_PACKET_SIZE: usize = 256 * 1024;
/// Topic alias maximum the platform grants.
pub const MAX_TOPIC_ALIAS: u16 = 20;

/// What an MQTT 5 reason code (PUBACK, DISCONNECT) means for an Alibaba device.
pub fn reason_meaning(code: u8) -> &'static str {
    match code {
        0x00 => "success",
        0x04 => "disconnect with will message",
        0x10 => "no matching subscribers",
        0x80 => "unspecified error",
        0x81 => "malformed packet",
        0x82 => "protocol error",
        0x83 => "implementation specific error",
        0x87 => "not authorized (topic not allowed for this device)",
        0x89 => "server busy",
        0x8B => "server shutting down",
        0x8D => "keep-alive timeout: the device sent nothing for 1.5 × its keep-alive",
        0x8E => "session taken over: the same device logged in on another connection",
        0x90 => "topic name invalid",
        0x93 => "receive maximum exceeded",
        0x94 => "topic alias invalid (the platform allows at most 20)",
        0x95 => "packet too large (the platform allows 256 KiB)",
        0x96 => "message rate too high",
        0x97 => "quota exceeded (throttled)",
        0x98 => "administrative action (device disabled or deleted?)",
        0x99 => "payload format invalid",
        0x9A => "retain not supported",
        0x9B => "QoS not supported (the platform supports QoS 0 and 1)",
        0x9C => "use another server",
        0x9D => "server moved",
        0x9F => "connection rate exceeded",
        _ => "unknown reason code",
    }
}

/// The MQTT 5 facts of one packet aliiot checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct V5 {
    pub puback_reason: Option<u8>,
    pub disconnect_reason: Option<u8>,
    pub user_properties: u32,
    pub topic_alias: Option<u16>,
    /// The whole MQTT packet's length.
    pub packet_len: usize,
}

/// Checks the platform's limits and explains failing reason codes. Returns the reason code to
/// show, with its meaning.
pub fn check(msg_type: u8, v: &V5, experts: &mut Vec<(Ei, String)>) -> Option<(u8, &'static str)> {
    if v.user_properties > MAX_USER_PROPERTIES {
        let f = Finding::UserProperties {
            count: v.user_properties,
            max: MAX_USER_PROPERTIES,
        };
        experts.push(f.item());
    }
    if msg_type == super::mqtt::PUBLISH && v.packet_len > MAX_PACKET_SIZE {
        experts.push(Finding::PacketTooLarge(v.packet_len).item());
    }
    if let Some(a) = v.topic_alias.filter(|a| *a > MAX_TOPIC_ALIAS) {
        let f = Finding::TopicAlias {
            alias: a,
            max: MAX_TOPIC_ALIAS,
        };
        experts.push(f.item());
    }
    let reason = v.puback_reason.or(v.disconnect_reason)?;
    let meaning = reason_meaning(reason);
    if reason >= 0x80 || reason == 0x8E {
        let what = if v.puback_reason.is_some() {
            "PUBACK"
        } else {
            "DISCONNECT"
        };
        let f = Finding::ReasonCode {
            packet: what,
            reason,
            meaning,
        };
        experts.push(f.item());
    }
    Some((reason, meaning))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_reasons() {
        let mut e = Vec::new();
        let v = V5 {
            user_properties: 21,
            topic_alias: Some(21),
            packet_len: 300_000,
            ..Default::default()
        };
        assert_eq!(check(3, &v, &mut e), None);
        assert_eq!(e.len(), 3);
        let mut e = Vec::new();
        let v = V5 {
            disconnect_reason: Some(0x8E),
            ..Default::default()
        };
        assert_eq!(check(14, &v, &mut e), Some((0x8E, reason_meaning(0x8E))));
        assert_eq!(e[0].1, "DISCONNECT reason 0x8e: session taken over: the same device logged in on another connection");
        let mut e = Vec::new();
        assert_eq!(
            check(
                4,
                &V5 {
                    puback_reason: Some(0),
                    ..Default::default()
                },
                &mut e
            ),
            Some((0, "success"))
        );
        assert!(e.is_empty());
    }
}
