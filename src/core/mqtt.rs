//! MQTT 3.1, 3.1.1 and 5.0 packets, read from their bytes.
//!
//! aliiot rides inside MQTT's own dissection: the glue calls Wireshark's MQTT dissector, then
//! hands the bytes it consumed to [`split`] and each packet to [`parse`]. Both borrow and never
//! copy; both accept any input (truncated, malformed, hostile) and say what they could read.
//! The rules are MQTT's and those of Wireshark's dissector, so aliiot sees the packets MQTT shows:
//! the same length rule (`get_mqtt_pdu_len`: a protobuf-style varint of up to 10 bytes), the same
//! fields present under the same conditions (a user name only when its flag is set, a PUBACK
//! reason code only when the remaining length says so…).

use super::session::MqttPdu;

/// MQTT packet types (high nibble of the first byte).
pub const CONNECT: u8 = 1;
pub const CONNACK: u8 = 2;
pub const PUBLISH: u8 = 3;
pub const PUBACK: u8 = 4;
pub const PUBREC: u8 = 5;
pub const PUBREL: u8 = 6;
pub const PUBCOMP: u8 = 7;
pub const SUBSCRIBE: u8 = 8;
pub const SUBACK: u8 = 9;
pub const UNSUBSCRIBE: u8 = 10;
pub const UNSUBACK: u8 = 11;
pub const PINGREQ: u8 = 12;
pub const PINGRESP: u8 = 13;
pub const DISCONNECT: u8 = 14;
pub const AUTH: u8 = 15;

/// Protocol levels.
pub const V31: u8 = 3;
pub const V311: u8 = 4;
pub const V50: u8 = 5;

/// Longest varint Wireshark's MQTT length rule reads (FT_VARINT_MAX_LEN).
const VARINT_MAX: usize = 10;

/// One MQTT packet's place in the bytes MQTT consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub offset: usize,
    /// The packet's length by its header (it may run past the captured bytes).
    pub len: usize,
}

impl Span {
    /// The packet's bytes that are at hand.
    pub fn bytes<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        let end = self.offset.saturating_add(self.len).min(data.len());
        data.get(self.offset..end).unwrap_or(&[])
    }
}

/// A protobuf-style varint (7 bits a byte, least significant first) of at most 10 bytes: its
/// value and length, or None when the bytes end before it does.
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &byte) in b.iter().take(VARINT_MAX).enumerate() {
        v |= ((byte & 0x7f) as u64)
            .checked_shl(7 * i as u32)
            .unwrap_or(0);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// The packets in `data`, the bytes MQTT consumed, cut by MQTT's length rule. The last packet
/// may be cut short (snap length, or bytes MQTT took without a whole header): its span then runs
/// past `data`, and [`parse`] reads what is there.
pub fn split(data: &[u8]) -> impl Iterator<Item = Span> + '_ {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        if at >= data.len() {
            return None;
        }
        let rest = &data[at..];
        let len = match varint(&rest[1..]) {
            Some((v, n)) => 1usize
                .saturating_add(n)
                .saturating_add(usize::try_from(v).unwrap_or(usize::MAX)),
            None => rest.len().max(1),
        };
        let span = Span { offset: at, len };
        at = at.saturating_add(len);
        Some(span)
    })
}

/// Bytes being read, with MQTT's primitive types.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn left(&self) -> usize {
        self.b.len().saturating_sub(self.at)
    }
    fn u8(&mut self) -> Option<u8> {
        let v = *self.b.get(self.at)?;
        self.at += 1;
        Some(v)
    }
    fn u16(&mut self) -> Option<u16> {
        let v = self.b.get(self.at..self.at + 2)?;
        self.at += 2;
        Some(u16::from_be_bytes([v[0], v[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        let v = self.b.get(self.at..self.at + 4)?;
        self.at += 4;
        Some(u32::from_be_bytes([v[0], v[1], v[2], v[3]]))
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let v = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(v)
    }
    /// A length-prefixed string or binary (u16 length).
    fn lstr(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()? as usize;
        self.take(n)
    }
    fn varint(&mut self) -> Option<u64> {
        let (v, n) = varint(self.b.get(self.at..)?)?;
        self.at += n;
        Some(v)
    }
    fn rest(&mut self) -> &'a [u8] {
        let v = self.b.get(self.at..).unwrap_or(&[]);
        self.at = self.b.len();
        v
    }
}

/// What [`parse`] found besides the packet's fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The packet's bytes end before its header says (snap length, or a cut capture).
    pub truncated: bool,
    /// The packet's fields do not fit its length, or a property is unknown.
    pub malformed: bool,
}

/// One MQTT 5 property's value, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prop<'a> {
    /// A byte, two- or four-byte integer, or variable byte integer.
    Int(u64),
    /// A UTF-8 string or binary data.
    Bytes(&'a [u8]),
    /// A user property: its key and its value.
    Pair(&'a [u8], &'a [u8]),
}

/// The properties of an MQTT 5 property list (its bytes after the length), in order, each with
/// its identifier. They end with the list, or at the first property that is unknown or cut short
/// (then [`Props::failed`]).
pub struct Props<'a> {
    r: Reader<'a>,
    failed: bool,
}

