//! Where a field read from the packet lies in the packet's bytes, so its item highlights them.
//!
//! The analysis keeps values, not offsets; this finds each value again inside the part of the
//! MQTT packet it was read from (the client id, the user name, the topic, the payload), anchored
//! on the syntax around it (`key=` in the client id, a whole topic level, a JSON member name), so
//! a value is only placed where it really was read. Fields that are derived (links, times,
//! verdicts, identities on packets other than the login) have no place and stay generated.

use super::fields::{Hf, FIELDS};

/// The parts of one MQTT packet fields are read from, as (offset, length) in the bytes handed to
/// the dissection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Regions {
    pub client_id: Option<(usize, usize)>,
    pub username: Option<(usize, usize)>,
    pub topic: Option<(usize, usize)>,
    pub payload: Option<(usize, usize)>,
    /// The packet's own MQTT 5 property list, after its length.
    pub properties: Option<(usize, usize)>,
    /// An MQTT 5 CONNACK's assigned client id.
    pub assigned_client_id: Option<(usize, usize)>,
    /// An MQTT 5 reason code's byte.
    pub reason: Option<(usize, usize)>,
}

/// Where `part` (a slice of `packet`, which starts at `base` in the dissected bytes) lies:
/// (offset, length) in the dissected bytes.
fn offset_in(packet: &[u8], base: usize, part: &[u8]) -> Option<(usize, usize)> {
    let off = (part.as_ptr() as usize).checked_sub(packet.as_ptr() as usize)?;
    (off + part.len() <= packet.len()).then_some((base + off, part.len()))
}

impl Regions {
    /// The regions of a packet read by [`super::mqtt::parse`] from `packet`, which starts at
    /// `base` in the dissected bytes.
    pub fn of(packet: &[u8], base: usize, pdu: &super::session::MqttPdu<'_>) -> Regions {
        let at = |s: Option<&[u8]>| offset_in(packet, base, s?);
        Regions {
            client_id: at(pdu.client_id),
            username: at(pdu.username),
            topic: at(pdu.topic),
            payload: at(pdu.payload),
            properties: at(pdu.properties),
            assigned_client_id: at(pdu.assigned_client_id),
            reason: at(pdu.reason),
        }
    }
}

/// A SUBSCRIBE's or UNSUBSCRIBE's topic filters, as (offset, length) in the dissected bytes, in
/// packet order. The filters shown (the Alibaba ones, in the same order) are placed one after
/// another, so two equal filters each get their own bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    at: Vec<(usize, usize)>,
    /// The first filter not placed yet.
    next: usize,
}

impl Filters {
    /// The filters of a packet read by [`super::mqtt::parse`] from `packet`, which starts at
    /// `base` in the dissected bytes (none for other packets: nothing is allocated).
    pub fn of(packet: &[u8], base: usize, pdu: &super::session::MqttPdu<'_>) -> Filters {
        let at = pdu
            .topics
            .iter()
            .filter_map(|f| offset_in(packet, base, f))
            .collect();
        Filters { at, next: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    /// Where the filter shown as `text` lies: the first filter, from the one after the last
    /// placed, whose bytes are `text` (a filter that is not valid UTF-8 is shown otherwise than
    /// sent, and has no place).
    pub fn place(&mut self, text: &str, data: &[u8]) -> Option<(usize, usize)> {
        let v = text.as_bytes();
        let rest = self.at.get(self.next..)?;
        let i = rest
            .iter()
            .position(|&(o, l)| o.checked_add(l).and_then(|e| data.get(o..e)) == Some(v))?;
        self.next += i + 1;
        Some(rest[i])
    }
}

/// Places the fields of one MQTT packet as they are shown, in order: a SUBSCRIBE's filters one
/// after another, member names in document order within each walk of the payload, a property's
/// value after its name, each entry's members after the previous entry's.
#[derive(Debug, Clone, Default)]
pub struct Placer {
    regions: Regions,
    filters: Filters,
    /// Where the last member name placed ends (a property's value follows it).
    name_end: Option<usize>,
    /// Where the next member name is looked for from (see [`Placer::rewind`]).
    names_from: usize,
    /// Where the next of each entry member ([`From::Entry`]) is looked for from.
    entries_from: [usize; 2],
    /// Where, in the property list, the user properties not placed or passed yet start.
    user_from: usize,
    /// Where the value of the user property whose key was placed last lies.
    user_value: Option<(usize, usize)>,
    /// The arrays whose items are being shown, innermost last.
    arrays: Arrays,
    /// Where the value of the array item whose index was shown last starts.
    item_at: Option<usize>,
    /// Where the `"time"` of the `{"value": …, "time": …}` property placed last starts.
    time_at: Option<usize>,
    /// Where the value of the property placed last lies (its numeric value is read from it).
    property_value: Option<(usize, usize)>,
}

/// Arrays open in a walk of JSON: for each, where its next item starts (before the `,` that
/// separates it from the one before) and its index. As deep as the JSON tree is shown.
#[derive(Debug, Clone, Default)]
struct Arrays {
    open: [(usize, usize); super::payload::MAX_TREE_DEPTH],
    depth: usize,
}

impl Arrays {
    fn clear(&mut self) {
        self.depth = 0;
    }

    /// An array placed at `at` (its `[`): its items are shown next.
    fn push(&mut self, at: usize) {
        if let Some(slot) = self.open.get_mut(self.depth) {
            *slot = (at + 1, 0);
            self.depth += 1;
        }
    }

    /// Where item `index` of the innermost array that has it next starts, and its length: arrays
    /// left behind (all of whose items were shown, or whose next item is another) are closed.
    fn item(&mut self, index: usize, data: &[u8]) -> Option<(usize, usize)> {
        while self.depth > 0 {
            let (next, n) = self.open[self.depth - 1];
            let mut k = skip_ws(data, next);
            if n > 0 && data.get(k) == Some(&b',') {
                k = skip_ws(data, k + 1);
            }
            let len = (n == index && data.get(k) != Some(&b']'))
                .then(|| json_value_len(data.get(k..)?))
                .flatten();
            if let Some(len) = len {
                self.open[self.depth - 1] = (k + len, n + 1);
                return Some((k, len));
            }
            self.depth -= 1;
        }
        None
    }
}

impl Placer {
    pub fn new(regions: Regions, filters: Filters) -> Placer {
        Placer {
            regions,
            filters,
            ..Placer::default()
        }
    }

    /// For a packet read by [`super::mqtt::parse`] from `packet`, which starts at `base` in the
    /// dissected bytes: its regions and its filters.
    pub fn of(packet: &[u8], base: usize, pdu: &super::session::MqttPdu<'_>) -> Placer {
        Placer::new(
            Regions::of(packet, base, pdu),
            Filters::of(packet, base, pdu),
        )
    }

    /// The topic whose fields follow, as shown: for a SUBSCRIBE or UNSUBSCRIBE, its next
    /// filter (a PUBLISH's topic region stays as it is).
    pub fn topic(&mut self, text: &str, data: &[u8]) {
        if !self.filters.is_empty() {
            self.regions.topic = self.filters.place(text, data);
        }
    }

    /// A walk of the payload's members in document order begins (its properties, a JSON tree):
    /// names are looked for from its start again.
    pub fn rewind(&mut self, root: Option<&str>, data: &[u8]) {
        self.names_from = 0;
        self.name_end = None;
        self.arrays.clear();
        self.item_at = None;
        self.time_at = None;
        self.property_value = None;
        // The walk's root, when it is an array: its items come first.
        let Some((o, l)) = self.regions.payload else {
            return;
        };
        let Some(payload) = o.checked_add(l).and_then(|e| data.get(o..e)) else {
            return;
        };
        let at = match root {
            None => Some(skip_ws(payload, 0)),
            Some(name) => find_quoted(payload, name.as_bytes(), 0).and_then(|k| {
                let i = skip_ws(payload, k + name.len() + 1);
                (payload.get(i) == Some(&b':')).then(|| skip_ws(payload, i + 1))
            }),
        };
        if let Some(at) = at.filter(|&at| payload.get(at) == Some(&b'[')) {
            self.arrays.push(o + at);
        }
    }

    /// Where field `hf`, shown as `text`, lies in `data` (the dissected bytes), if it was read
    /// from the packet.
    pub fn place(&mut self, hf: Hf, text: &str, data: &[u8]) -> Option<(usize, usize)> {
        match hf {
            Hf::UserPropertyKey => return self.user_property(text, data),
            Hf::UserPropertyValue => {
                let (o, l) = self.user_value.take()?;
                return (data.get(o..o + l) == Some(text.as_bytes())).then_some((o, l));
            }
            Hf::PropertyTime => return value_at(self.time_at.take()?, text, data, false),
            // The property's value read as a number: the bytes of that value, when they are a
            // JSON number (a string `"25.5"` has no numeric value).
            Hf::PropertyValueNum => {
                let at = self.property_value.take()?;
                return matches!(data.get(at.0)?, b'-' | b'0'..=b'9').then_some(at);
            }
            _ => {}
        }
        if is_member_value(hf) {
            self.time_at = None;
            self.property_value = None;
            let at = self.next_value(hf, text, data)?;
            if hf == Hf::PropertyValue {
                self.property_value = Some(at);
            }
            return Some(at);
        }
        if hf == Hf::JsonKey {
            // An array's item, shown by its index (`[2]`): not in the packet, but its value is
            // the array's next item.
            if let Some(index) = text
                .strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse().ok())
            {
                self.name_end = None;
                self.item_at = self.arrays.item(index, data).map(|(at, _)| at);
                return None;
            }
            self.item_at = None;
        }
        let how = from(hf)?;
        let after = match how {
            From::Name => self.names_from,
            From::Entry(_, slot) => self.entries_from[slot],
            _ => 0,
        };
        let at = locate_after(hf, text, data, &self.regions, after);
        let end = at.map(|(s, l)| s + l);
        match how {
            From::Name => {
                self.name_end = end;
                self.names_from = end.unwrap_or(self.names_from);
            }
            From::Entry(_, slot) => self.entries_from[slot] = end.unwrap_or(after),
            _ => {}
        }
        at
    }
}

impl Placer {
    /// Where a member's value shown as `text` lies: an array's item whose index was shown, or the
    /// value after the name placed last.
    fn next_value(&mut self, hf: Hf, text: &str, data: &[u8]) -> Option<(usize, usize)> {
        let at = match self.item_at.take() {
            Some(item) => value_at(item, text, data, false),
            None => {
                let start = value_start(self.name_end.take()?, data)?;
                match wrapped(start, data).filter(|_| hf == Hf::PropertyValue) {
                    // `"name": {"value": …, "time": …}`, shown as its value and its time.
                    Some(w) => {
                        let at = value_at(w.value, text, data, false)?;
                        self.time_at = w.time;
                        self.names_from = match data.get(at.0) {
                            Some(b'{' | b'[') => at.0 + 1,
                            _ => w.end,
                        };
                        return Some(at);
                    }
                    None => value_at(start, text, data, false),
                }
            }
        }?;
        self.names_from = names_after_value(at, data);
        if text.ends_with(" items]") && data.get(at.0) == Some(&b'[') {
            self.arrays.push(at.0);
        }
        Some(at)
    }

