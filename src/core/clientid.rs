//! The MQTT client id of an Alibaba Cloud IoT device (protocol reference §2.1–§2.3).
//!
//! `prefix|k=v,k=v,…|`: the prefix is the text before the first `|`; the parameter list is the
//! text between that first `|` and the last `|`, so values may themselves contain `|`
//! (`lan=JS|WX`). Items are split on `,`, trimmed (SDKs send newlines and spaces), empty items are
//! skipped and keys compare case-insensitively (`authType` / `authtype`).

/// At most this many parameters are kept; the rest are counted, so a hostile client id with
/// thousands of items costs bounded work and memory.
pub const MAX_PARAMS: usize = 64;

/// The timestamp value the C, Link and Go SDKs send on every login (2050-01-01T00:00:00Z in ms).
pub const FIXED_SDK_TIMESTAMP: u64 = 2_524_608_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub key: String,
    pub value: String,
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

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientId {
    pub prefix: String,
    /// Whether a `|…|` parameter section was found.
    pub has_params: bool,
    /// Every parameter in order, known or not (bounded by [`MAX_PARAMS`]).
    pub params: Vec<Param>,
    pub issues: Vec<ClientIdIssue>,
    pub securemode: Option<i32>,
    pub signmethod: Option<String>,
    pub timestamp: Option<Timestamp>,
    pub sdk_version: Option<String>,
    pub sdk_language: Option<String>,
    pub ext: Option<u32>,
    pub gw: Option<u32>,
    pub auth_type: Option<String>,
    pub random: Option<String>,
    pub instance_id: Option<String>,
}

/// The value of the first parameter with `key`, compared case-insensitively.
fn find_param<'a>(params: &'a [Param], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|p| p.key.eq_ignore_ascii_case(key))
        .map(|p| p.value.as_str())
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

