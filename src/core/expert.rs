//! Expert items: every one aliiot registers ([`EXPERTS`]: filter name, group, severity), what
//! every module of the core finds, as typed values ([`Finding`], or a module's own issue type
//! such as [`PayloadIssue`] and [`ClientIdIssue`]), and the one place their wording is made
//! ([`Finding::item`]). A new expert item is a row below, a `Finding` with its words, and the
//! module that finds it.

use super::clientid::ClientIdIssue;
use super::payload::{self, PayloadIssue};
use super::sign::{SecretKind, SignCheck};
use super::tsl::check::TslIssue;
use super::tsl::load::LoadError;

#[derive(Debug, Clone, Copy)]
pub enum Group {
    Protocol,
    Malformed,
    Security,
    ResponseCode,
    Sequence,
    Decryption,
}

#[derive(Debug, Clone, Copy)]
pub enum Severity {
    Chat,
    Note,
    Warn,
    Error,
}

pub struct ExpertDef {
    pub abbrev: &'static str,
    pub group: Group,
    pub severity: Severity,
    pub summary: &'static str,
}

macro_rules! experts {
    ($($id:ident => $abbrev:literal, $group:ident, $sev:ident, $summary:literal;)*) => {
        /// An expert item of aliiot's (index into [`EXPERTS`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(usize)]
        pub enum Ei { $($id,)* }
        pub const EXPERTS: &[ExpertDef] = &[
            $(ExpertDef { abbrev: $abbrev, group: Group::$group, severity: Severity::$sev, summary: $summary },)*
        ];
    };
}

