//! Topic semantics, Alink payloads and request/reply matching, in the real tshark, on real
//! device-SDK captures (see tests/captures/README.md).

mod common;

use common::{harness, rows, strs};

/// 02: the official Node SDK's thing-model session. Every request is paired with its reply, both
/// ways, with the response time; the 460 reply is flagged.
#[test]
fn thing_model_session_pairs_every_request() {
    let h = harness();
    let f = [
        "frame.number",
        "aliiot.topic.class",
        "aliiot.topic.is_reply",
        "aliiot.alink.id",
        "aliiot.alink.code",
        "aliiot.request_in",
        "aliiot.response_in",
    ];
    let r = h.fields(
        "02-alibabacloud-sdk-thing-model.pcapng",
        &["-2"],
        "mqtt.msgtype == 3",
        &f,
    );
    assert_eq!(
        rows(&r),
        [
            "13 thing.event.property.post|thing.event.post|thing.event.post|thing.deviceinfo.update|shadow.update 0|0|0|0|0 1|2|3|4   14|16|18|20|22",
            "14 thing.event.property.post 1 1 200 13 ",
            "16 thing.event.post 1 2 200 13 ",
            "18 thing.event.post 1 3 460 13 ",
            "20 thing.deviceinfo.update 1 4 200 13 ",
            "22 shadow.get 1   13 ",
            "26 thing.service.property.set 0 1001   27",
            "27 thing.service.property.set|thing.event.property.post 1|0 1001|5 200 26 29",
            "29 thing.event.property.post 1 5 200 27 ",
            "31 thing.service.invoke 0 1002   33",
            "33 thing.service.invoke 1 1002 200 31 ",
            "35 rrpc.request 0    36",
            "36 rrpc.response 1   35 ",
        ]
    );
    // Response time of the first reply: 0.317293 - 0.315566 s.
    let r = h.fields(
        "02-alibabacloud-sdk-thing-model.pcapng",
        &[],
        "frame.number == 14",
        &["aliiot.response_time"],
    );
    assert_eq!(rows(&r), ["0.001727000"]);
    // Single pass: the backward link is there; nothing is flagged as unanswered.
    let r = h.fields(
        "02-alibabacloud-sdk-thing-model.pcapng",
        &[],
        "aliiot.request_in",
        &["frame.number"],
    );
    assert_eq!(r.len(), 9);
    assert!(h
        .fields(
            "02-alibabacloud-sdk-thing-model.pcapng",
            &["-2"],
            "aliiot.request.unanswered",
            &["frame.number"]
        )
        .is_empty());
}

#[test]
fn alink_fields_and_error_code() {
    let h = harness();
    let cap = "02-alibabacloud-sdk-thing-model.pcapng";
    let r = h.fields(
        cap,
        &[],
        "frame.number == 18",
        &[
            "aliiot.topic.identifier",
            "aliiot.alink.id",
            "aliiot.alink.id_suffix",
            "aliiot.alink.code",
            "aliiot.alink.message",
            "_ws.expert.message",
        ],
    );
    assert_eq!(
        rows(&r),
        ["lowBattery 3 exp-topic|/sys/a1B2c3D4e5F/lab-sensor-02/thing/event/lowBattery/post_reply 460 request parameter error Alink code 460: request parameter error"]
    );
    assert_eq!(
        rows(&h.fields(cap, &[], "aliiot.alink.error_code", &["frame.number"])),
        ["18"]
    );
    // The same filter with plain output: an unseen tree on every version (4.4 builds -T fields
    // trees unseen too). The expert item still needs aliiot's own item to sit on.
    let out = h.tshark(&["-n", "-r", &h.capture(cap), "-Y", "aliiot.alink.error_code"]);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.trim_start().starts_with("18 "), "{out}");
    let r = h.fields(
        cap,
        &[],
        "frame.number == 13",
        &["aliiot.alink.method", "aliiot.alink.version"],
    );
    assert_eq!(
        rows(&r),
        ["thing.event.property.post|thing.event.alarm.post|thing.event.lowBattery.post|thing.deviceinfo.update 1.0|1.0|1.0|1.0"]
    );
    // The Info column says what each message is (the summary line: from 4.4 on, `-e
    // _ws.col.Info` shows the column as it was before postdissectors ran).
    let path = h.capture(cap);
    let out = h.tshark(&[
        "-n",
        "-r",
        &path,
        "-Y",
        "frame.number == 18 || frame.number == 36",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].ends_with(" · thing.event.post reply 460"),
        "{}",
        lines[0]
    );
    assert!(lines[1].ends_with(" · rrpc.response"), "{}", lines[1]);
}