    /// Where the key of the next user property shown as `text` lies: the first of the packet's
    /// user properties, from the one after the last placed, whose key's bytes are `text` (one
    /// that is not valid UTF-8 is shown otherwise than sent, and has no place). Its value is
    /// placed next.
    fn user_property(&mut self, text: &str, data: &[u8]) -> Option<(usize, usize)> {
        self.user_value = None;
        let (o, l) = self.regions.properties?;
        let list = data.get(o..o.checked_add(l)?)?;
        // Properties are read from a property's start: the end of the last user property placed.
        let (k, v) = super::mqtt::user_properties(list.get(self.user_from..)?)
            .find(|(k, _)| *k == text.as_bytes())?;
        let value = offset_in(list, o, v)?;
        self.user_from = value.0 + value.1 - o;
        self.user_value = Some(value);
        offset_in(list, o, k)
    }
}

/// Which region a field is read from, and how it is anchored there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum From {
    /// The client id's prefix (before the first `|`).
    Prefix,
    /// A named client id parameter: the value after `key=`.
    Param(&'static str),
    /// Any other client id parameter's key, or its value.
    ParamKey,
    ParamValue,
    /// A half of the user name (`deviceName&productKey`).
    Username,
    /// A whole level of the topic.
    TopicLevel,
    /// The value of a top-level JSON member of the payload.
    Member(&'static str),
    /// The value of a JSON member inside the value of the first of the parent members found
    /// (a firmware's `"url"` in `"data"` or `"params"`): the first such member after the parent's
    /// name whose value is the one shown.
    MemberIn(&'static [&'static str], &'static str),
    /// The value of a JSON member that comes once per entry of a list (each sub-device of a
    /// batch login has its `"productKey"`): placed after the last one of the same field
    /// ([`Placer`] keeps where, in slot `.1`).
    Entry(&'static str, usize),
    /// The whole payload, shown as text or hex (cut short with `…`).
    Payload,
    /// A file chunk's header length: the payload's first two bytes (big-endian).
    FileHeaderLength,
    /// A file chunk's CRC: the payload's last two bytes (little-endian).
    FileCrc,
    /// A JSON member name anywhere in the payload (a property).
    Name,
    /// The `exp-topic|…` suffix of an Alink id: after the id's `|`, to the string's end.
    IdSuffix,
    /// A whole MQTT 5 CONNACK's assigned client id.
    AssignedClientId,
    /// An MQTT 5 reason code's byte.
    Reason,
}

/// Hex digits as [`super::sign::hex`] writes them.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Where a firmware's facts are read from: an OTA report's `params`, an offer's or a push's `data`
/// ([`super::payload`]).
const FIRMWARE: &[&str] = &["params", "data"];

fn from(hf: Hf) -> Option<From> {
    Some(match hf {
        Hf::ClientIdPrefix => From::Prefix,
        Hf::SecureMode => From::Param("securemode"),
        Hf::SignMethod => From::Param("signmethod"),
        Hf::Timestamp => From::Param("timestamp"),
        Hf::SdkVersion => From::Param("_v"),
        Hf::SdkLanguage => From::Param("lan"),
        Hf::Ext => From::Param("ext"),
        Hf::Gateway => From::Param("gw"),
        Hf::AuthType => From::Param("authtype"),
        Hf::Random => From::Param("random"),
        Hf::InstanceId => From::Param("instanceid"),
        Hf::ParamKey => From::ParamKey,
        Hf::ParamValue => From::ParamValue,
        Hf::ProductKey | Hf::DeviceName => From::Username,
        Hf::TopicProductKey | Hf::TopicDeviceName | Hf::TopicIdentifier | Hf::TopicRrpcId => {
            From::TopicLevel
        }
        Hf::AlinkId => From::Member("id"),
        Hf::AlinkIdSuffix => From::IdSuffix,
        Hf::AlinkVersion => From::Member("version"),
        Hf::AlinkMethod => From::Member("method"),
        Hf::AlinkCode => From::Member("code"),
        Hf::AlinkMessage => From::Member("message"),
        Hf::PropertyName | Hf::JsonKey => From::Name,
        Hf::ShadowMethod => From::Member("method"),
        Hf::ShadowVersion => From::Member("version"),
        Hf::ShadowStatus => From::MemberIn(&["payload"], "status"),
        Hf::OtaVersion => From::MemberIn(FIRMWARE, "version"),
        Hf::OtaModule => From::MemberIn(FIRMWARE, "module"),
        Hf::OtaSize => From::MemberIn(FIRMWARE, "size"),
        Hf::OtaUrl => From::MemberIn(FIRMWARE, "url"),
        Hf::OtaSignMethod => From::MemberIn(FIRMWARE, "signMethod"),
        Hf::OtaSign => From::MemberIn(FIRMWARE, "sign"),
        Hf::OtaMd5 => From::MemberIn(FIRMWARE, "md5"),
        Hf::OtaStep => From::MemberIn(&["params"], "step"),
        // Shown as a time: placed when its milliseconds read as sent.
        Hf::EventTime => From::MemberIn(&["params"], "time"),
        Hf::PayloadText | Hf::PayloadHex => From::Payload,
        Hf::FileHeaderLength => From::FileHeaderLength,
        Hf::FileCrc => From::FileCrc,
        Hf::SubProductKey => From::Entry("productKey", 0),
        Hf::SubDeviceName => From::Entry("deviceName", 1),
        Hf::AssignedClientId => From::AssignedClientId,
        Hf::ReasonCode => From::Reason,
        _ => return None,
    })
}

/// The first place of `needle` in `hay`, from `from` on, that `ok` accepts.
fn find_where(
    hay: &[u8],
    needle: &[u8],
    mut from: usize,
    mut ok: impl FnMut(usize) -> bool,
) -> Option<usize> {
    loop {
        let k = find(hay, needle, from)?;
        if ok(k) {
            return Some(k);
        }
        from = k + 1;
    }
}

/// Where a client id's parameters start: its first `|`.
fn params_start(client_id: &[u8]) -> Option<usize> {
    client_id.iter().position(|b| *b == b'|')
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let last_start = hay.len().checked_sub(needle.len())?;
    let mut i = from;
    // The first byte by a plain scan, the rest compared only there.
    while i <= last_start {
        let k = i + memchr::memchr(first, &hay[i..=last_start])?;
        if hay[k + 1..k + needle.len()] == *rest {
            return Some(k);
        }
        i = k + 1;
    }
    None
}

/// The first `"text"` (a JSON string exactly `text`) in `hay` from `from` on: where `text`
/// starts.
fn find_quoted(hay: &[u8], text: &[u8], from: usize) -> Option<usize> {
    if text.is_empty() {
        return find(hay, b"\"\"", from).map(|k| k + 1);
    }
    find_where(hay, text, from.max(1), |k| {
        hay[k - 1] == b'"' && hay.get(k + text.len()) == Some(&b'"')
    })
}

/// Where `value` of field `hf` lies in the packet, with no name placed before it (tests).
#[cfg(test)]
fn locate(hf: Hf, value: &str, data: &[u8], regions: &Regions) -> Option<(usize, usize)> {
    locate_after(hf, value, data, regions, 0)
}

/// Where `value` of field `hf` lies in the packet: (offset, length) in the dissected bytes.
/// `data` are those bytes, `regions` the packet's parts, `value` the field's value as text;
/// a member name (a property's, a JSON tree's key) or an entry's member looked
/// for only from offset `after` in the dissected bytes on: they are placed in document order, so
/// a name that comes again (each device of a batch login has its `"productKey"`) takes its own
/// bytes ([`Placer`]).
fn locate_after(
    hf: Hf,
    value: &str,
    data: &[u8],
    regions: &Regions,
    after: usize,
) -> Option<(usize, usize)> {
    let how = from(hf)?;
    let region = match how {
        From::Prefix | From::Param(_) | From::ParamKey | From::ParamValue => regions.client_id,
        From::Username => regions.username,
        From::TopicLevel => regions.topic,
        From::Member(_)
        | From::MemberIn(..)
        | From::Entry(..)
        | From::Payload
        | From::FileHeaderLength
        | From::FileCrc
        | From::IdSuffix
        | From::Name => regions.payload,
        From::AssignedClientId => regions.assigned_client_id,
        From::Reason => regions.reason,
    }?;
    let bytes = data.get(region.0..region.0.checked_add(region.1)?)?;
    let v = value.as_bytes();
    let at = match how {
        From::Prefix => {
            let end = bytes.iter().position(|b| *b == b'|').unwrap_or(bytes.len());
            (bytes[..end] == *v && !v.is_empty()).then_some((0, end))?
        }
        From::Param(key) => {
            // Keys compare as the client id parser compares them: without case.
            let lower = bytes.to_ascii_lowercase();
            let key = key.as_bytes();
            let k = find_where(&lower, key, params_start(bytes)?, |k| {
                k > 0
                    && matches!(bytes[k - 1], b'|' | b',')
                    && bytes.get(k + key.len()) == Some(&b'=')
            })?;
            let start = k + key.len() + 1;
            let len = bytes[start..]
                .iter()
                .position(|b| matches!(b, b',' | b'|' | b'\\'))
                .unwrap_or(bytes.len() - start);
            (start, len)
        }
        From::ParamKey => {
            let k = find_where(bytes, v, params_start(bytes)?, |k| {
                k > 0
                    && matches!(bytes[k - 1], b'|' | b',')
                    && bytes.get(k + v.len()) == Some(&b'=')
            })?;
            (k, v.len())
        }
        From::ParamValue => {
            let k = find_where(bytes, v, params_start(bytes)?, |k| {
                k > 0
                    && bytes[k - 1] == b'='
                    && matches!(bytes.get(k + v.len()), Some(b',' | b'|') | None)
            })?;
            (k, v.len())
        }
        From::Username => {
            let amp = bytes.iter().position(|b| *b == b'&')?;
            let (dn, pk) = (&bytes[..amp], &bytes[amp + 1..]);
            match hf {
                Hf::DeviceName if dn == v => (0, amp),
                Hf::ProductKey if pk == v => (amp + 1, pk.len()),
                _ => return None,
            }
        }
        From::TopicLevel => {
            let k = find_where(bytes, v, 0, |k| {
                (k == 0 || bytes[k - 1] == b'/')
                    && matches!(bytes.get(k + v.len()), None | Some(b'/'))
            })?;
            (k, v.len())
        }
        From::Member(key) => member_value(bytes, key, 1, value)?,
        From::MemberIn(parents, key) => parents.iter().find_map(|p| {
            let start = find_quoted(bytes, p.as_bytes(), 0)?;
            member_value(bytes, key, start + p.len(), value)
        })?,
        From::Payload => {
            // As shown: the text itself, or the hex of the first bytes, cut with `…`.
            let shown = v.strip_suffix("…".as_bytes()).unwrap_or(v);
            let cut = shown.len() < v.len();
            let text = bytes.starts_with(shown) && (cut || shown.len() == bytes.len());
            let hex = shown.len() % 2 == 0
                && shown.len() / 2 <= bytes.len()
                && (cut || shown.len() / 2 == bytes.len())
                && shown
                    .chunks(2)
                    .zip(bytes)
                    .all(|(h, b)| *h == [HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
            (!shown.is_empty() && (text || hex)).then_some((0, bytes.len()))?
        }
        From::FileHeaderLength => {
            let n = u16::from_be_bytes(*bytes.first_chunk::<2>()?);
            (value == n.to_string()).then_some((0, 2))?
        }
        From::FileCrc => {
            let n = u16::from_le_bytes(*bytes.last_chunk::<2>()?);
            (value == n.to_string()).then_some((bytes.len() - 2, 2))?
        }
        From::Entry(key, _) => member_value(bytes, key, after.saturating_sub(region.0), value)?,
        From::Name => {
            let from = after.saturating_sub(region.0);
            (find_quoted(bytes, v, from)?, v.len())
        }
        From::IdSuffix => {
            let k = find_where(bytes, v, 1, |k| {
                bytes[k - 1] == b'|' && bytes.get(k + v.len()) == Some(&b'"')
            })?;
            (k, v.len())
        }
        From::AssignedClientId => (!v.is_empty() && bytes == v).then_some((0, v.len()))?,
        From::Reason => {
            let code = *bytes.first()?;
            (value == code.to_string()).then_some((0, 1))?
        }
    };
    Some((region.0 + at.0, at.1))
}

/// The first member `"key"` at or after `from` in `bytes` whose value is `value` as shown: where
/// that value lies.
fn member_value(bytes: &[u8], key: &str, from: usize, value: &str) -> Option<(usize, usize)> {
    let key = key.as_bytes();
    let mut at = None;
    find_where(bytes, key, from.max(1), |k| {
        if bytes[k - 1] != b'"' || bytes.get(k + key.len()) != Some(&b'"') {
            return false;
        }
        at = value_after(k + key.len(), value, bytes, key == b"id");
        at.is_some()
    })?;
    at
}

/// Where a JSON member's value lies when it follows the member name that ends at `name_end`
/// (a property's value after its name): `"name": value`, the value as shown.
/// `id` lets a string value end at a `|` (an Alink id's `exp-topic|…` suffix follows it).
fn value_after(name_end: usize, value: &str, data: &[u8], id: bool) -> Option<(usize, usize)> {
    value_at(value_start(name_end, data)?, value, data, id)
}

/// Where the value of the member whose name ends at `name_end` starts: after the `:`.
fn value_start(name_end: usize, data: &[u8]) -> Option<usize> {
    let i = skip_ws(data, name_end.checked_add(1)?); // after the name's closing quote
    (data.get(i) == Some(&b':')).then(|| skip_ws(data, i + 1))
}

/// A property written as `{"value": …, "time": …}` ([`super::payload::property`]: an object
/// with a member `value`), starting at `at`.
#[derive(Debug, PartialEq, Eq)]
struct Wrapped {
    /// Where its `value`'s value starts.
    value: usize,
    /// Where its `time`'s value starts, if it has one.
    time: Option<usize>,
    /// Where it ends, after its `}`.
    end: usize,
}

/// The object starting at `at`, read member by member at its top level, if it has a `value`.
fn wrapped(at: usize, data: &[u8]) -> Option<Wrapped> {
    if data.get(at) != Some(&b'{') {
        return None;
    }
    let (mut value, mut time) = (None, None);
    let mut i = skip_ws(data, at + 1);
    loop {
        match data.get(i)? {
            // (after a trailing comma too, which the payload's parser lets pass)
            b'}' => {
                return Some(Wrapped {
                    value: value?,
                    time,
                    end: i + 1,
                })
            }
            b'"' => {}
            _ => return None,
        }
        let name_len = json_value_len(&data[i..])?;
        let start = value_start(i + name_len - 1, data)?;
        match &data[i + 1..i + name_len - 1] {
            b"value" => value = value.or(Some(start)),
            b"time" => time = time.or(Some(start)),
            _ => {}
        }
        i = skip_ws(data, start + json_value_len(data.get(start..)?)?);
        match data.get(i)? {
            b',' => i = skip_ws(data, i + 1),
            b'}' => {}
            _ => return None,
        }
    }
}

/// The first byte from `i` on in `data` that is not JSON whitespace.
fn skip_ws(data: &[u8], mut i: usize) -> usize {
    while data.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

/// Where a JSON value that starts at `i` lies, the value as shown: the whole value, never a part
/// of it (`200` is not placed on `2000`), but for an Alink id when `id` (up to its `|`).
fn value_at(i: usize, value: &str, data: &[u8], id: bool) -> Option<(usize, usize)> {
    let v = value.as_bytes();
    let len = match data.get(i)? {
        // An object or an array, shown by its size (`{3 members}`) or as itself: all of it.
        &open @ (b'{' | b'[') if v.first() == Some(&open) => {
            return Some((i, container_len(&data[i..])?));
        }
        // A string: its text between the quotes, as sent (an escaped one is shown otherwise).
        b'"' => {
            let end = (i + 1).checked_add(v.len())?;
            let ends = match data.get(end) {
                Some(b'"') => true,
                Some(b'|') => id,
                _ => false,
            };
            return (!v.is_empty() && ends && data.get(i + 1..end) == Some(v))
                .then_some((i + 1, v.len()));
        }
        // A number or a literal: its token.
        _ => json_value_len(&data[i..])?,
    };
    (data.get(i..i + len) == Some(v)).then_some((i, len))
}

/// The length of the JSON value `json` starts with: a string with its quotes, an object or array
/// to its closing bracket, a number or literal to the next delimiter.
fn json_value_len(json: &[u8]) -> Option<usize> {
    match json.first()? {
        b'{' | b'[' => container_len(json),
        b'"' => {
            let mut escaped = false;
            let end = json[1..].iter().position(|&b| {
                let closes = b == b'"' && !escaped;
                escaped = b == b'\\' && !escaped;
                closes
            })?;
            Some(end + 2)
        }
        _ => Some(
            json.iter()
                .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())
                .unwrap_or(json.len()),
        )
        .filter(|n| *n > 0),
    }
}

/// The length of the JSON object or array `json` starts with, to its closing bracket (none when
/// it does not close).
fn container_len(json: &[u8]) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (k, &b) in json.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(k + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Where member names are looked for after a value placed at `at` (offset, length in `data`):
/// inside it when it is an object or an array (a struct's members are shown next), else after it.
fn names_after_value(at: (usize, usize), data: &[u8]) -> usize {
    match data.get(at.0) {
        Some(b'{' | b'[') => at.0 + 1,
        _ => at.0 + at.1,
    }
}

/// Whether a field's value follows the member name placed before it.
fn is_member_value(hf: Hf) -> bool {
    matches!(hf, Hf::PropertyValue | Hf::JsonValue)
}

/// Whether a field is ever read from the packet (its items may point at bytes).
pub fn from_packet(hf: Hf) -> bool {
    from(hf).is_some()
        || is_member_value(hf)
        || matches!(
            hf,
            Hf::UserPropertyKey | Hf::UserPropertyValue | Hf::PropertyTime | Hf::PropertyValueNum
        )
}

/// The field's abbreviation (for messages and tests).
pub fn abbrev(hf: Hf) -> &'static str {
    FIELDS[hf as usize].abbrev
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PUBLISH's bytes (a 2-byte fixed header, then `payload`) and its payload region.
    fn published(payload: &[u8]) -> (Vec<u8>, Regions) {
        let data = [b"\x30\x00".as_slice(), payload].concat();
        let r = Regions {
            payload: Some((2, payload.len())),
            ..Regions::default()
        };
        (data, r)
    }

    fn regions(data: &[u8], parts: &[(&str, &[u8])]) -> Regions {
        let at = |p: &[u8]| {
            let k = find(data, p, 0).unwrap();
            Some((k, p.len()))
        };
        let mut r = Regions::default();
        for (name, p) in parts {
            match *name {
                "cid" => r.client_id = at(p),
                "user" => r.username = at(p),
                "topic" => r.topic = at(p),
                _ => r.payload = at(p),
            }
        }
        r
    }

    #[test]
    fn client_id_and_user_name() {
        let cid = b"a1B2.dev|securemode=3,signmethod=hmacsha1,timestamp=789,k=signmethod|";
        let mut data = b"\x10\x00xx".to_vec();
        data.extend(cid);
        data.extend(b"..dev&a1B2");
        let r = regions(&data, &[("cid", cid), ("user", b"dev&a1B2")]);
        let c = r.client_id.unwrap().0;
        assert_eq!(
            locate(Hf::ClientIdPrefix, "a1B2.dev", &data, &r),
            Some((c, 8))
        );
        assert_eq!(locate(Hf::SecureMode, "3", &data, &r), Some((c + 20, 1)));
        assert_eq!(
            locate(Hf::SignMethod, "hmacsha1", &data, &r),
            Some((c + 33, 8))
        );
        assert_eq!(locate(Hf::Timestamp, "", &data, &r), Some((c + 52, 3)));
        assert_eq!(locate(Hf::ParamKey, "k", &data, &r), Some((c + 56, 1)));
        // "signmethod" also stands as k's value: the value after `=` is found, not the key.
        assert_eq!(
            locate(Hf::ParamValue, "signmethod", &data, &r),
            Some((c + 58, 10))
        );
        assert_eq!(locate(Hf::Random, "x", &data, &r), None);
        let u = r.username.unwrap().0;
        assert_eq!(locate(Hf::DeviceName, "dev", &data, &r), Some((u, 3)));
        assert_eq!(locate(Hf::ProductKey, "a1B2", &data, &r), Some((u + 4, 4)));
        assert_eq!(locate(Hf::ProductKey, "other", &data, &r), None);
        // Derived fields have no place.
        assert_eq!(locate(Hf::SignStatus, "1", &data, &r), None);
    }

    #[test]
    fn topic_and_payload() {
        let topic = b"/sys/a1/a1-dev/thing/event/alarm/post";
        let payload = br#"{"id": "12|exp-topic|x", "code":200,"params":{"a1":1,"id":"z"},"method":"thing.event.alarm.post"}"#;
        let mut data = b"\x30\x00\x00\x26".to_vec();
        data.extend(topic);
        data.extend(payload);
        let r = regions(&data, &[("topic", topic), ("payload", payload)]);
        let t = r.topic.unwrap().0;
        assert_eq!(
            locate(Hf::TopicProductKey, "a1", &data, &r),
            Some((t + 5, 2))
        );
        assert_eq!(
            locate(Hf::TopicDeviceName, "a1-dev", &data, &r),
            Some((t + 8, 6))
        );
        assert_eq!(
            locate(Hf::TopicIdentifier, "alarm", &data, &r),
            Some((t + 27, 5))
        );
        let p = r.payload.unwrap().0;
        let at = |s: &str| p + find(payload, s.as_bytes(), 0).unwrap();
        assert_eq!(locate(Hf::AlinkId, "12", &data, &r), Some((at("12|"), 2)));
        assert_eq!(
            locate(Hf::AlinkCode, "200", &data, &r),
            Some((at("200"), 3))
        );
        assert_eq!(
            locate(Hf::AlinkMethod, "thing.event.alarm.post", &data, &r),
            Some((at("thing."), 22))
        );
        assert_eq!(
            locate(Hf::PropertyName, "a1", &data, &r),
            Some((at("a1\""), 2))
        );
        assert_eq!(locate(Hf::AlinkVersion, "1.0", &data, &r), None);
        let (name, len) = locate(Hf::PropertyName, "a1", &data, &r).unwrap();
        assert_eq!(
            value_after(name + len, "1", &data, false),
            Some((name + len + 2, 1))
        );
        assert_eq!(value_after(name + len, "2", &data, false), None);
    }

    /// A firmware's facts are found inside the member they are read from: a top-level
    /// `"version"` with the same value does not take the firmware's version, nor a top-level
    /// `"status"` the shadow's.
    #[test]
    fn members_inside_a_parent() {
        let payload = br#"{"version":"1.0","code":"1000","data":{"size":93796,"version":"1.0","url":"https://x/fw.bin","md5":"ab12"},"id":"1"}"#;
        let (data, r) = published(payload);
        let at = |s: &str| 2 + find(payload, s.as_bytes(), 0).unwrap();
        assert_eq!(
            locate(Hf::OtaVersion, "1.0", &data, &r),
            Some((at("1.0\",\"url"), 3))
        );
        assert_eq!(
            locate(Hf::AlinkVersion, "1.0", &data, &r),
            Some((at("1.0"), 3))
        );
        assert_eq!(
            locate(Hf::OtaSize, "93796", &data, &r),
            Some((at("93796"), 5))
        );
        assert_eq!(
            locate(Hf::OtaUrl, "https://x/fw.bin", &data, &r),
            Some((at("https"), 16))
        );
        assert_eq!(locate(Hf::OtaMd5, "ffff", &data, &r), None);
        assert_eq!(locate(Hf::OtaModule, "default", &data, &r), None);
        let shadow =
            br#"{"status":"x","method":"reply","payload":{"status":"success","version":2}}"#;
        let (data, r) = published(shadow);
        let at = |s: &str| 2 + find(shadow, s.as_bytes(), 0).unwrap();
        assert_eq!(
            locate(Hf::ShadowStatus, "success", &data, &r),
            Some((at("success"), 7))
        );
        assert_eq!(locate(Hf::ShadowStatus, "x", &data, &r), None);
        assert_eq!(
            locate(Hf::ShadowMethod, "reply", &data, &r),
            Some((at("reply"), 5))
        );
    }

    /// Member names are placed in document order from a cursor: the second device of a batch
    /// login takes its own `"productKey"`, not the first device's; a struct's members are looked
    /// for inside its value.
    #[test]
    fn names_in_document_order() {
        let payload = br#"{"params":{"deviceList":[{"productKey":"pk","deviceName":"d1"},{"productKey":"pk","deviceName":"d2"}],"s":{"a":1}}}"#;
        let (data, r) = published(payload);
        let all = |s: &str| -> Vec<usize> {
            (0..payload.len())
                .filter(|&k| payload[k..].starts_with(s.as_bytes()))
                .map(|k| k + 2)
                .collect()
        };
        let pk = all("productKey\"");
        let first = locate_after(Hf::JsonKey, "productKey", &data, &r, 0).unwrap();
        assert_eq!(first, (pk[0], 10));
        let value = value_after(first.0 + first.1, "pk", &data, false).unwrap();
        let from = names_after_value(value, &data);
        assert_eq!(from, value.0 + 2);
        let second = locate_after(Hf::JsonKey, "productKey", &data, &r, from).unwrap();
        assert_eq!(second, (pk[1], 10));
        assert_eq!(
            locate_after(Hf::JsonKey, "productKey", &data, &r, second.0 + 1),
            None
        );
        // Without a cursor (and for other fields), the first place, as before.
        assert_eq!(locate(Hf::JsonKey, "productKey", &data, &r), Some(first));
        // A struct's value: names come next inside it.
        let s = locate_after(Hf::PropertyName, "s", &data, &r, second.0).unwrap();
        let v = value_after(s.0 + s.1, r#"{"a":1}"#, &data, false).unwrap();
        assert_eq!(names_after_value(v, &data), v.0 + 1);
        assert_eq!(
            locate_after(Hf::PropertyName, "a", &data, &r, v.0 + 1),
            Some((all("a\":1")[0], 1))
        );
    }

    /// The placer, as a tree shows a batch login: each sub-device's product key and device name
    /// in its own entry (whatever the order of the two inside an entry), and a JSON tree walked
    /// after the properties finds its names from the start again.
    #[test]
    fn placer_entries_and_walks() {
        let payload = br#"{"params":{"deviceList":[{"deviceName":"d1","productKey":"pk"},{"deviceName":"d2","productKey":"pk"}]}}"#;
        let (data, regions) = published(payload);
        let at = |s: &str, n: usize| {
            2 + (0..payload.len())
                .filter(|&k| payload[k..].starts_with(s.as_bytes()))
                .nth(n)
                .unwrap()
        };
        let mut p = Placer::new(regions, Filters::default());
        for (n, dn) in ["d1", "d2"].into_iter().enumerate() {
            assert_eq!(
                p.place(Hf::SubProductKey, "pk", &data),
                Some((at("pk\"", n), 2))
            );
            assert_eq!(p.place(Hf::SubDeviceName, dn, &data), Some((at(dn, 0), 2)));
        }
        assert_eq!(p.place(Hf::SubProductKey, "pk", &data), None);
        // Names: in order, then from the start again after a rewind.
        let first = p.place(Hf::JsonKey, "deviceName", &data);
        assert_eq!(first, Some((at("deviceName", 0), 10)));
        assert_eq!(p.place(Hf::JsonValue, "d1", &data), Some((at("d1", 0), 2)));
        assert_eq!(
            p.place(Hf::JsonKey, "deviceName", &data),
            Some((at("deviceName", 1), 10))
        );
        assert_eq!(p.place(Hf::JsonValue, "d1", &data), None);
        p.rewind(None, &data);
        assert_eq!(p.place(Hf::JsonKey, "deviceName", &data), first);
        // Derived fields have no place.
        assert_eq!(p.place(Hf::SignStatus, "1", &data), None);
    }

    /// A value is placed on a whole JSON value, never on a part of one: `200` is not the first
    /// three digits of `2000`, `on` not the start of `"one"`; only an Alink id ends at a `|`.
    #[test]
    fn values_take_whole_tokens() {
        let payload = br#"{"code":2000,"data":{"code":200},"method":"one","id":"7|exp-topic|/a"}"#;
        let (data, r) = published(payload);
        let at = |s: &str| 2 + find(payload, s.as_bytes(), 0).unwrap();
        assert_eq!(
            locate(Hf::AlinkCode, "200", &data, &r),
            Some((at("200}"), 3))
        );
        assert_eq!(
            locate(Hf::AlinkCode, "2000", &data, &r),
            Some((at("2000"), 4))
        );
        assert_eq!(locate(Hf::AlinkCode, "20", &data, &r), None);
        assert_eq!(locate(Hf::AlinkMethod, "on", &data, &r), None);
        assert_eq!(
            locate(Hf::AlinkMethod, "one", &data, &r),
            Some((at("one"), 3))
        );
        assert_eq!(locate(Hf::AlinkId, "7", &data, &r), Some((at("7|"), 1)));
        let (name, len) = locate(Hf::PropertyName, "method", &data, &r).unwrap();
        assert_eq!(value_after(name + len, "on", &data, false), None);
        assert_eq!(value_after(name + len, "on", &data, true), None);
        assert_eq!(
            value_after(name + len, "one", &data, false),
            Some((at("one"), 3))
        );
    }

    /// A property sent as `{"value": …, "time": …}`: its value is the member `value`'s, its time
    /// the member `time`'s (in either order, with other members around), and the next property's
    /// name is looked for after the whole object, even when it is called `time`.
    #[test]
    fn wrapped_property_value_and_time() {
        let payload = br#"{"params":{"Power":{"time":1524448722000,"x":[1],"value":"on"},"time":{"value":25.50}}}"#;
        let (data, regions) = published(payload);
        let at = |s: &str| 2 + find(payload, s.as_bytes(), 0).unwrap();
        let mut p = Placer::new(regions, Filters::default());
        p.rewind(Some("params"), &data);
        assert_eq!(
            p.place(Hf::PropertyName, "Power", &data),
            Some((at("Power"), 5))
        );
        assert_eq!(
            p.place(Hf::PropertyValue, "on", &data),
            Some((at("on\""), 2))
        );
        // A string has no numeric value in the packet.
        assert_eq!(p.place(Hf::PropertyValueNum, "", &data), None);
        assert_eq!(
            p.place(Hf::PropertyTime, "1524448722000", &data),
            Some((at("1524448722000"), 13))
        );
        assert_eq!(p.place(Hf::PropertyTime, "1524448722000", &data), None);
        assert_eq!(
            p.place(Hf::PropertyName, "time", &data),
            Some((at("time\":{"), 4))
        );
        // Shown as sent: a number keeps its text.
        assert_eq!(p.place(Hf::PropertyValue, "25.5", &data), None);
        p.rewind(Some("params"), &data);
        p.place(Hf::PropertyName, "Power", &data);
        p.place(Hf::PropertyValue, "on", &data);
        p.place(Hf::PropertyName, "time", &data);
        assert_eq!(
            p.place(Hf::PropertyValue, "25.50", &data),
            Some((at("25.50"), 5))
        );
        // Its numeric value is read from the same bytes, once.
        assert_eq!(
            p.place(Hf::PropertyValueNum, "", &data),
            Some((at("25.50"), 5))
        );
        assert_eq!(p.place(Hf::PropertyValueNum, "", &data), None);
        // No time sent: none placed.
        assert_eq!(p.place(Hf::PropertyTime, "1524448722000", &data), None);
        // An object without a `value` is a struct, shown whole.
        let payload = br#"{"params":{"s":{"a":1,"time":2}}}"#;
        let (data, regions) = published(payload);
        let mut p = Placer::new(regions, Filters::default());
        p.rewind(Some("params"), &data);
        p.place(Hf::PropertyName, "s", &data);
        assert_eq!(
            p.place(Hf::PropertyValue, r#"{"a":1,"time":2}"#, &data),
            Some((2 + find(payload, b"{\"a", 0).unwrap(), 16))
        );
        assert_eq!(wrapped(0, br#"{"value":1,"#), None);
        assert_eq!(wrapped(0, br#"{"value"}"#), None);
        assert_eq!(wrapped(0, br#"{,"value":1}"#), None);
        assert_eq!(wrapped(0, br#"{"time":1}"#), None);
        assert_eq!(
            wrapped(0, br#"{"value":1,}"#),
            Some(Wrapped {
                value: 9,
                time: None,
                end: 12
            })
        );
    }

    /// An Alink id's `exp-topic|…` suffix after the id's `|`, to the string's end; an event's
    /// time as the milliseconds sent in its params.
    #[test]
    fn id_suffix_and_event_time() {
        let payload =
            br#"{"id":"7|exp-topic|/a/b","time":5,"params":{"value":{},"time":1733000000000}}"#;
        let (data, r) = published(payload);
        let at = |s: &str| 2 + find(payload, s.as_bytes(), 0).unwrap();
        assert_eq!(
            locate(Hf::AlinkIdSuffix, "exp-topic|/a/b", &data, &r),
            Some((at("exp-topic"), 14))
        );
        assert_eq!(locate(Hf::AlinkIdSuffix, "exp-topic", &data, &r), None);
        assert_eq!(
            locate(Hf::EventTime, "1733000000000", &data, &r),
            Some((at("1733"), 13))
        );
        assert_eq!(locate(Hf::EventTime, "5", &data, &r), None);
    }

    /// A container shown by its size (`{2 members}`, `[2 items]`) covers all of its bytes, to its
    /// own closing bracket (brackets and quotes inside strings do not count); its members are
    /// placed inside it next.
    #[test]
    fn containers_take_their_whole_bytes() {
        let payload = br#"{"params":{"a":{"b":[1,"x]\"]"],"c":"}"},"d":2}}"#;
        let (data, r) = published(payload);
        let at = |s: &str| 2 + find(payload, s.as_bytes(), 0).unwrap();
        let mut p = Placer::new(r, Filters::default());
        let mut pair = |key: &str, value: &str| {
            p.place(Hf::JsonKey, key, &data)?;
            p.place(Hf::JsonValue, value, &data)
        };
        let params = &payload[at("{\"a\"") - 2..payload.len() - 1];
        assert_eq!(
            pair("params", "{2 members}"),
            Some((at("{\"a\""), params.len()))
        );
        let a = br#"{"b":[1,"x]\"]"],"c":"}"}"#;
        assert_eq!(pair("a", "{2 members}"), Some((at("{\"b\""), a.len())));
        assert_eq!(
            pair("b", "[2 items]"),
            Some((at("[1,"), br#"[1,"x]\"]"]"#.len()))
        );
        assert_eq!(pair("c", "}"), Some((at("}\"},"), 1)));
        assert_eq!(pair("d", "2"), Some((at("2}}"), 1)));
        // One that does not close (a cut payload) has no place.
        assert_eq!(container_len(br#"{"a":[1,2}"#), None);
        assert_eq!(container_len(b"[[]]x"), Some(4));
    }

    /// An array's items, shown by their index, are its items in order, nested arrays included;
    /// an item that reads otherwise than shown has no place, and the next one still has its own.
    #[test]
    fn array_items_in_order() {
        let payload = br#"{"params":{"list":[1, "a]",{"x":[2,3]},[4],"\u00b0C",6],"y":5}}"#;
        let (data, r) = published(payload);
        let at = |s: &str| 2 + find(payload, s.as_bytes(), 0).unwrap();
        let mut p = Placer::new(r, Filters::default());
        let mut pair = |key: &str, value: &str| {
            let k = p.place(Hf::JsonKey, key, &data);
            (k.is_some(), p.place(Hf::JsonValue, value, &data))
        };
        assert_eq!(
            pair("params", "{2 members}").1.map(|a| a.0),
            Some(at("{\"list"))
        );
        assert_eq!(pair("list", "[6 items]").1.map(|a| a.0), Some(at("[1,")));
        assert_eq!(pair("[0]", "1"), (false, Some((at("1,"), 1))));
        assert_eq!(pair("[1]", "a]"), (false, Some((at("a]"), 2))));
        assert_eq!(pair("[2]", "{1 members}"), (false, Some((at("{\"x"), 11))));
        assert_eq!(pair("x", "[2 items]"), (true, Some((at("[2,"), 5))));
        assert_eq!(pair("[0]", "2"), (false, Some((at("2,"), 1))));
        assert_eq!(pair("[1]", "3"), (false, Some((at("3]"), 1))));
        // Item 3 of the outer list: the inner array has no more.
        assert_eq!(pair("[3]", "[1 items]"), (false, Some((at("[4]"), 3))));
        assert_eq!(pair("[0]", "4"), (false, Some((at("4]"), 1))));
        // Escaped as sent, shown unescaped: no place, but the next item keeps its own.
        assert_eq!(pair("[4]", "°C"), (false, None));
        assert_eq!(pair("[5]", "6"), (false, Some((at("6]"), 1))));
        assert_eq!(pair("y", "5"), (true, Some((at("5}"), 1))));
        // No array open: an index has no place.
        assert_eq!(pair("[0]", "5"), (false, None));
        assert_eq!(json_value_len(br#""a\\"x"#), Some(5));
        assert_eq!(json_value_len(b"-1.5e3}"), Some(6));
        assert_eq!(json_value_len(b"}"), None);
    }

    /// MQTT 5 user properties: each key after the last one placed, equal keys each on their own
    /// bytes, a value only after its key and as sent; the assigned client id and a reason code
    /// where they are, when they read as shown.
    #[test]
    fn mqtt5_facts_in_order() {
        let mut b = vec![0x30, 0, 0x00, 0x01, b't'];
        let list: &[u8] = b"\x26\x00\x01k\x00\x01v\x23\x00\x01\x26\x00\x01k\x00\x02\xffw";
        b.push(list.len() as u8);
        b.extend(list);
        b[1] = (b.len() - 2) as u8;
        let (pdu, _) = super::super::mqtt::parse(&b, b.len(), 5);
        let mut data = vec![0u8; 10];
        data.extend(&b);
        let mut p = Placer::of(&b, 10, &pdu);
        let list_at = 10 + 6;
        assert_eq!(p.place(Hf::UserPropertyValue, "v", &data), None);
        assert_eq!(
            p.place(Hf::UserPropertyKey, "k", &data),
            Some((list_at + 3, 1))
        );
        assert_eq!(
            p.place(Hf::UserPropertyValue, "v", &data),
            Some((list_at + 6, 1))
        );
        assert_eq!(p.place(Hf::UserPropertyValue, "v", &data), None);
        assert_eq!(
            p.place(Hf::UserPropertyKey, "k", &data),
            Some((list_at + 13, 1))
        );
        // Not valid UTF-8: shown otherwise than sent, so not placed.
        assert_eq!(p.place(Hf::UserPropertyValue, "\u{fffd}w", &data), None);
        assert_eq!(p.place(Hf::UserPropertyKey, "k", &data), None);
        // CONNACK with an assigned client id; DISCONNECT with a reason code.
        let b = b"\x20\x09\x00\x00\x06\x12\x00\x03abc";
        let (pdu, _) = super::super::mqtt::parse(b, b.len(), 5);
        let mut p = Placer::of(b, 0, &pdu);
        assert_eq!(p.place(Hf::AssignedClientId, "abc", b), Some((8, 3)));
        assert_eq!(p.place(Hf::AssignedClientId, "ab", b), None);
        let b = b"\xe0\x01\x8e";
        let (pdu, _) = super::super::mqtt::parse(b, b.len(), 5);
        let mut p = Placer::of(b, 0, &pdu);
        assert_eq!(p.place(Hf::ReasonCode, "142", b), Some((2, 1)));
        assert_eq!(p.place(Hf::ReasonCode, "0", b), None);
    }

    /// The payload shown whole (text, or hex cut with `…`) covers the payload; a file chunk's
    /// header length and CRC are its first and last two bytes, only when they read as shown.
    #[test]
    fn payload_and_file_framing() {
        let (data, r) = published(b"GET_STATUS");
        assert_eq!(
            locate(Hf::PayloadText, "GET_STATUS", &data, &r),
            Some((2, 10))
        );
        assert_eq!(locate(Hf::PayloadText, "GET_", &data, &r), None);
        assert_eq!(locate(Hf::PayloadText, "GET_…", &data, &r), Some((2, 10)));
        assert_eq!(locate(Hf::PayloadText, "POST…", &data, &r), None);
        let (data, r) = published(&[0x01, 0xab, 0x00]);
        assert_eq!(locate(Hf::PayloadHex, "01ab00", &data, &r), Some((2, 3)));
        assert_eq!(locate(Hf::PayloadHex, "01ab…", &data, &r), Some((2, 3)));
        assert_eq!(locate(Hf::PayloadHex, "01ab", &data, &r), None);
        assert_eq!(locate(Hf::PayloadHex, "01ac…", &data, &r), None);
        // Header length 2 (big-endian), header `{}`, one data byte, CRC 0x1b50 (little-endian).
        let (data, r) = published(&[0x00, 0x02, b'{', b'}', 0x07, 0x50, 0x1b]);
        assert_eq!(locate(Hf::FileHeaderLength, "2", &data, &r), Some((2, 2)));
        assert_eq!(locate(Hf::FileHeaderLength, "3", &data, &r), None);
        assert_eq!(locate(Hf::FileCrc, "6992", &data, &r), Some((7, 2)));
        assert_eq!(locate(Hf::FileCrc, "20507", &data, &r), None);
        assert_eq!(locate(Hf::FileChunkLength, "1", &data, &r), None);
    }

    /// Each filter shown is placed in its own bytes, in packet order: two equal filters get
    /// one each, a filter shown otherwise than sent gets none and leaves the order as it was,
    /// and a SUBSCRIBE's topic levels point into the filter they were read from.
    #[test]
    fn subscribe_filters_in_order() {
        let mut packet = vec![0x82, 0, 0x00, 0x07];
        for f in ["/sys/pk/d1/x", "/broadcast/pk/y", "/sys/pk/d1/x"] {
            packet.extend((f.len() as u16).to_be_bytes());
            packet.extend(f.as_bytes());
            packet.push(1);
        }
        packet[1] = (packet.len() - 2) as u8;
        let data = [b"hd".as_slice(), &packet].concat();
        let (pdu, _) = crate::core::mqtt::parse(&packet, packet.len(), 4);
        assert_eq!(pdu.topics.len(), 3);
        let mut f = Filters::of(&packet, 2, &pdu);
        let at = |k: usize| (k, 12);
        // The first filter after 0x82, length, id and its own length: offset 2 + 6.
        assert_eq!(f.place("/sys/pk/d1/x", &data), Some(at(8)));
        assert_eq!(f.place("/sys/pk/\u{fffd}", &data), None);
        assert_eq!(f.place("/sys/pk/d1/x", &data), Some(at(8 + 15 + 18)));
        assert_eq!(f.place("/sys/pk/d1/x", &data), None);
        let r = Regions {
            topic: Some(at(8 + 15 + 18)),
            ..Regions::default()
        };
        assert_eq!(
            locate(Hf::TopicDeviceName, "d1", &data, &r),
            Some((8 + 15 + 18 + 8, 2))
        );
        // A PUBLISH has no filters: nothing to place, nothing allocated.
        let publish = [0x30, 5, 0, 1, b't', b'x', b'y'];
        let (pdu, _) = crate::core::mqtt::parse(&publish, publish.len(), 4);
        assert!(Filters::of(&publish, 0, &pdu).is_empty());
    }
}
