//! MQTT-level session analysis and capture-wide statistics, in the real tshark.

mod common;

use common::{harness, rows};

/// The tutorial device's session: every acknowledgement paired, the SUBACK's filter and granted
/// QoS, and the session summary at the CONNECT and the last packet.
#[test]
fn acknowledgements_and_summary() {
    let h = harness();
    let r = h.fields(
        "01-aliyun-iot-mqtt-basic.pcapng",
        &["-2"],
        "aliiot",
        &[
            "frame.number",
            "aliiot.ack_in",
            "aliiot.ack_to",
            "aliiot.ack_time",
            "aliiot.sub.filter",
            "aliiot.sub.result",
            "aliiot.session.end",
            "aliiot.session.messages_up",
            "aliiot.session.messages_down",
            "aliiot.session.duration",
        ],
    );
    assert_eq!(
        rows(&r),
        [
            "4      1 1 1 0.106706000",
            "6         ",
            "8 9        ",
            "9  8 0.000125000 /a1B2c3D4e5F/lab-sensor-01/user/get 1    ",
            "11 12        ",
            "12  11 0.001642000      ",
            "14 16        ",
            "16  14 0.000904000      ",
            "18      1 1 1 0.106706000",
        ]
    );
    // A single pass cannot know how the session ends: no summary, no end.
    assert!(h
        .fields(
            "01-aliyun-iot-mqtt-basic.pcapng",
            &[],
            "aliiot.session.end",
            &["frame.number"]
        )
        .is_empty());
}

#[test]
fn how_sessions_ended() {
    let h = harness();
    let end = |cap: &str| {
        rows(&h.fields(
            cap,
            &["-2"],
            "aliiot.session.end",
            &["frame.number", "aliiot.session.end"],
        ))
    };
    // 06a: three refused logins.
    assert_eq!(
        end("06a-bad-devicesecret.pcapng"),
        ["4 2", "6 2", "14 2", "16 2", "24 2", "26 2"]
    );
    // 04 (TLS): DISCONNECT, then TLS close and a RST: still a clean end.
    assert_eq!(end("04-tls-alibabacloud-sdk.pcapng"), ["8 1", "27 1"]);
    // 09 starts mid-session (no CONNECT): the summary is at the last packet only, and the PUBACK
    // of a PUBLISH sent before the capture started is marked as such.
    assert_eq!(end("09-mid-session.pcapng"), ["7 1"]);
    let r = h.fields(
        "09-mid-session.pcapng",
        &["-2"],
        "aliiot.ack.orphan",
        &["frame.number"],
    );
    assert_eq!(rows(&r), ["1"]);
    assert!(h
        .fields(
            "04-tls-alibabacloud-sdk.pcapng",
            &["-2"],
            "aliiot.session.abrupt_end",
            &["frame.number"]
        )
        .is_empty());
}

/// `tshark -2 -q -z aliiot,tree` on the thing-model session.
#[test]
fn statistics_tree() {
    let h = harness();
    let path = h.capture("02-alibabacloud-sdk-thing-model.pcapng");
    let out = h.tshark(&["-n", "-2", "-q", "-r", &path, "-z", "aliiot,tree"]);
    // (indented name, count, [average, min, max])
    let row = |name: &str| -> Vec<String> {
        let line = out
            .lines()
            .find(|l| {
                l.trim_start().starts_with(name)
                    && l[l.find(name).unwrap() + name.len()..].starts_with("  ")
            })
            .unwrap_or_else(|| panic!("no row {name}:\n{out}"));
        line[line.find(name).unwrap() + name.len()..]
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(row("Devices")[0], "20");
    assert_eq!(row("lab-sensor-02")[0], "20");
    assert_eq!(row("Messages up")[0], "9");
    assert_eq!(row("Messages down")[0], "9");
    // The breakdown by class is the messages tree's (messages_tree), not this one's.
    assert!(!out.contains("   thing.event.property.post "), "{out}");
    assert_eq!(row("Sessions")[0], "1");
    assert_eq!(row("Error replies")[0], "1");
    assert_eq!(row("accepted")[0], "1");
    assert_eq!(row("200 success")[0], "6");
    assert_eq!(row("460 request parameter error")[0], "1");
    assert_eq!(row("clean DISCONNECT")[0], "1");
    assert_eq!(row("Unanswered requests")[0], "0");
    // Reply times of the two event posts, in µs: count, average, min, max.
    let lines: Vec<&str> = out.lines().collect();
    let times = lines
        .iter()
        .position(|l| l.starts_with("Reply time by topic class"))
        .unwrap();
    let ev = lines[times..]
        .iter()
        .find(|l| l.trim_start().starts_with("thing.event.post "))
        .unwrap();
    let cols: Vec<&str> = ev.split_whitespace().collect();
    assert_eq!(cols[1..5], ["2", "42087.00", "42052", "42122"]);
}

/// Eight devices of one product in the tree, in the order stats_tree gives them: by count, and
/// among equal counts by when each was added (the later first). The shim appends a product's new
/// device after its newest one instead of walking the whole list; a lost, doubled or misplaced
/// device changes these lines.
#[test]
fn statistics_tree_keeps_every_device_in_order() {
    let h = harness();
    let path = h.capture("08-bad-input.pcap");
    let out = h.tshark(&["-n", "-2", "-q", "-r", &path, "-z", "aliiot,tree"]);
    let devices: Vec<String> = out
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            format!("{} {}", cols[0], cols[1])
        })
        .collect();
    assert_eq!(
        devices,
        [
            "bad-09 3",
            "bad-07 3",
            "bad-06 2",
            "bad-04\u{fffd} 2",
            "bad-03 2",
            "bad-02 2",
            "bad-01 2",
            "bad-10 1"
        ],
        "{out}"
    );
}