impl<'a> Props<'a> {
    pub fn new(list: &'a [u8]) -> Props<'a> {
        Props {
            r: Reader { b: list, at: 0 },
            failed: false,
        }
    }

    /// Whether the list held a property that is unknown or cut short.
    pub fn failed(&self) -> bool {
        self.failed
    }

    fn read(&mut self) -> Option<(u64, Prop<'a>)> {
        let p = &mut self.r;
        let id = p.varint()?;
        let v = match id {
            // byte
            0x01 | 0x17 | 0x19 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2A => Prop::Int(p.u8()?.into()),
            // two-byte integer
            0x13 | 0x21 | 0x22 | 0x23 => Prop::Int(p.u16()?.into()),
            // four-byte integer
            0x02 | 0x11 | 0x18 | 0x27 => Prop::Int(p.u32()?.into()),
            // variable byte integer (subscription identifier)
            0x0B => Prop::Int(p.varint()?),
            // UTF-8 strings and binary data
            0x03 | 0x08 | 0x09 | 0x12 | 0x15 | 0x16 | 0x1A | 0x1C | 0x1F => Prop::Bytes(p.lstr()?),
            // user property: a string pair
            0x26 => Prop::Pair(p.lstr()?, p.lstr()?),
            _ => return None,
        };
        Some((id, v))
    }
}

impl<'a> Iterator for Props<'a> {
    type Item = (u64, Prop<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.r.left() == 0 {
            return None;
        }
        let item = self.read();
        self.failed = item.is_none();
        item
    }
}

/// The user properties of an MQTT 5 property list ([`MqttPdu::properties`]), as (key, value) in
/// packet order.
pub fn user_properties(list: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    Props::new(list).filter_map(|(_, p)| match p {
        Prop::Pair(k, v) => Some((k, v)),
        _ => None,
    })
}

/// Reads an MQTT 5 property list into `pdu`. `will`: the CONNECT's will properties (only user
/// properties are counted from those).
fn properties<'a>(r: &mut Reader<'a>, pdu: &mut MqttPdu<'a>, will: bool) -> Option<()> {
    let len = usize::try_from(r.varint()?).ok()?;
    let list = r.take(len)?;
    if !will {
        pdu.properties = Some(list);
    }
    let mut props = Props::new(list);
    for (id, p) in &mut props {
        match (id, p) {
            (0x26, _) => pdu.v5.user_properties = pdu.v5.user_properties.saturating_add(1),
            _ if will => {}
            (0x23, Prop::Int(a)) => pdu.v5.topic_alias = u16::try_from(a).ok(),
            (0x08, Prop::Bytes(s)) => pdu.response_topic = Some(s),
            (0x09, Prop::Bytes(s)) => pdu.correlation = Some(s),
            (0x12, Prop::Bytes(s)) => pdu.assigned_client_id = Some(s),
            _ => {}
        }
    }
    (!props.failed()).then_some(())
}

/// Reads one MQTT packet (`bytes` from its first byte; it may be cut short). `version` is the
/// connection's protocol level as known before this packet (a CONNECT sets its own), and
/// `full_len` the packet's length by its header. Whatever can be read is filled in; reading
/// stops at the first field that is not there, as MQTT's dissector does.
pub fn parse<'a>(bytes: &'a [u8], full_len: usize, version: u8) -> (MqttPdu<'a>, Parsed) {
    let mut pdu = MqttPdu::default();
    let mut info = Parsed {
        truncated: bytes.len() < full_len,
        malformed: false,
    };
    pdu.v5.packet_len = full_len;
    let Some(&first) = bytes.first() else {
        info.truncated = true;
        return (pdu, info);
    };
    pdu.msg_type = first >> 4;
    let Some((remaining, n)) = varint(&bytes[1..]) else {
        info.truncated = true;
        return (pdu, info);
    };
    let body_end = (1 + n).saturating_add(usize::try_from(remaining).unwrap_or(usize::MAX));
    let body = &bytes[(1 + n).min(bytes.len())..body_end.min(bytes.len())];
    let mut r = Reader { b: body, at: 0 };
    if body_fields(&mut r, &mut pdu, first, remaining, version).is_none() && !info.truncated {
        info.malformed = true;
    }
    if info.truncated {
        // A payload is analysed only when it is all there.
        pdu.payload = None;
    }
    (pdu, info)
}

