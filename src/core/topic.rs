//! Alibaba topic semantics (protocol reference §4, §10): what a topic is, which device it names,
//! whether it is a reply, and which way it flows.
//!
//! Works on PUBLISH topics and on SUBSCRIBE/UNSUBSCRIBE filters (`+` and `#` levels are kept
//! as they are and flagged). `/ext/rrpc/{id}/{inner topic}` is unwrapped once and the inner topic
//! classified.

/// Topics deeper than this are not looked at beyond this level (bounded work on hostile input).
const MAX_LEVELS: usize = 16;

/// Which way a topic's messages flow (for the request; a reply flows the other way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Up,
    Down,
    Either,
}

/// What a topic family's messages carry (reference §5, §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carries {
    /// Alink request or reply JSON (`id`, `params` / `data`, `code`…).
    Alink,
    /// JSON of another shape (shadow documents, NTP times, registration results).
    Json,
    /// JSON when it looks like JSON, else text or bytes (user data).
    Opaque,
    /// Bytes (pass-through data, RRPC), JSON only inside an `/ext/rrpc/` call that looks like it.
    Binary,
    /// Pass-through bytes a product's data-parsing script made (the reply to `up_raw`): shown
    /// as bytes, read as an Alink reply only when they are JSON.
    Raw,
    /// The chunked file framing of reference §6.2.
    FileChunk,
}

/// How a family's replies find their requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pairing {
    /// Not request and reply.
    None,
    /// The `_reply` topic carries the request's Alink `id`.
    ById,
    /// No id: the n-th reply answers the n-th request.
    InOrder,
    /// A `"method":"reply"` on `/shadow/get` answers the n-th `/shadow/update`.
    ShadowReply,
    /// By the message id in the topic.
    Rrpc,
    /// By the device's send time.
    Ntp,
    /// The platform's error report names a gateway's failed request by its Alink id.
    ExtError,
    /// The legacy firmware query: answered, when there is firmware, by an upgrade push.
    OtaQuery,
    /// An upgrade push: the answer to a pending firmware query, else unsolicited.
    OtaPush,
}

/// Payload members with fields of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    Plain,
    /// The request's `params` are property values.
    Properties,
    /// `params.properties` holds lists of timed values.
    BatchProperties,
    /// The request's `params.time` is the event time.
    EventTime,
    /// The request's `params.step` is an upgrade step.
    OtaStep,
    /// The reply's `data` holds desired property values.
    DesiredProperties,
    /// Shadow method, version and status.
    Shadow,
    /// A firmware description in `params` (the device's version report).
    FirmwareReport,
    /// A firmware description in `data` (the reply to a firmware query).
    FirmwareOffer,
    /// A firmware description in `data` of a push whose code 1000 is a notice, not an error.
    FirmwarePush,
}

/// What a message of the class is to the thing model (TSL): which of its parts the model checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TslRole {
    None,
    /// `params`: property values (`{id: v}` or `{id: {value, time}}`).
    PropertyPost,
    /// `params`: values of writable properties.
    PropertySet,
    /// `params`: property identifiers; the reply's `data`: their values.
    PropertyGet,
    /// `params`: identifiers; the reply's `data`: `{id: {value, version}}`.
    DesiredGet,
    /// `params`: `{id: {version}}`.
    DesiredDelete,
    /// `params.properties`: `{id: [{value, time}]}`; `params.events`: `{id: [{value, time}]}`.
    BatchPost,
    /// A gateway's `params.properties` and `params.events` (as a property post's and an event
    /// post's), and each of `params.subDevices` (`identity` names its product and device).
    PackPost,
    /// The topic's identifier is an event; `params` (or `params.value`) its outputs.
    EventPost,
    /// The topic's identifier is a service; `params` its inputs, the reply's `data` its outputs.
    Service,
    /// The reply's `data` is the product's thing model (`thing/dsltemplate/get`, and
    /// `thing/dynamicTsl/get`, which the C SDK 3.x's TSL-driven mode asks).
    Template,
}

/// [`ClassRow::gateway`]: a gateway's request (its session is a gateway's).
pub const MARKS: u8 = 1;
/// [`ClassRow::gateway`]: the request logs sub-devices in (their signs can be checked).
pub const SUB_LOGINS: u8 = 2;
/// [`ClassRow::gateway`]: the topic names the gateway's own session, not a sub-device.
pub const OWN_TOPIC: u8 = 4;

/// A topic family: one row of the catalogue says what the family is and how it behaves; the
/// rest of aliiot asks its row, never its name. `name` is the filterable class
/// (`aliiot.topic.class`).
#[derive(Debug)]
pub struct ClassRow {
    /// Its row in the catalogue: classes compare by it.
    id: u8,
    pub name: &'static str,
    pub description: &'static str,
    /// Which way its requests flow.
    pub flow: Flow,
    /// What a request and a reply carry.
    pub carries: [Carries; 2],
    pub content: Content,
    pub pairing: Pairing,
    /// [`MARKS`], [`SUB_LOGINS`], [`OWN_TOPIC`].
    pub gateway: u8,
    /// Its replies come on the request topic + `_reply` (and say " reply" in the Info column).
    pub twin: bool,
    /// What the thing model checks in its messages.
    pub tsl: TslRole,
}

/// A class is a reference to its catalogue row.
pub type Class = &'static ClassRow;