/// `tshark -2 -q -z aliiot_messages,tree`: per product and device, the messages up and down by
/// topic class (the main tree keeps only the count each way per device).
#[test]
fn messages_tree() {
    let h = harness();
    let path = h.capture("02-alibabacloud-sdk-thing-model.pcapng");
    let out = h.tshark(&["-n", "-2", "-q", "-r", &path, "-z", "aliiot_messages,tree"]);
    // Each node as its indentation, name and count.
    let rows: Vec<String> = out
        .lines()
        .skip_while(|l| !l.starts_with("a1B2c3D4e5F"))
        .take_while(|l| !l.starts_with("---"))
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let depth = l.len() - l.trim_start().len();
            let cols: Vec<&str> = l.split("  ").filter(|c| !c.trim().is_empty()).collect();
            format!("{depth} {} {}", cols[0].trim(), cols[1].trim())
        })
        .collect();
    assert_eq!(
        rows,
        [
            "0 a1B2c3D4e5F 18",
            "1 lab-sensor-02 18",
            "2 Messages up 9",
            "3 thing.event.property.post 2",
            "3 thing.event.post 2",
            "3 thing.service.property.set reply 1",
            "3 thing.service.invoke reply 1",
            "3 thing.deviceinfo.update 1",
            "3 shadow.update 1",
            "3 rrpc.response 1",
            "2 Messages down 9",
            "3 thing.event.property.post reply 2",
            "3 thing.event.post reply 2",
            "3 thing.service.property.set 1",
            "3 thing.service.invoke 1",
            "3 thing.deviceinfo.update reply 1",
            "3 shadow.get 1",
            "3 rrpc.request 1",
        ]
    );
}

/// `tshark -2 -q -z aliiot,devices`: one line per device.
#[test]
fn device_table() {
    let h = harness();
    let table = |cap: &str| {
        let path = h.capture(cap);
        let out = h.tshark(&["-n", "-2", "-q", "-r", &path, "-z", "aliiot,devices"]);
        out.lines()
            .filter(|l| l.starts_with("a1") || l.starts_with("Product"))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        table("02-alibabacloud-sdk-thing-model.pcapng"),
        [
            "Product Device SDK Sessions Refused Messages Errors Unanswered Worst reply",
            "a1B2c3D4e5F lab-sensor-02 NodeJS 1.2.8 1 0 18 1 0 42.196 ms"
        ]
    );
    assert_eq!(
        table("06a-bad-devicesecret.pcapng")[1..],
        ["a1B2c3D4e5F lab-sensor-06 NodeJS 1.2.8 3 3 0 0 0 -"]
    );
    assert_eq!(
        table("16-alink-quirks.pcapng")[1..],
        ["a1B2c3D4e5F lab-sensor-16 sdk-c-4.2.0 1 0 8 0 1 0.768 ms"]
    );
}

/// 17: the connection dies by RST with a QoS 0 and a QoS 1 message in flight.
#[test]
fn abrupt_end_with_messages_in_flight() {
    let h = harness();
    let cap = "17-abrupt-end-rst.pcapng";
    let r = h.fields(
        cap,
        &["-2"],
        "aliiot.session.end",
        &["frame.number", "aliiot.session.end"],
    );
    assert_eq!(rows(&r), ["4 3", "22 3"]);
    assert_eq!(
        rows(&h.fields(cap, &["-2"], "aliiot.likely_lost", &["frame.number"])),
        ["20"]
    );
    assert_eq!(
        rows(&h.fields(
            cap,
            &["-2"],
            "aliiot.unacknowledged",
            &["frame.number", "mqtt.msgid"]
        )),
        ["22 6"]
    );
    assert_eq!(
        rows(&h.fields(cap, &["-2"], "aliiot.session.abrupt_end", &["frame.number"])),
        ["22"]
    );
    // Acknowledged QoS 1 messages are paired, not flagged.
    let r = h.fields(
        cap,
        &["-2"],
        "mqtt.msgtype == 3 && aliiot.ack_in",
        &["frame.number", "aliiot.ack_in"],
    );
    assert_eq!(rows(&r), ["11 12", "14 15", "17 18"]);
    // One pass cannot know: nothing is flagged yet.
    assert!(h
        .fields(
            cap,
            &[],
            "aliiot.unacknowledged || aliiot.likely_lost",
            &["frame.number"]
        )
        .is_empty());
}

