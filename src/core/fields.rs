//! Every field, subtree and expert item aliiot shows, as plain data.
//!
//! The epan glue registers these tables with Wireshark; the core refers to them only through the
//! [`Hf`] and [`Ett`] enums, so it can be tested without Wireshark. Expert items are registered
//! from [`super::expert`], with their wording.

/// The type and display of a field, mapped by the glue to an ftenum and a BASE_/display value.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Str,
    U8(Option<&'static [(u32, &'static str)]>),
    U32Dec,
    U32Hex,
    I32(&'static [(i32, &'static str)]),
    /// A boolean; with a mask it shows one bit of a 32-bit value.
    Bool(u32),
    AbsTimeUtc,
    RelTime,
    F64,
    FrameRequest,
    FrameResponse,
    FrameAck,
    FrameRetransPrev,
}

pub struct FieldDef {
    pub name: &'static str,
    pub abbrev: &'static str,
    pub kind: Kind,
    pub blurb: &'static str,
}

macro_rules! fields {
    ($($id:ident => $name:literal, $abbrev:literal, $kind:expr, $blurb:literal;)*) => {
        /// A field of aliiot's (index into [`FIELDS`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(usize)]
        pub enum Hf { $($id,)* }
        pub const FIELDS: &[FieldDef] = &[
            $(FieldDef { name: $name, abbrev: $abbrev, kind: $kind, blurb: $blurb },)*
        ];
    };
}

pub const SECUREMODE_VALUES: &[(i32, &str)] = &[
    (-2, "dynamic registration / pre-registration-free (token)"),
    (-1, "TLS guider (iotId/iotToken)"),
    (0, "TCP guider, plain"),
    (1, "TCP guider, ID² encrypted"),
    (2, "TLS direct"),
    (3, "TCP direct, plain"),
    (4, "TCP direct, ID² encrypted"),
    (5, "TLS guider, ID² encrypted"),
    (7, "TLS direct, ID² encrypted"),
    (8, "iTLS (ID²)"),
];
pub const SIGN_STATUS_VALUES: &[(u32, &str)] = &[
    (1, "Verified"),
    (2, "Mismatch"),
    (3, "No secret known"),
    (4, "Not a sign (token)"),
];
pub const SECRET_KIND_VALUES: &[(u32, &str)] = &[(1, "device secret"), (2, "product secret")];
pub const OTA_STEP_VALUES: &[(i32, &str)] = &[
    (-1, "upgrade failed"),
    (-2, "download failed"),
    (-3, "checksum failed"),
    (-4, "flashing failed"),
];
pub const END_VALUES: &[(u32, &str)] = &[
    (1, "clean DISCONNECT"),
    (2, "login refused by the server"),
    (3, "TCP RST without DISCONNECT"),
    (4, "TCP FIN without DISCONNECT"),
    (5, "still open when the capture ended"),
];
pub const IDENTITY_SOURCE_VALUES: &[(u32, &str)] = &[(1, "login user name"), (2, "topic")];
pub const DIRECTION_VALUES: &[(u32, &str)] = &[(1, "device → cloud"), (2, "cloud → device")];
pub const SUB_RESULT_VALUES: &[(u32, &str)] = &[
    (0, "granted QoS 0"),
    (1, "granted QoS 1"),
    (2, "granted QoS 2"),
    (0x80, "refused"),
    (0x83, "refused: implementation specific error"),
    (0x87, "refused: not authorized"),
    (0x8F, "refused: topic filter invalid"),
    (0x91, "refused: packet identifier in use"),
    (0x97, "refused: quota exceeded"),
    (0x9E, "refused: shared subscriptions not supported"),
    (0xA1, "refused: subscription identifiers not supported"),
    (0xA2, "refused: wildcard subscriptions not supported"),
];
pub const FLOW_VALUES: &[(u32, &str)] = &[
    (1, "device → cloud"),
    (2, "cloud → device"),
    (3, "either way"),
];
pub const TIMESTAMP_UNIT_VALUES: &[(u32, &str)] = &[
    (1, "milliseconds"),
    (2, "seconds"),
    (3, "fixed SDK value 2524608000000 (ms)"),
];

