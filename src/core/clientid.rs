//! The MQTT client id of an Alibaba Cloud IoT device (protocol reference §2.1–§2.3).
//!
//! `prefix|k=v,k=v,…|`: the prefix is the text before the first `|`; the parameter list is the
//! text between that first `|` and the last `|`, so values may themselves contain `|`
//! (`lan=JS|WX`). Items are split on `,`, trimmed (SDKs send newlines and spaces), empty items are
//! skipped and keys compare case-insensitively (`authType` / `authtype`).
//!
//! A parsed client id keeps its text once and every part as a place in it: a login is described
//! on every pass that shows it, so parsing makes two allocations (the text, the parameter list)
//! whatever the number of parameters.

use std::ops::Range;

/// At most this many parameters are kept; the rest are counted, so a hostile client id with
/// thousands of items costs bounded work and memory.
pub const MAX_PARAMS: usize = 64;

/// The timestamp value the C, Link and Go SDKs send on every login (2050-01-01T00:00:00Z in ms).
pub const FIXED_SDK_TIMESTAMP: u64 = 2_524_608_000_000;

/// One `key=value` item of the parameter list, trimmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    pub key: &'a str,
    pub value: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampUnit {
    Milliseconds = 1,
    Seconds = 2,
    /// The fixed 2524608000000 of the C/Link/Go SDKs.
    FixedSdk = 3,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    pub raw: u64,
    pub unit: TimestampUnit,
}

impl Timestamp {
    /// Seconds and nanoseconds since the Unix epoch.
    pub fn to_unix(self) -> (i64, i32) {
        match self.unit {
            TimestampUnit::Seconds => (self.raw.min(i64::MAX as u64) as i64, 0),
            _ => (
                (self.raw / 1000) as i64,
                ((self.raw % 1000) * 1_000_000) as i32,
            ),
        }
    }
}

/// Something wrong or noteworthy about a client id; each becomes an expert item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientIdIssue {
    /// No `|…|` parameter section at all.
    NoParams,
    /// Only one `|`: the section is not closed.
    Unterminated,
    /// `\,` in the parameter list: AT-command firmware escaping that reached the wire.
    EscapedCommas,
    UnknownSecureMode(String),
    UnknownSignMethod(String),
    BadTimestamp(String),
    /// Prefix longer than the 64 characters the platform allows.
    PrefixTooLong(usize),
    /// An item without `=`.
    ItemWithoutEquals(String),
    /// More than [`MAX_PARAMS`] items; the count of the ones not kept.
    TooManyParams(usize),
}

/// A place in the client id's text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct At {
    start: u32,
    end: u32,
}

