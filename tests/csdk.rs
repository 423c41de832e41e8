//! Alibaba's C SDK 3.x (aliyun/iotkit-embedded), recorded in the lab against a local broker with
//! the platform's side scripted (tests/captures/lab/c-sdk-record.sh): its login, its thing
//! model, and what it does that other SDKs do not (an NTP placeholder time, pass-through bytes
//! answered by a data-parsing script, the legacy OTA request, its own messages echoed back).

mod common;

use common::{harness, rows};

const BASIC: &str = "30-c-sdk3-mqtt-basic.pcapng";
const LINKKIT: &str = "31-c-sdk3-linkkit.pcapng";
const LINK4_V5: &str = "32-link-sdk41-mqtt5.pcapng";
/// The SDK's public demo device (wrappers/os/ubuntu/HAL_OS_linux.c).
const SECRET: &str =
    "uat:aliiot_device_secrets:\"a1RIsMLz2BJ\",\"example1\",\"RDXf67itLqZCwdMCRrw0N5FHbv5D7jrE\"";

/// The C SDK's login: `pk.dn` prefix, the fixed timestamp 2524608000000, `_v=sdk-c-…`, upper-case
/// hex HMAC-SHA256: identified and verified, with no warning but the clear-text one.
#[test]
fn c_sdk_login() {
    let h = harness();
    let r = h.fields(
        BASIC,
        &["-o", SECRET],
        "mqtt.msgtype == 1",
        &[
            "aliiot.product_key",
            "aliiot.device_name",
            "aliiot.clientid.prefix",
            "aliiot.clientid.securemode",
            "aliiot.clientid.signmethod",
            "aliiot.clientid.timestamp_unit",
            "aliiot.clientid.sdk_version",
            "aliiot.clientid.sdk_language",
            "aliiot.sign.status",
            "mqtt.kalive",
            "mqtt.conflag.cleansess",
        ],
    );
    assert_eq!(
        rows(&r),
        ["a1RIsMLz2BJ example1 a1RIsMLz2BJ.example1 3 hmacsha256 3 sdk-c-3.0.1 C 1 120 0"]
    );
    // Warnings in the whole capture: clear-text credentials, a deviceinfo update the device
    // never got a reply to (it had not subscribed to the reply), the end without DISCONNECT.
    let r = h.fields(
        BASIC,
        &["-2", "-o", SECRET],
        "aliiot && _ws.expert.severity >= 6291456",
        &["frame.number", "_ws.expert.message"],
    );
    assert_eq!(
        rows(&r),
        [
            "4 Login sign verified (HMAC-SHA256 with the device secret)|Credentials sent in clear: no TLS under MQTT: the user name and password (a replayable sign) travel in clear",
            "8 No reply to this request in the capture",
            "21 Session ended by TCP FIN without DISCONNECT: the platform publishes the device's will and an offline event",
        ]
    );
}