// Every expert item: its filter name, group, severity and summary (`aliiot.…` in -Y filters).
experts! {
    SignVerified => "aliiot.sign.verified", Security, Chat, "Login sign verified";
    SignMismatch => "aliiot.sign.mismatch", Security, Warn, "Login sign does not match the secret";
    PasswordNotHex => "aliiot.password.not_hex", Protocol, Warn, "Password is not a hex HMAC digest";
    NoParams => "aliiot.clientid.no_params", Protocol, Warn, "Client id has no |securemode=…,signmethod=…| part";
    EscapedCommas => "aliiot.clientid.escaped_commas", Protocol, Warn, "Client id contains backslash-escaped commas";
    UnknownSecureMode => "aliiot.clientid.unknown_securemode", Protocol, Warn, "Unknown securemode";
    UnknownSignMethod => "aliiot.clientid.unknown_signmethod", Protocol, Warn, "Unknown signmethod";
    BadTimestamp => "aliiot.clientid.bad_timestamp", Protocol, Warn, "Client id timestamp is not a number of ms or s";
    PrefixTooLong => "aliiot.clientid.prefix_too_long", Protocol, Warn, "Client id prefix longer than 64 characters";
    ClientIdMalformed => "aliiot.clientid.malformed", Malformed, Warn, "Malformed client id parameter list";
    KeepAlive => "aliiot.keepalive_out_of_range", Protocol, Warn, "Keep-alive outside 30–1200 s";
    Cleartext => "aliiot.cleartext_credentials", Security, Warn, "Login credentials sent in clear";
    UserNameFormat => "aliiot.username.not_device", Protocol, Note, "User name is not deviceName&productKey";
    LoginRefused => "aliiot.login.refused", ResponseCode, Warn, "The platform refused the login";
    NotUtf8 => "aliiot.not_utf8", Malformed, Warn, "Text field is not valid UTF-8";
    Truncated => "aliiot.truncated", Malformed, Warn, "CONNECT lacks fields aliiot needs";
    ForeignTopic => "aliiot.topic.foreign_device", Protocol, Warn, "Topic names another device than the session's";
    BadJson => "aliiot.payload.bad_json", Malformed, Warn, "Payload is not valid JSON";
    LenientJson => "aliiot.payload.lenient_json", Protocol, Note, "Payload JSON needed leniency";
    ErrorCode => "aliiot.alink.error_code", ResponseCode, Warn, "Alink reply with an error code";
    Credential => "aliiot.payload.credential", Security, Warn, "Payload carries a credential in clear";
    PayloadTruncated => "aliiot.payload.truncated", Protocol, Note, "Payload shown in part";
    Unanswered => "aliiot.request.unanswered", Sequence, Warn, "Request without a reply in the capture";
    OrphanReply => "aliiot.reply.orphan", Sequence, Note, "Reply whose request is not in the capture";
    ShadowError => "aliiot.shadow.error", ResponseCode, Warn, "Device shadow reply with an error";
    OtaFailed => "aliiot.ota.failed", ResponseCode, Warn, "The device reports a failed OTA upgrade";
    FileCrc => "aliiot.file.crc_mismatch", Malformed, Warn, "File chunk CRC-16 does not match its data";
    FileFraming => "aliiot.file.bad_framing", Malformed, Warn, "File chunk framing does not add up";
    Unacked => "aliiot.unacknowledged", Sequence, Warn, "QoS 1 PUBLISH never acknowledged";
    OrphanAck => "aliiot.ack.orphan", Sequence, Note, "Acknowledgement without its packet in the capture";
    PacketIdReused => "aliiot.packet_id_reused", Sequence, Warn, "Packet id reused before acknowledgement";
    DupPublish => "aliiot.retransmission", Sequence, Note, "PUBLISH retransmitted (DUP)";
    SubscriptionRefused => "aliiot.subscription_refused", ResponseCode, Warn, "Subscription refused";
    KeepAliveGap => "aliiot.keepalive_exceeded", Sequence, Warn, "Device silent longer than 1.5 × keep-alive";
    QoS2 => "aliiot.qos2", Protocol, Warn, "QoS 2 is not supported by the platform";
    Retain => "aliiot.retain_unsupported", Protocol, Warn, "Retained messages are not supported on MQTT 3.1.1";
    Will => "aliiot.will_unsupported", Protocol, Warn, "Will messages are not supported on MQTT 3.1.1";
    AbruptEnd => "aliiot.session.abrupt_end", Sequence, Warn, "Session ended without DISCONNECT";
    OpenAtEnd => "aliiot.session.open_at_end", Sequence, Note, "Session still open when the capture ended";
    LikelyLost => "aliiot.likely_lost", Sequence, Warn, "QoS 0 message sent right before an abrupt end";
    DuplicateSession => "aliiot.session.duplicate", Sequence, Warn, "Same device logged in on two connections at once";
    TrackingLimit => "aliiot.tracking_limit", Sequence, Note, "Too many open requests or acknowledgements to track";
    TlsNoKeys => "aliiot.tls_no_keys", Decryption, Note, "Encrypted MQTT: no TLS keys to decrypt it";
    PlatformLimit => "aliiot.mqtt5.platform_limit", Protocol, Warn, "Beyond the platform's MQTT 5 limits";
    ReasonCode => "aliiot.mqtt5.reason", ResponseCode, Warn, "MQTT 5 reason code reports a failure";
    SampleScriptReply => "aliiot.raw.sample_script_shape", Protocol, Chat, "Pass-through bytes shaped like the sample data-parsing script's reply";
    NtpPlaceholder => "aliiot.ntp.placeholder_time", Protocol, Note, "NTP request whose deviceSendTime is not a time";
    Echo => "aliiot.echo", Sequence, Note, "The device's own message delivered back to it";
    // The thing model (TSL reference §5.2: E → Error, W → Warning, N → Note).
    TslUnknownProperty => "aliiot.tsl.unknown_property", Protocol, Error, "TSL: property not in the thing model";
    TslUnknownModule => "aliiot.tsl.unknown_module", Protocol, Error, "TSL: module prefix names no loaded module";
    TslTypeMismatch => "aliiot.tsl.type_mismatch", Protocol, Error, "TSL: value of the wrong JSON type";
    TslNumberAsString => "aliiot.tsl.number_as_string", Protocol, Warn, "TSL: number sent as a string";
    TslNotInteger => "aliiot.tsl.not_integer", Protocol, Error, "TSL: int or enum value with a fraction";
    TslOutOfRange => "aliiot.tsl.out_of_range", Protocol, Error, "TSL: value outside the model's min/max";
    TslOffStep => "aliiot.tsl.off_step", Protocol, Note, "TSL: value not on the model's step";
    TslTextTooLong => "aliiot.tsl.text_too_long", Protocol, Error, "TSL: text longer than the model's length";
    TslEnumValue => "aliiot.tsl.enum_value", Protocol, Error, "TSL: enum value not in the model";
    TslBoolValue => "aliiot.tsl.bool_value", Protocol, Error, "TSL: bool value other than 0 or 1";
    TslBoolLiteral => "aliiot.tsl.bool_literal", Protocol, Warn, "TSL: bool sent as true/false";
    TslDateValue => "aliiot.tsl.date_value", Protocol, Error, "TSL: date that is not a millisecond timestamp";
    TslDateNumber => "aliiot.tsl.date_number", Protocol, Warn, "TSL: date sent as a number";
    TslStructLacks => "aliiot.tsl.struct_member_missing", Protocol, Warn, "TSL: struct lacks a member";
    TslStructUnknown => "aliiot.tsl.struct_member_unknown", Protocol, Error, "TSL: struct member not in the model";
    TslArrayTooLong => "aliiot.tsl.array_too_long", Protocol, Error, "TSL: array longer than the model's size";
    TslArrayItem => "aliiot.tsl.array_item", Protocol, Error, "TSL: array item of the wrong type";
    TslUnknownEvent => "aliiot.tsl.unknown_event", Protocol, Error, "TSL: event not in the thing model";
    TslUnknownOutput => "aliiot.tsl.unknown_output", Protocol, Error, "TSL: output not in the event's or service's outputs";
    TslEventNotWrapped => "aliiot.tsl.event_not_wrapped", Protocol, Note, "TSL: event outputs not wrapped in \"value\"";
    TslUnknownService => "aliiot.tsl.unknown_service", Protocol, Error, "TSL: service not in the thing model";
    TslMissingInput => "aliiot.tsl.missing_input", Protocol, Warn, "TSL: service call lacks an input";
    TslUnknownInput => "aliiot.tsl.unknown_input", Protocol, Error, "TSL: service call with an input not in the model";
    TslReadOnly => "aliiot.tsl.read_only", Protocol, Error, "TSL: set of a read-only property";
    TslFloatWithoutPoint => "aliiot.tsl.float_without_point", Protocol, Warn, "TSL: float or double without a decimal point";
    TslTooManyProperties => "aliiot.tsl.too_many_properties", Protocol, Error, "TSL: more than 200 properties in one post";
    TslSyncServiceAsync => "aliiot.tsl.sync_service_async", Protocol, Note, "TSL: sync service delivered asynchronously";
    TslMore => "aliiot.tsl.more", Protocol, Note, "TSL: more findings than are shown";
    TslExplainsError => "aliiot.tsl.explains_error", ResponseCode, Note, "Error reply to a request the thing model finds fault with";
    TslLearned => "aliiot.tsl.learned", Protocol, Chat, "Thing model taken from the capture";
    TslTemplateBad => "aliiot.tsl.template_unreadable", Malformed, Warn, "Thing model in a dsltemplate reply cannot be read";
    InternalError => "aliiot.internal_error", Malformed, Error, "aliiot could not analyse this packet";
}