fn body_fields<'a>(
    r: &mut Reader<'a>,
    pdu: &mut MqttPdu<'a>,
    first: u8,
    remaining: u64,
    version: u8,
) -> Option<()> {
    let v5 = version == V50;
    match pdu.msg_type {
        CONNECT => {
            r.lstr()?; // protocol name
            let level = r.u8()?;
            pdu.version = Some(level);
            let flags = r.u8()?;
            pdu.will = flags & 0x04 != 0;
            pdu.keepalive = Some(r.u16()?);
            if level == V50 {
                properties(r, pdu, false)?;
            }
            pdu.client_id = Some(r.lstr()?);
            if pdu.will {
                if level == V50 {
                    properties(r, pdu, true)?;
                }
                r.lstr()?; // will topic
                r.lstr()?; // will message
            }
            if flags & 0x80 != 0 && r.left() > 0 {
                pdu.username = Some(r.lstr()?);
            }
            if flags & 0x40 != 0 && r.left() > 0 {
                pdu.password = Some(r.lstr()?);
            }
        }
        CONNACK => {
            r.u8()?; // flags (3.1: reserved)
            pdu.connack_code = Some(r.u8()?);
            pdu.connack_v5 = v5;
            if v5 {
                properties(r, pdu, false)?;
            }
        }
        PUBLISH => {
            pdu.qos = (first >> 1) & 3;
            pdu.dup = first & 0x08 != 0;
            pdu.retain = first & 0x01 != 0;
            let topic = r.lstr()?;
            pdu.topic = (!topic.is_empty()).then_some(topic);
            if pdu.qos > 0 {
                pdu.msgid = Some(r.u16()?);
            }
            if v5 {
                properties(r, pdu, false)?;
            }
            pdu.payload = Some(r.rest());
        }
        PUBACK | PUBREC | PUBREL | PUBCOMP => {
            pdu.msgid = Some(r.u16()?);
            let code = if v5 {
                reason(r, pdu, remaining, 2)?
            } else {
                None
            };
            if pdu.msg_type == PUBACK {
                pdu.v5.puback_reason = code;
            }
        }
        SUBSCRIBE | UNSUBSCRIBE => {
            pdu.msgid = Some(r.u16()?);
            if v5 {
                properties(r, pdu, false)?;
            }
            while r.left() > 0 {
                let filter = r.lstr()?;
                if !filter.is_empty() {
                    pdu.topics.push(filter);
                }
                if pdu.msg_type == SUBSCRIBE {
                    r.u8()?; // requested QoS / options
                }
            }
        }
        SUBACK | UNSUBACK => {
            pdu.msgid = Some(r.u16()?);
            if v5 {
                properties(r, pdu, false)?;
            }
            if pdu.msg_type == SUBACK || v5 {
                while let Some(code) = r.u8() {
                    if pdu.msg_type == SUBACK && pdu.sub_codes.len() < 256 {
                        pdu.sub_codes.push(code);
                    }
                }
            }
        }
        DISCONNECT | AUTH => {
            let code = if v5 {
                reason(r, pdu, remaining, 0)?
            } else {
                None
            };
            if pdu.msg_type == DISCONNECT {
                pdu.v5.disconnect_reason = code;
            }
        }
        _ => {}
    }
    Some(())
}

/// MQTT 5's reason code and properties after `fixed` bytes of a variable header: each may be
/// left out, as the remaining length says (PUBACK family, DISCONNECT, AUTH).
fn reason<'a>(
    r: &mut Reader<'a>,
    pdu: &mut MqttPdu<'a>,
    remaining: u64,
    fixed: u64,
) -> Option<Option<u8>> {
    if remaining <= fixed {
        return Some(None);
    }
    let byte = r.take(1)?;
    pdu.reason = Some(byte);
    let code = byte[0];
    if remaining > fixed + 1 {
        properties(r, pdu, false)?;
    }
    Some(Some(code))
}