impl At {
    /// `part`, a subslice of `whole` (anything else is a bug: an empty place, never a panic).
    fn of(whole: &str, part: &str) -> At {
        let start = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
        let inside = start <= whole.len() && part.len() <= whole.len() - start;
        debug_assert!(inside, "not a part of the client id");
        match (u32::try_from(start), u32::try_from(start + part.len())) {
            (Ok(start), Ok(end)) if inside => At { start, end },
            _ => At::default(),
        }
    }
    fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientId {
    text: Box<str>,
    prefix: At,
    /// Whether a `|…|` parameter section was found.
    pub has_params: bool,
    /// Every parameter in order, known or not (bounded by [`MAX_PARAMS`]): key, value.
    params: Vec<(At, At)>,
    /// For each of [`KNOWN_KEYS`], the value of its first parameter.
    known: [Option<At>; KNOWN_KEYS.len()],
    pub issues: Vec<ClientIdIssue>,
    pub securemode: Option<i32>,
    pub timestamp: Option<Timestamp>,
    pub ext: Option<u32>,
    pub gw: Option<u32>,
}

/// Keys aliiot shows as named fields; every other key is shown as a generic pair.
pub const KNOWN_KEYS: &[&str] = &[
    "securemode",
    "signmethod",
    "timestamp",
    "_v",
    "lan",
    "ext",
    "gw",
    "authtype",
    "random",
    "instanceid",
];

/// Where `name` is in [`KNOWN_KEYS`], at compile time (a name not there does not compile).
const fn key_at(name: &str) -> usize {
    let mut i = 0;
    while i < KNOWN_KEYS.len() {
        let k = KNOWN_KEYS[i].as_bytes();
        if k.len() == name.len() {
            let mut j = 0;
            while j < k.len() && k[j] == name.as_bytes()[j] {
                j += 1;
            }
            if j == k.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("not a known client id key")
}

const SECUREMODE: usize = key_at("securemode");
const SIGNMETHOD: usize = key_at("signmethod");
const TIMESTAMP: usize = key_at("timestamp");
const SDK_VERSION: usize = key_at("_v");
const SDK_LANGUAGE: usize = key_at("lan");
const EXT: usize = key_at("ext");
const GW: usize = key_at("gw");
const AUTH_TYPE: usize = key_at("authtype");
const RANDOM: usize = key_at("random");
const INSTANCE_ID: usize = key_at("instanceid");

/// Where `key` is in [`KNOWN_KEYS`], compared case-insensitively.
fn known_index(key: &str) -> Option<usize> {
    KNOWN_KEYS.iter().position(|k| k.eq_ignore_ascii_case(key))
}

pub fn is_known_key(key: &str) -> bool {
    known_index(key).is_some()
}

/// Whether an SDK uses this securemode (the table of reference §2.3 is
/// [`super::fields::SECUREMODE_VALUES`]).
pub fn is_known_securemode(mode: i32) -> bool {
    super::fields::SECUREMODE_VALUES
        .iter()
        .any(|(v, _)| *v == mode)
}

/// Whether a securemode says the connection runs over TLS (reference §2.3).
pub fn securemode_declares_tls(mode: i32) -> bool {
    matches!(mode, -1 | 2 | 5 | 7 | 8)
}

const KNOWN_SIGN_METHODS: &[&str] = &["hmacsha1", "hmacsha256", "hmacmd5", "sha256"];

impl ClientId {
    /// Parses a client id. Never fails: whatever is odd is recorded in `issues`.
    pub fn parse(raw: &str) -> ClientId {
        let text: Box<str> = raw.into();
        let mut cid = ClientId::default();
        // Split on ASCII bytes (never inside a character): memchr rather than str's searchers.
        let (first, last) = (
            memchr::memchr(b'|', text.as_bytes()),
            memchr::memrchr(b'|', text.as_bytes()),
        );
        let (prefix, list) = match (first, last) {
            (Some(first), Some(last)) if last > first => {
                (&text[..first], Some(&text[first + 1..last]))
            }
            (Some(first), _) => {
                cid.issues.push(ClientIdIssue::Unterminated);
                (&text[..first], Some(&text[first + 1..]))
            }
            _ => {
                cid.issues.push(ClientIdIssue::NoParams);
                (&text[..], None)
            }
        };
        cid.prefix = At::of(&text, prefix);
        // Characters, counted only when the bytes could be more than 64 of them.
        if prefix.len() > 64 {
            let prefix_chars = prefix.chars().count();
            if prefix_chars > 64 {
                cid.issues.push(ClientIdIssue::PrefixTooLong(prefix_chars));
            }
        }
        if let Some(list) = list {
            cid.has_params = true;
            if list.contains("\\,") {
                cid.issues.push(ClientIdIssue::EscapedCommas);
            }
            // Room for the parameters the SDKs send (up to 8) without growing.
            cid.params.reserve_exact(8);
            let mut dropped = 0usize;
            let mut from = 0;
            for end in memchr::memchr_iter(b',', list.as_bytes()).chain([list.len()]) {
                let item = list[from..end].trim();
                from = end + 1;
                if item.is_empty() {
                    continue;
                }
                if cid.params.len() >= MAX_PARAMS {
                    dropped += 1;
                    continue;
                }
                let (key, value) = match memchr::memchr(b'=', item.as_bytes()) {
                    Some(eq) => (item[..eq].trim(), item[eq + 1..].trim()),
                    None => {
                        cid.issues
                            .push(ClientIdIssue::ItemWithoutEquals(truncate(item, 40)));
                        // The empty value is placed at the item's end, in the text.
                        (item, &item[item.len()..])
                    }
                };
                let value = At::of(&text, value);
                if let Some(k) = known_index(key) {
                    cid.known[k].get_or_insert(value);
                }
                cid.params.push((At::of(&text, key), value));
            }
            if dropped > 0 {
                cid.issues.push(ClientIdIssue::TooManyParams(dropped));
            }
        }
        cid.text = text;
        cid.interpret();
        cid
    }

    /// The text before the first `|`.
    pub fn prefix(&self) -> &str {
        &self.text[self.prefix.range()]
    }

    /// Every parameter in order, known or not (bounded by [`MAX_PARAMS`]).
    pub fn params(&self) -> impl Iterator<Item = Param<'_>> {
        self.params.iter().map(|(k, v)| Param {
            key: &self.text[k.range()],
            value: &self.text[v.range()],
        })
    }

    /// The value of a parameter, by case-insensitive key (the first occurrence).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params()
            .find(|p| p.key.eq_ignore_ascii_case(key))
            .map(|p| p.value)
    }

    /// The value of the first parameter named `KNOWN_KEYS[k]`.
    fn known(&self, k: usize) -> Option<&str> {
        self.known[k].map(|v| &self.text[v.range()])
    }
    pub fn signmethod(&self) -> Option<&str> {
        self.known(SIGNMETHOD)
    }
    /// The `timestamp` value as sent (parsed: [`ClientId::timestamp`]).
    pub fn timestamp_text(&self) -> Option<&str> {
        self.known(TIMESTAMP)
    }
    pub fn sdk_version(&self) -> Option<&str> {
        self.known(SDK_VERSION)
    }
    pub fn sdk_language(&self) -> Option<&str> {
        self.known(SDK_LANGUAGE)
    }
    pub fn auth_type(&self) -> Option<&str> {
        self.known(AUTH_TYPE)
    }
    pub fn random(&self) -> Option<&str> {
        self.known(RANDOM)
    }
    pub fn instance_id(&self) -> Option<&str> {
        self.known(INSTANCE_ID)
    }

    /// The parsed values and the issues of the known parameters.
    fn interpret(&mut self) {
        let mut issues = Vec::new();
        let securemode = self.known(SECUREMODE).and_then(|v| match v.parse::<i32>() {
            Ok(m) => {
                if !is_known_securemode(m) {
                    issues.push(ClientIdIssue::UnknownSecureMode(v.to_string()));
                }
                Some(m)
            }
            Err(_) => {
                issues.push(ClientIdIssue::UnknownSecureMode(truncate(v, 40)));
                None
            }
        });
        if let Some(v) = self.signmethod() {
            if !KNOWN_SIGN_METHODS.iter().any(|m| m.eq_ignore_ascii_case(v)) {
                issues.push(ClientIdIssue::UnknownSignMethod(truncate(v, 40)));
            }
        }
        let timestamp = self.timestamp_text().and_then(|v| {
            let t = parse_timestamp(v);
            if t.is_none() {
                issues.push(ClientIdIssue::BadTimestamp(truncate(v, 40)));
            }
            t
        });
        let ext = self.known(EXT).and_then(|v| v.parse().ok());
        let gw = self.known(GW).and_then(|v| v.parse().ok());
        (self.securemode, self.timestamp, self.ext, self.gw) = (securemode, timestamp, ext, gw);
        self.issues.append(&mut issues);
    }

    /// True when the client id declares one of the dynamic-registration logins, which are signed
    /// with the product secret (reference §3.1).
    pub fn is_dynamic_registration(&self) -> bool {
        self.auth_type()
            .is_some_and(|a| a.eq_ignore_ascii_case("register") || a.eq_ignore_ascii_case("regnwl"))
    }

    /// True when the password is a token rather than an HMAC sign: `authType=connwl` after
    /// regnwl, or securemode -1 (iotToken from the HTTPS guider).
    pub fn uses_token(&self) -> bool {
        self.auth_type()
            .is_some_and(|a| a.eq_ignore_ascii_case("connwl"))
            || self.securemode == Some(-1)
    }

    /// Parameters shown as generic key/value pairs (keys without a named field).
    pub fn other_params(&self) -> impl Iterator<Item = Param<'_>> {
        self.params().filter(|p| !is_known_key(p.key))
    }
}

