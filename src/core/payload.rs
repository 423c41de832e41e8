//! PUBLISH payloads on Alibaba topics: Alink JSON (protocol reference §5), JSON on user topics,
//! text and binary. The result is owned and compact so it can be cached for later passes.

use super::fields::Hf;
use super::json::{self, Value};
use super::topic::{Carries, Class, Content, TopicInfo};
use super::tsl::{self, InForce};
use std::borrow::Cow;
use std::cell::Cell;

/// At most this many JSON members are shown per payload (the rest are counted).
pub const MAX_TREE_ITEMS: usize = 256;
/// Nesting shown in the JSON tree.
pub const MAX_TREE_DEPTH: usize = 8;
/// At most this many properties are listed per message.
pub const MAX_PROPERTIES: usize = 512;
/// Bytes of a binary payload shown as hex.
pub const MAX_HEX_BYTES: usize = 64;

/// One line of a JSON tree: its depth (0 = member of the top object), key and value text.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeItem {
    pub depth: u8,
    pub key: String,
    /// The scalar as text, or a summary like `{3 members}` for containers.
    pub value: String,
    pub container: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    pub name: String,
    pub value: String,
    pub value_num: Option<f64>,
    /// UTC milliseconds.
    pub time: Option<u64>,
    /// What the product's thing model says of it (only with a model).
    pub tsl: Option<Box<tsl::PropertyTsl>>,
}

/// An Alink id: a few digits, kept inline.
pub type ShortText = super::text::Short<22>;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Alink {
    /// The id as sent (number or string), without an `|exp-topic|…` suffix.
    pub id: Option<ShortText>,
    /// The `exp-topic|…` suffix the Node SDK appends to ids.
    pub id_suffix: Option<String>,
    /// Borrowed when it is the usual "1.0".
    pub version: Option<Cow<'static, str>>,
    /// Borrowed when it is the topic class's own name (a property post's method, say).
    pub method: Option<Cow<'static, str>>,
    /// `sys.ack`: 0 means no reply is wanted.
    pub ack: Option<u64>,
    pub code: Option<u64>,
    /// Borrowed when it is the usual "success".
    pub message: Option<Cow<'static, str>>,
    pub properties: Vec<Property>,
    /// Event time (UTC ms) of an event post.
    pub event_time: Option<u64>,
    pub params: Vec<TreeItem>,
    pub data: Vec<TreeItem>,
    /// OTA progress step: 0–100 percent, or a negative failure code.
    pub ota_step: Option<i32>,
    /// What `properties` are to the thing model (event outputs, service arguments…).
    pub args: tsl::Args,
    /// The message described against its product's thing model: the model, and findings about
    /// the message as a whole (each value's are in its [`Property::tsl`]).
    pub tsl: Option<Box<tsl::Described>>,
}