#[test]
fn properties_filter_by_name_and_number() {
    let h = harness();
    let cap = "02-alibabacloud-sdk-thing-model.pcapng";
    let r = h.fields(
        cap,
        &[],
        "aliiot.property.name == \"temperature\" && aliiot.property.value_num > 20",
        &[
            "frame.number",
            "aliiot.property.name",
            "aliiot.property.value",
        ],
    );
    assert_eq!(
        rows(&r),
        ["13 temperature|humidity|LightSwitch 23.6|61.2|0"]
    );
    let r = h.fields(
        cap,
        &[],
        "frame.number == 26",
        &["aliiot.property.name", "aliiot.property.value"],
    );
    assert_eq!(rows(&r), ["LightSwitch|targetTemperature 1|22.5"]);
    // Params the properties show whole have no second, generic tree: frame 13's JSON keys are
    // its events' and its shadow update's, and frame 26 (a property set) has none.
    let r = h.fields(
        cap,
        &[],
        "frame.number == 13 || frame.number == 26",
        &["frame.number", "aliiot.json.key"],
    );
    assert_eq!(
        rows(&r),
        [
            "13 level|message|battery|[0]|attrKey|attrValue|method",
            "26 "
        ]
    );
}

/// JSON on user topics is a tree too; the topic's suffix is its identifier.
#[test]
fn user_topic_json() {
    let h = harness();
    let r = h.fields(
        "01-aliyun-iot-mqtt-basic.pcapng",
        &[],
        "mqtt.msgtype == 3",
        &[
            "frame.number",
            "aliiot.topic.class",
            "aliiot.topic.identifier",
            "aliiot.json.key",
            "aliiot.json.value",
        ],
    );
    assert_eq!(
        rows(&r),
        [
            "11 user update temperature|humidity 23.6|61.2",
            "14 user get ack|received|ts true|36|1795314776160"
        ]
    );
}

/// SUBSCRIBE filters (with + wildcards) are classified one by one.
#[test]
fn subscription_filters() {
    let h = harness();
    let r = h.fields(
        "02-alibabacloud-sdk-thing-model.pcapng",
        &[],
        "frame.number == 8",
        &["aliiot.topic.class", "aliiot.topic.identifier"],
    );
    let classes: Vec<&str> = r[0][0].split('|').collect();
    assert_eq!(classes.len(), 17);
    assert_eq!(classes[0], "thing.service.invoke");
    assert_eq!(classes[3], "thing.event.post");
    assert_eq!(classes[16], "rrpc.request");
    assert_eq!(r[0][1], "SetTemperature|+|+");
}

/// 04 is TLS: the same analysis inside the decrypted stream.
#[test]
fn inside_tls() {
    let h = harness();
    let r = h.fields(
        "04-tls-alibabacloud-sdk.pcapng",
        &["-2"],
        "mqtt.msgtype == 3",
        &[
            "frame.number",
            "aliiot.topic.class",
            "aliiot.alink.id",
            "aliiot.request_in",
            "aliiot.response_in",
        ],
    );
    assert_eq!(
        rows(&r),
        [
            "18 thing.event.property.post 1  19",
            "19 thing.event.property.post 1 18 ",
            "21 thing.service.property.set 1001  23",
            "23 thing.service.property.set|thing.event.property.post 1001|2 21 25",
            "25 thing.event.property.post 2 23 ",
        ]
    );
}

/// A Message Decoding row for /sys/ hands those payloads to another dissector; aliiot still
/// analyses them (it reads each packet's bytes itself, after MQTT).
#[test]
fn message_decoding_rows_do_not_hide_aliiot() {
    let h = harness();
    let row = "uat:mqtt_message_decoding:\"Starts with\",\"/sys/\",\"none\",\"json\"";
    let r = h.fields(
        "02-alibabacloud-sdk-thing-model.pcapng",
        &["-o", row],
        "frame.number == 14",
        &["mqtt.msg_decoded_as", "aliiot.alink.code"],
    );
    assert_eq!(rows(&r), ["json 200"]);
}