fields! {
    ProductKey => "Product key", "aliiot.product_key", Kind::Str,
        "productKey of the device this packet belongs to (from the login user name, or from the topic when the CONNECT was not captured)";
    DeviceName => "Device name", "aliiot.device_name", Kind::Str,
        "deviceName of the device this packet belongs to (from the login user name, or from the topic when the CONNECT was not captured)";
    IdentitySource => "Identity from", "aliiot.identity_source", Kind::U8(Some(IDENTITY_SOURCE_VALUES)),
        "Where aliiot learned the product key and device name of this connection";
    Direction => "Direction", "aliiot.direction", Kind::U8(Some(DIRECTION_VALUES)),
        "Whether the device or the platform sent this packet";
    ConnectIn => "Session opened by CONNECT in frame", "aliiot.connect_in", Kind::FrameRequest,
        "The frame with the CONNECT that opened this device session";
    ConnackIn => "Login answered in frame", "aliiot.connack_in", Kind::FrameResponse,
        "The frame with the CONNACK that answered this CONNECT";
    ClientIdPrefix => "Client id prefix", "aliiot.clientid.prefix", Kind::Str,
        "Client id text before the first '|' (its shape differs by SDK: pk.dn, pk&dn, dn&pk, a UUID…)";
    SecureMode => "Secure mode", "aliiot.clientid.securemode", Kind::I32(SECUREMODE_VALUES),
        "securemode client id parameter: how the device says it connects (2 TLS direct, 3 TCP direct, -2 dynamic registration/token…)";
    SignMethod => "Sign method", "aliiot.clientid.signmethod", Kind::Str,
        "signmethod client id parameter: the HMAC used for the password (hmacmd5, hmacsha1, hmacsha256)";
    Timestamp => "Timestamp", "aliiot.clientid.timestamp", Kind::AbsTimeUtc,
        "timestamp client id parameter, as a time (milliseconds, seconds, or the fixed SDK value)";
    TimestampUnit => "Timestamp unit", "aliiot.clientid.timestamp_unit", Kind::U8(Some(TIMESTAMP_UNIT_VALUES)),
        "How the timestamp parameter was read: milliseconds, seconds, or the fixed 2524608000000 of the C/Link/Go SDKs";
    SdkVersion => "SDK version", "aliiot.clientid.sdk_version", Kind::Str,
        "_v client id parameter: the device SDK's version (e.g. sdk-c-4.2.0, 1.2.8)";
    SdkLanguage => "SDK language", "aliiot.clientid.sdk_language", Kind::Str,
        "lan client id parameter: the device SDK's language (C, Python, NodeJS, JS|WX…)";
    Ext => "Extensions", "aliiot.clientid.ext", Kind::U32Hex,
        "ext client id parameter: bitmap of protocol extensions the device supports";
    ExtRrpc => "RRPC on custom topics", "aliiot.clientid.ext.rrpc", Kind::Bool(0x1),
        "ext bit 0: the device accepts RRPC on /ext/rrpc/ topics";
    ExtNotify => "Extended notify", "aliiot.clientid.ext.notify", Kind::Bool(0x2),
        "ext bit 1: ext_notify (meaning not documented by the platform)";
    Gateway => "Gateway", "aliiot.clientid.gw", Kind::U32Dec,
        "gw client id parameter: 1 for a gateway, 0 for a directly connected device";
    AuthType => "Auth type", "aliiot.clientid.auth_type", Kind::Str,
        "authType client id parameter: register / regnwl (dynamic registration), connwl (token login), id2";
    Random => "Random", "aliiot.clientid.random", Kind::Str,
        "random client id parameter: the nonce signed in dynamic registration";
    InstanceId => "Instance id", "aliiot.clientid.instance_id", Kind::Str,
        "instanceId client id parameter: the Enterprise or new public instance";
    ParamKey => "Key", "aliiot.clientid.param.key", Kind::Str,
        "Key of a client id parameter that has no named field";
    ParamValue => "Value", "aliiot.clientid.param.value", Kind::Str,
        "Value of a client id parameter that has no named field";
    SignStatus => "Sign", "aliiot.sign.status", Kind::U8(Some(SIGN_STATUS_VALUES)),
        "Result of checking the CONNECT password against the secrets entered in the aliiot preferences";
    SignAlgorithm => "Sign algorithm", "aliiot.sign.algorithm", Kind::Str,
        "HMAC used to check the password (from signmethod, or from the password length when absent)";
    SignSecretKind => "Signed with", "aliiot.sign.secret_kind", Kind::U8(Some(SECRET_KIND_VALUES)),
        "Which secret signs this login: the device secret, or the product secret for dynamic registration";
    SignContent => "Signed content", "aliiot.sign.content", Kind::Str,
        "The string the platform expects to be signed (it contains no secret)";
    LoginCode => "Return code", "aliiot.login.code", Kind::U8(None),
        "CONNACK return code (MQTT 3.1/3.1.1) or reason code (MQTT 5.0)";
    LoginAccepted => "Login accepted", "aliiot.login.accepted", Kind::Bool(0),
        "Whether the platform accepted the device's login";
    LoginMeaning => "Meaning", "aliiot.login.meaning", Kind::Str,
        "What the CONNACK code means for an Alibaba Cloud IoT device, and what to check";
    GatewayProductKey => "Gateway product key", "aliiot.gateway.product_key", Kind::Str,
        "productKey of the gateway whose connection carries this sub-device's message";
    GatewayDeviceName => "Gateway device name", "aliiot.gateway.device_name", Kind::Str,
        "deviceName of the gateway whose connection carries this sub-device's message";
    TopicClass => "Topic class", "aliiot.topic.class", Kind::Str,
        "What the topic is, named like the Alink method (thing.event.property.post, thing.service.invoke, rrpc.request, ota.inform, shadow.update, user…)";
    TopicIdentifier => "Identifier", "aliiot.topic.identifier", Kind::Str,
        "Event or service identifier, RRPC or broadcast message id, or user-topic suffix named by the topic";
    TopicIsReply => "Is reply", "aliiot.topic.is_reply", Kind::Bool(0),
        "Whether the topic is a reply topic (…_reply, rrpc/response, ntp response, shadow get)";
    TopicFlow => "Topic direction", "aliiot.topic.direction", Kind::U8(Some(FLOW_VALUES)),
        "Which way messages on this topic flow according to the platform's topic catalogue";
    TopicProductKey => "Topic product key", "aliiot.topic.product_key", Kind::Str,
        "productKey named by the topic";
    TopicDeviceName => "Topic device name", "aliiot.topic.device_name", Kind::Str,
        "deviceName named by the topic";
    TopicRrpcId => "RRPC id", "aliiot.topic.rrpc_id", Kind::Str,
        "Message id of an /ext/rrpc/{id}/… wrapper around the topic";
    AlinkId => "Id", "aliiot.alink.id", Kind::Str,
        "Alink message id (pairs a request with its reply)";
    AlinkIdSuffix => "Id suffix", "aliiot.alink.id_suffix", Kind::Str,
        "Text after the first '|' of the id (the Node SDK appends |exp-topic|<reply topic>)";
    AlinkVersion => "Version", "aliiot.alink.version", Kind::Str,
        "Alink protocol version (1.0)";
    AlinkMethod => "Method", "aliiot.alink.method", Kind::Str,
        "Alink method (optional in practice: the topic is authoritative)";
    AlinkAck => "Ack wanted", "aliiot.alink.ack", Kind::U32Dec,
        "sys.ack: 0 asks the platform not to reply, 1 (or absent) asks for a reply";
    AlinkCode => "Code", "aliiot.alink.code", Kind::U32Dec,
        "Alink reply code (200 success; see the platform's error code table)";
    AlinkMessage => "Message", "aliiot.alink.message", Kind::Str,
        "Alink reply message";
    PropertyName => "Property", "aliiot.property.name", Kind::Str,
        "Name (identifier) of a thing-model property in a report, set or desired reply";
    PropertyValue => "Value", "aliiot.property.value", Kind::Str,
        "Property value as text";
    PropertyValueNum => "Numeric value", "aliiot.property.value_num", Kind::F64,
        "Property value when it is a number (filter with >, <)";
    PropertyTime => "Time", "aliiot.property.time", Kind::AbsTimeUtc,
        "Time the device gave the property value ({value, time} form)";
    PropertyDisplayName => "Display name", "aliiot.property.display_name", Kind::Str,
        "Name the product's thing model (TSL) gives the property, event output or service argument";
    PropertyDataType => "Data type", "aliiot.property.data_type", Kind::Str,
        "The thing model's data type of the value (int, float, double, text, date, bool, enum, struct, array)";
    PropertyUnit => "Unit", "aliiot.property.unit", Kind::Str,
        "Unit symbol the thing model gives a number (°C, %)";
    PropertyUnitName => "Unit name", "aliiot.property.unit_name", Kind::Str,
        "Unit name the thing model gives a number";
    PropertyValueName => "Value name", "aliiot.property.value_name", Kind::Str,
        "Name the thing model gives a bool or enum value (on, off, auto…)";
    TslViolation => "Thing model finding", "aliiot.tsl.violation", Kind::Str,
        "What a value or message breaks in the product's thing model (TSL), and why";
    TslSource => "Thing model", "aliiot.tsl.source", Kind::Str,
        "Where the thing model the message was checked against came from: a file of the TSL folder, or a dsltemplate reply in the capture";
    TslCauseFrame => "Request the thing model faults", "aliiot.tsl.cause_frame", Kind::FrameRequest,
        "The request this error reply answers, whose thing-model findings likely explain the error";
    EventTime => "Event time", "aliiot.event.time", Kind::AbsTimeUtc,
        "Time the device gave the event";
    JsonKey => "Key", "aliiot.json.key", Kind::Str,
        "Member name (or [index]) in a JSON payload shown by aliiot";
    JsonValue => "Value", "aliiot.json.value", Kind::Str,
        "Member value (or container summary) in a JSON payload shown by aliiot";
    PayloadLength => "Payload length", "aliiot.payload.length", Kind::U32Dec,
        "Length of a binary or text payload";
    PayloadText => "Payload text", "aliiot.payload.text", Kind::Str,
        "A text payload (first 256 characters)";
    PayloadHex => "Payload bytes", "aliiot.payload.hex", Kind::Str,
        "A binary payload in hex (first 64 bytes)";
    SubProductKey => "Sub-device product key", "aliiot.subdevice.product_key", Kind::Str,
        "productKey of a sub-device a gateway adds to its topology or logs in";
    SubDeviceName => "Sub-device name", "aliiot.subdevice.device_name", Kind::Str,
        "deviceName of a sub-device a gateway adds to its topology or logs in";
    SubSignStatus => "Sub-device sign", "aliiot.subdevice.sign_status", Kind::U8(Some(SIGN_STATUS_VALUES)),
        "Result of checking the sub-device's sign against the device secrets entered";
    NtpOffset => "Clock offset", "aliiot.ntp.clock_offset", Kind::F64,
        "NTP: seconds the platform's clock is ahead of the device's (from the device's and platform's times and the round trip in the capture)";
    NtpCaptureOffset => "Platform clock offset", "aliiot.ntp.capture_offset", Kind::F64,
        "NTP without a usable device time: seconds the platform's clock (middle of serverRecvTime and serverSendTime) is ahead of the capture's clock (middle of the request's and response's capture times)";
    EchoOf => "Echo of", "aliiot.echo_of", Kind::FrameRequest,
        "The device's own PUBLISH this message repeats: the broker delivered it back because the device subscribed to its own topic";
    OtaStep => "OTA step", "aliiot.ota.step", Kind::I32(&[]),
        "OTA progress: 0–100 percent, or -1 upgrade, -2 download, -3 checksum, -4 flashing failed";
    ShadowMethod => "Shadow method", "aliiot.shadow.method", Kind::Str,
        "Device shadow method: update, get, delete (device) or reply, control (platform)";
    ShadowVersion => "Shadow version", "aliiot.shadow.version", Kind::Str,
        "Version of the device shadow document";
    ShadowStatus => "Shadow status", "aliiot.shadow.status", Kind::Str,
        "Status of a shadow reply: success or error";
    OtaVersion => "Firmware version", "aliiot.ota.version", Kind::Str,
        "Firmware version a device reports (inform) or is offered (upgrade)";
    OtaModule => "Firmware module", "aliiot.ota.module", Kind::Str,
        "OTA module the firmware is for";
    OtaSize => "Firmware size", "aliiot.ota.size", Kind::Str,
        "Size in bytes of the firmware offered";
    OtaUrl => "Firmware URL", "aliiot.ota.url", Kind::Str,
        "Where the device downloads the firmware";
    OtaSignMethod => "Firmware sign method", "aliiot.ota.sign_method", Kind::Str,
        "Digest used for the firmware sign (Md5, SHA256)";
    OtaSign => "Firmware sign", "aliiot.ota.sign", Kind::Str,
        "Digest of the firmware the device must check";
    OtaMd5 => "Firmware MD5", "aliiot.ota.md5", Kind::Str,
        "MD5 of the firmware";
    FileHeaderLength => "Header length", "aliiot.file.header_length", Kind::U32Dec,
        "Length of the JSON header of a file chunk frame";
    FileChunkLength => "Chunk length", "aliiot.file.chunk_length", Kind::U32Dec,
        "Bytes of file data in a file chunk frame";
    FileCrc => "CRC-16", "aliiot.file.crc", Kind::U32Hex,
        "CRC-16/ARC of the chunk as sent (little-endian)";
    FileCrcGood => "CRC-16 good", "aliiot.file.crc_good", Kind::Bool(0),
        "Whether the CRC-16/ARC sent matches the chunk";
    AckIn => "Acknowledged in frame", "aliiot.ack_in", Kind::FrameResponse,
        "The frame with the PUBACK/SUBACK/UNSUBACK/PINGRESP for this packet";
    AckTo => "Acknowledges frame", "aliiot.ack_to", Kind::FrameAck,
        "The frame with the PUBLISH/SUBSCRIBE/UNSUBSCRIBE/PINGREQ this packet acknowledges";
    AckTime => "Acknowledgement time", "aliiot.ack_time", Kind::RelTime,
        "Time between the packet and its acknowledgement";
    DupOf => "Retransmission of frame", "aliiot.dup_of", Kind::FrameRetransPrev,
        "A DUP PUBLISH: the frame with the first copy";
    SubFilter => "Subscription", "aliiot.sub.filter", Kind::Str,
        "A topic filter of the SUBSCRIBE this SUBACK answers";
    SubResult => "Result", "aliiot.sub.result", Kind::U8(Some(SUB_RESULT_VALUES)),
        "Granted QoS, or the failure code (0x80 and up) for the filter";
    KeepAliveGap => "Silence before this packet", "aliiot.keepalive_gap", Kind::RelTime,
        "Time the device sent nothing, when longer than 1.5 × its keep-alive";
    SessionDuration => "Duration", "aliiot.session.duration", Kind::RelTime,
        "Session length, from its first packet to its end";
    SessionUp => "Messages up", "aliiot.session.messages_up", Kind::U32Dec,
        "PUBLISH packets the device sent in this session";
    SessionDown => "Messages down", "aliiot.session.messages_down", Kind::U32Dec,
        "PUBLISH packets the device received in this session";
    SessionAnswered => "Requests answered", "aliiot.session.requests_answered", Kind::U32Dec,
        "Alink/RRPC/NTP/shadow requests of this session that got a reply";
    SessionUnanswered => "Requests unanswered", "aliiot.session.requests_unanswered", Kind::U32Dec,
        "Requests of this session that wanted a reply and got none in the capture";
    SessionErrors => "Error replies", "aliiot.session.errors", Kind::U32Dec,
        "Alink replies of this session with a code other than 200";
    SessionEnd => "Ended by", "aliiot.session.end", Kind::U8(Some(END_VALUES)),
        "How the session ended";
    SessionOther => "Same device also on the connection opened in frame", "aliiot.session.other_connect", Kind::FrameRequest,
        "The CONNECT of another connection of the same device that overlapped this one";
    ReasonCode => "MQTT 5 reason", "aliiot.mqtt5.reason_code", Kind::U8(None),
        "PUBACK or DISCONNECT reason code (MQTT 5), with what it means for an Alibaba device";
    AssignedClientId => "Assigned client id", "aliiot.mqtt5.assigned_client_id", Kind::Str,
        "Client id the platform assigned (MQTT 5 CONNACK); the login was signed with an empty client id";
    UserPropertyKey => "Key", "aliiot.mqtt5.user_property.key", Kind::Str,
        "Key of an MQTT 5 user property of this packet (the platform reads at most 20, on CONNECT and PUBLISH)";
    UserPropertyValue => "Value", "aliiot.mqtt5.user_property.value", Kind::Str,
        "Value of an MQTT 5 user property of this packet";
    RequestIn => "Request in frame", "aliiot.request_in", Kind::FrameRequest,
        "The frame with the request this message answers";
    ResponseIn => "Response in frame", "aliiot.response_in", Kind::FrameResponse,
        "The frame with the reply to this request";
    ResponseTime => "Response time", "aliiot.response_time", Kind::RelTime,
        "Time between the request and its reply";
}