/// MQTT 5 topic aliases of one direction of a connection: what each alias stands for.
#[derive(Debug, Default, Clone)]
pub struct Aliases(Vec<(u16, Box<[u8]>)>);

/// At most this many aliases are remembered per direction (the platform grants 20; a hostile
/// capture gets no more memory than this).
pub const MAX_ALIASES: usize = 256;

impl Aliases {
    /// A PUBLISH with a topic alias: a topic sets it, an empty topic uses it. Returns the topic
    /// an empty one stands for.
    pub fn resolve(&mut self, alias: u16, topic: Option<&[u8]>) -> Option<&[u8]> {
        match topic {
            Some(t) => {
                if let Some(e) = self.0.iter_mut().find(|(a, _)| *a == alias) {
                    if &*e.1 != t {
                        e.1 = t.into();
                    }
                } else if self.0.len() < MAX_ALIASES {
                    self.0.push((alias, t.into()));
                }
                None
            }
            None => self.0.iter().find(|(a, _)| *a == alias).map(|(_, t)| &**t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(d: &[u8]) -> Vec<(usize, usize)> {
        split(d).map(|s| (s.offset, s.len)).collect()
    }

    #[test]
    fn split_by_length() {
        // PINGREQ, PUBACK, DISCONNECT
        let d = [0xc0, 0x00, 0x40, 0x02, 0x00, 0x01, 0xe0, 0x00];
        assert_eq!(spans(&d), [(0, 2), (2, 4), (6, 2)]);
        // A two-byte length (200 bytes) cut short: one span that runs past the data.
        let mut d = vec![0x30, 0xc8, 0x01];
        d.extend([0u8; 20]);
        assert_eq!(spans(&d), [(0, 203)]);
        // A length field cut in the middle: the rest is one (truncated) packet.
        assert_eq!(spans(&[0x30, 0xc8]), [(0, 2)]);
        assert_eq!(spans(&[0x30]), [(0, 1)]);
        assert_eq!(spans(&[]), []);
        // A huge length does not overflow.
        let d = [
            0x30, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ];
        assert_eq!(split(&d).count(), 1);
    }

    fn connect_311() -> Vec<u8> {
        let mut b = vec![0x10, 0];
        b.extend(b"\x00\x04MQTT\x04\xc2\x00\x3c");
        b.extend(b"\x00\x05a.dev");
        b.extend(b"\x00\x08dev&a1B2");
        b.extend(b"\x00\x03pwd");
        b[1] = (b.len() - 2) as u8;
        b
    }

    #[test]
    fn connect() {
        let b = connect_311();
        let (p, info) = parse(&b, b.len(), 0);
        assert_eq!(info, Parsed::default());
        assert_eq!(p.msg_type, CONNECT);
        assert_eq!(p.version, Some(4));
        assert_eq!(p.keepalive, Some(60));
        assert_eq!(p.client_id, Some(&b"a.dev"[..]));
        assert_eq!(p.username, Some(&b"dev&a1B2"[..]));
        assert_eq!(p.password, Some(&b"pwd"[..]));
        assert!(!p.will);
        // Cut by the snap length: what was captured is read.
        let (p, info) = parse(&b[..20], b.len(), 0);
        assert!(info.truncated && !info.malformed);
        assert_eq!(p.client_id, Some(&b"a.dev"[..]));
        assert_eq!(p.username, None);
    }

    #[test]
    fn publish_v5_properties() {
        // PUBLISH QoS 1, topic "t/1", id 7, properties: topic alias 3, response topic "r",
        // correlation data "cd", two user properties; payload "{}".
        let mut b = vec![0x32, 0];
        b.extend(b"\x00\x03t/1\x00\x07");
        let props: &[u8] =
            b"\x23\x00\x03\x08\x00\x01r\x09\x00\x02cd\x26\x00\x01k\x00\x01v\x26\x00\x01k\x00\x01w";
        b.push(props.len() as u8);
        b.extend(props);
        b.extend(b"{}");
        b[1] = (b.len() - 2) as u8;
        let (p, info) = parse(&b, b.len(), V50);
        assert_eq!(info, Parsed::default());
        assert_eq!(p.qos, 1);
        assert_eq!(p.msgid, Some(7));
        assert_eq!(p.topic, Some(&b"t/1"[..]));
        assert_eq!(p.v5.topic_alias, Some(3));
        assert_eq!(p.response_topic, Some(&b"r"[..]));
        assert_eq!(p.correlation, Some(&b"cd"[..]));
        assert_eq!(p.v5.user_properties, 2);
        assert_eq!(p.properties, Some(props));
        let pairs: Vec<_> = user_properties(props).collect();
        assert_eq!(pairs, [(&b"k"[..], &b"v"[..]), (b"k", b"w")]);
        assert_eq!(p.payload, Some(&b"{}"[..]));
        // The same bytes read as 3.1.1: the property list is payload.
        let (p, _) = parse(&b, b.len(), V311);
        assert_eq!(p.v5.topic_alias, None);
        assert_eq!(p.payload.map(|p| p.len()), Some(props.len() + 3));
    }

    #[test]
    fn hostile_properties() {
        // Unknown property id, a property list longer than the packet, a string past the end.
        for props in [&b"\x02\x7f\x00"[..], b"\x50\x01", b"\x04\x08\x00\x09r"] {
            let mut b = vec![0x30, 0];
            b.extend(b"\x00\x01t");
            b.extend(props);
            b[1] = (b.len() - 2) as u8;
            let (p, info) = parse(&b, b.len(), V50);
            assert!(info.malformed, "{props:?}");
            assert_eq!(p.topic, Some(&b"t"[..]));
            assert_eq!(p.payload, None);
        }
        // The user properties before an unknown or cut property are read; none after it.
        let list = b"\x26\x00\x01a\x00\x01b\x7f\x26\x00\x01c\x00\x01d";
        let pairs: Vec<_> = user_properties(list).collect();
        assert_eq!(pairs, [(&b"a"[..], &b"b"[..])]);
        let mut props = Props::new(b"\x26\x00\x01a\x00\x05b");
        assert_eq!(props.next(), None);
        assert!(props.failed());
        // A CONNECT's will properties are counted, but they are not the packet's own.
        let mut b = vec![0x10, 0];
        b.extend(b"\x00\x04MQTT\x05\x04\x00\x3c");
        b.extend(b"\x06\x26\x00\x01a\x00\x00"); // properties: a=""
        b.extend(b"\x00\x01c"); // client id
        b.extend(b"\x06\x26\x00\x01w\x00\x00\x00\x01t\x00\x00"); // will: w="", topic t
        b[1] = (b.len() - 2) as u8;
        let (p, info) = parse(&b, b.len(), V311);
        assert_eq!(info, Parsed::default());
        assert_eq!(p.v5.user_properties, 2);
        assert_eq!(p.properties, Some(&b"\x26\x00\x01a\x00\x00"[..]));
    }

    #[test]
    fn acks_and_reason_codes() {
        let (p, _) = parse(b"\x40\x02\x00\x05", 4, V50);
        assert_eq!((p.msgid, p.v5.puback_reason), (Some(5), None));
        let (p, _) = parse(b"\x40\x03\x00\x05\x87", 5, V50);
        assert_eq!(p.v5.puback_reason, Some(0x87));
        let (p, _) = parse(b"\xe0\x01\x8e", 3, V50);
        assert_eq!(p.v5.disconnect_reason, Some(0x8e));
        assert_eq!(p.reason, Some(&b"\x8e"[..]));
        let (p, _) = parse(b"\xe0\x00", 2, V50);
        assert_eq!(p.v5.disconnect_reason, None);
        let (p, _) = parse(b"\x90\x04\x00\x01\x00\x80", 6, V311);
        assert_eq!(p.sub_codes, [0, 0x80]);
        let (p, _) = parse(b"\x20\x02\x00\x05", 4, V311);
        assert_eq!((p.connack_code, p.connack_v5), (Some(5), false));
        let (p, _) = parse(b"\x20\x03\x00\x87\x00", 5, V50);
        assert_eq!((p.connack_code, p.connack_v5), (Some(0x87), true));
        let (p, _) = parse(b"\x82\x0a\x00\x02\x00\x03a/b\x01", 12, V311);
        assert_eq!(p.topics, [&b"a/b"[..]]);
        assert_eq!(p.msgid, Some(2));
    }

    #[test]
    fn aliases() {
        let mut a = Aliases::default();
        assert_eq!(a.resolve(1, None), None);
        assert_eq!(a.resolve(1, Some(b"x/y")), None);
        assert_eq!(a.resolve(1, None), Some(&b"x/y"[..]));
        a.resolve(1, Some(b"z"));
        assert_eq!(a.resolve(1, None), Some(&b"z"[..]));
    }
}