fn uat(table: &str, cols: &[&str]) -> [String; 2] {
    let row = cols
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(",");
    ["-o".to_string(), format!("uat:{table}:{row}")]
}

/// Secrets of the lab devices in tests/captures/lab-manifest.json.
fn lab_secrets() -> Vec<String> {
    let d = |pk: &str, dn: &str, s: &str| uat("aliiot_device_secrets", &[pk, dn, s]);
    [
        d(
            "a1GwPkXyz12",
            "lab-gw-01",
            "7c1e5a9d3b2f48e6a0c4d8b2f6e1a301",
        ),
        d(
            "a1GwPkXyz12",
            "lab-gw-02",
            "7c1e5a9d3b2f48e6a0c4d8b2f6e1a302",
        ),
        d(
            "a1SubPk0001",
            "lab-sub-01",
            "5e2b8f1c4a7d90e3b6f2c5a8d1e4b701",
        ),
        d(
            "a1SubPk0001",
            "lab-sub-02",
            "5e2b8f1c4a7d90e3b6f2c5a8d1e4b702",
        ),
        d(
            "a1DynPk0001",
            "lab-dyn-01",
            "d4e5f6a7b8c9d0e1f2a3b4c5d6e7f801",
        ),
        d(
            "a1B2c3D4e5F",
            "lab-sensor-16",
            "3f1d0c9e8b7a6d5c4b3a29180f7e6d16",
        ),
        uat(
            "aliiot_product_secrets",
            &["a1DynPk0001", "Zx9YwVuTsRqPoNmL"],
        ),
    ]
    .concat()
}

/// 02: a two-pass read that shows only the summary lines reads each payload again for the Info
/// column's code alone (the first pass paired the replies): its lines are the one-pass read's,
/// error code included.
#[test]
fn two_pass_summary_lines_are_the_one_pass_lines() {
    let h = harness();
    let cap = h.capture("02-alibabacloud-sdk-thing-model.pcapng");
    let one = h.tshark(&["-n", "-r", &cap]);
    let two = h.tshark(&["-n", "-2", "-r", &cap]);
    assert_eq!(two, one);
    let replies: Vec<&str> = two.lines().filter(|l| l.contains(" reply ")).collect();
    assert_eq!(replies.len(), 7, "{two}");
    assert!(
        replies[2].ends_with("· thing.event.post reply 460"),
        "{}",
        replies[2]
    );
}