impl PartialEq for ClassRow {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for ClassRow {}

impl ClassRow {
    /// Its index in [`ALL`].
    pub fn index(&self) -> u8 {
        self.id
    }
    /// What a message of this class carries.
    pub fn carries(&self, is_reply: bool) -> Carries {
        self.carries[is_reply as usize]
    }
    /// Whether an Alink `code` is an error for this class.
    pub fn is_error_code(&self, code: u64) -> bool {
        code != 200 && !(self.content == Content::FirmwarePush && code == 1000)
    }
    pub fn marks_gateway(&self) -> bool {
        self.gateway & MARKS != 0
    }
    pub fn logs_sub_devices_in(&self) -> bool {
        self.gateway & SUB_LOGINS != 0
    }
    pub fn names_gateway_session(&self) -> bool {
        self.gateway & OWN_TOPIC != 0
    }
}

/// The families' defaults: the catalogue rows say what differs.
const ALINK: ClassRow = ClassRow {
    id: 0,
    name: "",
    description: "",
    flow: Flow::Either,
    carries: [Carries::Alink; 2],
    content: Content::Plain,
    pairing: Pairing::ById,
    gateway: 0,
    twin: true,
    tsl: TslRole::None,
};
const OTA: ClassRow = ClassRow {
    pairing: Pairing::None,
    twin: false,
    ..ALINK
};
const JSON: ClassRow = ClassRow {
    carries: [Carries::Json; 2],
    ..OTA
};
const OPAQUE: ClassRow = ClassRow {
    carries: [Carries::Opaque; 2],
    ..OTA
};
const BINARY: ClassRow = ClassRow {
    carries: [Carries::Binary; 2],
    ..OTA
};

macro_rules! classes {
    ($($id:ident = $base:ident { $($field:ident: $value:expr),* $(,)? };)*) => {
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        enum Row { $($id,)* }
        $(pub const $id: Class = &ClassRow { id: Row::$id as u8, $($field: $value,)* ..$base };)*
        /// Every class, for documentation and the statistics tree.
        pub const ALL: &[Class] = &[$($id,)*];
    };
}

// The catalogue (reference §4). A row's base names its kind: ALINK (Alink request and `_reply`
// paired by id), OTA (Alink, not paired), JSON, OPAQUE and BINARY (not paired).
classes! {
    PROPERTY_POST = ALINK { name: "thing.event.property.post", flow: Flow::Up, content: Content::Properties, tsl: TslRole::PropertyPost,
        description: "Device reports property values" };
    EVENT_POST = ALINK { name: "thing.event.post", flow: Flow::Up, content: Content::EventTime, tsl: TslRole::EventPost,
        description: "Device reports an event" };
    PROPERTY_BATCH_POST = ALINK { name: "thing.event.property.batch.post", flow: Flow::Up, content: Content::BatchProperties, tsl: TslRole::BatchPost,
        description: "Device reports properties and events in batch" };
    PROPERTY_PACK_POST = ALINK { name: "thing.event.property.pack.post", flow: Flow::Up, gateway: MARKS, tsl: TslRole::PackPost,
        description: "Gateway reports properties and events of its sub-devices" };
    PROPERTY_HISTORY_POST = ALINK { name: "thing.event.property.history.post", flow: Flow::Up,
        description: "Device reports historical property values" };
    PROPERTY_SET = ALINK { name: "thing.service.property.set", flow: Flow::Down, content: Content::Properties, tsl: TslRole::PropertySet,
        description: "Platform sets device properties" };
    PROPERTY_GET = ALINK { name: "thing.service.property.get", flow: Flow::Down, tsl: TslRole::PropertyGet,
        description: "Platform reads device properties" };
    SERVICE_INVOKE = ALINK { name: "thing.service.invoke", flow: Flow::Down, tsl: TslRole::Service,
        description: "Platform calls a device service (asynchronous)" };
    DESIRED_GET = ALINK { name: "thing.property.desired.get", flow: Flow::Up, content: Content::DesiredProperties, tsl: TslRole::DesiredGet,
        description: "Device reads its desired property values" };
    DESIRED_DELETE = ALINK { name: "thing.property.desired.delete", flow: Flow::Up, tsl: TslRole::DesiredDelete,
        description: "Device clears desired property values" };
    UP_RAW = ALINK { name: "thing.model.up_raw", flow: Flow::Up, carries: [Carries::Binary, Carries::Raw], pairing: Pairing::InOrder,
        description: "Device sends pass-through (binary) data" };
    DOWN_RAW = ALINK { name: "thing.model.down_raw", flow: Flow::Down, carries: [Carries::Binary, Carries::Binary], pairing: Pairing::InOrder,
        description: "Platform sends pass-through (binary) data" };
    DEVICEINFO_UPDATE = ALINK { name: "thing.deviceinfo.update", flow: Flow::Up,
        description: "Device reports tags" };
    DEVICEINFO_DELETE = ALINK { name: "thing.deviceinfo.delete", flow: Flow::Up,
        description: "Device deletes tags" };
    DEVICEINFO_GET = ALINK { name: "thing.deviceinfo.get", flow: Flow::Up,
        description: "Device reads tags" };
    CONFIG_GET = ALINK { name: "thing.config.get", flow: Flow::Up,
        description: "Device asks for its remote configuration" };
    CONFIG_PUSH = ALINK { name: "thing.config.push", flow: Flow::Down,
        description: "Platform pushes a remote configuration" };
    CONFIG_LOG_GET = ALINK { name: "thing.config.log.get", flow: Flow::Up,
        description: "Device asks for its log settings" };
    CONFIG_LOG_PUSH = ALINK { name: "thing.config.log.push", flow: Flow::Down,
        description: "Platform pushes log settings" };
    LOG_POST = ALINK { name: "thing.log.post", flow: Flow::Up,
        description: "Device uploads log lines" };
    DSLTEMPLATE_GET = ALINK { name: "thing.dsltemplate.get", flow: Flow::Up, tsl: TslRole::Template,
        description: "Device asks for its thing model (TSL)" };
    DYNAMICTSL_GET = ALINK { name: "thing.dynamicTsl.get", flow: Flow::Up, tsl: TslRole::Template,
        description: "Device asks for its dynamic thing model" };
    OTA_FIRMWARE_GET = ALINK { name: "thing.ota.firmware.get", flow: Flow::Up, content: Content::FirmwareOffer,
        description: "Device asks for a firmware upgrade" };
    FILE_DOWNLOAD = ALINK { name: "thing.file.download", flow: Flow::Up, carries: [Carries::Alink, Carries::FileChunk],
        description: "Device downloads a file chunk (binary reply)" };
    FILE_UPLOAD_INIT = ALINK { name: "thing.file.upload.mqtt.init", flow: Flow::Up,
        description: "Device starts a file upload" };
    FILE_UPLOAD_SEND = ALINK { name: "thing.file.upload.mqtt.send", flow: Flow::Up, carries: [Carries::FileChunk, Carries::Alink],
        description: "Device uploads a file chunk (binary)" };
    FILE_UPLOAD_CANCEL = ALINK { name: "thing.file.upload.mqtt.cancel", flow: Flow::Up,
        description: "Device cancels a file upload" };
    TOPO_ADD = ALINK { name: "thing.topo.add", flow: Flow::Up, gateway: MARKS | SUB_LOGINS,
        description: "Gateway adds sub-devices to its topology" };
    TOPO_DELETE = ALINK { name: "thing.topo.delete", flow: Flow::Up,
        description: "Gateway removes sub-devices from its topology" };
    TOPO_GET = ALINK { name: "thing.topo.get", flow: Flow::Up,
        description: "Gateway reads its topology" };
    TOPO_ADD_NOTIFY = ALINK { name: "thing.topo.add.notify", flow: Flow::Down,
        description: "Platform asks the gateway to add sub-devices" };
    TOPO_CHANGE = ALINK { name: "thing.topo.change", flow: Flow::Down,
        description: "Platform notifies a topology change" };
    LIST_FOUND = ALINK { name: "thing.list.found", flow: Flow::Up,
        description: "Gateway reports discovered sub-devices" };
    SUB_REGISTER = ALINK { name: "thing.sub.register", flow: Flow::Up, gateway: MARKS,
        description: "Gateway registers sub-devices (reply carries their secrets)" };
    SUB_UNREGISTER = ALINK { name: "thing.sub.unregister", flow: Flow::Up,
        description: "Gateway unregisters sub-devices" };
    PRODUCT_REGISTER = ALINK { name: "thing.proxy.provisioning.product_register", flow: Flow::Up,
        description: "Gateway registers sub-devices by product secret (reply carries secrets)" };
    SUB_DISABLE = ALINK { name: "thing.disable", flow: Flow::Down,
        description: "Platform disables a sub-device" };
    SUB_ENABLE = ALINK { name: "thing.enable", flow: Flow::Down,
        description: "Platform enables a sub-device" };
    SUB_DELETE = ALINK { name: "thing.delete", flow: Flow::Down,
        description: "Platform deletes a sub-device" };
    GATEWAY_PERMIT = ALINK { name: "thing.gateway.permit", flow: Flow::Down,
        description: "Platform permits the gateway to add sub-devices" };
    LAN_PREFIX_GET = ALINK { name: "thing.lan.prefix.get", flow: Flow::Up,
        description: "Device asks for its local-communication prefix" };
    BOOTSTRAP_NOTIFY = ALINK { name: "thing.bootstrap.notify", flow: Flow::Down,
        description: "Platform re-assigns the device's endpoint" };
    // Jobs (remote tasks): Link SDK 4.x components/task, aiot_task_api.h (AIOT_TASKRECV_NOTIFY,
    // …_GET_DETAIL_REPLY) and task_api.c (its topics: thing/job/notify, get_reply, update_reply).
    JOB_NOTIFY = ALINK { name: "thing.job.notify", flow: Flow::Down,
        description: "Platform pushes a job (remote task) to the device" };
    JOB_GET = ALINK { name: "thing.job.get", flow: Flow::Up,
        description: "Device asks for its jobs or one job's details" };
    JOB_UPDATE = ALINK { name: "thing.job.update", flow: Flow::Up,
        description: "Device reports a job's status and progress" };
    DIAG_POST = ALINK { name: "thing.diag.post", flow: Flow::Up,
        description: "Device reports network diagnostics" };
    SECURE_TUNNEL_NOTIFY = ALINK { name: "secure_tunnel.notify", flow: Flow::Down,
        description: "Platform opens a remote-access tunnel" };
    SECURE_TUNNEL_PROXY = ALINK { name: "secure_tunnel.proxy.request", flow: Flow::Up,
        description: "Device requests a remote-access proxy" };
    EDGE_DEBUG = OPAQUE { name: "edge.debug.switch", flow: Flow::Down,
        description: "Platform switches edge debugging" };
    SYS_OTHER = ALINK { name: "sys.other", flow: Flow::Either,
        description: "Other /sys/ topic" };
    RRPC_REQUEST = BINARY { name: "rrpc.request", flow: Flow::Down, pairing: Pairing::Rrpc,
        description: "Platform calls the device synchronously (RRPC)" };
    RRPC_RESPONSE = BINARY { name: "rrpc.response", flow: Flow::Up, pairing: Pairing::Rrpc,
        description: "Device answers a synchronous call (RRPC)" };
    BROADCAST_REQUEST = BINARY { name: "broadcast.request", flow: Flow::Down,
        description: "Platform broadcasts to every online device of a product" };
    OTA_INFORM = OTA { name: "ota.inform", flow: Flow::Up, content: Content::FirmwareReport,
        description: "Device reports its firmware version" };
    OTA_UPGRADE = OTA { name: "ota.upgrade", flow: Flow::Down, content: Content::FirmwarePush, pairing: Pairing::OtaPush,
        description: "Platform pushes a firmware upgrade" };
    OTA_PROGRESS = OTA { name: "ota.progress", flow: Flow::Up, content: Content::OtaStep,
        description: "Device reports upgrade progress" };
    OTA_REQUEST = OTA { name: "ota.request", flow: Flow::Up, pairing: Pairing::OtaQuery,
        description: "Device asks for firmware (legacy)" };
    SHADOW_UPDATE = JSON { name: "shadow.update", flow: Flow::Up, content: Content::Shadow, pairing: Pairing::InOrder,
        description: "Device updates or reads its shadow" };
    SHADOW_GET = JSON { name: "shadow.get", flow: Flow::Down, content: Content::Shadow, pairing: Pairing::ShadowReply,
        description: "Platform answers or controls the device shadow" };
    NTP_REQUEST = JSON { name: "ntp.request", flow: Flow::Up, pairing: Pairing::Ntp,
        description: "Device asks for the time" };
    NTP_RESPONSE = JSON { name: "ntp.response", flow: Flow::Down, pairing: Pairing::Ntp,
        description: "Platform answers with the time" };
    EXT_ERROR = ALINK { name: "ext.error", flow: Flow::Down, pairing: Pairing::ExtError, twin: false, gateway: OWN_TOPIC,
        description: "Platform reports a sub-device error to its gateway" };
    COMBINE_LOGIN = ALINK { name: "combine.login", flow: Flow::Up, gateway: MARKS | SUB_LOGINS | OWN_TOPIC,
        description: "Gateway logs a sub-device in" };
    COMBINE_BATCH_LOGIN = ALINK { name: "combine.batch_login", flow: Flow::Up, gateway: MARKS | SUB_LOGINS | OWN_TOPIC,
        description: "Gateway logs sub-devices in (batch)" };
    COMBINE_LOGOUT = ALINK { name: "combine.logout", flow: Flow::Up, gateway: OWN_TOPIC,
        description: "Gateway logs a sub-device out" };
    COMBINE_BATCH_LOGOUT = ALINK { name: "combine.batch_logout", flow: Flow::Up, gateway: OWN_TOPIC,
        description: "Gateway logs sub-devices out (batch)" };
    REGISTER = JSON { name: "register", flow: Flow::Down,
        description: "Dynamic registration result (carries the device secret)" };
    REGNWL = JSON { name: "regnwl", flow: Flow::Down,
        description: "Registration-free result (carries the device token)" };
    NETWORK_PROBE = OPAQUE { name: "network.probe", flow: Flow::Down,
        description: "Platform latency probe" };
    BROADCAST = OPAQUE { name: "broadcast", flow: Flow::Down,
        description: "Product-wide broadcast topic" };
    USER = OPAQUE { name: "user", flow: Flow::Either,
        description: "Custom (user) topic" };
    LEGACY = OPAQUE { name: "legacy", flow: Flow::Either,
        description: "Basic-edition topic" };
}

/// " reply" for a reply whose class name does not already say it (rrpc.response, ntp.response
/// and shadow.get are replies by name).
pub fn reply_suffix(class: Class, is_reply: bool) -> &'static str {
    if is_reply && class.twin {
        " reply"
    } else {
        ""
    }
}