/// A subtree of aliiot's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Ett {
    Main,
    ClientId,
    Param,
    Sign,
    Login,
    Topic,
    Alink,
    Property,
    Json,
    UserProperty,
}
pub const ETT_COUNT: usize = 10;

/// Whether a field is made from a PUBLISH's payload (Alink members, properties, JSON, shadow,
/// OTA, file chunks): the first pass reads a payload in full only when one of these is wanted.
pub fn from_payload(f: &FieldDef) -> bool {
    const PREFIXES: &[&str] = &[
        "aliiot.alink.",
        "aliiot.property.",
        "aliiot.json.",
        "aliiot.payload.",
        "aliiot.shadow.",
        "aliiot.ota.",
        "aliiot.file.",
        "aliiot.event.",
        "aliiot.tsl.",
    ];
    PREFIXES.iter().any(|p| f.abbrev.starts_with(p))
}

/// Whether a field is made from a connection's state rather than from the packet and its login
/// (links between packets, times between them, the MQTT flow, the session summary): the first
/// pass builds that state only when nothing is kept for later and none of these is wanted.
pub fn from_session(f: &FieldDef) -> bool {
    const NAMES: &[&str] = &[
        "aliiot.request_in",
        "aliiot.response_in",
        "aliiot.response_time",
        "aliiot.ack_in",
        "aliiot.ack_to",
        "aliiot.ack_time",
        "aliiot.dup_of",
        "aliiot.echo_of",
        "aliiot.keepalive_gap",
        "aliiot.tsl.cause_frame",
    ];
    // A SUBACK's filters and results are matched to its SUBSCRIBE's by the flow.
    const PREFIXES: &[&str] = &["aliiot.session.", "aliiot.ntp.", "aliiot.sub."];
    NAMES.contains(&f.abbrev) || PREFIXES.iter().any(|p| f.abbrev.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_conventions() {
        let mut seen = std::collections::HashSet::new();
        for f in FIELDS {
            assert!(f.abbrev.starts_with("aliiot."), "{}", f.abbrev);
            assert!(
                f.abbrev.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'_'
                    || b == b'.'),
                "{}",
                f.abbrev
            );
            assert!(!f.blurb.is_empty(), "{} needs a blurb", f.abbrev);
            assert!(seen.insert(f.abbrev), "duplicate {}", f.abbrev);
        }
        // Expert items are filterable names too: none may repeat a field's.
        for e in crate::core::expert::EXPERTS {
            assert!(e.abbrev.starts_with("aliiot."));
            assert!(seen.insert(e.abbrev), "duplicate {}", e.abbrev);
        }
        assert_eq!(Hf::ResponseTime as usize, FIELDS.len() - 1);
    }
}