/// Every PUBLISH of the linkkit session: requests and replies paired both ways, the legacy OTA
/// request answered by the upgrade push, the broker's echoes of the device's own messages.
#[test]
fn c_sdk_linkkit_pairs_and_echoes() {
    let h = harness();
    let r = h.fields(
        LINKKIT,
        &["-2", "-o", SECRET],
        "mqtt.msgtype == 3",
        &[
            "frame.number",
            "aliiot.topic.class",
            "aliiot.request_in",
            "aliiot.response_in",
            "aliiot.echo_of",
            "aliiot.alink.code",
        ],
    );
    assert_eq!(
        rows(&r),
        [
            "10 ota.upgrade|thing.config.get|thing.config.push|thing.deviceinfo.update    ",
            "12 ota.inform    ",
            "49 thing.event.property.post  51  ",
            "51 thing.event.property.post 49   200",
            "53 thing.service.property.set  55  ",
            "55 thing.service.property.set 53   200",
            "57 thing.event.property.post  59  ",
            "59 thing.event.property.post 57   200",
            "61 thing.service.invoke  63  ",
            "63 thing.service.invoke 61   200",
            "65 thing.service.invoke   63 200",
            "67 rrpc.request  69  ",
            "69 rrpc.response 67   ",
            "71 thing.event.post  73  ",
            "73 thing.event.post 71   200",
            "75 thing.model.down_raw    ",
            "77 thing.deviceinfo.update  79  ",
            "79 thing.deviceinfo.update 77   200",
            "81 ntp.request  83  ",
            "83 ntp.response 81   ",
            "85 thing.model.up_raw  87  ",
            "87 thing.model.up_raw 85   ",
            "89 ota.request  97  ",
            "91 ota.request   89 ",
            "97 ota.upgrade 89   1000",
            "100 thing.event.property.post  102  ",
            "102 thing.event.property.post 100   200",
            "118 ota.upgrade|thing.config.get|thing.config.push|thing.deviceinfo.update  127  ",
            "120 ota.inform    ",
            "127 thing.deviceinfo.update 118   200",
            "159 thing.config.get  161  ",
            "161 thing.config.get 159   200",
        ]
    );
    // The echoes are notes, not orphan replies or second requests.
    let r = h.fields(
        LINKKIT,
        &["-2", "-o", SECRET],
        "aliiot.echo || aliiot.reply.orphan",
        &["frame.number", "aliiot.echo_of", "mqtt.topic"],
    );
    assert_eq!(
        rows(&r),
        [
            "65 63 /sys/a1RIsMLz2BJ/example1/thing/service/Operation_Service_reply",
            "91 89 /ota/device/request/a1RIsMLz2BJ/example1",
        ]
    );
    // Requests left unanswered: the first deviceinfo update (its reply came before the SDK
    // subscribed to it) and the pass-through data the lab device does not answer.
    let r = h.fields(
        LINKKIT,
        &["-2", "-o", SECRET],
        "aliiot.request.unanswered",
        &["frame.number"],
    );
    assert_eq!(rows(&r), ["10", "75"]);
}

/// NTP: the C SDK sends deviceSendTime "1234". No device clock offset; a note on the request, and
/// on the response the platform's clock against the capture's (the lab platform runs on the
/// capturing machine's clock: well under a second apart).
#[test]
fn c_sdk_ntp_placeholder() {
    let h = harness();
    let r = h.fields(
        LINKKIT,
        &["-o", SECRET],
        "mqtt.msgtype == 3 && aliiot.topic.class contains \"ntp\"",
        &[
            "frame.number",
            "aliiot.ntp.clock_offset",
            "aliiot.ntp.placeholder_time",
            "_ws.expert.message",
        ],
    );
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(r[0][..4], ["81", "", "1", "deviceSendTime \"1234\" is not a time (a placeholder, or a clock never set): no device clock offset; the response gives the platform's clock against the capture's"]);
    assert_eq!(r[1], ["83", "", "", ""]);
    let r = h.fields(
        LINKKIT,
        &["-o", SECRET],
        "frame.number == 83",
        &["aliiot.ntp.capture_offset"],
    );
    let offset: f64 = r[0][0].parse().unwrap();
    assert!(offset.abs() < 1.0, "{offset}");
}

/// up_raw_reply: the script's bytes, shown as bytes; a hint for the sample script's shape; no JSON
/// warning.
#[test]
fn c_sdk_up_raw_reply_is_bytes() {
    let h = harness();
    let r = h.fields(
        LINKKIT,
        &["-o", SECRET],
        "mqtt.msgtype == 3 && aliiot.topic.class == \"thing.model.up_raw\"",
        &[
            "frame.number",
            "aliiot.topic.is_reply",
            "aliiot.payload.hex",
            "aliiot.raw.sample_script_shape",
            "_ws.expert.message",
        ],
    );
    assert_eq!(
        rows(&r),
        [
            "85 0 0000000001001a  ",
            "87 1 0200000001c8 1 Bytes shaped like the reply of Alibaba's sample data-parsing script (0x02, id, code): id 1, code 200; only the product's own script says what they mean",
        ]
    );
    let r = h.fields(
        LINKKIT,
        &["-o", SECRET],
        "aliiot.payload.bad_json",
        &["frame.number"],
    );
    assert!(r.is_empty(), "{r:?}");
}