/// Which way a message on a topic of `class` flows: a reply flows opposite to its request.
pub fn message_flow(class: Class, is_reply: bool) -> Flow {
    match (class.flow, is_reply) {
        (Flow::Up, true) => Flow::Down,
        (Flow::Down, true) => Flow::Up,
        (f, _) => f,
    }
}

/// What a topic is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo<'a> {
    pub class: Class,
    /// Event or service identifier, RRPC / broadcast message id, or the user-topic suffix.
    pub identifier: Option<&'a str>,
    pub is_reply: bool,
    pub product_key: Option<&'a str>,
    pub device_name: Option<&'a str>,
    /// The `{id}` of an `/ext/rrpc/{id}/…` wrapper.
    pub rrpc_id: Option<&'a str>,
    /// A subscription filter with `+` or `#`.
    pub wildcard: bool,
}

impl TopicInfo<'_> {
    /// Which way this message flows (a reply flows opposite to its request).
    pub fn flow(&self) -> Flow {
        message_flow(self.class, self.is_reply)
    }
}

/// The device named by an Alibaba topic. `device_name` is `None` for product-wide topics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicDevice<'a> {
    pub product_key: &'a str,
    pub device_name: Option<&'a str>,
}

pub fn device_of(topic: &str) -> Option<TopicDevice<'_>> {
    let t = classify(topic)?;
    Some(TopicDevice {
        product_key: t.product_key?,
        device_name: t.device_name,
    })
}