/// 18: a QoS 1 PUBLISH the broker never acknowledges, a refused subscription, UNSUBSCRIBE and
/// PINGREQ with their acknowledgements, a clean end.
#[test]
fn unacknowledged_and_refused() {
    let h = harness();
    let cap = "18-unacked-and-refused.pcapng";
    let r = h.fields(
        cap,
        &["-2"],
        "aliiot.subscription_refused",
        &["frame.number", "aliiot.sub.filter", "aliiot.sub.result"],
    );
    assert_eq!(
        rows(&r),
        ["9 /sys/a1B2c3D4e5F/lab-sensor-18/thing/event/property/post_reply|/sys/a1B2c3D4e5F/lab-sensor-18/thing/service/property/set|/sys/a1B2c3D4e5F/lab-sensor-99/thing/service/property/set 1|0|128"]
    );
    let r = h.fields(
        cap,
        &[],
        "aliiot.subscription_refused",
        &["_ws.expert.message"],
    );
    assert!(r[0][0].contains("Subscription to '/sys/a1B2c3D4e5F/lab-sensor-99/thing/service/property/set' refused (0x80)"), "{:?}", r[0]);
    assert_eq!(
        rows(&h.fields(cap, &["-2"], "aliiot.unacknowledged", &["frame.number"])),
        ["14"]
    );
    let r = h.fields(
        cap,
        &["-2"],
        "mqtt.msgtype >= 10 && mqtt.msgtype <= 13",
        &["frame.number", "aliiot.ack_in", "aliiot.ack_to"],
    );
    assert_eq!(rows(&r), ["16 18 ", "18  16", "20 21 ", "21  20"]);
    assert_eq!(
        rows(&h.fields(
            cap,
            &["-2"],
            "aliiot.session.end",
            &["frame.number", "aliiot.session.end"]
        )),
        ["4 1", "23 1"]
    );
}

/// 19: keep-alive 30 s, then 56 s of silence from the device.
#[test]
fn keepalive_exceeded() {
    let h = harness();
    let r = h.fields(
        "19-keepalive-violation.pcapng",
        &[],
        "aliiot.keepalive_exceeded",
        &["frame.number", "aliiot.keepalive_gap"],
    );
    assert_eq!(r.len(), 1);
    assert_eq!(r[0][0], "16");
    let gap: f64 = r[0][1].parse().unwrap();
    assert!((55.0..57.0).contains(&gap), "{gap}");
}

/// 20: one device logged in on two overlapping connections; the older one is closed.
#[test]
fn same_device_on_two_connections() {
    let h = harness();
    let cap = "20-same-device-twice.pcapng";
    let r = h.fields(
        cap,
        &["-2"],
        "aliiot.session.duplicate",
        &["frame.number", "aliiot.session.other_connect"],
    );
    assert_eq!(rows(&r), ["4 17", "17 4"]);
    let r = h.fields(
        cap,
        &["-2"],
        "aliiot.session.end",
        &["frame.number", "aliiot.session.end"],
    );
    assert_eq!(rows(&r), ["4 4", "12 4", "17 1", "30 1"]);
}

/// 21: what the platform does not support: a will and a retained message on MQTT 3.1.1, QoS 2.
#[test]
fn unsupported_features() {
    let h = harness();
    let cap = "21-qos2-retain-will.pcapng";
    let e = |f: &str| rows(&h.fields(cap, &[], f, &["frame.number"]));
    assert_eq!(e("aliiot.will_unsupported"), ["4"]);
    assert_eq!(e("aliiot.qos2"), ["11"]);
    assert_eq!(e("aliiot.retain_unsupported"), ["17", "19"]);
}

/// 100 000 QoS 1 PUBLISHes nobody answers (generated: make-bad-input.py --flood): the open
/// exchanges and requests per connection are capped, the cap is marked once, and reused packet
/// ids are flagged.
#[test]
fn flood_of_open_requests_is_bounded() {
    let h = harness();
    h.generated("--flood", "flood.pcap");
    let r = h.fields(
        "flood.pcap",
        &["-2"],
        "aliiot.tracking_limit || (aliiot.packet_id_reused && frame.number < 65541)",
        &["frame.number", "_ws.expert.message"],
    );
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(r[0][0], "10005");
    assert!(
        r[0][1].starts_with("More than 10000 packets wait for an acknowledgement"),
        "{:?}",
        r[0]
    );
    assert_eq!(
        r[1],
        [
            "65540",
            "Packet id 1 reused before the packet in frame 5 was acknowledged"
        ]
    );
}