/// The Link SDK 4.1.0 over MQTT 5: the second post gives its topic by alias, and each post carries
/// a Response Topic and Correlation Data; the platform answers on `post_reply` by id. Both posts
/// pair (before, both were "no reply" and both replies orphans). Its login: `_conn=tls_0` on plain
/// TCP, `ext=3`, keep-alive 1200, verified.
#[test]
fn link_sdk_mqtt5_aliases_and_response_topics() {
    let h = harness();
    let secret = "uat:aliiot_device_secrets:\"g1namrqiS1h\",\"mqtt_v5_demo_device\",\"7a34b94dc12921c516a60d26c3512f05\"";
    let r = h.fields(
        LINK4_V5,
        &["-2", "-o", secret],
        "mqtt.msgtype == 3",
        &[
            "frame.number",
            "aliiot.topic.class",
            "aliiot.alink.id",
            "aliiot.request_in",
            "aliiot.response_in",
            "_ws.expert.message",
        ],
    );
    assert_eq!(
        rows(&r),
        [
            "10 thing.event.property.post|thing.event.property.post 1|2  13|15 ",
            "13 thing.event.property.post 1 10  ",
            "15 thing.event.property.post 2 10  ",
        ]
    );
    let r = h.fields(
        LINK4_V5,
        &["-o", secret],
        "mqtt.msgtype == 1",
        &[
            "aliiot.clientid.sdk_version",
            "mqtt.kalive",
            "aliiot.sign.status",
        ],
    );
    assert_eq!(rows(&r), ["sdk-c-4.1.0 1200 1"]);
}

/// The Link SDK's MQTT 5 "assigned client id" mode: no client id prefix, a sign over an empty
/// clientId: verified, and both posts paired.
#[test]
fn link_sdk_assigned_client_id() {
    let h = harness();
    let secret = "uat:aliiot_device_secrets:\"g1namrqiS1h\",\"mqtt_v5_demo_device\",\"7a34b94dc12921c516a60d26c3512f05\"";
    let cap = "33-link-sdk41-mqtt5-assigned-id.pcapng";
    let r = h.fields(
        cap,
        &["-o", secret],
        "mqtt.msgtype == 1",
        &[
            "aliiot.clientid.prefix",
            "aliiot.device_name",
            "aliiot.sign.status",
        ],
    );
    assert_eq!(rows(&r), [" mqtt_v5_demo_device 1"]);
    let r = h.fields(
        cap,
        &["-2", "-o", secret],
        "aliiot.response_in || aliiot.request_in || aliiot.reply.orphan || aliiot.request.unanswered",
        &["frame.number", "aliiot.request_in", "aliiot.response_in"],
    );
    assert_eq!(rows(&r), ["10  16|16", "16 10|10 "]);
}

/// The C SDK over TLS 1.2 on port 443 with RSA key exchange (keys embedded): MQTT found from its
/// CONNECT, the login verified with no clear-text warning, `frame.protocols` as stock shows it
/// with MQTT decoded on 443.
#[test]
fn c_sdk_over_tls_on_443() {
    let h = harness();
    let cap = "34-c-sdk3-tls.pcapng";
    let r = h.fields(
        cap,
        &["-o", SECRET],
        "aliiot && mqtt.msgtype <= 3",
        &[
            "frame.number",
            "frame.protocols",
            "aliiot.topic.class",
            "aliiot.sign.status",
            "_ws.expert.message",
        ],
    );
    assert_eq!(
        rows(&r),
        [
            "13 eth:ethertype:ip:tcp:tls:mqtt  1 Login sign verified (HMAC-SHA256 with the device secret)",
            "14 eth:ethertype:ip:tcp:tls:mqtt   ",
            "15 eth:ethertype:ip:tcp:tls:mqtt thing.deviceinfo.update  ",
            "17 eth:ethertype:ip:tcp:tls:mqtt:mqtt:mqtt ota.inform|user|user  ",
            "20 eth:ethertype:ip:tcp:tls:mqtt:mqtt user  ",
            "22 eth:ethertype:ip:tcp:tls:mqtt user  ",
            "23 eth:ethertype:ip:tcp:tls:mqtt user  ",
        ]
    );
}