/// Whether the topic belongs to the Alibaba namespace.
pub fn is_alibaba(topic: &str) -> bool {
    classify(topic).is_some()
}

/// Classifies a topic or subscription filter; `None` when it is not an Alibaba topic.
pub fn classify(topic: &str) -> Option<TopicInfo<'_>> {
    classify_at(topic, true)
}

fn levels(topic: &str) -> ([&str; MAX_LEVELS], usize) {
    let mut l = [""; MAX_LEVELS];
    let mut n = 0;
    let mut start = 0;
    // A byte loop (off the hot path since system topics are classified without it); the last
    // slot keeps the rest of a very deep topic: bounded work.
    for (i, &b) in topic.as_bytes().iter().enumerate() {
        if b == b'/' && n < MAX_LEVELS - 1 {
            l[n] = &topic[start..i];
            n += 1;
            start = i + 1;
        }
    }
    l[n] = &topic[start..];
    (l, n + 1)
}

/// Whether a level of `topic` is a wildcard ("+" or "#"): a word-at-a-time look for either
/// byte first, as almost no topic has one.
fn has_wildcard_level(topic: &str) -> bool {
    let b = topic.as_bytes();
    let mut any = false;
    let mut i = 0;
    while let Some(w) = b.get(i..i + 8) {
        any |= super::swar::equal(w, b'+') | super::swar::equal(w, b'#') != 0;
        i += 8;
    }
    any |= b[i..].iter().any(|&c| c == b'+' || c == b'#');
    any && topic.split('/').any(|s| s == "+" || s == "#")
}