/// 10: a gateway (npm SDK) registers, adds and logs in two sub-devices and posts for them; the
/// platform refuses one with /ext/error 520.
#[test]
fn gateway_and_sub_devices() {
    let h = harness();
    let cap = "10-gateway-subdevices-nodesdk.pcapng";
    let s = lab_secrets();
    let mut two = strs(&s);
    two.push("-2");
    // Sub-device signs in topo/add and combine/login, checked with the sub-devices' secrets.
    let r = h.fields(
        cap,
        &strs(&s),
        "aliiot.subdevice.device_name",
        &[
            "frame.number",
            "aliiot.topic.class",
            "aliiot.subdevice.device_name",
            "aliiot.subdevice.sign_status",
        ],
    );
    assert_eq!(
        rows(&r),
        [
            "16 thing.topo.add lab-sub-01|lab-sub-02 1|1",
            "19 combine.login lab-sub-01 1",
            "27 combine.login lab-sub-02 1"
        ]
    );
    // Without the sub-devices' secrets nothing is claimed.
    let r = h.fields(
        cap,
        &[],
        "frame.number == 19",
        &["aliiot.subdevice.sign_status"],
    );
    assert_eq!(rows(&r), ["3"]);
    // A wrong secret is a mismatch.
    let wrong = uat(
        "aliiot_device_secrets",
        &[
            "a1SubPk0001",
            "lab-sub-01",
            "00000000000000000000000000000000",
        ],
    );
    let r = h.fields(
        cap,
        &strs(&wrong),
        "aliiot.sign.mismatch",
        &["frame.number"],
    );
    assert_eq!(rows(&r), ["16", "19"]);
    // Sub-device traffic on the gateway's connection belongs to the sub-device.
    let r = h.fields(
        cap,
        &two,
        "frame.number >= 35 && frame.number <= 42 && mqtt.msgtype == 3",
        &[
            "frame.number",
            "aliiot.device_name",
            "aliiot.product_key",
            "aliiot.gateway.device_name",
            "aliiot.request_in",
            "aliiot.response_in",
        ],
    );
    assert_eq!(
        rows(&r),
        [
            "35 lab-sub-01 a1SubPk0001 lab-gw-01  36",
            "36 lab-sub-01 a1SubPk0001 lab-gw-01 35 ",
            "38 lab-gw-01 a1GwPkXyz12   39",
            "39 lab-gw-01 a1GwPkXyz12  38 ",
            "41 lab-sub-02 a1SubPk0001 lab-gw-01  42",
            "42 lab-gw-01 a1GwPkXyz12  41 ",
        ]
    );
    assert_eq!(
        rows(&h.fields(
            cap,
            &[],
            "aliiot.alink.error_code",
            &["frame.number", "aliiot.alink.code"]
        )),
        ["42 520"]
    );
    // The sub/register reply carries a device secret: flagged, and masked in aliiot's tree.
    let r = h.fields(cap, &[], "aliiot.payload.credential", &["frame.number"]);
    assert_eq!(rows(&r), ["14"]);
    let r = h.fields(cap, &[], "frame.number == 14", &["aliiot.json.value"]);
    assert!(
        !r[0][0].contains("5e2b8f1c4a7d90e3b6f2c5a8d1e4b702"),
        "{:?}",
        r[0]
    );
    assert!(h
        .fields(cap, &[], "aliiot.topic.foreign_device", &["frame.number"])
        .is_empty());
}

/// 11: linkkit's gateway: batch login (sign over the full client id) and batch logout.
#[test]
fn gateway_batch_login() {
    let h = harness();
    let cap = "11-gateway-batch-login-linkkit.pcapng";
    let s = lab_secrets();
    let r = h.fields(
        cap,
        &strs(&s),
        "aliiot.subdevice.device_name",
        &[
            "frame.number",
            "aliiot.topic.class",
            "aliiot.subdevice.sign_status",
        ],
    );
    assert_eq!(
        rows(&r),
        ["14 thing.topo.add 1|1", "19 combine.batch_login 1|1"]
    );
    let r = h.fields(
        cap,
        &["-2"],
        "frame.number == 30",
        &[
            "aliiot.device_name",
            "aliiot.gateway.device_name",
            "aliiot.response_in",
        ],
    );
    assert_eq!(rows(&r), ["lab-sub-02 lab-gw-02 33"]);
}

/// 12: dynamic registration over MQTT (register with the product secret, regnwl), the token
/// login, and the registered device's first login.
#[test]
fn dynamic_registration() {
    let h = harness();
    let cap = "12-dynreg-mqtt-linkkit.pcapng";
    let s = lab_secrets();
    let r = h.fields(
        cap,
        &strs(&s),
        "mqtt.msgtype == 1",
        &[
            "frame.number",
            "aliiot.device_name",
            "aliiot.clientid.auth_type",
            "aliiot.sign.status",
            "aliiot.sign.secret_kind",
        ],
    );
    assert_eq!(
        rows(&r),
        [
            "4 lab-dyn-01 register 1 2",
            "17 lab-dyn-02 regnwl 1 2",
            "30 lab-dyn-02 connwl 4 ",
            "49 lab-dyn-01  1 1"
        ]
    );
    let r = h.fields(
        cap,
        &[],
        "aliiot.payload.credential",
        &["frame.number", "aliiot.topic.class", "aliiot.json.value"],
    );
    assert_eq!(
        rows(&r),
        [
            "8 register a1DynPk0001|lab-dyn-01|<credential, 32 characters, not shown>",
            "21 regnwl a1DynPk0001.lab-dyn-02.1733000000000|a1DynPk0001|lab-dyn-02|<credential, 42 characters, not shown>"
        ]
    );
}

