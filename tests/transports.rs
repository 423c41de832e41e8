//! Every way a device reaches the platform: TLS on 1883, MQTT over ws and wss, MQTT packets split
//! across and coalesced into WebSocket messages — and what must stay as it is (HTTPS on 443,
//! TLS-looking bytes that are no TLS). Captures 22–27 (see tests/captures/README.md); the TLS ones
//! carry their keys in the pcapng, so no Decode As and no key log option is needed.

mod common;

use common::{harness, rows, strs};

fn secret(n: u32) -> Vec<String> {
    vec![
        "-o".to_string(),
        format!("uat:aliiot_device_secrets:\"a1B2c3D4e5F\",\"lab-sensor-{n}\",\"3f1d0c9e8b7a6d5c4b3a29180f7e6d{n}\""),
    ]
}

const SESSION: &[&str] = &[
    "frame.number",
    "mqtt.msgtype",
    "aliiot.device_name",
    "aliiot.request_in",
    "aliiot.response_in",
];

/// TLS on port 1883 (the platform's GlobalSign endpoint): stock Wireshark shows it as a malformed
/// MQTT CONNECT; with aliiot it is TLS, and the MQTT inside is decoded and analysed.
#[test]
fn tls_on_1883() {
    let h = harness();
    let cap = "22-tls-on-1883.pcapng";
    let s = secret(22);
    let r = h.fields(cap, &["-2"], "mqtt", SESSION);
    assert_eq!(
        rows(&r),
        [
            "10 1 lab-sensor-22  ",
            "13 2 lab-sensor-22  ",
            "15 8 lab-sensor-22  ",
            "16 9 lab-sensor-22  ",
            "18 3 lab-sensor-22  21",
            "19 4 lab-sensor-22  ",
            "21 3 lab-sensor-22 18 ",
            "23 14 lab-sensor-22  ",
        ]
    );
    let r = h.fields(
        cap,
        &strs(&s),
        "mqtt.msgtype == 1",
        &["aliiot.sign.status", "aliiot.cleartext_credentials"],
    );
    assert_eq!(rows(&r), ["1 "]);
    assert!(h
        .fields(cap, &[], "_ws.malformed", &["frame.number"])
        .is_empty());
}

#[test]
fn mqtt_over_websocket() {
    let h = harness();
    for (cap, dn, want) in [
        (
            "23-mqtt-over-ws.pcapng",
            "lab-sensor-23",
            ["14 3 lab-sensor-23  17", "17 3 lab-sensor-23 14 "],
        ),
        (
            "24-mqtt-over-wss.pcapng",
            "lab-sensor-24",
            ["22 3 lab-sensor-24  25", "25 3 lab-sensor-24 22 "],
        ),
    ] {
        let r = h.fields(cap, &["-2"], "mqtt.msgtype == 3", SESSION);
        assert_eq!(rows(&r), want, "{cap}");
        let n: u32 = dn[dn.len() - 2..].parse().unwrap();
        let s = secret(n);
        let r = h.fields(
            cap,
            &strs(&s),
            "mqtt.msgtype == 1",
            &["aliiot.sign.status", "websocket.opcode"],
        );
        assert_eq!(rows(&r), ["1 2"], "{cap}");
    }
    // mqtt.js sends each MQTT packet as several WebSocket messages: the PUBLISH is whole again in
    // its last message and pairs with its reply.
    for (cap, want) in [
        (
            "23b-mqtt-over-ws-mqttjs.pcapng",
            ["53 3 lab-sensor-23  57", "57 3 lab-sensor-23 53 "],
        ),
        (
            "24b-mqtt-over-wss-mqttjs.pcapng",
            ["59 3 lab-sensor-24  63", "63 3 lab-sensor-24 59 "],
        ),
    ] {
        let r = h.fields(cap, &["-2"], "mqtt.msgtype == 3", SESSION);
        assert_eq!(rows(&r), want, "{cap}");
    }
}

/// One MQTT packet split over two WebSocket messages is put back together; two MQTT packets in one
/// message are both decoded, and the Info column names both.
#[test]
fn websocket_split_and_coalesced() {
    let h = harness();
    let cap = "25-ws-split-and-coalesced.pcapng";
    let r = h.fields(
        cap,
        &["-2"],
        "frame.number >= 23 && frame.number <= 32 && (mqtt || websocket)",
        &[
            "frame.number",
            "mqtt.msgtype",
            "mqtt.msgid",
            "aliiot.ack_in",
        ],
    );
    assert_eq!(
        rows(&r),
        [
            "23   ",
            "25 3 3 27",
            "27 4 3 ",
            "29 3  ",
            "31 3|12 4 32|34",
            "32 4 4 "
        ]
    );
    let path = h.capture(cap);
    let out = h.tshark(&["-n", "-r", &path, "-Y", "frame.number == 31"]);
    assert!(out.contains("Publish Message (id=4) [/sys/a1B2c3D4e5F/lab-sensor-25/thing/event/property/post], Ping Request"), "{out}");
}