/// The first level of `s` and what follows its '/' (None without one).
fn first_level(s: &str) -> Option<(&str, &str)> {
    // '/' is ASCII: both halves are on character boundaries.
    let at = s.bytes().position(|b| b == b'/')?;
    Some((&s[..at], &s[at + 1..]))
}

fn classify_at(topic: &str, unwrap_rrpc: bool) -> Option<TopicInfo<'_>> {
    let rest = topic.strip_prefix('/')?;
    let wildcard = has_wildcard_level(rest);
    // The system topics, nearly all the traffic, without splitting every level:
    // sys/{pk}/{dn}/{…}.
    if let Some((pk, after_pk)) = rest.strip_prefix("sys/").and_then(first_level) {
        if let Some((dn, tail)) = first_level(after_pk) {
            if !pk.is_empty() && !dn.is_empty() {
                let (class, ident, reply) = sys_class(tail);
                let mut t = mk(wildcard, class, Some(pk), Some(dn));
                t.identifier = ident;
                t.is_reply = reply;
                return Some(t);
            }
        }
    }
    let (l, n) = levels(rest);
    let l = &l[..n];

    let nonempty = |i: usize| l.get(i).copied().filter(|s| !s.is_empty());
    match *l {
        ["ext", "rrpc", id, ..] if unwrap_rrpc && !id.is_empty() => {
            let inner_start = nth_slash(topic, 3)?;
            let mut t = classify_at(&topic[inner_start..], false)?;
            t.rrpc_id = Some(id);
            t.wildcard |= id == "+" || id == "#";
            Some(t)
        }
        ["ext", "session", pk, dn, "combine", op] if !pk.is_empty() && !dn.is_empty() => {
            let (op, reply) = strip_reply(op);
            let class = match op {
                "login" => COMBINE_LOGIN,
                "batch_login" => COMBINE_BATCH_LOGIN,
                "logout" => COMBINE_LOGOUT,
                "batch_logout" => COMBINE_BATCH_LOGOUT,
                _ => return None,
            };
            let mut t = mk(wildcard, class, Some(pk), Some(dn));
            t.is_reply = reply;
            Some(t)
        }
        ["ext", "ntp", _, _, dir] => {
            let class = match dir {
                "request" => NTP_REQUEST,
                "response" => NTP_RESPONSE,
                _ => return None,
            };
            Some(mk(wildcard, class, nonempty(2), nonempty(3)).tap_reply(dir == "response"))
        }
        ["ext", "error", pk, dn] => Some(mk(
            wildcard,
            EXT_ERROR,
            Some(pk).filter(|s| !s.is_empty()),
            Some(dn).filter(|s| !s.is_empty()),
        )),
        ["ext", "register"] => Some(mk(wildcard, REGISTER, None, None)),
        ["ext", "regnwl"] => Some(mk(wildcard, REGNWL, None, None)),
        ["ext", "network", "probe", id] => {
            let mut t = mk(wildcard, NETWORK_PROBE, None, None);
            t.identifier = Some(id);
            Some(t)
        }
        ["ota", "device", kind, _, _] => {
            let class = match kind {
                "inform" => OTA_INFORM,
                "upgrade" => OTA_UPGRADE,
                "progress" => OTA_PROGRESS,
                "request" => OTA_REQUEST,
                _ => return None,
            };
            Some(mk(wildcard, class, nonempty(3), nonempty(4)))
        }
        ["shadow", kind, pk, dn] => {
            let class = match kind {
                "update" => SHADOW_UPDATE,
                "get" => SHADOW_GET,
                _ => return None,
            };
            Some(
                mk(
                    wildcard,
                    class,
                    Some(pk).filter(|s| !s.is_empty()),
                    Some(dn).filter(|s| !s.is_empty()),
                )
                .tap_reply(kind == "get"),
            )
        }
        ["broadcast", pk, ref tail @ ..] if !pk.is_empty() && !tail.is_empty() => {
            let mut t = mk(wildcard, BROADCAST, Some(pk), None);
            t.identifier = tail_text(topic, 1);
            Some(t)
        }
        [pk, dn, "user", ..] if is_product_key(pk) && !dn.is_empty() => {
            let mut t = mk(wildcard, USER, Some(pk), Some(dn));
            t.identifier = tail_text(topic, 2);
            Some(t)
        }
        [pk, dn, "update"] | [pk, dn, "get"] | [pk, dn, "data"] | [pk, dn, "update", "error"]
            if is_product_key(pk) && !dn.is_empty() =>
        {
            let mut t = mk(wildcard, LEGACY, Some(pk), Some(dn));
            t.identifier = tail_text(topic, 1);
            Some(t)
        }
        _ => None,
    }
}

