//! Topic semantics, Alink payloads and request/reply matching, in the real tshark, on real
//! device-SDK captures (see tests/captures/README.md).

mod common;

use common::harness;

fn rows(r: &[Vec<String>]) -> Vec<String> {
    r.iter().map(|cols| cols.join(" ")).collect()
}

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

/// A Message Decoding row for /sys/ suppresses MQTT's topic heuristics; aliiot still analyses
/// the payload (its postdissector reads MQTT's own fields).
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