/// 13: NTP request/response with the clock offset; OTA inform, upgrade push and progress.
#[test]
fn ntp_and_ota() {
    let h = harness();
    let cap = "13-ntp-ota-linkkit.pcapng";
    let r = h.fields(
        cap,
        &[],
        "frame.number == 12",
        &[
            "aliiot.topic.class",
            "aliiot.request_in",
            "aliiot.ntp.clock_offset",
        ],
    );
    assert_eq!(r[0][..2], ["ntp.response", "11"]);
    // deviceSendTime 513, serverRecvTime 514, serverSendTime 515 (ms), round trip 2.26 ms.
    let offset: f64 = r[0][2].parse().unwrap();
    assert!((offset - 0.00037).abs() < 0.00001, "{offset}");
    let r = h.fields(
        cap,
        &[],
        "mqtt.msgtype == 3 && aliiot.topic.class contains \"ota\"",
        &["frame.number", "aliiot.topic.class", "aliiot.ota.step"],
    );
    assert_eq!(
        rows(&r),
        [
            "14 ota.inform ",
            "16 ota.upgrade ",
            "20 ota.progress 10",
            "22 ota.progress -2"
        ]
    );
    assert_eq!(
        rows(&h.fields(cap, &[], "aliiot.ota.failed", &["frame.number"])),
        ["22"]
    );
    assert!(h
        .fields(cap, &[], "aliiot.alink.error_code", &["frame.number"])
        .is_empty());
}

/// 14: RRPC in the /ext/rrpc/{id}/ form (one topic both ways), and an async service call.
#[test]
fn rrpc_and_services() {
    let h = harness();
    let r = h.fields(
        "14-rrpc-ext-services-linkkit.pcapng",
        &["-2"],
        "frame.number >= 19 && mqtt.msgtype == 3",
        &[
            "frame.number",
            "aliiot.topic.class",
            "aliiot.topic.rrpc_id",
            "aliiot.direction",
            "aliiot.request_in",
            "aliiot.response_in",
            "aliiot.payload.text",
        ],
    );
    assert_eq!(
        rows(&r),
        [
            "19 user 1733000000000201 2  21 GET_STATUS",
            "21 user 1733000000000201 1 19  STATUS=OK;uptime=4242",
            "23 thing.service.invoke 1733000000000202 2  24 ",
            "24 thing.service.invoke 1733000000000202 1 23  ",
            "26 thing.service.invoke  2  29 ",
            "29 thing.service.invoke  1 26  ",
        ]
    );
}

/// 15: up_raw (binary) and its JSON reply; file download chunks with a good and a bad CRC-16.
#[test]
fn binary_payloads_and_file_chunks() {
    let h = harness();
    let cap = "15-binary-upraw-file-download.pcapng";
    let r = h.fields(
        cap,
        &["-2"],
        "frame.number == 11 || frame.number == 12",
        &[
            "aliiot.payload.length",
            "aliiot.payload.hex",
            "aliiot.request_in",
            "aliiot.response_in",
        ],
    );
    assert_eq!(rows(&r), ["12 000000223301570141ac0000  12", "  11 "]);
    let r = h.fields(
        cap,
        &["-2"],
        "aliiot.file.crc",
        &[
            "frame.number",
            "aliiot.alink.id",
            "aliiot.file.header_length",
            "aliiot.file.chunk_length",
            "aliiot.file.crc",
            "aliiot.file.crc_good",
            "aliiot.request_in",
        ],
    );
    assert_eq!(
        rows(&r),
        [
            "15 31 102 64 0x00001b50 1 14",
            "18 32 103 32 0x00003318 0 17"
        ]
    );
    let r = h.fields(
        cap,
        &[],
        "aliiot.file.crc_mismatch",
        &["frame.number", "_ws.expert.message"],
    );
    assert_eq!(
        rows(&r),
        ["18 File chunk CRC-16 0x3318 does not match its data (0x6942)"]
    );
}