fn mk<'a>(
    wildcard: bool,
    class: Class,
    product_key: Option<&'a str>,
    device_name: Option<&'a str>,
) -> TopicInfo<'a> {
    TopicInfo {
        class,
        identifier: None,
        is_reply: false,
        product_key,
        device_name,
        rrpc_id: None,
        wildcard,
    }
}

impl TopicInfo<'_> {
    fn tap_reply(mut self, reply: bool) -> Self {
        self.is_reply = reply;
        self
    }
}

fn strip_reply(s: &str) -> (&str, bool) {
    match s.strip_suffix("_reply") {
        Some(base) => (base, true),
        None => (s, false),
    }
}

/// The text after the level with index `level` (the first level after the leading '/' is 0),
/// e.g. the user-topic suffix after `/{pk}/{dn}/user`.
fn tail_text(topic: &str, level: usize) -> Option<&str> {
    let i = nth_slash(topic, level + 1)?;
    let s = &topic[i + 1..];
    (!s.is_empty()).then_some(s)
}

/// Classifies what follows `/sys/{pk}/{dn}/`. Returns the class, its identifier, and whether it
/// is a reply.
fn sys_class(tail: &str) -> (Class, Option<&str>, bool) {
    let (base, reply) = strip_reply(tail);
    // One string match: the compiler tests the length first, then the bytes.
    let class = match base {
        "thing/event/property/post" => PROPERTY_POST,
        "thing/event/property/batch/post" => PROPERTY_BATCH_POST,
        "thing/event/property/pack/post" => PROPERTY_PACK_POST,
        "thing/event/property/history/post" => PROPERTY_HISTORY_POST,
        "thing/service/property/set" => PROPERTY_SET,
        "thing/service/property/get" => PROPERTY_GET,
        "thing/property/desired/get" => DESIRED_GET,
        "thing/property/desired/delete" => DESIRED_DELETE,
        "thing/model/up_raw" => UP_RAW,
        "thing/model/down_raw" => DOWN_RAW,
        "thing/deviceinfo/update" => DEVICEINFO_UPDATE,
        "thing/deviceinfo/delete" => DEVICEINFO_DELETE,
        "thing/deviceinfo/get" => DEVICEINFO_GET,
        "thing/config/get" => CONFIG_GET,
        "thing/config/push" => CONFIG_PUSH,
        "thing/config/log/get" => CONFIG_LOG_GET,
        "thing/config/log/push" => CONFIG_LOG_PUSH,
        "thing/log/post" => LOG_POST,
        "thing/dsltemplate/get" => DSLTEMPLATE_GET,
        "thing/dynamicTsl/get" => DYNAMICTSL_GET,
        "thing/ota/firmware/get" => OTA_FIRMWARE_GET,
        "thing/file/download" => FILE_DOWNLOAD,
        "thing/file/upload/mqtt/init" => FILE_UPLOAD_INIT,
        "thing/file/upload/mqtt/send" => FILE_UPLOAD_SEND,
        "thing/file/upload/mqtt/cancel" => FILE_UPLOAD_CANCEL,
        "thing/topo/add" => TOPO_ADD,
        "thing/topo/delete" => TOPO_DELETE,
        "thing/topo/get" => TOPO_GET,
        "thing/topo/add/notify" => TOPO_ADD_NOTIFY,
        "thing/topo/change" => TOPO_CHANGE,
        "thing/list/found" => LIST_FOUND,
        "thing/sub/register" => SUB_REGISTER,
        "thing/sub/unregister" => SUB_UNREGISTER,
        "thing/proxy/provisioning/product_register" => PRODUCT_REGISTER,
        "thing/disable" => SUB_DISABLE,
        "thing/enable" => SUB_ENABLE,
        "thing/delete" => SUB_DELETE,
        "thing/gateway/permit" => GATEWAY_PERMIT,
        "thing/lan/prefix/get" => LAN_PREFIX_GET,
        "thing/bootstrap/notify" => BOOTSTRAP_NOTIFY,
        "thing/job/notify" => JOB_NOTIFY,
        "thing/job/get" => JOB_GET,
        "thing/job/update" => JOB_UPDATE,
        "_thing/diag/post" => DIAG_POST,
        "secure_tunnel/notify" => SECURE_TUNNEL_NOTIFY,
        "secure_tunnel/proxy/request" => SECURE_TUNNEL_PROXY,
        "edge/debug/switch" => EDGE_DEBUG,
        _ => return sys_class_with_id(base, reply),
    };
    (class, None, reply)
}

/// The `/sys/` topics with an identifier level.
fn sys_class_with_id(base: &str, reply: bool) -> (Class, Option<&str>, bool) {
    let (l, n) = levels(base);
    match l[..n] {
        ["thing", "event", id, "post"] => (EVENT_POST, Some(id), reply),
        ["thing", "service", id] => (SERVICE_INVOKE, Some(id), reply),
        ["rrpc", "request", id] if !reply => (RRPC_REQUEST, Some(id), false),
        ["rrpc", "response", id] if !reply => (RRPC_RESPONSE, Some(id), true),
        ["broadcast", "request", id] if !reply => (BROADCAST_REQUEST, Some(id), false),
        _ => (SYS_OTHER, None, reply),
    }
}

/// Byte index of the `/` with index n (the leading one is index 0).
fn nth_slash(s: &str, n: usize) -> Option<usize> {
    s.match_indices('/').nth(n).map(|(i, _)| i)
}