/// HTTPS on 443 stays HTTPS; a TLS-looking first segment that is no ClientHello stays MQTT.
#[test]
fn what_must_not_change() {
    let h = harness();
    assert!(h
        .fields(
            "26-https-on-443.pcapng",
            &[],
            "mqtt || aliiot",
            &["frame.number"]
        )
        .is_empty());
    assert_eq!(
        h.fields(
            "26-https-on-443.pcapng",
            &[],
            "http.request",
            &["frame.number"]
        )
        .len(),
        1
    );
    let r = h.fields(
        "27-tls-looking-plain-mqtt.pcapng",
        &[],
        "tcp.len > 0",
        &["frame.protocols"],
    );
    // One mqtt layer, as in stock Wireshark: aliiot rides inside MQTT's dissection.
    assert_eq!(rows(&r), ["eth:ethertype:ip:tcp:mqtt"]);
}

/// Encrypted MQTT without keys: one hint per connection, on its first encrypted record (the TLS
/// 1.3 server flight), on how to supply a key log; not for HTTPS.
#[test]
fn hint_when_tls_keys_are_missing() {
    let h = harness();
    let dir = h.dir.join("captures");
    for (cap, want) in [
        ("04-tls-alibabacloud-sdk.pcapng", vec!["6"]),
        ("22-tls-on-1883.pcapng", vec!["6"]),
        ("26-https-on-443.pcapng", vec![]),
    ] {
        let nokeys = format!("nokeys-{cap}");
        common::strip_tls_keys(&dir.join(cap), &dir.join(&nokeys));
        let r = h.fields(&nokeys, &["-2"], "aliiot.tls_no_keys", &["frame.number"]);
        assert_eq!(rows(&r), want, "{cap}");
        // With the keys: decrypted, no hint.
        assert!(
            h.fields(cap, &["-2"], "aliiot.tls_no_keys", &["frame.number"])
                .is_empty(),
            "{cap}"
        );
    }
    let r = h.fields(
        "nokeys-22-tls-on-1883.pcapng",
        &[],
        "aliiot.tls_no_keys",
        &["_ws.expert.message"],
    );
    assert!(r[0][0].contains("node --tls-keylog=FILE"), "{:?}", r[0]);
}

/// MQTT 5 (capture 05): the topic-alias PUBLISH (empty topic) is classified by its resolved topic,
/// a request with Response Topic and Correlation Data pairs with the reply on that topic, and the
/// DISCONNECT's reason code is explained.
#[test]
fn mqtt5_alias_and_reason_codes() {
    let h = harness();
    let cap = "05-mqtt5-mqttjs-alibaba-auth.pcapng";
    let r = h.fields(
        cap,
        &[],
        "frame.number == 12",
        &[
            "mqtt.topic",
            "aliiot.topic.class",
            "aliiot.topic.identifier",
        ],
    );
    assert_eq!(
        rows(&r),
        ["/a1B2c3D4e5F/lab-sensor-05/user/update|/sys/a1B2c3D4e5F/lab-sensor-05/thing/event/property/post user|thing.event.property.post update"]
    );
    let r = h.fields(
        cap,
        &["-2"],
        "frame.number == 10 || frame.number == 13",
        &[
            "aliiot.request_in",
            "aliiot.response_in",
            "aliiot.response_time",
        ],
    );
    assert_eq!(rows(&r), [" 13 ", "10  0.003167000"]);
    let path = h.capture(cap);
    let out = h.tshark(&[
        "-n",
        "-r",
        &path,
        "-Y",
        "frame.number == 23",
        "-O",
        "aliiot",
    ]);
    // Read from the packet: not generated (no brackets).
    assert!(out.contains("    MQTT 5 reason: 0 (success)\n"), "{out}");
    assert!(h
        .fields(
            cap,
            &[],
            "aliiot.mqtt5.platform_limit || aliiot.mqtt5.reason",
            &["frame.number"]
        )
        .is_empty());
}

/// MQTT 5 "assigned client id" login (08-bad-input.pcap, connection 10): an empty client id
/// prefix signed with an empty clientId verifies, and the CONNACK's assigned id is shown.
#[test]
fn mqtt5_assigned_client_id() {
    let h = harness();
    let s = [
        "-o",
        "uat:aliiot_device_secrets:\"a1B2c3D4e5F\",\"bad-10\",\"00112233445566778899aabbccddeeff\"",
    ];
    let r = h.fields(
        "08-bad-input.pcap",
        &s,
        "tcp.port == 40010 && mqtt",
        &[
            "aliiot.clientid.prefix",
            "aliiot.sign.status",
            "aliiot.mqtt5.assigned_client_id",
        ],
    );
    assert_eq!(rows(&r), [" 1 ", "  a1B2c3D4e5F.bad-10.assigned-7f3a"]);
}

/// MQTT over TLS on 443 (capture 28: capture 22 with its port rewritten, lab/rewrite_port.py):
/// no port says MQTT, so the decrypted data is recognised by its CONNECT.
#[test]
fn mqtt_over_tls_on_443() {
    let h = harness();
    let r = h.fields("28-mqtt-tls-on-443.pcapng", &["-2"], "mqtt", SESSION);
    assert_eq!(r.len(), 8);
    assert_eq!(rows(&r[4..5]), ["18 3 lab-sensor-22  21"]);
    // Decrypted, so no hint about missing keys.
    let hint = h.fields(
        "28-mqtt-tls-on-443.pcapng",
        &["-2"],
        "aliiot.tls_no_keys",
        &["frame.number"],
    );
    assert!(hint.is_empty());
}
