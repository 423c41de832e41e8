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

/// A topic family of the catalogue. `name` is the filterable class (`aliiot.topic.class`).
#[derive(Debug, Clone, Copy)]
pub struct Class {
    /// Its row in the catalogue: classes compare by it.
    id: u8,
    pub name: &'static str,
    pub description: &'static str,
    pub flow: Flow,
}

impl PartialEq for Class {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Class {}

macro_rules! classes {
    ($($id:ident = $name:literal, $flow:ident, $desc:literal;)*) => {
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        enum Row { $($id,)* }
        $(pub const $id: Class = Class { id: Row::$id as u8, name: $name, description: $desc, flow: Flow::$flow };)*
        /// Every class, for documentation and the statistics tree.
        pub const ALL: &[Class] = &[$($id,)*];
    };
}

classes! {
    PROPERTY_POST = "thing.event.property.post", Up, "Device reports property values";
    EVENT_POST = "thing.event.post", Up, "Device reports an event";
    PROPERTY_BATCH_POST = "thing.event.property.batch.post", Up, "Device reports properties and events in batch";
    PROPERTY_PACK_POST = "thing.event.property.pack.post", Up, "Gateway reports properties and events of its sub-devices";
    PROPERTY_HISTORY_POST = "thing.event.property.history.post", Up, "Device reports historical property values";
    PROPERTY_SET = "thing.service.property.set", Down, "Platform sets device properties";
    PROPERTY_GET = "thing.service.property.get", Down, "Platform reads device properties";
    SERVICE_INVOKE = "thing.service.invoke", Down, "Platform calls a device service (asynchronous)";
    DESIRED_GET = "thing.property.desired.get", Up, "Device reads its desired property values";
    DESIRED_DELETE = "thing.property.desired.delete", Up, "Device clears desired property values";
    UP_RAW = "thing.model.up_raw", Up, "Device sends pass-through (binary) data";
    DOWN_RAW = "thing.model.down_raw", Down, "Platform sends pass-through (binary) data";
    DEVICEINFO_UPDATE = "thing.deviceinfo.update", Up, "Device reports tags";
    DEVICEINFO_DELETE = "thing.deviceinfo.delete", Up, "Device deletes tags";
    DEVICEINFO_GET = "thing.deviceinfo.get", Up, "Device reads tags";
    CONFIG_GET = "thing.config.get", Up, "Device asks for its remote configuration";
    CONFIG_PUSH = "thing.config.push", Down, "Platform pushes a remote configuration";
    CONFIG_LOG_GET = "thing.config.log.get", Up, "Device asks for its log settings";
    CONFIG_LOG_PUSH = "thing.config.log.push", Down, "Platform pushes log settings";
    LOG_POST = "thing.log.post", Up, "Device uploads log lines";
    DSLTEMPLATE_GET = "thing.dsltemplate.get", Up, "Device asks for its thing model (TSL)";
    DYNAMICTSL_GET = "thing.dynamicTsl.get", Up, "Device asks for its dynamic thing model";
    OTA_FIRMWARE_GET = "thing.ota.firmware.get", Up, "Device asks for a firmware upgrade";
    FILE_DOWNLOAD = "thing.file.download", Up, "Device downloads a file chunk (binary reply)";
    FILE_UPLOAD_INIT = "thing.file.upload.mqtt.init", Up, "Device starts a file upload";
    FILE_UPLOAD_SEND = "thing.file.upload.mqtt.send", Up, "Device uploads a file chunk (binary)";
    FILE_UPLOAD_CANCEL = "thing.file.upload.mqtt.cancel", Up, "Device cancels a file upload";
    TOPO_ADD = "thing.topo.add", Up, "Gateway adds sub-devices to its topology";
    TOPO_DELETE = "thing.topo.delete", Up, "Gateway removes sub-devices from its topology";
    TOPO_GET = "thing.topo.get", Up, "Gateway reads its topology";
    TOPO_ADD_NOTIFY = "thing.topo.add.notify", Down, "Platform asks the gateway to add sub-devices";
    TOPO_CHANGE = "thing.topo.change", Down, "Platform notifies a topology change";
    LIST_FOUND = "thing.list.found", Up, "Gateway reports discovered sub-devices";
    SUB_REGISTER = "thing.sub.register", Up, "Gateway registers sub-devices (reply carries their secrets)";
    SUB_UNREGISTER = "thing.sub.unregister", Up, "Gateway unregisters sub-devices";
    PRODUCT_REGISTER = "thing.proxy.provisioning.product_register", Up, "Gateway registers sub-devices by product secret (reply carries secrets)";
    SUB_DISABLE = "thing.disable", Down, "Platform disables a sub-device";
    SUB_ENABLE = "thing.enable", Down, "Platform enables a sub-device";
    SUB_DELETE = "thing.delete", Down, "Platform deletes a sub-device";
    GATEWAY_PERMIT = "thing.gateway.permit", Down, "Platform permits the gateway to add sub-devices";
    LAN_PREFIX_GET = "thing.lan.prefix.get", Up, "Device asks for its local-communication prefix";
    BOOTSTRAP_NOTIFY = "thing.bootstrap.notify", Down, "Platform re-assigns the device's endpoint";
    DIAG_POST = "thing.diag.post", Up, "Device reports network diagnostics";
    SECURE_TUNNEL_NOTIFY = "secure_tunnel.notify", Down, "Platform opens a remote-access tunnel";
    SECURE_TUNNEL_PROXY = "secure_tunnel.proxy.request", Up, "Device requests a remote-access proxy";
    EDGE_DEBUG = "edge.debug.switch", Down, "Platform switches edge debugging";
    SYS_OTHER = "sys.other", Either, "Other /sys/ topic";
    RRPC_REQUEST = "rrpc.request", Down, "Platform calls the device synchronously (RRPC)";
    RRPC_RESPONSE = "rrpc.response", Up, "Device answers a synchronous call (RRPC)";
    BROADCAST_REQUEST = "broadcast.request", Down, "Platform broadcasts to every online device of a product";
    OTA_INFORM = "ota.inform", Up, "Device reports its firmware version";
    OTA_UPGRADE = "ota.upgrade", Down, "Platform pushes a firmware upgrade";
    OTA_PROGRESS = "ota.progress", Up, "Device reports upgrade progress";
    OTA_REQUEST = "ota.request", Up, "Device asks for firmware (legacy)";
    SHADOW_UPDATE = "shadow.update", Up, "Device updates or reads its shadow";
    SHADOW_GET = "shadow.get", Down, "Platform answers or controls the device shadow";
    NTP_REQUEST = "ntp.request", Up, "Device asks for the time";
    NTP_RESPONSE = "ntp.response", Down, "Platform answers with the time";
    EXT_ERROR = "ext.error", Down, "Platform reports a sub-device error to its gateway";
    COMBINE_LOGIN = "combine.login", Up, "Gateway logs a sub-device in";
    COMBINE_BATCH_LOGIN = "combine.batch_login", Up, "Gateway logs sub-devices in (batch)";
    COMBINE_LOGOUT = "combine.logout", Up, "Gateway logs a sub-device out";
    COMBINE_BATCH_LOGOUT = "combine.batch_logout", Up, "Gateway logs sub-devices out (batch)";
    REGISTER = "register", Down, "Dynamic registration result (carries the device secret)";
    REGNWL = "regnwl", Down, "Registration-free result (carries the device token)";
    NETWORK_PROBE = "network.probe", Down, "Platform latency probe";
    BROADCAST = "broadcast", Down, "Product-wide broadcast topic";
    USER = "user", Either, "Custom (user) topic";
    LEGACY = "legacy", Either, "Basic-edition topic";
}

/// " reply" for a reply whose class name does not already say it (rrpc.response, ntp.response
/// and shadow.get are replies by name).
pub fn reply_suffix(class: Class, is_reply: bool) -> &'static str {
    let by_suffix = class.name.starts_with("thing.")
        || class.name.starts_with("combine.")
        || class == SYS_OTHER;
    if is_reply && by_suffix {
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
    // A byte loop (topic levels are short: faster than a searcher); the last slot keeps the rest
    // of a very deep topic: bounded work.
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

fn classify_at(topic: &str, unwrap_rrpc: bool) -> Option<TopicInfo<'_>> {
    let rest = topic.strip_prefix('/')?;
    let (l, n) = levels(rest);
    let l = &l[..n];
    let wildcard = l.iter().any(|s| *s == "+" || *s == "#");

    let nonempty = |i: usize| l.get(i).copied().filter(|s| !s.is_empty());
    match *l {
        ["sys", pk, dn, _, ..] if !pk.is_empty() && !dn.is_empty() => {
            // What follows "sys/{pk}/{dn}/".
            let tail = &rest[pk.len() + dn.len() + 6..];
            let (class, ident, reply) = sys_class(tail);
            let mut t = mk(wildcard, class, Some(pk), Some(dn));
            t.identifier = ident;
            t.is_reply = reply;
            Some(t)
        }
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