/// Why a refused login was probably refused, from what aliiot knows of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalHint {
    None,
    /// The client id lacked its `|securemode=…|` part.
    NoParams,
    SignVerified,
    SignMismatch,
}

/// Something worth an expert item.
#[derive(Debug, Clone, Copy)]
pub enum Finding<'a> {
    // The login (session).
    /// A CONNECT string that is not UTF-8 (`what`: "Client id", "User name").
    NotUtf8(&'static str),
    Will,
    KeepAlive(u16),
    UserNameFormat(&'a str),
    NoUserName,
    NoPassword,
    PasswordNotHex,
    SignVerified(&'a SignCheck),
    SignMismatch {
        check: &'a SignCheck,
        device_name: &'a str,
        product_key: &'a str,
    },
    /// Credentials without TLS; `Some(mode)` when the client id's securemode declares TLS.
    Cleartext(Option<i32>),
    LoginRefused {
        code: u8,
        v5: bool,
        meaning: &'static str,
        hint: RefusalHint,
    },
    ClientId(&'a ClientIdIssue),
    // Messages (session).
    ForeignTopic {
        product_key: &'a str,
        device_name: &'a str,
        login_product_key: &'a str,
        login_device_name: &'a str,
    },
    SubDeviceSignMismatch {
        product_key: &'a str,
        device_name: &'a str,
    },
    /// More requests wait for a reply than are tracked.
    PendingLimit(usize),
    OrphanReply,
    /// An NTP request whose deviceSendTime is not a time.
    NtpPlaceholder(&'a str),
    /// The broker delivered the device's own message (frame) back to it.
    Echo(u32),
    /// A payload's issue on a topic of class `class`.
    Payload(&'a PayloadIssue, &'a str),
    // MQTT's flow (flow).
    PacketIdReused {
        id: u16,
        first: u32,
    },
    /// More packets wait for an acknowledgement than are tracked.
    OpenLimit(usize),
    KeepAliveGap {
        gap_ns: i64,
        keepalive: u16,
    },
    QoS2,
    Retain,
    SubscriptionRefused {
        filter: &'a str,
        code: u8,
    },
    OrphanAck(u16),
    // MQTT 5 (mqtt5).
    UserProperties {
        count: u32,
        max: u32,
    },
    PacketTooLarge(usize),
    TopicAlias {
        alias: u16,
        max: u16,
    },
    ReasonCode {
        packet: &'static str,
        reason: u8,
        meaning: &'static str,
    },
    // What the whole capture shows (render).
    Unanswered,
    Unacked,
    DupPublish(u32),
    LikelyLost,
    DuplicateSession(u32),
    /// A session that ended without DISCONNECT: by a TCP RST (true) or FIN.
    AbruptEnd(bool),
    OpenAtEnd,
    // The transport (glue).
    /// Encrypted MQTT and no TLS keys to read it.
    TlsNoKeys,
    // The thing model.
    Tsl(&'a TslIssue),
    /// An error reply (`code`) to the request in `frame`, which had `findings`.
    TslExplainsError {
        code: u64,
        frame: u32,
        findings: u8,
    },
    /// A dsltemplate reply's model, now in force for product `.0`.
    TslLearned(&'a str),
    TslTemplateBad(&'a LoadError),
    /// A dsltemplate reply on product `topic`'s topic carries product `model`'s model.
    TslTemplateOther {
        topic: &'a str,
        model: &'a str,
    },
}

impl Finding<'_> {
    /// Its expert field and text.
    pub fn item(&self) -> (Ei, String) {
        use Finding as F;
        let s = |ei: Ei, text: &str| (ei, text.to_string());
        match *self {
            F::NotUtf8(what) => (
                Ei::NotUtf8,
                format!("{what} is not valid UTF-8; shown with replacement characters"),
            ),
            F::Will => s(Ei::Will, "Will message on MQTT 3.1.1: the platform does not support it"),
            F::KeepAlive(k) => (
                Ei::KeepAlive,
                format!("Keep-alive {k} s is outside the 30–1200 s the platform accepts; it refuses the connection"),
            ),
            F::UserNameFormat(u) => (
                Ei::UserNameFormat,
                format!(
                    "User name '{}' is not deviceName&productKey",
                    super::clientid::truncate(u, 64)
                ),
            ),
            F::NoUserName => s(
                Ei::Truncated,
                "CONNECT has no user name: the platform requires deviceName&productKey",
            ),
            F::NoPassword => s(Ei::Truncated, "CONNECT has no password: the platform requires the sign"),
            F::PasswordNotHex => s(Ei::PasswordNotHex, "Password is not a hex HMAC digest"),
            F::SignVerified(check) => (
                Ei::SignVerified,
                format!(
                    "Login sign verified ({} with the {})",
                    alg_name(check),
                    kind_name(check)
                ),
            ),
            F::SignMismatch {
                check,
                device_name,
                product_key,
            } => (
                Ei::SignMismatch,
                format!(
                    "Login sign mismatch: tried {} with the {} of {device_name}&{product_key} over '{}'",
                    alg_name(check),
                    kind_name(check),
                    check.content.as_deref().unwrap_or("")
                ),
            ),
            F::Cleartext(declared) => {
                let why = match declared {
                    Some(mode) => format!(
                        "securemode={mode} declares TLS, but this connection is not TLS: the user name and password travel in clear"
                    ),
                    None => "no TLS under MQTT: the user name and password (a replayable sign) travel in clear".to_string(),
                };
                (Ei::Cleartext, format!("Credentials sent in clear: {why}"))
            }
            F::LoginRefused {
                code,
                v5,
                meaning,
                hint,
            } => {
                let hint = match hint {
                    RefusalHint::NoParams => " The client id lacks its |securemode=…| part.",
                    RefusalHint::SignVerified => {
                        " The sign verified: check the device is enabled, activated and not deleted."
                    }
                    RefusalHint::SignMismatch => " The sign does not match the secret entered.",
                    RefusalHint::None => "",
                };
                let code = if v5 {
                    format!("0x{code:02x}")
                } else {
                    code.to_string()
                };
                (
                    Ei::LoginRefused,
                    format!("Login refused ({code}): {meaning}.{hint}"),
                )
            }
            F::ClientId(issue) => client_id(issue),
            F::ForeignTopic {
                product_key,
                device_name,
                login_product_key,
                login_device_name,
            } => (
                Ei::ForeignTopic,
                format!(
                    "Topic names device {device_name} of product {product_key}, but this session logged in as {login_device_name} of {login_product_key}"
                ),
            ),
            F::SubDeviceSignMismatch {
                product_key,
                device_name,
            } => (
                Ei::SignMismatch,
                format!(
                    "Sub-device {device_name} of {product_key}: sign does not match its device secret"
                ),
            ),
            F::PendingLimit(max) => (
                Ei::TrackingLimit,
                format!("More than {max} requests wait for a reply on this connection: later ones are not paired"),
            ),
            F::OrphanReply => s(
                Ei::OrphanReply,
                "Reply whose request is not in the capture (or was already answered)",
            ),
            F::NtpPlaceholder(sent) => (
                Ei::NtpPlaceholder,
                format!("deviceSendTime \"{}\" is not a time (a placeholder, or a clock never set): no device clock offset; the response gives the platform's clock against the capture's", super::clientid::truncate(sent, 32)),
            ),
            F::Echo(frame) => (
                Ei::Echo,
                format!("Echo of the device's own message in frame {frame}: it subscribed to a topic it publishes on, and the broker delivered the message back"),
            ),
            F::Payload(issue, class) => payload_issue(issue, class),
            F::PacketIdReused { id, first } => (
                Ei::PacketIdReused,
                format!("Packet id {id} reused before the packet in frame {first} was acknowledged"),
            ),
            F::OpenLimit(max) => (
                Ei::TrackingLimit,
                format!("More than {max} packets wait for an acknowledgement on this connection: later ones are not paired"),
            ),
            F::KeepAliveGap { gap_ns, keepalive } => (
                Ei::KeepAliveGap,
                format!(
                    "The device sent nothing for {:.1} s, more than 1.5 × its keep-alive of {keepalive} s: the broker would have closed the connection",
                    gap_ns as f64 / 1e9
                ),
            ),
            F::QoS2 => s(Ei::QoS2, "QoS 2 PUBLISH: the platform supports QoS 0 and 1 only"),
            F::Retain => s(
                Ei::Retain,
                "Retained PUBLISH: the platform does not support retained messages on MQTT 3.1.1",
            ),
            F::SubscriptionRefused { filter, code } => (
                Ei::SubscriptionRefused,
                format!("Subscription to '{filter}' refused (0x{code:02x})"),
            ),
            F::OrphanAck(id) => (
                Ei::OrphanAck,
                format!("Acknowledgement for packet id {id} with no matching packet in the capture"),
            ),
            F::UserProperties { count, max } => (
                Ei::PlatformLimit,
                format!("{count} user properties: the platform takes at most {max}"),
            ),
            F::PacketTooLarge(len) => (
                Ei::PlatformLimit,
                format!("PUBLISH of {len} bytes: the platform's maximum packet size is 256 KiB"),
            ),
            F::TopicAlias { alias, max } => (
                Ei::PlatformLimit,
                format!("Topic alias {alias}: the platform allows at most {max}"),
            ),
            F::ReasonCode {
                packet,
                reason,
                meaning,
            } => (
                Ei::ReasonCode,
                format!("{packet} reason 0x{reason:02x}: {meaning}"),
            ),
            F::Unanswered => s(Ei::Unanswered, "No reply to this request in the capture"),
            F::Unacked => s(
                Ei::Unacked,
                "QoS 1 PUBLISH never acknowledged before the connection ended",
            ),
            F::DupPublish(first) => (
                Ei::DupPublish,
                format!("Retransmission (DUP) of the PUBLISH in frame {first}"),
            ),
            F::LikelyLost => s(
                Ei::LikelyLost,
                "QoS 0 message sent right before the connection dropped: probably never delivered",
            ),
            F::DuplicateSession(other) => (
                Ei::DuplicateSession,
                format!("The same device is also logged in on the connection opened in frame {other}: the platform kicks the older one"),
            ),
            F::AbruptEnd(reset) => (
                Ei::AbruptEnd,
                format!(
                    "Session ended by {} without DISCONNECT: the platform publishes the device's will and an offline event",
                    if reset { "TCP RST" } else { "TCP FIN" }
                ),
            ),
            F::OpenAtEnd => s(Ei::OpenAtEnd, "Session still open when the capture ended"),
            F::Tsl(i) => tsl_issue(i),
            F::TslExplainsError {
                code,
                frame,
                findings,
            } => (
                Ei::TslExplainsError,
                format!(
                    "Code {code} answers the request in frame {frame}, which breaks the thing model \
({findings} finding{}): likely why it was refused",
                    if findings == 1 { "" } else { "s" }
                ),
            ),
            F::TslLearned(pk) => (
                Ei::TslLearned,
                format!("Thing model of product {pk} taken from this reply: later messages are checked against it"),
            ),
            F::TslTemplateBad(e) => (
                Ei::TslTemplateBad,
                format!("The thing model in this reply cannot be read: {e}"),
            ),
            F::TslTemplateOther { topic, model } => (
                Ei::TslTemplateBad,
                format!("The thing model in this reply is product {model}'s, not {topic}'s: not used"),
            ),
            F::TlsNoKeys => s(
                Ei::TlsNoKeys,
                "Encrypted MQTT to the platform and no TLS keys to read it: record a key log \
(SSLKEYLOGFILE for C/OpenSSL and curl-based clients, node --tls-keylog=FILE for Node SDKs, \
ssl.SSLContext.keylog_filename for Python) and set it in Preferences › Protocols › TLS › \
(Pre)-Master-Secret log filename, or embed it with editcap --inject-secrets tls,FILE",
            ),
        }
    }
}

/// A thing-model finding, in the TSL reference's words (§5.2).
fn tsl_issue(i: &TslIssue) -> (Ei, String) {
    use TslIssue as T;
    match i {
        T::UnknownProperty { id } => (Ei::TslUnknownProperty, format!("TSL: unknown property \"{id}\"")),
        T::UnknownModule { module } => (Ei::TslUnknownModule, format!("TSL: unknown module \"{module}\"")),
        T::TypeMismatch { id, expects, got } => (
            Ei::TslTypeMismatch,
            format!("TSL: type mismatch: \"{id}\" expects {expects}, got {got}"),
        ),
        T::NumberAsString { id } => (Ei::TslNumberAsString, format!("TSL: \"{id}\" number sent as string")),
        T::NotInteger { id, value } => (Ei::TslNotInteger, format!("TSL: \"{id}\" expects an integer, got {value}")),
        T::AboveMax { id, value, max } => (
            Ei::TslOutOfRange,
            format!("TSL: out of range: \"{id}\"={value} is above the model's maximum {max}"),
        ),
        T::BelowMin { id, value, min } => (
            Ei::TslOutOfRange,
            format!("TSL: out of range: \"{id}\"={value} is below the model's minimum {min}"),
        ),
        T::OffStep { id, value, step } => (Ei::TslOffStep, format!("TSL: \"{id}\"={value} off step {step}")),
        T::TextTooLong { id, chars, bytes, length } => (
            Ei::TslTextTooLong,
            format!("TSL: text too long: \"{id}\" {chars} > {length} characters ({bytes} bytes)"),
        ),
        T::EnumValue { id, value, keys } => (
            Ei::TslEnumValue,
            format!("TSL: enum \"{id}\"={value} not in {{{keys}}}"),
        ),
        T::BoolValue { id, value } => (Ei::TslBoolValue, format!("TSL: bool \"{id}\" must be 0 or 1, got {value}")),
        T::BoolLiteral { id, value } => (
            Ei::TslBoolLiteral,
            format!("TSL: bool \"{id}\" must be 0 or 1, got {value}"),
        ),
        T::DateValue { id } => (Ei::TslDateValue, format!("TSL: date \"{id}\" is not a millisecond timestamp")),
        T::DateNumber { id } => (Ei::TslDateNumber, format!("TSL: date \"{id}\" sent as number")),
        T::StructLacks { id, member } => (
            Ei::TslStructLacks,
            format!("TSL: struct \"{id}\" lacks \"{member}\""),
        ),
        T::StructUnknown { id, member } => (
            Ei::TslStructUnknown,
            format!("TSL: struct \"{id}\" has unknown member \"{member}\""),
        ),
        T::ArrayTooLong { id, items, size } => (
            Ei::TslArrayTooLong,
            format!("TSL: array \"{id}\" has {items} items > size {size}"),
        ),
        T::ArrayItem { id, index, expects } => (
            Ei::TslArrayItem,
            format!("TSL: \"{id}\"[{index}] is not {expects}"),
        ),
        T::UnknownEvent { id } => (Ei::TslUnknownEvent, format!("TSL: unknown event \"{id}\"")),
        T::UnknownEventOutput { event, output } => (
            Ei::TslUnknownOutput,
            format!("TSL: event \"{event}\" has unknown output \"{output}\""),
        ),
        T::EventNotWrapped => (
            Ei::TslEventNotWrapped,
            "TSL: event params not wrapped in \"value\" (the Link and Node SDKs send them so)".into(),
        ),
        T::UnknownService { id } => (Ei::TslUnknownService, format!("TSL: unknown service \"{id}\"")),
        T::MissingInput { service, input } => (
            Ei::TslMissingInput,
            format!("TSL: service \"{service}\" lacks input \"{input}\""),
        ),
        T::UnknownInput { service, input } => (
            Ei::TslUnknownInput,
            format!("TSL: service \"{service}\" has unknown input \"{input}\""),
        ),
        T::UnknownReplyOutput { service, output } => (
            Ei::TslUnknownOutput,
            format!("TSL: service \"{service}\" reply has unknown output \"{output}\""),
        ),
        T::ReadOnly { id } => (Ei::TslReadOnly, format!("TSL: write to read-only property \"{id}\"")),
        T::FloatWithoutPoint { id } => (
            Ei::TslFloatWithoutPoint,
            format!("TSL: \"{id}\" float without decimal point (docs require e.g. 10.0)"),
        ),
        T::TooManyProperties { count } => (
            Ei::TslTooManyProperties,
            format!("TSL: {count} properties in one post (limit 200, code 6106)"),
        ),
        T::SyncServiceAsync { service } => (
            Ei::TslSyncServiceAsync,
            format!("TSL: sync service \"{service}\" delivered async (product may be verification-free)"),
        ),
        T::More { count } => (Ei::TslMore, format!("TSL: {count} more findings not shown")),
    }
}

fn payload_issue(issue: &PayloadIssue, class: &str) -> (Ei, String) {
    match issue {
        PayloadIssue::BadJson(e) => (Ei::BadJson, format!("Payload on a {class} topic is not valid JSON: {e}")),
        PayloadIssue::LenientJson(n) => (Ei::LenientJson, format!("Payload JSON is not strictly valid: {n}")),
        PayloadIssue::ErrorCode(code) => (
            Ei::ErrorCode,
            format!("Alink code {code}: {}", payload::code_meaning(*code).unwrap_or("not in the platform's code table")),
        ),
        PayloadIssue::Secret(what) => (
            Ei::Credential,
            format!("Payload carries a {what} in clear: anyone with this capture can log in as the device"),
        ),
        PayloadIssue::Truncated(n) => (Ei::PayloadTruncated, format!("{n} more JSON values are not shown")),
        PayloadIssue::FileCrc { stored, computed } => (
            Ei::FileCrc,
            format!("File chunk CRC-16 0x{stored:04x} does not match its data (0x{computed:04x})"),
        ),
        PayloadIssue::ShadowError(what) => (Ei::ShadowError, format!("Device shadow error: {what}")),
        PayloadIssue::OtaFailed(step) => (
            Ei::OtaFailed,
            format!(
                "OTA progress step {step}: {}",
                super::fields::OTA_STEP_VALUES.iter().find(|(v, _)| v == step).map_or("failed", |(_, m)| m)
            ),
        ),
        PayloadIssue::FileFraming(why) => (Ei::FileFraming, format!("File chunk framing: {why}")),
        PayloadIssue::SampleScriptReply { id, code } => (
            Ei::SampleScriptReply,
            format!("Bytes shaped like the reply of Alibaba's sample data-parsing script (0x02, id, code): id {id}, code {code}; only the product's own script says what they mean"),
        ),
    }
}

fn alg_name(c: &SignCheck) -> &'static str {
    c.algorithm.map_or("?", |a| a.name())
}

fn kind_name(c: &SignCheck) -> &'static str {
    match c.secret_kind {
        SecretKind::Device => "device secret",
        SecretKind::Product => "product secret",
    }
}

fn client_id(issue: &ClientIdIssue) -> (Ei, String) {
    match issue {
        ClientIdIssue::NoParams => (
            Ei::NoParams,
            "Client id has no |securemode=…,signmethod=…| part; the platform refuses such a login".into(),
        ),
        ClientIdIssue::Unterminated => {
            (Ei::ClientIdMalformed, "Client id parameter list is not closed by a '|'".into())
        }
        ClientIdIssue::EscapedCommas => (
            Ei::EscapedCommas,
            "Client id contains '\\,': AT-command escaping reached the wire, the platform reads the backslashes as part of the values"
                .into(),
        ),
        ClientIdIssue::UnknownSecureMode(v) => (Ei::UnknownSecureMode, format!("Unknown securemode '{v}'")),
        ClientIdIssue::UnknownSignMethod(v) => (
            Ei::UnknownSignMethod,
            format!("Unknown signmethod '{v}' (expected hmacmd5, hmacsha1 or hmacsha256)"),
        ),
        ClientIdIssue::BadTimestamp(v) => {
            (Ei::BadTimestamp, format!("Client id timestamp '{v}' is not a time in milliseconds or seconds"))
        }
        ClientIdIssue::PrefixTooLong(n) => (
            Ei::PrefixTooLong,
            format!("Client id prefix has {n} characters; the platform allows at most 64"),
        ),
        ClientIdIssue::ItemWithoutEquals(v) => {
            (Ei::ClientIdMalformed, format!("Client id parameter '{v}' has no '='"))
        }
        ClientIdIssue::TooManyParams(n) => {
            (Ei::ClientIdMalformed, format!("Client id has {n} more parameters than aliiot shows"))
        }
    }
}

/// What a CONNACK code means for an Alibaba device.
pub fn connack_meaning(code: u8, v5: bool) -> &'static str {
    if v5 {
        match code {
            0x00 => "Success",
            0x80 => "Unspecified error",
            0x81 => "Malformed packet",
            0x82 => "Protocol error",
            0x83 => "Implementation specific error",
            0x84 => "Unsupported protocol version (the platform speaks MQTT 3.1, 3.1.1 and 5.0; a device keeps one version)",
            0x85 => "Client identifier not valid: check the client id format prefix|securemode=…,signmethod=…|",
            0x86 => "Bad user name or password: check the sign (device secret, client id prefix, signmethod, timestamp)",
            0x87 => "Not authorized: device disabled, deleted or not activated, wrong product key, or a bad sign",
            0x88 => "Server unavailable",
            0x89 => "Server busy",
            0x8A => "Banned",
            0x8C => "Bad authentication method",
            0x95 => "Packet too large (the platform allows 256 KiB)",
            0x97 => "Quota exceeded",
            0x9F => "Connection rate exceeded: the device reconnects too often",
            _ => "Unknown reason code",
        }
    } else {
        match code {
            0 => "Connection accepted",
            1 => "Unacceptable protocol version (the platform speaks MQTT 3.1, 3.1.1 and 5.0)",
            2 => "Identifier rejected: check the client id format prefix|securemode=…,signmethod=…|",
            3 => "Server unavailable: for securemode=-1 the iotToken is invalid or expired (it lives 7 days)",
            4 => "Bad user name or password: check the sign (device secret, client id prefix, signmethod, timestamp)",
            5 => "Not authorized: device disabled, deleted or not activated, wrong product key, or a bad sign",
            _ => "Unknown return code",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows() {
        assert_eq!(Ei::InternalError as usize, EXPERTS.len() - 1);
        assert!(EXPERTS.iter().all(|e| !e.summary.is_empty()));
    }

    #[test]
    fn wording() {
        assert_eq!(
            Finding::LoginRefused {
                code: 0x87,
                v5: true,
                meaning: connack_meaning(0x87, true),
                hint: RefusalHint::SignMismatch
            }
            .item()
            .1,
            "Login refused (0x87): Not authorized: device disabled, deleted or not activated, wrong product key, or a bad sign. The sign does not match the secret entered."
        );
        assert_eq!(
            Finding::SubscriptionRefused {
                filter: "/secret/#",
                code: 0x80
            }
            .item(),
            (
                Ei::SubscriptionRefused,
                "Subscription to '/secret/#' refused (0x80)".to_string()
            )
        );
        assert_eq!(
            Finding::Payload(&PayloadIssue::OtaFailed(-2), "ota.progress").item(),
            (
                Ei::OtaFailed,
                "OTA progress step -2: download failed".to_string()
            )
        );
    }
}