/// Product keys are 11 alphanumerics on the public instance; accept 6–32 ASCII alphanumerics with
/// both letters and digits, so other instances' keys work without claiming ordinary topics such as
/// `/home/kitchen/user/x`.
pub fn is_product_key(s: &str) -> bool {
    (6..=32).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric())
        && s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes().any(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    #[test]
    fn wildcard_levels_only() {
        for (t, want) in [
            ("sys/pk/dn/thing/service/+", true),
            ("sys/pk/dn/thing/service/a+b", false),
            ("#", true),
            ("a/#/b", true),
            ("sys/pk/dn/thing/event/property/post_reply/#", true),
            ("sys/pk/dn/thing/event/property/post_reply/##", false),
            ("sys/pk/dn/thing/event/property/post_reply", false),
            ("", false),
        ] {
            assert_eq!(super::has_wildcard_level(t), want, "{t}");
        }
    }

    #[test]
    fn levels_match_a_split() {
        let deep = "/".repeat(40);
        for t in [
            "",
            "a",
            "/",
            "a/b",
            "sys/pk/dn/thing/event/property/post",
            "//x//",
            "é/ü/漢字/.",
            "0123456/89abcdef/",
            "01234567/",
            "./././././././././.",
            &deep,
        ] {
            let want: Vec<&str> = t.splitn(super::MAX_LEVELS, '/').collect();
            let (l, n) = super::levels(t);
            assert_eq!(&l[..n], &want[..], "{t:?}");
        }
    }

    use super::*;

    fn d(pk: &'static str, dn: &'static str) -> Option<TopicDevice<'static>> {
        Some(TopicDevice {
            product_key: pk,
            device_name: Some(dn),
        })
    }

    fn c(t: &str) -> (&'static str, Option<&str>, bool) {
        let i = classify(t).unwrap_or_else(|| panic!("{t} not classified"));
        (i.class.name, i.identifier, i.is_reply)
    }

    #[test]
    fn families() {
        assert_eq!(
            device_of("/sys/a1B2c3D4e5F/dev/thing/event/property/post"),
            d("a1B2c3D4e5F", "dev")
        );
        assert_eq!(
            device_of("/a1B2c3D4e5F/lab-sensor-01/user/update"),
            d("a1B2c3D4e5F", "lab-sensor-01")
        );
        assert_eq!(
            device_of("/shadow/get/a1B2c3D4e5F/dev"),
            d("a1B2c3D4e5F", "dev")
        );
        assert_eq!(
            device_of("/ota/device/upgrade/a1B2c3D4e5F/dev"),
            d("a1B2c3D4e5F", "dev")
        );
        assert_eq!(
            device_of("/ext/ntp/a1B2c3D4e5F/dev/request"),
            d("a1B2c3D4e5F", "dev")
        );
        assert_eq!(
            device_of("/ext/error/a1B2c3D4e5F/dev"),
            d("a1B2c3D4e5F", "dev")
        );
        assert_eq!(
            device_of("/ext/session/a1B2c3D4e5F/gw/combine/login"),
            d("a1B2c3D4e5F", "gw")
        );
        assert_eq!(
            device_of("/ext/rrpc/123/a1B2c3D4e5F/dev/user/get"),
            d("a1B2c3D4e5F", "dev")
        );
        assert_eq!(
            device_of("/ext/rrpc/9/sys/a1B2c3D4e5F/dev/thing/service/Get"),
            d("a1B2c3D4e5F", "dev")
        );
        assert_eq!(
            device_of("/broadcast/a1B2c3D4e5F/news"),
            Some(TopicDevice {
                product_key: "a1B2c3D4e5F",
                device_name: None
            })
        );
    }

    #[test]
    fn classes_identifiers_and_replies() {
        let s = "/sys/a1B2c3D4e5F/dev";
        assert_eq!(
            c(&format!("{s}/thing/event/property/post")),
            ("thing.event.property.post", None, false)
        );
        assert_eq!(
            c(&format!("{s}/thing/event/property/post_reply")),
            ("thing.event.property.post", None, true)
        );
        assert_eq!(
            c(&format!("{s}/thing/event/alarm/post")),
            ("thing.event.post", Some("alarm"), false)
        );
        assert_eq!(
            c(&format!("{s}/thing/event/lowBattery/post_reply")),
            ("thing.event.post", Some("lowBattery"), true)
        );
        assert_eq!(
            c(&format!("{s}/thing/service/SetTemperature")),
            ("thing.service.invoke", Some("SetTemperature"), false)
        );
        assert_eq!(
            c(&format!("{s}/thing/service/SetTemperature_reply")),
            ("thing.service.invoke", Some("SetTemperature"), true)
        );
        assert_eq!(
            c(&format!("{s}/thing/service/property/set")),
            ("thing.service.property.set", None, false)
        );
        assert_eq!(
            c(&format!("{s}/thing/service/property/set_reply")),
            ("thing.service.property.set", None, true)
        );
        assert_eq!(
            c(&format!("{s}/rrpc/request/1733000000000001")),
            ("rrpc.request", Some("1733000000000001"), false)
        );
        assert_eq!(
            c(&format!("{s}/rrpc/response/1733000000000001")),
            ("rrpc.response", Some("1733000000000001"), true)
        );
        assert_eq!(
            c(&format!("{s}/thing/deviceinfo/update_reply")),
            ("thing.deviceinfo.update", None, true)
        );
        assert_eq!(
            c(&format!("{s}/thing/file/download_reply")),
            ("thing.file.download", None, true)
        );
        assert_eq!(
            c(&format!("{s}/thing/job/notify")),
            ("thing.job.notify", None, false)
        );
        assert_eq!(
            c(&format!("{s}/thing/job/update_reply")),
            ("thing.job.update", None, true)
        );
        assert_eq!(
            c(&format!("{s}/_thing/diag/post")),
            ("thing.diag.post", None, false)
        );
        assert_eq!(c(&format!("{s}/something/new")), ("sys.other", None, false));
        assert_eq!(
            c("/shadow/update/a1B2c3D4e5F/dev"),
            ("shadow.update", None, false)
        );
        assert_eq!(c("/shadow/get/a1B2c3D4e5F/dev"), ("shadow.get", None, true));
        assert_eq!(
            c("/ext/ntp/a1B2c3D4e5F/dev/response"),
            ("ntp.response", None, true)
        );
        assert_eq!(
            c("/ota/device/progress/a1B2c3D4e5F/dev"),
            ("ota.progress", None, false)
        );
        assert_eq!(
            c("/ext/session/a1B2c3D4e5F/gw/combine/batch_login_reply"),
            ("combine.batch_login", None, true)
        );
        assert_eq!(c("/ext/register"), ("register", None, false));
        assert_eq!(c("/ext/regnwl"), ("regnwl", None, false));
        assert_eq!(c("/a1B2c3D4e5F/dev/user/a/b"), ("user", Some("a/b"), false));
        assert_eq!(
            c("/a1B2c3D4e5F/dev/update/error"),
            ("legacy", Some("update/error"), false)
        );
        assert_eq!(
            c("/broadcast/a1B2c3D4e5F/fw/news"),
            ("broadcast", Some("fw/news"), false)
        );
        let rrpc = classify("/ext/rrpc/42/sys/a1B2c3D4e5F/dev/thing/service/GetStatus").unwrap();
        assert_eq!(
            (rrpc.class.name, rrpc.identifier, rrpc.rrpc_id),
            ("thing.service.invoke", Some("GetStatus"), Some("42"))
        );
        assert_eq!(rrpc.flow(), Flow::Down);
        assert_eq!(
            classify(&format!("{s}/thing/event/property/post_reply"))
                .unwrap()
                .flow(),
            Flow::Down
        );
    }

    #[test]
    fn rows_say_how_families_behave() {
        for (i, c) in ALL.iter().enumerate() {
            assert_eq!(c.index() as usize, i, "{}", c.name);
            assert!(!c.description.is_empty() && !c.name.is_empty());
            // A `_reply` twin is found by id or in order.
            if c.twin {
                assert!(
                    matches!(c.pairing, Pairing::ById | Pairing::InOrder),
                    "{}",
                    c.name
                );
            }
        }
        let names: std::collections::HashSet<_> = ALL.iter().map(|c| c.name).collect();
        assert_eq!(names.len(), ALL.len(), "class names are unique");
        assert_eq!(reply_suffix(PROPERTY_POST, true), " reply");
        assert_eq!(reply_suffix(SECURE_TUNNEL_PROXY, true), " reply");
        assert_eq!(reply_suffix(RRPC_RESPONSE, true), "");
        assert_eq!(reply_suffix(PROPERTY_POST, false), "");
        assert_eq!(
            (UP_RAW.carries(false), UP_RAW.carries(true)),
            (Carries::Binary, Carries::Raw)
        );
        assert_eq!(FILE_DOWNLOAD.carries(true), Carries::FileChunk);
        assert!(OTA_UPGRADE.is_error_code(1001) && !OTA_UPGRADE.is_error_code(1000));
        assert!(PROPERTY_POST.is_error_code(1000) && !PROPERTY_POST.is_error_code(200));
        assert!(COMBINE_LOGIN.marks_gateway() && COMBINE_LOGIN.logs_sub_devices_in());
        assert!(EXT_ERROR.names_gateway_session() && !EXT_ERROR.marks_gateway());
        assert!(!PROPERTY_POST.marks_gateway() && !PROPERTY_POST.names_gateway_session());
    }

    #[test]
    fn filters_with_wildcards() {
        let t = classify("/sys/a1B2c3D4e5F/dev/thing/event/+/post_reply").unwrap();
        assert_eq!(
            (t.class.name, t.identifier, t.is_reply, t.wildcard),
            ("thing.event.post", Some("+"), true, true)
        );
        let t = classify("/sys/a1B2c3D4e5F/dev/rrpc/request/+").unwrap();
        assert_eq!((t.class.name, t.wildcard), ("rrpc.request", true));
        let t = classify("/a1B2c3D4e5F/dev/user/#").unwrap();
        assert_eq!(
            (t.class.name, t.identifier, t.wildcard),
            ("user", Some("#"), true)
        );
    }

    #[test]
    fn not_alibaba() {
        for t in [
            "spBv1.0/group/NBIRTH/node",
            "home/kitchen/temp",
            "/home/kitchen/user/x",
            "",
            "/",
            "/sys",
            "/sys/pk",
            "/sys/pk/dn",
            "/ext/rrpc/1",
            "/ota/device/flash/pk/dn",
        ] {
            assert_eq!(classify(t), None, "{t}");
            assert!(!is_alibaba(t), "{t}");
        }
    }

    #[test]
    fn deep_topics_are_bounded() {
        let t = format!("/sys/pk1/dn{}", "/x".repeat(1000));
        assert_eq!(device_of(&t), d("pk1", "dn"));
        assert_eq!(classify(&t).unwrap().class.name, "sys.other");
        let t = "/ext/rrpc/1".repeat(200);
        assert_eq!(device_of(&t), None);
    }
}