pub fn is_known_key(key: &str) -> bool {
    KNOWN_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
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
        let mut cid = ClientId::default();
        let (prefix, list) = match (raw.find('|'), raw.rfind('|')) {
            (Some(first), Some(last)) if last > first => {
                (&raw[..first], Some(&raw[first + 1..last]))
            }
            (Some(first), _) => {
                cid.issues.push(ClientIdIssue::Unterminated);
                (&raw[..first], Some(&raw[first + 1..]))
            }
            _ => {
                cid.issues.push(ClientIdIssue::NoParams);
                (raw, None)
            }
        };
        cid.prefix = prefix.to_string();
        let prefix_chars = prefix.chars().count();
        if prefix_chars > 64 {
            cid.issues.push(ClientIdIssue::PrefixTooLong(prefix_chars));
        }
        let Some(list) = list else { return cid };
        cid.has_params = true;
        if list.contains("\\,") {
            cid.issues.push(ClientIdIssue::EscapedCommas);
        }
        let mut dropped = 0usize;
        for item in list.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            if cid.params.len() >= MAX_PARAMS {
                dropped += 1;
                continue;
            }
            let (key, value) = match item.split_once('=') {
                Some((k, v)) => (k.trim(), v.trim()),
                None => {
                    cid.issues
                        .push(ClientIdIssue::ItemWithoutEquals(truncate(item, 40)));
                    (item, "")
                }
            };
            cid.params.push(Param {
                key: key.to_string(),
                value: value.to_string(),
            });
        }
        if dropped > 0 {
            cid.issues.push(ClientIdIssue::TooManyParams(dropped));
        }
        cid.interpret();
        cid
    }

    /// The value of a parameter, by case-insensitive key (the first occurrence).
    pub fn get(&self, key: &str) -> Option<&str> {
        find_param(&self.params, key)
    }

    fn interpret(&mut self) {
        let params = std::mem::take(&mut self.params);
        let get = |key: &str| find_param(&params, key);
        if let Some(v) = get("securemode") {
            match v.parse::<i32>() {
                Ok(m) => {
                    self.securemode = Some(m);
                    if !is_known_securemode(m) {
                        self.issues
                            .push(ClientIdIssue::UnknownSecureMode(v.to_string()));
                    }
                }
                Err(_) => self
                    .issues
                    .push(ClientIdIssue::UnknownSecureMode(truncate(v, 40))),
            }
        }
        if let Some(v) = get("signmethod") {
            if !KNOWN_SIGN_METHODS.contains(&v.to_ascii_lowercase().as_str()) {
                self.issues
                    .push(ClientIdIssue::UnknownSignMethod(truncate(v, 40)));
            }
            self.signmethod = Some(v.to_string());
        }
        if let Some(v) = get("timestamp") {
            match parse_timestamp(v) {
                Some(t) => self.timestamp = Some(t),
                None => self
                    .issues
                    .push(ClientIdIssue::BadTimestamp(truncate(v, 40))),
            }
        }
        self.sdk_version = get("_v").map(str::to_string);
        self.sdk_language = get("lan").map(str::to_string);
        self.ext = get("ext").and_then(|v| v.parse().ok());
        self.gw = get("gw").and_then(|v| v.parse().ok());
        self.auth_type = get("authtype").map(str::to_string);
        self.random = get("random").map(str::to_string);
        self.instance_id = get("instanceid").map(str::to_string);
        self.params = params;
    }

    /// True when the client id declares one of the dynamic-registration logins, which are signed
    /// with the product secret (reference §3.1).
    pub fn is_dynamic_registration(&self) -> bool {
        matches!(
            self.auth_type
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref(),
            Some("register" | "regnwl")
        )
    }

    /// True when the password is a token rather than an HMAC sign: `authType=connwl` after
    /// regnwl, or securemode -1 (iotToken from the HTTPS guider).
    pub fn uses_token(&self) -> bool {
        self.auth_type
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case("connwl"))
            || self.securemode == Some(-1)
    }

    /// Parameters shown as generic key/value pairs (keys without a named field).
    pub fn other_params(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| !is_known_key(&p.key))
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
        assert_eq!(c.prefix, "a1B2c3D4e5F&lab-sensor-02");
        assert!(c.has_params);
        assert_eq!(c.securemode, Some(3));
        assert_eq!(c.signmethod.as_deref(), Some("hmacsha1"));
        assert_eq!(
            c.timestamp,
            Some(Timestamp {
                raw: 1733000000123,
                unit: TimestampUnit::Milliseconds
            })
        );
        assert_eq!(c.timestamp.unwrap().to_unix(), (1733000000, 123_000_000));
        assert_eq!(c.sdk_language.as_deref(), Some("NodeJS"));
        assert_eq!(c.sdk_version.as_deref(), Some("1.2.8"));
        assert!(c.issues.is_empty(), "{:?}", c.issues);
        assert_eq!(c.other_params().count(), 0);
    }

    #[test]
    fn value_may_contain_pipe() {
        let c = ClientId::parse("pk&dn|securemode=2,lan=JS|WX,_v=1.2.8|");
        assert_eq!(c.sdk_language.as_deref(), Some("JS|WX"));
        assert_eq!(c.sdk_version.as_deref(), Some("1.2.8"));
        let c = ClientId::parse("pk&dn|lan=JS|Broswer ,securemode=2|");
        assert_eq!(c.sdk_language.as_deref(), Some("JS|Broswer"));
    }

    #[test]
    fn empty_prefix_and_trailing_empty_item() {
        let c = ClientId::parse(
            "|timestamp=2524608000000,_ss=1,securemode=2,signmethod=hmacsha256,ext=3,|",
        );
        assert_eq!(c.prefix, "");
        assert_eq!(c.ext, Some(3));
        assert_eq!(c.timestamp.unwrap().unit, TimestampUnit::FixedSdk);
        assert_eq!(c.timestamp.unwrap().to_unix(), (2524608000, 0));
        assert_eq!(
            c.other_params().map(|p| p.key.as_str()).collect::<Vec<_>>(),
            ["_ss"]
        );
        assert!(c.issues.is_empty());
    }

    #[test]
    fn newlines_in_parameter_list() {
        let c = ClientId::parse(
            "pk&dn_aliyun-iot-device-sdk-js|securemode=2,\n        signmethod=hmacsha1,\n        timestamp=1700000000000|",
        );
        assert_eq!(c.securemode, Some(2));
        assert_eq!(c.signmethod.as_deref(), Some("hmacsha1"));
        assert_eq!(c.timestamp.unwrap().raw, 1700000000000);
    }

    #[test]
    fn negative_securemode_and_case_insensitive_keys() {
        let c = ClientId::parse("cid|authType=connwl,securemode=-2,_ss=1,ext=3,_v=sdk-c-4.2.0|");
        assert_eq!(c.securemode, Some(-2));
        assert_eq!(c.auth_type.as_deref(), Some("connwl"));
        assert!(c.uses_token());
        let c = ClientId::parse(
            "dn.pk|random=3735928559,AUTHTYPE=register,securemode=2,signmethod=hmacsha256|",
        );
        assert!(c.is_dynamic_registration());
        assert_eq!(c.random.as_deref(), Some("3735928559"));
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
        assert_eq!(c.prefix, "a1B2c3D4e5F&lab-sensor-06");

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
    }

    #[test]
    fn thousands_of_params_are_bounded() {
        let mut s = String::from("x|");
        for i in 0..5000 {
            s.push_str(&format!("k{i}=v,"));
        }
        s.push('|');
        let c = ClientId::parse(&s);
        assert_eq!(c.params.len(), MAX_PARAMS);
        assert!(c
            .issues
            .contains(&ClientIdIssue::TooManyParams(5000 - MAX_PARAMS)));
    }

    #[test]
    fn huge_client_id() {
        let s = "a".repeat(65_535);
        let c = ClientId::parse(&s);
        assert_eq!(c.prefix.len(), 65_535);
        assert!(c.issues.contains(&ClientIdIssue::PrefixTooLong(65_535)));
    }
}