/// 16: Alink quirks: JSON inside a string, a string code, trailing commas, sys.ack 0, a request
/// never answered, a numeric id.
#[test]
fn alink_quirks() {
    let h = harness();
    let r = h.fields(
        "16-alink-quirks.pcapng",
        &["-2"],
        "mqtt.msgtype == 3",
        &[
            "frame.number",
            "aliiot.alink.id",
            "aliiot.alink.ack",
            "aliiot.alink.code",
            "aliiot.property.name",
            "aliiot.property.value_num",
            "aliiot.response_in",
        ],
    );
    assert_eq!(
        rows(&r),
        [
            "11 1   temperature 21.5 14",
            "14 1  200   ",
            "16 2   humidity|switch 40.5|1 19",
            "19 2  200   ",
            "21 3 0  temperature 21.75 ",
            "24 4     ",
            "27 5     30",
            "30 5  200   ",
        ]
    );
    let r = h.fields(
        "16-alink-quirks.pcapng",
        &["-2"],
        "aliiot.request.unanswered",
        &["frame.number"],
    );
    assert_eq!(rows(&r), ["24"]);
    let r = h.fields(
        "16-alink-quirks.pcapng",
        &[],
        "aliiot.payload.lenient_json",
        &["frame.number"],
    );
    assert_eq!(rows(&r), ["16"]);
}

/// Shadow documents and OTA firmware descriptions have fields of their own.
#[test]
fn shadow_and_ota_fields() {
    let h = harness();
    let r = h.fields(
        "02-alibabacloud-sdk-thing-model.pcapng",
        &["-2"],
        "aliiot.shadow.method",
        &[
            "frame.number",
            "aliiot.shadow.method",
            "aliiot.shadow.version",
            "aliiot.shadow.status",
            "aliiot.request_in",
        ],
    );
    assert_eq!(rows(&r), ["13 get   ", "22 reply 3 success 13"]);
    let r = h.fields(
        "13-ntp-ota-linkkit.pcapng",
        &[],
        "aliiot.ota.version",
        &[
            "frame.number",
            "aliiot.ota.version",
            "aliiot.ota.size",
            "aliiot.ota.url",
            "aliiot.ota.sign_method",
            "aliiot.ota.md5",
        ],
    );
    assert_eq!(
        rows(&r),
        ["14 1.0.3    ", "16 2.1.0 96 https://ota.lab.invalid/a1B2c3D4e5F/fw-2.1.0.bin Md5 4f8d2c1b9e7a6350f1e2d3c4b5a69788"]
    );
}

/// Huge, deep, broken and non-UTF-8 JSON (generated by make-bad-input.py --large): bounded
/// output with an expert item each, in every mode.
#[test]
fn hostile_payloads() {
    let h = harness();
    let name = h.generated("--large", "large.pcap");
    let path = h.capture(&name);

    for mode in [&["-V"][..], &["-2", "-V"], &[]] {
        let mut a = vec!["-n", "-r", &path];
        a.extend_from_slice(mode);
        h.tshark(&a);
    }
    let expert = |filter: &str| rows(&h.fields("large.pcap", &[], filter, &["tcp.srcport"]));
    assert_eq!(expert("aliiot.payload.truncated"), ["40021"]);
    assert_eq!(expert("aliiot.payload.bad_json"), ["40022", "40024"]);
    assert_eq!(expert("aliiot.payload.lenient_json"), ["40023"]);
    // 10 000 properties: the first 512 are listed.
    let r = h.fields(
        "large.pcap",
        &[],
        "tcp.srcport == 40021 && mqtt.msgtype == 3",
        &["aliiot.property.name"],
    );
    assert_eq!(r[0][0].split('|').count(), 512);
    // Member names written with escapes (`"co\u0064e":460`) are the names they decode to in
    // every analysis: the plain read's Info, a filter alone, and with the whole tree.
    let plain = h.tshark(&["-n", "-r", &path]);
    let line = plain
        .lines()
        .find(|l| l.contains("post_reply"))
        .unwrap_or_default();
    assert!(
        line.ends_with("· thing.event.property.post reply 460"),
        "{line}"
    );
    for two_pass in [false, true] {
        let mut a = vec!["-n", "-r", &path, "-Y", "aliiot.alink.code == 460"];
        a.extend(two_pass.then_some("-2"));
        let out = h.tshark(&a);
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(out.contains("post_reply"), "{out}");
    }
    let r = h.fields(
        "large.pcap",
        &[],
        "aliiot.alink.code == 460",
        &["tcp.dstport"],
    );
    assert_eq!(rows(&r), ["40025"]);
}