/// The Link SDK 4.x data model: requests without `method`, replies with only id, code and data,
/// a synchronous service answered on its own `/ext/rrpc/` topic, keep-alive 1200 with a PINGREQ
/// every 25 s (no keep-alive warning), `_conn` in the client id (not signed, no warning).
#[test]
fn link_sdk_data_model() {
    let h = harness();
    let secret = "uat:aliiot_device_secrets:\"a18wPzZJzNG\",\"data_model_basic_demo\",\"uwMTmVAMnGGHaAkqmeDY6cHxxBMTP3TD\"";
    let cap = "35-link-sdk41-data-model.pcapng";
    let r = h.fields(
        cap,
        &["-2", "-o", secret],
        "mqtt.msgtype == 3",
        &[
            "frame.number",
            "aliiot.topic.class",
            "aliiot.alink.id",
            "aliiot.alink.method",
            "aliiot.request_in",
            "aliiot.response_in",
        ],
    );
    assert_eq!(
        rows(&r),
        [
            "13 thing.event.property.post 1   15",
            "15 thing.event.property.post 1 thing.event.property.post 13 ",
            "17 thing.service.property.set 1101 thing.service.property.set  19",
            "19 thing.service.property.set 1101  17 ",
            "21 thing.service.invoke 1102 thing.service.ToggleLightSwitch  22",
            "22 thing.service.invoke 1102  21 ",
            "24 thing.service.invoke 1103 thing.service.SetLightSwitchTimer  25",
            "25 thing.service.invoke 1103  24 ",
            "27 thing.event.post 2   29",
            "29 thing.event.post 2 thing.event.Error.post 27 ",
            "31 thing.model.down_raw    ",
            "33 thing.model.up_raw    35",
            "35 thing.model.up_raw   33 ",
            "37 thing.property.desired.get 3   39",
            "39 thing.property.desired.get 3 thing.property.desired.get 37 ",
            "45 thing.event.property.post 4   47",
            "47 thing.event.property.post 4 thing.event.property.post 45 ",
        ]
    );
    // Warnings: clear-text credentials and the down_raw the demo answers with up_raw instead.
    let r = h.fields(
        cap,
        &["-2", "-o", secret],
        "aliiot && _ws.expert.severity >= 6291456",
        &["frame.number"],
    );
    assert_eq!(rows(&r), ["4", "31"]);
    // Keep-alive 1200 in the CONNECT, a PINGREQ right after connecting and again 25 s later: no
    // keep-alive warning.
    let r = h.fields(cap, &["-o", secret], "mqtt.msgtype == 1", &["mqtt.kalive"]);
    assert_eq!(rows(&r), ["1200"]);
    let r = h.fields(
        cap,
        &["-o", secret],
        "mqtt.msgtype == 12",
        &["frame.time_relative"],
    );
    assert_eq!(r.len(), 2, "{r:?}");
    let gap = r[1][0].parse::<f64>().unwrap() - r[0][0].parse::<f64>().unwrap();
    assert!((24.5..25.5).contains(&gap), "{gap}");
    let r = h.fields(
        cap,
        &["-2", "-o", secret],
        "aliiot.keepalive_exceeded || aliiot.keepalive_out_of_range",
        &["frame.number"],
    );
    assert!(r.is_empty(), "{r:?}");
}