/// Milliseconds, seconds, or the fixed SDK constant. Values that are all digits but look like
/// neither (more than 13 digits) are refused.
pub fn parse_timestamp(v: &str) -> Option<Timestamp> {
    if v.is_empty() || v.len() > 13 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let raw: u64 = v.parse().ok()?;
    let unit = if raw == FIXED_SDK_TIMESTAMP {
        TimestampUnit::FixedSdk
    } else if raw >= 100_000_000_000 {
        // 1e11 ms is 1973; 1e11 s is year 5138: anything this large is milliseconds.
        TimestampUnit::Milliseconds
    } else {
        TimestampUnit::Seconds
    };
    Some(Timestamp { raw, unit })
}

/// At most `max_chars` characters of `s`, with "…" when cut.
pub(crate) fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_sdk_client_id() {
        let c = ClientId::parse(
            "a1B2c3D4e5F&lab-sensor-02|securemode=3,signmethod=hmacsha1,timestamp=1733000000123,lan=NodeJS,_v=1.2.8|",
        );
        assert_eq!(c.prefix(), "a1B2c3D4e5F&lab-sensor-02");
        assert!(c.has_params);
        assert_eq!(c.securemode, Some(3));
        assert_eq!(c.signmethod(), Some("hmacsha1"));
        assert_eq!(
            c.timestamp,
            Some(Timestamp {
                raw: 1733000000123,
                unit: TimestampUnit::Milliseconds
            })
        );
        assert_eq!(c.timestamp.unwrap().to_unix(), (1733000000, 123_000_000));
        assert_eq!(c.sdk_language(), Some("NodeJS"));
        assert_eq!(c.sdk_version(), Some("1.2.8"));
        assert!(c.issues.is_empty(), "{:?}", c.issues);
        assert_eq!(c.other_params().count(), 0);
    }

    #[test]
    fn value_may_contain_pipe() {
        let c = ClientId::parse("pk&dn|securemode=2,lan=JS|WX,_v=1.2.8|");
        assert_eq!(c.sdk_language(), Some("JS|WX"));
        assert_eq!(c.sdk_version(), Some("1.2.8"));
        let c = ClientId::parse("pk&dn|lan=JS|Broswer ,securemode=2|");
        assert_eq!(c.sdk_language(), Some("JS|Broswer"));
    }

    #[test]
    fn empty_prefix_and_trailing_empty_item() {
        let c = ClientId::parse(
            "|timestamp=2524608000000,_ss=1,securemode=2,signmethod=hmacsha256,ext=3,|",
        );
        assert_eq!(c.prefix(), "");
        assert_eq!(c.ext, Some(3));
        assert_eq!(c.timestamp.unwrap().unit, TimestampUnit::FixedSdk);
        assert_eq!(c.timestamp.unwrap().to_unix(), (2524608000, 0));
        assert_eq!(c.other_params().map(|p| p.key).collect::<Vec<_>>(), ["_ss"]);
        assert!(c.issues.is_empty());
    }

    #[test]
    fn newlines_in_parameter_list() {
        let c = ClientId::parse(
            "pk&dn_aliyun-iot-device-sdk-js|securemode=2,\n        signmethod=hmacsha1,\n        timestamp=1700000000000|",
        );
        assert_eq!(c.securemode, Some(2));
        assert_eq!(c.signmethod(), Some("hmacsha1"));
        assert_eq!(c.timestamp.unwrap().raw, 1700000000000);
    }

    #[test]
    fn negative_securemode_and_case_insensitive_keys() {
        let c = ClientId::parse("cid|authType=connwl,securemode=-2,_ss=1,ext=3,_v=sdk-c-4.2.0|");
        assert_eq!(c.securemode, Some(-2));
        assert_eq!(c.auth_type(), Some("connwl"));
        assert!(c.uses_token());
        let c = ClientId::parse(
            "dn.pk|random=3735928559,AUTHTYPE=register,securemode=2,signmethod=hmacsha256|",
        );
        assert!(c.is_dynamic_registration());
        assert_eq!(c.random(), Some("3735928559"));
    }

    #[test]
    fn named_keys_read_as_get_reads_them() {
        // The first of a repeated key is the one read, whatever its case.
        let c = ClientId::parse("x|lan=C,LAN=Go,_v=1,instanceId=i-1,random=7,timestamp=9x|");
        assert_eq!(c.sdk_language(), Some("C"));
        assert_eq!(c.get("lan"), Some("C"));
        assert_eq!(
            (c.sdk_version(), c.instance_id(), c.random()),
            (Some("1"), Some("i-1"), Some("7"))
        );
        assert_eq!(c.signmethod(), None);
        assert_eq!(c.timestamp_text(), Some("9x"));
        assert_eq!(c.timestamp, None);
    }

    #[test]
    fn seconds_timestamp() {
        let t = parse_timestamp("1700000000").unwrap();
        assert_eq!(t.unit, TimestampUnit::Seconds);
        assert_eq!(t.to_unix(), (1700000000, 0));
        assert!(parse_timestamp("17000000000000000").is_none());
        assert!(parse_timestamp("12a").is_none());
        assert!(parse_timestamp("").is_none());
    }

    #[test]
    fn malformed_ids_are_flagged() {
        let c = ClientId::parse("a1B2c3D4e5F&lab-sensor-06");
        assert_eq!(c.issues, [ClientIdIssue::NoParams]);
        assert!(!c.has_params);
        assert_eq!(c.prefix(), "a1B2c3D4e5F&lab-sensor-06");

        let c = ClientId::parse("x|securemode=3\\,signmethod=hmacsha1\\,timestamp=789|");
        assert!(c.issues.contains(&ClientIdIssue::EscapedCommas));
        assert!(c
            .issues
            .iter()
            .any(|i| matches!(i, ClientIdIssue::UnknownSecureMode(_))));

        let c = ClientId::parse("x|securemode=9,signmethod=hmacsha512|");
        assert!(c
            .issues
            .contains(&ClientIdIssue::UnknownSecureMode("9".into())));
        assert!(c
            .issues
            .contains(&ClientIdIssue::UnknownSignMethod("hmacsha512".into())));

        let c = ClientId::parse("x|securemode=3");
        assert_eq!(c.issues[0], ClientIdIssue::Unterminated);
        assert_eq!(c.securemode, Some(3));

        let long = "p".repeat(65);
        let c = ClientId::parse(&format!("{long}|securemode=3|"));
        assert!(c.issues.contains(&ClientIdIssue::PrefixTooLong(65)));

        let c = ClientId::parse("x|novalue,securemode=3|");
        assert!(c
            .issues
            .contains(&ClientIdIssue::ItemWithoutEquals("novalue".into())));
        // Shown as a parameter with an empty value (the fuzz target found the value placed
        // outside the text).
        let p: Vec<_> = c.params().map(|p| (p.key, p.value)).collect();
        assert_eq!(p, [("novalue", ""), ("securemode", "3")]);
        assert_eq!(c.get("novalue"), Some(""));
    }

    #[test]
    fn thousands_of_params_are_bounded() {
        let mut s = String::from("x|");
        for i in 0..5000 {
            s.push_str(&format!("k{i}=v,"));
        }
        s.push('|');
        let c = ClientId::parse(&s);
        assert_eq!(c.params().count(), MAX_PARAMS);
        assert!(c
            .issues
            .contains(&ClientIdIssue::TooManyParams(5000 - MAX_PARAMS)));
    }

    #[test]
    fn huge_client_id() {
        let s = "a".repeat(65_535);
        let c = ClientId::parse(&s);
        assert_eq!(c.prefix().len(), 65_535);
        assert!(c.issues.contains(&ClientIdIssue::PrefixTooLong(65_535)));
    }
}