impl Alink {
    /// Every thing-model finding: the message's, then each value's.
    pub fn tsl_findings(&self) -> impl Iterator<Item = &tsl::check::TslIssue> {
        self.tsl.iter().flat_map(|d| d.issues.iter()).chain(
            self.properties
                .iter()
                .filter_map(|p| p.tsl.as_ref())
                .flat_map(|t| t.issues.iter()),
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Empty,
    Alink(Box<Alink>),
    /// An Alink message read for the Info column's code alone ([`code_facts`]): nothing is
    /// allocated for it.
    AlinkCode(Option<u64>),
    Json(Vec<TreeItem>),
    Text(String),
    Binary {
        len: usize,
        hex: String,
    },
    /// The chunked file framing of reference §6.2.
    File(Box<FileChunk>),
}

/// `u16 BE header length | header JSON | chunk | CRC-16/ARC of the chunk, u16 LE`.
#[derive(Debug, Clone, PartialEq)]
pub struct FileChunk {
    pub header_len: u16,
    pub header: Alink,
    pub chunk_len: usize,
    pub crc_stored: u16,
    pub crc_computed: u16,
}

/// Something noteworthy about a payload, turned into an expert item by the session.
#[derive(Debug, Clone, PartialEq)]
pub enum PayloadIssue {
    /// Not parseable as JSON where the topic says JSON.
    BadJson(String),
    /// A leniency was needed (trailing comma, invalid UTF-8, …).
    LenientJson(String),
    /// An Alink `code` other than 200.
    ErrorCode(u64),
    /// The payload carries a credential in clear (device secret or token).
    Secret(&'static str),
    /// Shown only in part.
    Truncated(usize),
    /// A shadow reply with status "error": its code and message.
    ShadowError(String),
    /// An OTA progress report with a negative (failure) step.
    OtaFailed(i32),
    /// A file chunk whose CRC-16 does not match its data.
    FileCrc { stored: u16, computed: u16 },
    /// A file chunk frame that does not add up.
    FileFraming(String),
    /// Pass-through bytes with the shape of the sample data-parsing script's reply.
    SampleScriptReply { id: u32, code: u8 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    pub body: Body,
    pub issues: Vec<PayloadIssue>,
    /// Members with a field of their own (shadow method and version, OTA firmware facts…).
    pub named: Vec<(Hf, String)>,
}

impl Payload {
    /// A payload known by its Alink code alone, for the Info column (see [`code_facts`]).
    pub fn code_only(code: Option<u64>) -> Payload {
        Payload {
            body: Body::AlinkCode(code),
            issues: Vec::new(),
            named: Vec::new(),
        }
    }

    /// How many thing-model findings the payload has.
    pub fn tsl_findings(&self) -> usize {
        match &self.body {
            Body::Alink(a) if a.tsl.is_some() => a.tsl_findings().count(),
            _ => 0,
        }
    }

    /// An Alink message's `code`.
    pub fn code(&self) -> Option<u64> {
        match &self.body {
            Body::Alink(a) => a.code,
            Body::AlinkCode(c) => *c,
            _ => None,
        }
    }

    /// Whether the payload is an Alink reply with an error code.
    pub fn alink_error(&self) -> bool {
        self.issues
            .iter()
            .any(|i| matches!(i, PayloadIssue::ErrorCode(_)))
    }
}

/// Alink text that is nearly always one of a few values: those are borrowed, not allocated.
fn common(s: &str, class: Class) -> Cow<'static, str> {
    match s {
        "1.0" => Cow::Borrowed("1.0"),
        "success" => Cow::Borrowed("success"),
        _ if s == class.name => Cow::Borrowed(class.name),
        _ => Cow::Owned(s.to_string()),
    }
}

/// An id and the `exp-topic|…` suffix the Node SDK appends after a `|`.
fn split_id(id: &str) -> (&str, Option<&str>) {
    // A byte search ('|' is ASCII, so the halves are on character boundaries).
    match id.bytes().position(|b| b == b'|') {
        Some(at) => (&id[..at], Some(&id[at + 1..])),
        None => (id, None),
    }
}

/// What the message carries, by its class.
fn carries(t: &TopicInfo<'_>) -> Carries {
    t.class.carries(t.is_reply)
}

/// Keys whose values are credentials: shown masked in aliiot's tree.
const SECRET_KEYS: &[&str] = &["deviceSecret", "deviceToken", "productSecret"];

/// The payload in full; with its product's thing model (among `models`), described and checked
/// against it.
pub fn analyze(t: &TopicInfo<'_>, bytes: &[u8], models: InForce<'_>) -> Payload {
    analyze_with(t, bytes, true, models)
}

/// What the first pass needs of a payload nobody is shown yet: everything but the trees of an
/// Alink message's `params` and `data`, its properties and the credential scan (an Alink message's
/// id, code, `sys.ack`, method and version are kept, for pairing and counting). The packet's
/// items are made from [`analyze`] when it is shown.
pub fn facts(t: &TopicInfo<'_>, bytes: &[u8]) -> Payload {
    analyze_with(t, bytes, false, InForce::NONE)
}

fn analyze_with(t: &TopicInfo<'_>, bytes: &[u8], full: bool, models: InForce<'_>) -> Payload {
    if !full {
        if let Some(p) = alink_facts(t, bytes) {
            // The scan and the parser agree (checked in debug builds, the fuzz targets' too).
            debug_assert_eq!(
                p,
                parsed_facts(t, bytes),
                "alink_facts and the parser disagree"
            );
            return p;
        }
    }
    parsed_facts_or_full(t, bytes, full, models)
}

/// [`facts`] through the parser.
fn parsed_facts(t: &TopicInfo<'_>, bytes: &[u8]) -> Payload {
    let mut p = parsed_facts_or_full(t, bytes, false, InForce::NONE);
    // Only what alink_facts gives: the Alink facts and their error code.
    p.issues.retain(|i| matches!(i, PayloadIssue::ErrorCode(_)));
    p
}

fn parsed_facts_or_full(
    t: &TopicInfo<'_>,
    bytes: &[u8],
    full: bool,
    models: InForce<'_>,
) -> Payload {
    let mut issues = Vec::new();
    if bytes.is_empty() {
        return Payload {
            body: Body::Empty,
            issues,
            named: Vec::new(),
        };
    }
    let carries = carries(t);
    if carries == Carries::FileChunk {
        let body = match file_chunk(t, bytes, &mut issues) {
            Some(chunk) => Body::File(Box::new(chunk)),
            None => binary(bytes),
        };
        return Payload {
            body,
            issues,
            named: Vec::new(),
        };
    }
    if carries == Carries::Binary && !(t.rrpc_id.is_some() && looks_like_json(bytes)) {
        return Payload {
            body: binary(bytes),
            issues,
            named: Vec::new(),
        };
    }
    if carries == Carries::Raw && !looks_like_json(bytes) {
        if let Some(shape) = sample_script_reply(bytes) {
            issues.push(shape);
        }
        return Payload {
            body: binary(bytes),
            issues,
            named: Vec::new(),
        };
    }
    let expect_json = matches!(carries, Carries::Alink | Carries::Json);
    if !expect_json && !looks_like_json(bytes) {
        return Payload {
            body: text_or_binary(bytes),
            issues,
            named: Vec::new(),
        };
    }
    let parsed = match json::parse(bytes) {
        Ok(p) => p,
        Err(e) => {
            if expect_json {
                issues.push(PayloadIssue::BadJson(e.to_string()));
            }
            return Payload {
                body: text_or_binary(bytes),
                issues,
                named: Vec::new(),
            };
        }
    };
    for n in &parsed.notes {
        issues.push(PayloadIssue::LenientJson(n.clone()));
    }
    let v = &parsed.value;
    let alink_body = matches!(carries, Carries::Alink | Carries::Raw) && v.is_object();
    if full || !alink_body {
        scan_secrets(v, 0, &mut issues);
    }
    let named = named_members(t, v, &mut issues);
    let body = if alink_body {
        Body::Alink(boxed(alink(t, v, &mut issues, full, models)))
    } else {
        let mut items = Vec::new();
        tree(v, 0, &mut items, &mut issues);
        Body::Json(items)
    };
    Payload {
        body,
        issues,
        named,
    }
}

/// [`facts`] of an Alink message without parsing it into a document, when the strict scan can
/// answer ([`json::scan_object`]); None leaves it to the parser.
fn alink_facts(t: &TopicInfo<'_>, bytes: &[u8]) -> Option<Payload> {
    if !scanned(t) {
        return None;
    }
    let [id, version, method, sys, code, message] =
        json::scan(bytes, ["id", "version", "method", "sys", "code", "message"])?;
    let text = |r: Option<json::Raw<'_>>| -> Option<Option<Cow<'static, str>>> {
        match r {
            None => Some(None),
            Some(json::Raw::Str(s) | json::Raw::Number(s)) => Some(Some(common(s, t.class))),
            Some(json::Raw::Bool(b)) => Some(Some(Cow::Borrowed(if b { "true" } else { "false" }))),
            Some(json::Raw::Null) => Some(Some(Cow::Borrowed("null"))),
            // Containers are described by their size: leave them to the parser.
            Some(_) => None,
        }
    };
    let mut a = Alink::default();
    match id {
        None => {}
        Some(json::Raw::Str(s) | json::Raw::Number(s)) => {
            let (id, suffix) = split_id(s);
            a.id = Some(ShortText::from(id));
            a.id_suffix = suffix.map(str::to_string);
        }
        Some(r) => a.id = text(Some(r))?.map(|t| ShortText::from(&*t)),
    }
    a.version = text(version)?;
    a.method = match method {
        Some(json::Raw::Str(s)) => Some(common(s, t.class)),
        _ => None,
    };
    if let Some(json::Raw::Object(sys)) = sys {
        let [ack] = json::scan(sys, ["ack"])?;
        a.ack = ack.and_then(|r| r.as_u64_lenient());
    }
    a.code = code.and_then(|r| r.as_u64_lenient());
    a.message = text(message)?;
    Some(alink_payload(t, a))
}

/// Whether [`alink_facts`] reads the class's messages (a firmware description has fields of
/// its own: left to the parser).
fn scanned(t: &TopicInfo<'_>) -> bool {
    matches!(carries(t), Carries::Alink | Carries::Raw)
        && !matches!(
            t.class.content,
            Content::FirmwareReport | Content::FirmwareOffer | Content::FirmwarePush
        )
}

thread_local! {
    /// One Alink message's allocation, kept from one packet to the next: the first pass reads
    /// every PUBLISH's Alink facts and drops them once the record is kept ([`recycle`]), so a
    /// PUBLISH whose fields nobody asked for allocates nothing once the first is done.
    static SPARE: Cell<Option<Box<Alink>>> = const { Cell::new(None) };
}

/// `a` in the spare allocation, if there is one.
fn boxed(a: Alink) -> Box<Alink> {
    match SPARE.with(Cell::take) {
        Some(mut b) => {
            *b = a;
            b
        }
        None => Box::new(a),
    }
}

/// Keeps a payload's Alink allocation for the next packet's (its contents are dropped then).
pub fn recycle(p: Payload) {
    if let Body::Alink(b) = p.body {
        SPARE.with(|s| s.set(Some(b)));
    }
}

/// An Alink message's payload, with its error code flagged.
fn alink_payload(t: &TopicInfo<'_>, a: Alink) -> Payload {
    let issues = code_issues(t, a.code);
    Payload {
        body: Body::Alink(boxed(a)),
        issues,
        named: Vec::new(),
    }
}

/// The error code of an Alink reply, flagged (no allocation unless it is one).
fn code_issues(t: &TopicInfo<'_>, code: Option<u64>) -> Vec<PayloadIssue> {
    match code {
        Some(c) if t.class.is_error_code(c) => vec![PayloadIssue::ErrorCode(c)],
        _ => Vec::new(),
    }
}

/// What the Info column shows of a payload nobody is shown otherwise: [`facts`] for the
/// message's kind and an Alink message's code only (its other members are not read).
pub fn code_facts(t: &TopicInfo<'_>, bytes: &[u8]) -> Payload {
    if !scanned(t) {
        return facts(t, bytes);
    }
    // Without a backslash a member name is its bytes: with no `"code"` among them no member is
    // named code, whatever the parser makes of the rest. Requests end here, unscanned.
    static CODE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"code\""));
    let code = if memchr::memchr(b'\\', bytes).is_none() && CODE.find(bytes).is_none() {
        None
    } else {
        match json::scan(bytes, ["code"]) {
            Some([code]) => code.and_then(|r| r.as_u64_lenient()),
            None => return facts(t, bytes),
        }
    };
    let p = Payload {
        body: Body::AlinkCode(code),
        issues: code_issues(t, code),
        named: Vec::new(),
    };
    debug_assert_eq!(
        p.code(),
        facts(t, bytes).code(),
        "code_facts and facts disagree"
    );
    p
}

/// Shadow documents (reference §4.5) and OTA firmware descriptions (§4.4) have fields of their
/// own; a shadow reply with status "error" is flagged.
fn named_members(
    t: &TopicInfo<'_>,
    v: &Value,
    issues: &mut Vec<PayloadIssue>,
) -> Vec<(Hf, String)> {
    let mut out = Vec::new();
    let mut put = |hf: Hf, v: Option<&Value>| {
        if let Some(v) =
            v.filter(|v| !matches!(v, Value::Object(_) | Value::Array(_) | Value::Null))
        {
            out.push((hf, value_text(v)));
        }
    };
    let firmware = match t.class.content {
        Content::FirmwareReport => v.get("params").or_else(|| v.get("data")),
        Content::FirmwareOffer | Content::FirmwarePush => v.get("data"),
        _ => None,
    };
    if t.class.content == Content::Shadow {
        put(Hf::ShadowMethod, v.get("method"));
        put(Hf::ShadowVersion, v.get("version"));
        if let Some(p) = v.get("payload") {
            put(Hf::ShadowStatus, p.get("status"));
            if p.get("status").and_then(Value::as_str) == Some("error") {
                let c = p.get("content");
                let code = c
                    .and_then(|c| c.get("errorcode"))
                    .map(value_text)
                    .unwrap_or_default();
                let msg = c
                    .and_then(|c| c.get("errormessage"))
                    .map(value_text)
                    .unwrap_or_default();
                issues.push(PayloadIssue::ShadowError(
                    format!("{code} {msg}").trim().to_string(),
                ));
            }
        }
    } else if let Some(fw) = firmware {
        for (hf, key) in [
            (Hf::OtaVersion, "version"),
            (Hf::OtaModule, "module"),
            (Hf::OtaSize, "size"),
            (Hf::OtaUrl, "url"),
            (Hf::OtaSignMethod, "signMethod"),
            (Hf::OtaSign, "sign"),
            (Hf::OtaMd5, "md5"),
        ] {
            put(hf, fw.get(key));
        }
    }
    out
}

/// Bytes shaped like the reply of Alibaba's sample data-parsing script (reference §6.1: `0x02`,
/// a 4-byte id, a 1-byte code): a hint, since only the product's own script gives them meaning.
fn sample_script_reply(b: &[u8]) -> Option<PayloadIssue> {
    match *b {
        [0x02, a, b, c, d, code] => Some(PayloadIssue::SampleScriptReply {
            id: u32::from_be_bytes([a, b, c, d]),
            code,
        }),
        _ => None,
    }
}

fn looks_like_json(b: &[u8]) -> bool {
    matches!(
        b.iter().find(|c| !c.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

fn binary(bytes: &[u8]) -> Body {
    let shown = &bytes[..bytes.len().min(MAX_HEX_BYTES)];
    let mut hex = super::sign::hex(shown);
    if bytes.len() > MAX_HEX_BYTES {
        hex.push('…');
    }
    Body::Binary {
        len: bytes.len(),
        hex,
    }
}

fn text_or_binary(bytes: &[u8]) -> Body {
    match std::str::from_utf8(bytes) {
        Ok(s) if !s.chars().any(|c| c.is_control() && !c.is_whitespace()) => {
            let mut t: String = s.chars().take(256).collect();
            if t.len() < s.len() {
                t.push('…');
            }
            Body::Text(t)
        }
        _ => binary(bytes),
    }
}

fn scan_secrets(v: &Value, depth: usize, issues: &mut Vec<PayloadIssue>) {
    if depth > MAX_TREE_DEPTH {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if let Some(s) = SECRET_KEYS.iter().find(|s| **s == k) {
                    if !issues.contains(&PayloadIssue::Secret(s)) {
                        issues.push(PayloadIssue::Secret(s));
                    }
                }
                scan_secrets(v, depth + 1, issues);
            }
        }
        Value::Array(a) => a
            .iter()
            .take(MAX_TREE_ITEMS)
            .for_each(|v| scan_secrets(v, depth + 1, issues)),
        _ => {}
    }
}

/// The text of a scalar, or a summary of a container.
pub fn value_text(v: &Value) -> String {
    value_str(v).into_owned()
}

/// [`value_text`], borrowed from the value where it can be.
pub fn value_str<'v>(v: &'v Value<'_>) -> Cow<'v, str> {
    match v {
        Value::Null => Cow::Borrowed("null"),
        Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Value::Number { text, .. } => Cow::Borrowed(text),
        Value::Str(s) => Cow::Borrowed(s),
        Value::Array(a) => Cow::Owned(format!("[{} items]", a.len())),
        Value::Object(m) => Cow::Owned(format!("{{{} members}}", m.len())),
    }
}

/// Flattens JSON into tree items, bounded in count and depth; credentials are masked.
pub fn tree(v: &Value, depth: usize, out: &mut Vec<TreeItem>, issues: &mut Vec<PayloadIssue>) {
    let members: Box<dyn Iterator<Item = (String, &Value)>> = match v {
        Value::Object(m) => Box::new(m.iter().map(|(k, v)| (k.to_string(), v))),
        Value::Array(a) => Box::new(a.iter().enumerate().map(|(i, v)| (format!("[{i}]"), v))),
        _ => return,
    };
    for (key, v) in members {
        if out.len() >= MAX_TREE_ITEMS {
            let dropped = count_nodes(v);
            if let Some(PayloadIssue::Truncated(n)) = issues
                .iter_mut()
                .find(|i| matches!(i, PayloadIssue::Truncated(_)))
            {
                *n += dropped;
            } else {
                issues.push(PayloadIssue::Truncated(dropped));
            }
            continue;
        }
        let container = matches!(v, Value::Object(_) | Value::Array(_));
        let value = if SECRET_KEYS.contains(&key.as_str()) {
            format!(
                "<credential, {} characters, not shown>",
                value_str(v).chars().count()
            )
        } else {
            match v.parse_embedded() {
                // JSON encoded inside a string: show it as the object it is.
                Some(p) if !container => {
                    out.push(TreeItem {
                        depth: depth as u8,
                        key,
                        value: "(JSON in a string)".into(),
                        container: true,
                    });
                    if depth + 1 < MAX_TREE_DEPTH {
                        tree(&p.value, depth + 1, out, issues);
                    }
                    continue;
                }
                _ => value_text(v),
            }
        };
        out.push(TreeItem {
            depth: depth as u8,
            key,
            value,
            container,
        });
        if container && depth + 1 < MAX_TREE_DEPTH {
            tree(v, depth + 1, out, issues);
        }
    }
}

fn count_nodes(v: &Value) -> usize {
    match v {
        Value::Object(m) => 1 + m.iter().map(|(_, v)| count_nodes(v)).sum::<usize>(),
        Value::Array(a) => 1 + a.iter().map(count_nodes).sum::<usize>(),
        _ => 1,
    }
}

/// `params`, or the object inside a double-encoded `params` string.
fn embedded_or_self<'v>(v: &'v Value<'_>) -> std::borrow::Cow<'v, Value<'v>> {
    match v.parse_embedded() {
        Some(p) => std::borrow::Cow::Owned(p.value),
        None => std::borrow::Cow::Borrowed(v),
    }
}

fn alink(
    t: &TopicInfo<'_>,
    v: &Value,
    issues: &mut Vec<PayloadIssue>,
    full: bool,
    models: InForce<'_>,
) -> Alink {
    let mut a = Alink::default();
    if let Some(id) = v.get("id") {
        let text = value_str(id);
        let (id, suffix) = split_id(&text);
        a.id_suffix = suffix.map(str::to_string);
        a.id = Some(ShortText::from(id));
    }
    a.version = v.get("version").map(|v| common(&value_str(v), t.class));
    a.method = v
        .get("method")
        .and_then(Value::as_str)
        .map(|m| common(m, t.class));
    a.ack = v
        .get("sys")
        .and_then(|s| s.get("ack"))
        .and_then(Value::as_u64_lenient);
    a.code = v.get("code").and_then(Value::as_u64_lenient);
    a.message = v.get("message").map(|v| common(&value_str(v), t.class));
    if let Some(c) = a.code {
        // An OTA upgrade push carries code 1000 (a notification, not an error).
        if t.class.is_error_code(c) {
            issues.push(PayloadIssue::ErrorCode(c));
        }
    }
    if !full {
        return a;
    }
    let params = v.get("params").map(embedded_or_self);
    let data = v.get("data").map(embedded_or_self);
    if let Some(mut d) = tsl::describe(models, t, params.as_deref(), data.as_deref()) {
        a.properties = std::mem::take(&mut d.values);
        a.args = d.args;
        a.tsl = Some(Box::new(d));
    }
    let described = a.tsl.is_some();
    if let Some(p) = params {
        if t.is_reply {
            tree(&p, 0, &mut a.params, issues);
        } else {
            match t.class.content {
                Content::Properties if !described => properties(&p, &mut a.properties),
                Content::BatchProperties if !described => {
                    if let Some(props) = p.get("properties") {
                        batch_properties(props, &mut a.properties);
                    }
                }
                Content::OtaStep => {
                    a.ota_step = p.get("step").and_then(payload_int);
                    if let Some(step) = a.ota_step.filter(|s| *s < 0) {
                        issues.push(PayloadIssue::OtaFailed(step));
                    }
                }
                Content::EventTime => {
                    a.event_time = p.get("time").and_then(Value::as_u64_lenient);
                }
                _ => {}
            }
            if !(t.class.content == Content::Properties && shown_as_properties(&p, &a.properties)) {
                tree(&p, 0, &mut a.params, issues);
            }
        }
    }
    if let Some(d) = data {
        if t.class.content == Content::DesiredProperties && t.is_reply && !described {
            properties(&d, &mut a.properties);
        }
        tree(&d, 0, &mut a.data, issues);
    }
    a
}

/// Whether a property post's or set's `params` is shown whole by its properties: one per
/// member, in order, each a plain value or a `{value, time}` pair, with no credential among the
/// keys, no JSON inside a string and nothing the tree would cut. The params tree would then only
/// say it all again (about a tenth of the items of a capture of property posts).
fn shown_as_properties(params: &Value, properties: &[Property]) -> bool {
    let Value::Object(members) = params else {
        return false;
    };
    let plain = |v: &Value| match v {
        Value::Object(_) | Value::Array(_) => false,
        Value::Str(_) => v.parse_embedded().is_none(),
        _ => true,
    };
    members.len() == properties.len()
        && members.len() <= MAX_TREE_ITEMS
        && members.iter().zip(properties).all(|((k, v), p)| {
            *k == p.name
                && !SECRET_KEYS.contains(&&**k)
                && match v {
                    Value::Object(m) => {
                        v.get("value").is_some_and(plain)
                            && m.iter().all(|(k, x)| {
                                k == "value" || k == "time" && matches!(x, Value::Number { .. })
                            })
                    }
                    _ => plain(v),
                }
        })
}

/// A property value `v` (or `{value, time}`) as shown.
pub fn property(name: &str, v: &Value) -> Property {
    match v {
        Value::Object(_) if v.get("value").is_some() => value_property(
            name,
            v.get("value").unwrap_or(&Value::Null),
            v.get("time").and_then(Value::as_u64_lenient),
        ),
        _ => value_property(name, v, None),
    }
}

/// A value as shown, as it is (no `{value, time}` wrapper taken off).
pub fn value_property(name: &str, value: &Value, time: Option<u64>) -> Property {
    let text = match value {
        Value::Object(_) | Value::Array(_) => value.to_compact(200),
        _ => value_text(value),
    };
    Property {
        name: name.to_string(),
        value: text,
        value_num: value.as_f64(),
        time,
        tsl: None,
    }
}

fn properties(p: &Value, out: &mut Vec<Property>) {
    if let Value::Object(m) = p {
        for (k, v) in m.iter().take(MAX_PROPERTIES) {
            out.push(property(k, v));
        }
    }
}

/// `{"properties":{"id":[{"value":…,"time":…},…]}}`
fn batch_properties(p: &Value, out: &mut Vec<Property>) {
    if let Value::Object(m) = p {
        for (k, v) in m {
            for entry in v.as_array().unwrap_or(&[]) {
                if out.len() >= MAX_PROPERTIES {
                    return;
                }
                out.push(property(k, entry));
            }
        }
    }
}

/// An integer sent as a number or as a string ("step":"-2").
fn payload_int(v: &Value) -> Option<i32> {
    match v {
        Value::Number { value, .. } if value.fract() == 0.0 => Some(*value as i32),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// CRC-16/ARC (IBM): reflected polynomial 0xA001, initial value 0, no final xor.
pub fn crc16_arc(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= b as u16;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

fn file_chunk(
    t: &TopicInfo<'_>,
    bytes: &[u8],
    issues: &mut Vec<PayloadIssue>,
) -> Option<FileChunk> {
    let Some((len_bytes, rest)) = bytes.split_first_chunk::<2>() else {
        issues.push(PayloadIssue::FileFraming(format!(
            "{} bytes cannot hold a header length",
            bytes.len()
        )));
        return None;
    };
    let header_len = u16::from_be_bytes(*len_bytes);
    if rest.len() < header_len as usize + 2 {
        issues.push(PayloadIssue::FileFraming(format!(
            "header length {header_len} leaves no room for the data and CRC in {} bytes",
            bytes.len()
        )));
        return None;
    }
    let (header_bytes, rest) = rest.split_at(header_len as usize);
    let (chunk, crc_bytes) = rest.split_at(rest.len() - 2);
    let header = match json::parse(header_bytes) {
        Ok(p) if p.value.is_object() => alink(t, &p.value, issues, true, InForce::NONE),
        _ => {
            issues.push(PayloadIssue::FileFraming(
                "the header is not a JSON object".into(),
            ));
            return None;
        }
    };
    let crc_stored = u16::from_le_bytes([crc_bytes[0], crc_bytes[1]]);
    let crc_computed = crc16_arc(chunk);
    if crc_stored != crc_computed {
        issues.push(PayloadIssue::FileCrc {
            stored: crc_stored,
            computed: crc_computed,
        });
    }
    let declared = header
        .data
        .iter()
        .chain(header.params.iter())
        .find(|i| i.depth == 0 && i.key == "bSize");
    if let Some(n) = declared.and_then(|i| i.value.parse::<usize>().ok()) {
        if n != chunk.len() {
            issues.push(PayloadIssue::FileFraming(format!(
                "the header says bSize {n}, the frame carries {} bytes",
                chunk.len()
            )));
        }
    }
    Some(FileChunk {
        header_len,
        header,
        chunk_len: chunk.len(),
        crc_stored,
        crc_computed,
    })
}

/// What an Alink `code` means (reference §7).
pub fn code_meaning(code: u64) -> Option<&'static str> {
    Some(match code {
        200 => "success",
        400 => "request error / internal error",
        401 => "sign check failed",
        427 => "sub-device kicked (connected elsewhere)",
        428 => "too many sub-devices online under the gateway",
        429 => "too many requests (throttled)",
        460 => "request parameter error",
        500 => "unknown system error",
        520 => "sub-device session error (not logged in, or on another gateway)",
        521 => "sub-device deleted",
        522 => "sub-device disabled",
        527 => "duplicate sub-device login",
        5001 => "device not found",
        5005 | 6250 => "product query failed",
        5159 => "thing model property lookup failed",
        5160 => "thing model event lookup failed",
        5161 => "thing model service lookup failed",
        5244 => "LoRaWAN product meta query failed",
        6100 => "device not found",
        6104 => "too many properties in the request (more than 200)",
        6106 => "too many properties reported (more than 200)",
        6200 => "auth type mismatch",
        6203 => "topic parse failed",
        6204 => "device disabled",
        6207 => "payload (or script output) is not JSON",
        6280 => "sub-device name not compliant",
        6287 => "sub-device password or sign wrong",
        6288 => "dynamic registration disabled",
        6289 => "device already active",
        6292 => "sign method not supported",
        6300 => "method missing (thing model check)",
        6301..=6328 => "thing model validation failed",
        6356 => "pack post: too many events",
        6357 => "pack post: more than 20 sub-devices",
        6400 => "topology: sub-device limit reached",
        6401 => "topology: no relation between gateway and sub-device",
        6402 => "topology: gateway added to itself",
        6450 => "pass-through data produced no method",
        6619 => "sub-device already bound to a gateway",
        6661 => "desired property query failed",
        6710 => "remote configuration not found",
        6713 => "remote configuration service disabled",
        6760 => "system exception",
        6813 => "topic illegal",
        9112 => "OTA: device information not found",
        26001..=26010 => "data-parsing script error",
        100000..=110000 => "device-defined error",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::topic;

    /// Without a thing model.
    fn analyze(t: &TopicInfo<'_>, bytes: &[u8]) -> Payload {
        super::analyze(t, bytes, InForce::NONE)
    }

    #[test]
    fn scanned_facts_match_parsed_facts() {
        let t = topic::classify("/sys/a1B2c3D4e5F/dev/thing/event/property/post").unwrap();
        let r = topic::classify("/sys/a1B2c3D4e5F/dev/thing/event/property/post_reply").unwrap();
        for (t, doc) in [
            (
                &t,
                r#"{"id":"1","version":"1.0","params":{"t":{"value":23.6,"time":1}},"method":"thing.event.property.post","sys":{"ack":0}}"#,
            ),
            (&t, r#"{"id":7,"version":1.0,"params":{},"method":null}"#),
            (
                &r,
                r#"{"code":460,"data":{},"id":"123|exp-topic|/x","message":"request parameter error"}"#,
            ),
            (&r, r#"{"code":"200","id":true,"message":12.5e1}"#),
            (
                &r,
                r#"{"code":200.0,"id":"5","version":"1.0","sys":{"x":[1,2]}}"#,
            ),
        ] {
            let scanned = alink_facts(t, doc.as_bytes()).expect(doc);
            assert_eq!(scanned, parsed_facts(t, doc.as_bytes()), "{doc}");
        }
        // Left to the parser: escapes in a wanted value, a container id, lenient JSON.
        for doc in [r#"{"id":"a\"b"}"#, r#"{"id":[1]}"#, r#"{"id":"1",}"#] {
            assert!(alink_facts(&t, doc.as_bytes()).is_none(), "{doc}");
        }
    }

    /// A member name written with escapes is the name it decodes to, in every analysis: the
    /// Info column's code, the filter fields' and the tree's agree.
    #[test]
    fn an_escaped_member_name_is_the_name_it_decodes_to() {
        let r = topic::classify("/sys/a1B2c3D4e5F/dev/thing/event/property/post_reply").unwrap();
        for (doc, code) in [
            (r#"{"co\u0064e":460,"id":"1"}"#, Some(460)),
            (
                r#"{"id":"1","c\u006fde":"200","message":"success"}"#,
                Some(200),
            ),
            (r#"{"id":"1","s\u0079s":{"ack":1}}"#, None),
            (r#"{"id":"1","code":200}"#, Some(200)),
            (r#"{"id":"1","message":"no code here"}"#, None),
        ] {
            let b = doc.as_bytes();
            assert_eq!(analyze(&r, b).code(), code, "{doc}");
            assert_eq!(facts(&r, b).code(), code, "{doc}");
            assert_eq!(code_facts(&r, b).code(), code, "{doc}");
        }
    }

    fn info(t: &str) -> TopicInfo<'_> {
        topic::classify(t).unwrap()
    }

    #[test]
    fn property_post_plain_and_timed() {
        let t = info("/sys/a1AbCdEfGhI/thermo-001/thing/event/property/post");
        let p = analyze(
            &t,
            br#"{"id":"123","version":"1.0","sys":{"ack":0},"params":{"Power":{"value":"on","time":1524448722000},"WF":{"value":23.6,"time":1524448722000},"temperature":21},"method":"thing.event.property.post"}"#,
        );
        let Body::Alink(a) = &p.body else {
            panic!("{p:?}")
        };
        assert_eq!(a.id.as_deref(), Some("123"));
        assert_eq!(a.ack, Some(0));
        assert_eq!(a.method.as_deref(), Some("thing.event.property.post"));
        assert_eq!(
            a.properties,
            [
                Property {
                    name: "Power".into(),
                    value: "on".into(),
                    value_num: None,
                    time: Some(1524448722000),
                    tsl: None,
                },
                Property {
                    name: "WF".into(),
                    value: "23.6".into(),
                    value_num: Some(23.6),
                    time: Some(1524448722000),
                    tsl: None,
                },
                Property {
                    name: "temperature".into(),
                    value: "21".into(),
                    value_num: Some(21.0),
                    time: None,
                    tsl: None,
                },
            ]
        );
        // The properties say all that params holds: no params tree repeats them.
        assert!(a.params.is_empty(), "{:?}", a.params);
        assert!(p.issues.is_empty());
    }

    /// The params tree stays where the properties do not show all of params.
    #[test]
    fn params_tree_kept_where_properties_leave_something_out() {
        for (params, first) in [
            // A struct value (shown as compact text by its property).
            (r#"{"Pos":{"lat":1,"lon":2}}"#, "Pos"),
            // More than value and time in the pair.
            (r#"{"T":{"value":1,"time":2,"unit":"C"}}"#, "T"),
            // JSON inside a string.
            (r#"{"Cfg":"{\"a\":1}"}"#, "Cfg"),
            // An array.
            (r#"{"L":[1,2]}"#, "L"),
            // A credential (masked in the params tree only).
            (r#"{"deviceSecret":"s3cr3t"}"#, "deviceSecret"),
        ] {
            let body = format!(
                r#"{{"id":"1","version":"1.0","params":{params},"method":"thing.event.property.post"}}"#
            );
            let p = analyze(
                &info("/sys/a1B2c3D4e5F/dev/thing/event/property/post"),
                body.as_bytes(),
            );
            let Body::Alink(a) = &p.body else {
                panic!("{p:?}")
            };
            assert_eq!(a.properties.len(), 1, "{params}");
            assert_eq!(a.params.first().map(|i| &*i.key), Some(first), "{params}");
        }
    }

    #[test]
    fn reply_with_string_code_and_exp_topic_id() {
        let t = info("/sys/pk1234567/dev/thing/event/lowBattery/post_reply");
        let p = analyze(&t, br#"{"id":"7|exp-topic|/sys/pk/dev/thing/event/lowBattery/post_reply","code":"460","data":{},"message":"request parameter error"}"#);
        let Body::Alink(a) = &p.body else { panic!() };
        assert_eq!(a.id.as_deref(), Some("7"));
        assert_eq!(
            a.id_suffix.as_deref(),
            Some("exp-topic|/sys/pk/dev/thing/event/lowBattery/post_reply")
        );
        assert_eq!(a.code, Some(460));
        assert_eq!(p.issues, [PayloadIssue::ErrorCode(460)]);
        assert_eq!(code_meaning(460), Some("request parameter error"));
    }

    #[test]
    fn double_encoded_params_and_trailing_comma() {
        let t = info("/sys/pk1234567/dev/thing/event/property/post");
        let p = analyze(&t, br#"{"id":1,"params":"{\"temperature\":21.5}",}"#);
        let Body::Alink(a) = &p.body else { panic!() };
        assert_eq!(a.id.as_deref(), Some("1"));
        assert_eq!(a.properties[0].value_num, Some(21.5));
        assert!(matches!(p.issues[0], PayloadIssue::LenientJson(_)));
    }

    #[test]
    fn secrets_are_flagged_and_masked() {
        let t = info("/ext/register");
        let p = analyze(&t, br#"{"productKey":"pk","deviceName":"dn","deviceSecret":"0123456789abcdef0123456789abcdef"}"#);
        assert_eq!(p.issues, [PayloadIssue::Secret("deviceSecret")]);
        let Body::Json(items) = &p.body else { panic!() };
        assert_eq!(items[2].value, "<credential, 32 characters, not shown>");
        assert!(!format!("{items:?}").contains("0123456789abcdef"));
    }

    #[test]
    fn user_topics_and_binary() {
        let t = info("/a1B2c3D4e5F/lab-sensor-01/user/update");
        let p = analyze(&t, br#"{"temperature":23.6,"humidity":61.2}"#);
        assert_eq!(
            p.body,
            Body::Json(vec![
                TreeItem {
                    depth: 0,
                    key: "temperature".into(),
                    value: "23.6".into(),
                    container: false
                },
                TreeItem {
                    depth: 0,
                    key: "humidity".into(),
                    value: "61.2".into(),
                    container: false
                },
            ])
        );
        assert_eq!(analyze(&t, b"hello").body, Body::Text("hello".into()));
        assert_eq!(
            analyze(&t, &[0, 1, 2]).body,
            Body::Binary {
                len: 3,
                hex: "000102".into()
            }
        );
        let raw = info("/sys/pk1234567/dev/thing/model/up_raw");
        assert_eq!(
            analyze(&raw, &[0xff; 100]).body,
            Body::Binary {
                len: 100,
                hex: format!("{}…", "ff".repeat(64))
            }
        );
    }

    #[test]
    fn up_raw_reply_is_bytes_unless_json() {
        let reply = info("/sys/pk1234567/dev/thing/model/up_raw_reply");
        // The sample script's reply: 0x02, id 1, code 0.
        let p = analyze(&reply, &[2, 0, 0, 0, 1, 0]);
        assert_eq!(
            p.body,
            Body::Binary {
                len: 6,
                hex: "020000000100".into()
            }
        );
        assert_eq!(
            p.issues,
            [PayloadIssue::SampleScriptReply { id: 1, code: 0 }]
        );
        // Other bytes: no hint, no JSON warning.
        assert!(analyze(&reply, &[1, 2, 3]).issues.is_empty());
        assert!(analyze(&reply, b"{broken").issues.is_empty());
        // A script that answers in JSON: an Alink reply, its code read.
        let p = analyze(&reply, br#"{"id":"9","code":6813,"data":{}}"#);
        let Body::Alink(a) = &p.body else {
            panic!("{p:?}")
        };
        assert_eq!((a.id.as_deref(), a.code), (Some("9"), Some(6813)));
        assert_eq!(p.issues, [PayloadIssue::ErrorCode(6813)]);
        assert_eq!(
            facts(&reply, br#"{"id":"9","code":6813,"data":{}}"#).issues,
            [PayloadIssue::ErrorCode(6813)]
        );
    }

    #[test]
    fn crc16_arc_check_value() {
        assert_eq!(crc16_arc(b"123456789"), 0xBB3D);
    }

    #[test]
    fn file_download_chunks() {
        let t = info("/sys/pk1234567/dev/thing/file/download_reply");
        let header = br#"{"id":"31","code":200,"data":{"fileToken":"t","fileLength":64,"bSize":4,"bOffset":0}}"#;
        let mut frame = (header.len() as u16).to_be_bytes().to_vec();
        frame.extend_from_slice(header);
        frame.extend_from_slice(b"abcd");
        frame.extend_from_slice(&crc16_arc(b"abcd").to_le_bytes());
        let p = analyze(&t, &frame);
        let Body::File(f) = &p.body else {
            panic!("{p:?}")
        };
        assert_eq!(
            (
                f.header.id.as_deref(),
                f.chunk_len,
                f.crc_stored == f.crc_computed
            ),
            (Some("31"), 4, true)
        );
        assert!(p.issues.is_empty(), "{:?}", p.issues);
        let n = frame.len();
        frame[n - 1] ^= 0xff;
        let p = analyze(&t, &frame);
        assert!(
            matches!(p.issues[..], [PayloadIssue::FileCrc { .. }]),
            "{:?}",
            p.issues
        );
        // A header length past the end is a framing error, not a panic.
        let p = analyze(&t, &[0xff, 0xff, 1, 2, 3]);
        assert!(matches!(p.issues[..], [PayloadIssue::FileFraming(_)]));
        assert!(matches!(p.body, Body::Binary { .. }));
        assert!(matches!(analyze(&t, &[7]).body, Body::Binary { .. }));
    }

    #[test]
    fn bad_and_huge_json() {
        let t = info("/sys/pk1234567/dev/thing/event/property/post");
        let p = analyze(&t, br#"{"id":"1","par"#);
        assert!(
            matches!(p.issues[0], PayloadIssue::BadJson(_)),
            "{:?}",
            p.issues
        );
        let mut big = String::from(r#"{"id":"1","params":{"#);
        for i in 0..10_000 {
            big.push_str(&format!("\"p{i}\":{i},"));
        }
        big.push_str("\"last\":0}}");
        let p = analyze(&t, big.as_bytes());
        let Body::Alink(a) = &p.body else { panic!() };
        assert_eq!(a.properties.len(), MAX_PROPERTIES);
        assert_eq!(a.params.len(), MAX_TREE_ITEMS);
        assert!(p
            .issues
            .iter()
            .any(|i| matches!(i, PayloadIssue::Truncated(n) if *n == 10_001 - MAX_TREE_ITEMS)));
    }
}
