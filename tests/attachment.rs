//! How aliiot attaches to MQTT: inside MQTT's own dissection, wherever MQTT is (its port, its port
//! preference, Decode As, a profile), on the PDUs MQTT cuts, and at no cost where there is none.

mod common;

use common::{harness, rows, secrets_args, strs};

/// A copy of a test capture with one TCP port moved (tests/captures/lab/rewrite_port.py).
fn moved(cap: &str, name: &str, from: u16, to: u16) -> String {
    let h = harness();
    let out = h.dir.join("captures").join(name);
    let status = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/captures/lab/rewrite_port.py"
        ))
        .arg(h.capture(cap))
        .arg(&out)
        .args([from.to_string(), to.to_string()])
        .status()
        .expect("python3");
    assert!(status.success());
    common::make_world_readable(&out);
    name.to_string()
}

const LOGIN: &[&str] = &["frame.number", "aliiot.device_name", "aliiot.sign.status"];

/// MQTT on another port reaches aliiot however MQTT was put there: `-d`, MQTT's port
/// preference, or a profile's decode_as_entries (what the GUI's Decode As saves).
#[test]
fn mqtt_moved_to_another_port() {
    let h = harness();
    let cap = moved(
        "01-aliyun-iot-mqtt-basic.pcapng",
        "01-on-1884.pcapng",
        1883,
        1884,
    );
    let secrets = secrets_args();
    let mut args = strs(&secrets);
    // Nothing says 1884 is MQTT: neither MQTT nor aliiot.
    assert!(h.fields(&cap, &args, "mqtt || aliiot", LOGIN).is_empty());
    let want = ["4 lab-sensor-01 1", "6 lab-sensor-01 "];
    args.extend(["-Y", "mqtt.msgtype <= 2"]);
    for how in [
        &["-d", "tcp.port==1884,mqtt"][..],
        &["-o", "mqtt.tcp.port:1884"],
        &["-C", "decode-1884"],
    ] {
        if how[0] == "-C" {
            let dir = h.home.join(".config/wireshark/profiles/decode-1884");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(
                dir.join("decode_as_entries"),
                "# Decode As entries, as the GUI saves them\ndecode_as_entry: tcp.port,1884,(none),MQTT\n",
            )
            .unwrap();
            common::make_world_readable(&h.home);
        }
        let mut a = args.clone();
        a.extend_from_slice(how);
        assert_eq!(rows(&h.fields(&cap, &a, "", LOGIN)), want, "{how:?}");
        // One mqtt layer, as in stock.
        let p = h.fields(&cap, &a, "", &["frame.protocols"]);
        assert_eq!(rows(&p), ["eth:ethertype:ip:tcp:mqtt"; 2], "{how:?}");
    }
}

/// A capture that starts after the CONNECT: MQTT's own "default_version" preference says which
/// protocol level its packets have, for aliiot as for MQTT. Read from the preference when
/// dissection starts (aliiot's init routine), so `-o` and a preference changed in the GUI, which
/// redissects, both reach it.
#[test]
fn mqtt_version_preference_for_a_capture_without_its_connect() {
    let h = harness();
    // 05's session from its SUBSCRIBE on (frames 1-7 hold the handshake, CONNECT and CONNACK).
    let cap = "05-after-connect.pcapng";
    let out = h.dir.join("captures").join(cap);
    let status = std::process::Command::new("editcap")
        .args([
            "-r",
            &h.capture("05-mqtt5-mqttjs-alibaba-auth.pcapng"),
            &out.display().to_string(),
            "8-100000",
        ])
        .status()
        .expect("editcap");
    assert!(status.success());
    common::make_world_readable(&out);
    let fields = [
        "frame.number",
        "aliiot.topic.class",
        "aliiot.payload.length",
    ];
    // Read as MQTT 3.1.1 (no preference): the MQTT 5 properties are taken for the payload, and
    // the SUBSCRIBE's filters are not found.
    let v311 = h.fields(
        cap,
        &["-o", "mqtt.default_version:None"],
        "frame.number <= 3",
        &fields,
    );
    assert_eq!(rows(&v311), ["1  ", "2  ", "3 user 142"]);
    // As MQTT 5.0: the SUBSCRIBE's two filters, and the PUBLISH's JSON payload after its
    // properties (payload.length is made for a payload that is not JSON only).
    let v5 = h.fields(
        cap,
        &["-o", "mqtt.default_version:MQTT v5.0"],
        "frame.number <= 3",
        &fields,
    );
    assert_eq!(
        rows(&v5),
        ["1 user|thing.event.property.post ", "2  ", "3 user "]
    );
}

/// A capture without MQTT is dissected without a protocol tree: aliiot wants no fields and
/// registers no postdissector. tshark's debug log says whether it builds one in Debian's 4.0
/// build; later series compile that message out, so there the test checks what it can: no
/// message says a tree is built.
#[test]
fn no_tree_without_mqtt() {
    let h = harness();
    for cap in ["26-https-on-443.pcapng", "01-aliyun-iot-mqtt-basic.pcapng"] {
        let path = h.capture(cap);
        let (_, err, ok) = h.run_raw(&["-n", "-r", &path, "--log-level", "debug"]);
        assert!(ok);
        let said: Vec<&str> = err
            .lines()
            .filter(|l| l.contains("create_proto_tree"))
            .collect();
        assert!(
            said.iter().all(|l| l.contains("create_proto_tree = FALSE")),
            "{cap}: {said:?}"
        );
        if common::SERIES == "4.0" {
            assert!(!said.is_empty(), "{cap}: tshark 4.0 logs create_proto_tree");
        }
    }
}

/// PDU boundaries (tests/captures/make-bad-input.py --segments): aliiot sees exactly the MQTT
/// packets MQTT cuts out of TCP's reassembly, on the first pass and with -2.
#[test]
fn pdu_boundaries() {
    let h = harness();
    let cap = "29-pdu-boundaries.pcap";
    let secrets = secrets_args();
    let fields = &[
        "frame.number",
        "aliiot.sign.status",
        "aliiot.alink.id",
        "aliiot.ack_to",
        "aliiot.connect_in",
    ];
    for two_pass in [false, true] {
        let mut args = strs(&secrets);
        if two_pass {
            args.push("-2");
        }
        let r = rows(&h.fields(cap, &args, "aliiot", fields));
        let ids: Vec<String> = (1..=40).map(|i| i.to_string()).collect();
        let want = [
            // The CONNECT over three segments: verified, on the segment that completes it.
            "6 1   ".to_string(),
            "7    6".to_string(),
            "14 1   ".to_string(),
            // A 3000-byte PUBLISH over three segments, and another one in its last segment.
            "17  1|2  14|14".to_string(),
            "18    14".to_string(),
            "19   17|17 14|14".to_string(),
            "26 1   ".to_string(),
            // 40 PUBLISHes in one segment, 40 PUBACKs in one segment.
            format!("27  {}  {}", ids.join("|"), ["26"; 40].join("|")),
            "28    26".to_string(),
            format!("29   {} {}", ["27"; 40].join("|"), ["26"; 40].join("|")),
            // The length field split across segments: MQTT mis-cuts the stream (a known limit of
            // its length rule) into four packets, and aliiot follows it packet for packet.
            "36 1   ".to_string(),
            "38    36|36|36|36".to_string(),
            "39    36".to_string(),
            // Cut by the snap length: MQTT throws, and the frame stays as in stock.
            "46 1   ".to_string(),
            "48    46".to_string(),
        ];
        assert_eq!(r, want, "two-pass: {two_pass}");
    }
}

/// The Info column holds 4096 bytes (COL_MAX_INFO_LEN, the NUL included): aliiot's text for 40
/// PUBLISHes in one segment (29-pdu-boundaries.pcap, frame 27) follows MQTT's 3349 bytes and is
/// cut at exactly 4095 bytes, as Wireshark cuts its own appends (on 4.0 the shim writes the bytes
/// itself, from 4.4 on Wireshark's call does).
#[test]
fn info_column_is_cut_at_its_buffer() {
    let h = harness();
    let cap = h.capture("29-pdu-boundaries.pcap");
    for two_pass in [false, true] {
        let info = |extra: &[&str]| {
            let mut args = vec!["-n", "-r", &cap];
            if two_pass {
                args.push("-2");
            }
            args.extend_from_slice(extra);
            args.extend([
                "-Y",
                "frame.number == 27",
                "-T",
                "fields",
                "-e",
                "_ws.col.Info",
            ]);
            h.tshark(&args).trim_end_matches('\n').to_string()
        };
        let mqtt = info(&["--disable-protocol", "aliiot"]);
        assert_eq!(mqtt.len(), 3349, "MQTT's own text for the 40 PUBLISHes");
        assert!(mqtt.starts_with("Publish Message (id=1) [/sys/a1B2c3D4e5F/lab-sensor-01/"));
        let full = mqtt.clone() + &" · thing.event.property.post".repeat(40);
        let shown = info(&[]);
        assert_eq!(shown.len(), 4095, "two-pass: {two_pass}");
        assert_eq!(shown, full[..4095], "two-pass: {two_pass}");
        assert!(shown.ends_with(" · thing.event.prope"));
    }
}

/// From 4.4 on Wireshark copies every text appended to a column through ws_label_strcpy, which
/// escapes control characters and drops a character the 4096-byte buffer would cut; aliiot writes
/// the text itself when there is nothing to escape (the shim), and must come out the same.
/// Device names with a tab and a C1 control, cut inside a character, both, in Chinese, with a C1
/// control alone and with a DEL alone (make-bad-input.py --labels). `-T fields` then escapes the
/// backslashes (4.4 on) and the raw tab (4.0) once more when it prints.
#[test]
fn info_text_is_escaped_and_cut_as_wireshark_does() {
    let h = harness();
    let cap = h.capture(&h.generated("--labels", "labels.pcap"));
    let out = h.tshark(&[
        "-n",
        "-r",
        &cap,
        "-Y",
        "mqtt",
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "_ws.col.Info",
    ]);
    let info: std::collections::HashMap<&str, &str> =
        out.lines().filter_map(|l| l.split_once('\t')).collect();
    let escapes = common::SERIES != "4.0";
    // The Info column's bytes: 4.4 and later escape the controls and cut between characters,
    // 4.0 keeps them raw and cuts at byte 4095.
    let column = |text: &str| -> Vec<u8> {
        let text = if escapes {
            text.replace('\t', "\\t")
                .replace('\u{85}', "\\u0085")
                .replace('\u{7f}', "\\x7F")
        } else {
            text.to_string()
        };
        let mut end = text.len().min(4095);
        while escapes && !text.is_char_boundary(end) {
            end -= 1;
        }
        text.as_bytes()[..end].to_vec()
    };
    // As -T fields prints it.
    let printed = |bytes: Vec<u8>| {
        String::from_utf8_lossy(&bytes)
            .replace('\\', "\\\\")
            .replace('\t', "\\t")
    };
    let e = "\u{e9}".repeat(2100);
    let names = [
        ("4", "5", "tab\there\u{85}c1-01".to_string()),
        ("15", "16", format!("x{e}")),
        ("26", "27", format!("\tx{e}")),
        ("34", "35", "\u{4f20}\u{611f}\u{5668}-01".to_string()),
        ("42", "43", "next-line\u{85}only-01".to_string()),
        ("50", "51", "delete\u{7f}only-01".to_string()),
    ];
    for (connect, connack, dn) in names {
        let login = format!("Connect Command \u{b7} {dn} (a1B2c3D4e5F), no secret known");
        let answer = format!("Connect Ack \u{b7} {dn} login accepted");
        assert_eq!(info[connect], printed(column(&login)), "frame {connect}");
        assert_eq!(info[connack], printed(column(&answer)), "frame {connack}");
    }
    if escapes {
        // Cut inside an "é": the column ends one byte short of its buffer.
        assert_eq!(info["15"].len(), 4094);
        assert!(info["4"].contains("tab\\\\there\\\\u0085c1-01"));
    }
}

/// One `<field>` of `-T pdml`: where it points, its size, its shown value and the bytes it
/// covers (none when generated).
#[derive(Debug)]
struct Item {
    pos: usize,
    size: usize,
    show: String,
    bytes: Vec<u8>,
}

/// Every `<field>` named `name` in `pdml`, in order.
fn items(pdml: &str, name: &str) -> Vec<Item> {
    let tag = format!("<field name=\"{name}\"");
    pdml.lines()
        .filter(|l| l.contains(&tag))
        .map(|l| {
            let attr = |a: &str| {
                l.split(&format!(" {a}=\""))
                    .nth(1)
                    .map(|s| s[..s.find('"').unwrap()].to_string())
                    .unwrap_or_default()
            };
            let hex = attr("value");
            Item {
                pos: attr("pos").parse().unwrap(),
                size: attr("size").parse().unwrap(),
                show: attr("show"),
                bytes: (0..hex.len() / 2)
                    .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                    .collect(),
            }
        })
        .collect()
}

/// Fields read from the packet point at their bytes (`-T pdml` gives each item's position and
/// size): the sign method at its value inside the client id, the user name's halves, topic
/// levels, Alink members and property names; derived facts stay generated (size 0).
#[test]
fn items_point_at_their_bytes() {
    let h = harness();
    let cap = h.capture("01-aliyun-iot-mqtt-basic.pcapng");
    let pdml = h.tshark(&["-n", "-r", &cap, "-Y", "frame.number == 4", "-T", "pdml"]);
    // (pos, size, show) of the first field named `name`.
    let field = |name: &str| -> (usize, usize, String) {
        let i = items(&pdml, name)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no {name} in the PDML"));
        (i.pos, i.size, i.show)
    };
    let (cid_pos, _, cid) = field("mqtt.clientid");
    let at = cid.find("signmethod=").unwrap() + "signmethod=".len();
    assert_eq!(
        field("aliiot.clientid.signmethod"),
        (cid_pos + at, 8, "hmacsha1".to_string())
    );
    let (prefix_pos, prefix_len, prefix) = field("aliiot.clientid.prefix");
    assert_eq!((prefix_pos, prefix_len), (cid_pos, cid.find('|').unwrap()));
    assert_eq!(prefix, "30ae1c35-e206-44ca-b583-e2a5549c038d");
    let (user_pos, _, _) = field("mqtt.username");
    assert_eq!(
        field("aliiot.device_name"),
        (user_pos, 13, "lab-sensor-01".to_string())
    );
    assert_eq!(
        field("aliiot.product_key"),
        (user_pos + 14, 11, "a1B2c3D4e5F".to_string())
    );
    // Derived: a verdict has no bytes of its own.
    assert_eq!(field("aliiot.sign.status").1, 0);

    // A property post: topic levels, Alink members, property names and values.
    let cap = h.capture("02-alibabacloud-sdk-thing-model.pcapng");
    let pdml = h.tshark(&[
        "-n",
        "-r",
        &cap,
        "-Y",
        "aliiot.alink.id == \"1\" && aliiot.topic.class == \"thing.event.property.post\"",
        "-T",
        "pdml",
    ]);
    let msg = items(&pdml, "mqtt.msg")
        .into_iter()
        .next()
        .expect("mqtt.msg");
    let text = String::from_utf8(msg.bytes).unwrap();
    for (name, show) in [
        ("aliiot.alink.method", "thing.event.property.post"),
        ("aliiot.property.name", "temperature"),
        ("aliiot.property.value", "23.6"),
    ] {
        let i = items(&pdml, name).into_iter().next().unwrap();
        let at = i.pos - msg.pos;
        assert_eq!(&text[at..at + show.len()], show, "{name}: {i:?}");
        assert_eq!(i.size, show.len(), "{name}: {i:?}");
    }

    // A SUBSCRIBE of 17 filters: each filter's topic levels point into that filter's own bytes
    // (not the first filter's, nor nowhere), in order.
    let pdml = h.tshark(&["-n", "-r", &cap, "-Y", "frame.number == 8", "-T", "pdml"]);
    let filters = items(&pdml, "mqtt.topic");
    assert_eq!(filters.len(), 17, "{filters:?}");
    for name in ["aliiot.topic.product_key", "aliiot.topic.device_name"] {
        let levels = items(&pdml, name);
        assert_eq!(levels.len(), filters.len(), "{name}: {levels:?}");
        for (l, f) in levels.iter().zip(&filters) {
            assert!(
                l.pos > f.pos && l.pos + l.size <= f.pos + f.size,
                "{name} {l:?} in {f:?}"
            );
            assert_eq!(
                &f.show[l.pos - f.pos..l.pos - f.pos + l.size],
                l.show,
                "{name} in {f:?}"
            );
        }
    }
}

/// MQTT 5 facts sit on MQTT's own items for the same bytes: each user property's key and value
/// (in 05 and 32, whose logins, messages and DISCONNECT carry them), a DISCONNECT's reason code,
/// a CONNACK's assigned client id.
#[test]
fn mqtt5_facts_point_at_their_bytes() {
    let h = harness();
    // (pos, size, show) of every item named `name`.
    let placed = |pdml: &str, name: &str| -> Vec<(usize, usize, String)> {
        items(pdml, name)
            .into_iter()
            .map(|i| (i.pos, i.size, i.show))
            .collect()
    };
    for (cap, pairs) in [
        ("05-mqtt5-mqttjs-alibaba-auth.pcapng", 6),
        ("32-link-sdk41-mqtt5.pcapng", 5),
    ] {
        let pdml = h.tshark(&["-n", "-r", &h.capture(cap), "-T", "pdml"]);
        for (ours, mqtt) in [
            ("aliiot.mqtt5.user_property.key", "mqtt.prop_key"),
            ("aliiot.mqtt5.user_property.value", "mqtt.prop_value"),
        ] {
            let ours = placed(&pdml, ours);
            assert_eq!(ours.len(), pairs, "{cap}");
            assert_eq!(ours, placed(&pdml, mqtt), "{cap}");
        }
    }
    for (cap, filter, ours, mqtt, expected) in [
        (
            "05-mqtt5-mqttjs-alibaba-auth.pcapng",
            "frame.number == 23",
            "aliiot.mqtt5.reason_code",
            "mqtt.disconnect.reason_code",
            (68, 1, "0"),
        ),
        (
            "08-bad-input.pcap",
            "tcp.port == 40010 && mqtt.msgtype == 2",
            "aliiot.mqtt5.assigned_client_id",
            "mqtt.prop_string",
            (62, 32, "a1B2c3D4e5F.bad-10.assigned-7f3a"),
        ),
    ] {
        let pdml = h.tshark(&["-n", "-r", &h.capture(cap), "-Y", filter, "-T", "pdml"]);
        let found = placed(&pdml, ours);
        assert_eq!(found, [(expected.0, expected.1, expected.2.to_string())]);
        assert_eq!(found, placed(&pdml, mqtt));
    }
}

/// A firmware's facts (OTA), a shadow's, a text payload and a file chunk's framing are read
/// from the payload: each points at the bytes of its value, which read as the value shown, in
/// real SDK traffic.
#[test]
fn payload_facts_point_at_their_bytes() {
    let h = harness();
    for (cap, names) in [
        (
            "13-ntp-ota-linkkit.pcapng",
            &[
                "aliiot.ota.url",
                "aliiot.ota.md5",
                "aliiot.ota.size",
                "aliiot.ota.version",
                "aliiot.ota.step",
            ][..],
        ),
        (
            "02-alibabacloud-sdk-thing-model.pcapng",
            &[
                "aliiot.shadow.method",
                "aliiot.shadow.status",
                "aliiot.shadow.version",
                "aliiot.alink.id_suffix",
            ][..],
        ),
        (
            "14-rrpc-ext-services-linkkit.pcapng",
            &["aliiot.payload.text"][..],
        ),
    ] {
        let pdml = h.tshark(&["-n", "-r", &h.capture(cap), "-T", "pdml"]);
        for name in names {
            let found = items(&pdml, name);
            assert!(!found.is_empty(), "{cap}: no {name}");
            for i in found {
                assert_ne!(i.size, 0, "{cap}: {i:?}");
                assert_eq!(String::from_utf8_lossy(&i.bytes), i.show, "{cap}: {i:?}");
            }
        }
    }
    // An event's time, shown as a date, points at the milliseconds it was sent as.
    let pdml = h.tshark(&[
        "-n",
        "-r",
        &h.capture("16-alink-quirks.pcapng"),
        "-T",
        "pdml",
    ]);
    let times = items(&pdml, "aliiot.event.time");
    assert_eq!(times.len(), 1);
    assert_eq!(times[0].bytes, b"1733000000000");
    // PDML writes absolute times as 4.0 and 4.4 show them, and 4.6 in ISO 8601.
    assert!(
        [
            "Nov 30, 2024 20:53:20.000000000 UTC",
            "2024-11-30T20:53:20.000000000Z"
        ]
        .contains(&times[0].show.as_str()),
        "{:?}",
        times[0]
    );
    // A file chunk's framing: the header length is the payload's first two bytes (big-endian),
    // the CRC its last two (little-endian); the chunk length is counted, so generated.
    let pdml = h.tshark(&[
        "-n",
        "-r",
        &h.capture("15-binary-upraw-file-download.pcapng"),
        "-T",
        "pdml",
    ]);
    let (lens, crcs) = (
        items(&pdml, "aliiot.file.header_length"),
        items(&pdml, "aliiot.file.crc"),
    );
    assert_eq!((lens.len(), crcs.len()), (2, 2), "{lens:?} {crcs:?}");
    let two = |i: &Item| -> [u8; 2] { i.bytes[..].try_into().unwrap() };
    for i in &lens {
        assert_eq!(i.size, 2);
        assert_eq!(u16::from_be_bytes(two(i)).to_string(), i.show);
    }
    for i in &crcs {
        assert_eq!(i.size, 2);
        assert_eq!(format!("0x{:08x}", u16::from_le_bytes(two(i))), i.show);
    }
    assert!(items(&pdml, "aliiot.file.chunk_length")
        .iter()
        .all(|i| i.size == 0));
}

/// Properties a real SDK posts as `{"value": v, "time": ms}` (capture 40): the value and its
/// numeric reading point at the member `value`'s bytes, the time, shown as a date, at the
/// milliseconds sent, and a bare property after the wrapped one still finds its own name and
/// value.
#[test]
fn timed_properties_point_at_their_bytes() {
    let h = harness();
    let cap = h.capture("40-property-time-linkkit.pcapng");
    let pdml = h.tshark(&["-n", "-r", &cap, "-T", "pdml"]);
    let placed = |name: &str| -> Vec<(String, Vec<u8>)> {
        items(&pdml, name)
            .into_iter()
            .map(|i| {
                assert_ne!(i.size, 0, "{name} is generated: {i:?}");
                (i.show, i.bytes)
            })
            .collect()
    };
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, Vec<u8>)> {
        v.iter()
            .map(|(s, b)| (s.to_string(), b.as_bytes().to_vec()))
            .collect()
    };
    assert_eq!(
        placed("aliiot.property.name"),
        pairs(&[
            ("CurrentTemperature", "CurrentTemperature"),
            ("CurrentTemperature", "CurrentTemperature"),
            ("PowerSwitch", "PowerSwitch"),
            ("CurrentTemperature", "CurrentTemperature"),
        ])
    );
    assert_eq!(
        placed("aliiot.property.value"),
        pairs(&[
            ("25.5", "25.5"),
            ("26.0", "26.0"),
            ("1", "1"),
            ("26.5", "26.5")
        ])
    );
    // The numeric value is read from the value's bytes (26.0 is shown as 26).
    assert_eq!(
        placed("aliiot.property.value_num"),
        pairs(&[
            ("25.5", "25.5"),
            ("26", "26.0"),
            ("1", "1"),
            ("26.5", "26.5")
        ])
    );
    let times = placed("aliiot.property.time");
    assert_eq!(
        times.iter().map(|t| &t.1[..]).collect::<Vec<_>>(),
        [&b"1733000000000"[..], b"1733000001000"]
    );
    // PDML writes absolute times as 4.0 and 4.4 show them, and 4.6 in ISO 8601.
    for ((show, _), (old, iso)) in times.iter().zip([
        (
            "Nov 30, 2024 20:53:20.000000000 UTC",
            "2024-11-30T20:53:20.000000000Z",
        ),
        (
            "Nov 30, 2024 20:53:21.000000000 UTC",
            "2024-11-30T20:53:21.000000000Z",
        ),
    ]) {
        assert!(show == old || show == iso, "{show}");
    }
}

/// A member name that comes again takes its own bytes: in a gateway's batch login each
/// sub-device's `"productKey"` and `"deviceName"` point into that device's entry, in order, as
/// do the sub-device fields read from them.
#[test]
fn repeated_names_take_their_own_bytes() {
    let h = harness();
    let cap = h.capture("11-gateway-batch-login-linkkit.pcapng");
    let pdml = h.tshark(&["-n", "-r", &cap, "-Y", "frame.number == 14", "-T", "pdml"]);
    let keys = items(&pdml, "aliiot.json.key");
    let subdevice = |f: &str| items(&pdml, &format!("aliiot.subdevice.{f}"));
    for (places, shows) in [
        (
            keys.iter()
                .filter(|i| i.show == "productKey")
                .collect::<Vec<_>>(),
            ["productKey", "productKey"],
        ),
        (
            keys.iter().filter(|i| i.show == "deviceName").collect(),
            ["deviceName", "deviceName"],
        ),
        // The sub-devices the login names: each in its own entry.
        (
            subdevice("product_key").iter().collect(),
            ["a1SubPk0001", "a1SubPk0001"],
        ),
        (
            subdevice("device_name").iter().collect(),
            ["lab-sub-01", "lab-sub-02"],
        ),
    ] {
        assert_eq!(places.len(), 2, "{places:?}");
        assert!(places[0].pos < places[1].pos, "{places:?}");
        for (i, show) in places.iter().zip(shows) {
            assert_eq!(i.bytes, show.as_bytes(), "{i:?}");
        }
    }
}

/// A JSON object or array shown by its size (`{3 members}`, `[2 items]`) points at all of its
/// bytes: they parse as JSON of that size (the thing model posts of 38, with struct and array
/// properties), an array's items too (found in order from the array's start).
#[test]
fn containers_point_at_their_whole_bytes() {
    let h = harness();
    let cap = h.capture("38-tsl-dsltemplate-linkkit.pcapng");
    let pdml = h.tshark(&["-n", "-r", &cap, "-T", "pdml"]);
    let mut placed = 0;
    for name in ["aliiot.json.value", "aliiot.property.value"] {
        for i in items(&pdml, name) {
            let Some(n) = i
                .show
                .strip_suffix(" members}")
                .or_else(|| i.show.strip_suffix(" items]"))
            else {
                continue;
            };
            assert_ne!(i.size, 0, "{i:?}");
            let n: usize = n[1..].parse().unwrap();
            let json: serde_json::Value = serde_json::from_slice(&i.bytes).unwrap();
            let len = match &json {
                serde_json::Value::Object(m) if i.show.starts_with('{') => m.len(),
                serde_json::Value::Array(a) if i.show.starts_with('[') => a.len(),
                other => panic!("{i:?} is {other}"),
            };
            assert_eq!(len, n, "{i:?}");
            placed += 1;
        }
    }
    assert_eq!(placed, 84);
}

/// Where aliiot deliberately shows more than stock: TLS on the MQTT port (stock reads the TLS
/// records as malformed MQTT), MQTT over WebSocket (stock 4.0 shows the messages as data), MQTT
/// over TLS on 443 found by its CONNECT.
const DELIBERATE: &[&str] = &[
    "22-tls-on-1883.pcapng",
    "23-mqtt-over-ws.pcapng",
    "23b-mqtt-over-ws-mqttjs.pcapng",
    "24-mqtt-over-wss.pcapng",
    "24b-mqtt-over-wss-mqttjs.pcapng",
    "25-ws-split-and-coalesced.pcapng",
    "28-mqtt-tls-on-443.pcapng",
    "34-c-sdk3-tls.pcapng",
];

/// Every other layer is exactly what tshark without the plugin shows: MQTT's own fields, TCP and
/// TLS (which aliiot wraps), the frame's protocols (one `mqtt`), on every test capture. Only
/// aliiot's own subtrees are added.
#[test]
fn everything_else_is_stock() {
    let h = harness();
    let stock_home = h.dir.join("stock-home");
    std::fs::create_dir_all(&stock_home).unwrap();
    common::make_world_readable(&stock_home);
    let stock_home = stock_home.display().to_string();
    let mut caps: Vec<String> = std::fs::read_dir(h.dir.join("captures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| (n.ends_with(".pcapng") || n.ends_with(".pcap")) && !n.starts_with("nokeys-"))
        .filter(|n| n.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .collect();
    caps.sort();
    assert!(caps.len() >= 28, "{caps:?}");
    // Drops aliiot's top-level subtrees from -V output.
    let strip = |v: &str| -> String {
        let mut out = String::new();
        let mut skipping = false;
        for l in v.lines() {
            if !l.starts_with(' ') {
                skipping = l.starts_with("Alibaba Cloud IoT");
            }
            if !skipping {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    };
    let mut differ = Vec::new();
    for cap in &caps {
        let path = h.capture(cap);
        let keylog = h.capture(&cap.replace(".pcapng", ".keylog"));
        let mut args = vec!["-n", "-r", &path, "-V"];
        let pref;
        if std::path::Path::new(&keylog).exists() {
            pref = format!("tls.keylog_file:{keylog}");
            args.extend(["-o", &pref]);
        }
        let with = h.tshark(&args);
        let (without, err, ok) = h.run_env(&[("HOME", &stock_home)], &args);
        assert!(ok && err.trim().is_empty(), "{cap}: {err}");
        assert!(
            !without.contains("Alibaba Cloud IoT"),
            "{cap}: stock run loaded aliiot"
        );
        if strip(&with) != without {
            differ.push(cap.as_str());
        }
    }
    assert_eq!(
        differ, DELIBERATE,
        "captures where a layer other than aliiot's differs from stock"
    );
}

/// One-pass tshark keeps no frame store, so aliiot keeps nothing for later passes there (its
/// debug log says so once). What it shows is the same as with `-2`, where every packet is kept and
/// shown again from what was kept, and where the later pass adds the links forward (a request's
/// response). Asking for an earlier frame writes nothing to stderr (`fields` fails on any).
#[test]
fn one_pass_keeps_nothing_for_later() {
    let h = harness();
    let cap = "02-alibabacloud-sdk-thing-model.pcapng";
    let said = "nothing is kept for later passes";
    for (pass, times) in [(&[][..], 1), (&["-2"][..], 0)] {
        let path = h.capture(cap);
        let mut args = vec!["-n", "-r", &path, "--log-level", "debug"];
        args.extend(pass);
        let (_, err, ok) = h.run_raw(&args);
        assert!(ok, "{err}");
        assert_eq!(err.matches(said).count(), times, "{pass:?}");
    }
    let backward = [
        "frame.number",
        "aliiot.device_name",
        "aliiot.request_in",
        "aliiot.response_time",
        "aliiot.ack_to",
        "_ws.col.Info",
    ];
    let fields: Vec<&str> = backward
        .iter()
        .chain(&["aliiot.response_in"])
        .copied()
        .collect();
    let one = h.fields(cap, &[], "aliiot", &fields);
    let two = h.fields(cap, &["-2"], "aliiot", &fields);
    let without_forward = |r: &Vec<String>| r[..backward.len()].to_vec();
    assert_eq!(
        one.iter().map(without_forward).collect::<Vec<_>>(),
        two.iter().map(without_forward).collect::<Vec<_>>()
    );
    // A request and its response, as each pass shows them.
    let row = |rows: &[Vec<String>], frame: &str| {
        let r = rows.iter().find(|r| r[0] == frame).expect(frame);
        [r[2].clone(), r[3].clone(), r[6].clone()]
    };
    assert_eq!(row(&one, "13"), ["", "", ""]);
    assert_eq!(row(&one, "14"), ["13", "0.001727000", ""]);
    assert_eq!(row(&two, "13"), ["", "", "14|16|18|20|22"]);
    assert_eq!(row(&two, "14"), ["13", "0.001727000", ""]);
}

/// Plain one-pass tshark (no tree: the Info column alone) gets a lighter analysis that builds no
/// pairing or session state; its summary lines must be the Info column every other pass shows.
#[test]
fn plain_read_shows_the_info_of_a_full_dissection() {
    let h = harness();
    let secrets = secrets_args();
    let mut shown = 0;
    for cap in [
        "02-alibabacloud-sdk-thing-model.pcapng",
        "16-alink-quirks.pcapng",
        "18-unacked-and-refused.pcapng",
        "10-gateway-subdevices-nodesdk.pcapng",
    ] {
        let path = h.capture(cap);
        let mut args = vec![
            "-n",
            "-r",
            &path,
            "-o",
            r#"gui.column.format:"No.","%m","Info","%i""#,
        ];
        args.extend(secrets.iter().map(String::as_str));
        let plain: Vec<String> = h
            .tshark(&args)
            .lines()
            .map(|l| {
                let (n, info) = l.trim_start().split_once(' ').expect(l);
                format!("{n}\t{info}")
            })
            .collect();
        let mut extra: Vec<&str> = vec!["-2"];
        extra.extend(secrets.iter().map(String::as_str));
        let full: Vec<String> = h
            .fields(cap, &extra, "", &["frame.number", "_ws.col.Info"])
            .iter()
            .map(|r| r.join("\t"))
            .collect();
        assert_eq!(plain, full, "{cap}");
        shown += plain.iter().filter(|l| l.contains(" · ")).count();
    }
    assert!(shown > 40, "aliiot's Info shown on {shown} frames");
}

/// A filter or export on fields that need no session state (product key, topic, login…), on a
/// pass that keeps nothing, gets an analysis that builds no pairing or flow state. Every such
/// field must then occur exactly as often as when a session field and a payload field are
/// wanted too (the full analysis). `-z io,stat` counts every field at once, without a visible
/// tree: once all of them, once all but the payload's (whose analysis is lighter still).
#[test]
fn fields_without_session_state_are_the_full_analysis_fields() {
    let h = harness();
    // Links between packets, times between them, the MQTT flow and the session summary.
    let session = |f: &str| {
        [
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
        ]
        .contains(&f)
            || ["aliiot.session.", "aliiot.ntp.", "aliiot.sub."]
                .iter()
                .any(|p| f.starts_with(p))
    };
    // Every field of aliiot's but its expert items (FT_NONE) and the session's.
    let lean: Vec<String> = h
        .tshark(&["-G", "fields"])
        .lines()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|c| c.len() > 3 && c[0] == "F" && c[2].starts_with("aliiot.") && c[3] != "FT_NONE")
        .map(|c| c[2].to_string())
        .filter(|f| !session(f))
        .collect();
    assert!(lean.len() > 60, "{} fields", lean.len());
    // Without any payload field (a filter on the product key, say) a payload is read for the
    // Info column only, and with no Info column (io,stat under -q, as here) not at all: every
    // other field must still count the same. "Payload field" is the
    // code's own list here, not a copy: naming any field on it asks for the full analysis, so a
    // field the list missed must land in this half, where it would count differently.
    let payload = |f: &str| {
        use aliiot::core::fields::{from_payload, FIELDS};
        FIELDS.iter().any(|d| d.abbrev == f && from_payload(d))
    };
    let unread: Vec<String> = lean.iter().filter(|f| !payload(f)).cloned().collect();
    assert!(unread.len() > 30, "{} fields", unread.len());
    let counts = |cap: &str, lean: &[String], full: bool| -> Vec<u64> {
        let mut z = "io,stat,0".to_string();
        for f in lean {
            z.push_str(&format!(",COUNT({f}){f}"));
        }
        if full {
            // A session field and a payload field beside them: the full analysis.
            z.push_str(",COUNT(aliiot.request_in)aliiot.request_in");
            z.push_str(",COUNT(aliiot.alink.id)aliiot.alink.id");
        }
        let path = h.capture(cap);
        let mut args = vec!["-n", "-q", "-r", &path, "-z", &z];
        let secrets = secrets_args();
        args.extend(secrets.iter().map(String::as_str));
        let out = h.tshark(&args);
        let row = out.lines().find(|l| l.contains("<>")).expect("io,stat row");
        row.split('|')
            .skip(2)
            .filter_map(|c| c.trim().parse().ok())
            .take(lean.len())
            .collect()
    };
    let mut seen = 0;
    for cap in [
        "02-alibabacloud-sdk-thing-model.pcapng",
        "09-mid-session.pcapng",
        "10-gateway-subdevices-nodesdk.pcapng",
        "11-gateway-batch-login-linkkit.pcapng",
        "13-ntp-ota-linkkit.pcapng",
        "14-rrpc-ext-services-linkkit.pcapng",
        "15-binary-upraw-file-download.pcapng",
        "16-alink-quirks.pcapng",
        "18-unacked-and-refused.pcapng",
        "20-same-device-twice.pcapng",
        "32-link-sdk41-mqtt5.pcapng",
        "38-tsl-dsltemplate-linkkit.pcapng",
    ] {
        for fields in [&lean, &unread] {
            let (lean_counts, full) = (counts(cap, fields, false), counts(cap, fields, true));
            assert_eq!(lean_counts.len(), fields.len(), "{cap}");
            let differ: Vec<(&String, u64, u64)> = fields
                .iter()
                .zip(lean_counts.iter().zip(&full))
                .filter(|(_, (a, b))| a != b)
                .map(|(f, (a, b))| (f, *a, *b))
                .collect();
            assert!(differ.is_empty(), "{cap}: (field, lean, full) {differ:?}");
            seen += lean_counts.iter().filter(|n| **n > 0).count();
        }
    }
    assert!(seen > 300, "fields seen {seen}");

    // Each session field asked alone gets the full analysis: it occurs as often as with another
    // session field beside it.
    let alone = |cap: &str, f: &str, with: bool| -> u64 {
        let mut z = format!("io,stat,0,COUNT({f}){f}");
        if with {
            z.push_str(",COUNT(aliiot.request_in)aliiot.request_in");
        }
        let path = h.capture(cap);
        let out = h.tshark(&["-n", "-q", "-r", &path, "-z", &z]);
        let row = out.lines().find(|l| l.contains("<>")).expect("io,stat row");
        row.split('|')
            .nth(2)
            .and_then(|c| c.trim().parse().ok())
            .expect(row)
    };
    let fields: Vec<String> = h
        .tshark(&["-G", "fields"])
        .lines()
        .filter_map(|l| {
            l.split('\t')
                .nth(2)
                .filter(|f| session(f))
                .map(str::to_string)
        })
        .collect();
    assert!(fields.len() >= 20, "{fields:?}");
    let mut occur = 0;
    for (cap, only) in [
        ("31-c-sdk3-linkkit.pcapng", None),
        (
            "19-keepalive-violation.pcapng",
            Some("aliiot.keepalive_gap"),
        ),
        ("13-ntp-ota-linkkit.pcapng", Some("aliiot.ntp.clock_offset")),
    ] {
        for f in fields
            .iter()
            .filter(|f| only.is_none_or(|o| o == f.as_str()))
        {
            let n = alone(cap, f, true);
            assert_eq!(alone(cap, f, false), n, "{cap}: {f}");
            occur += (n > 0) as usize;
        }
    }
    assert!(occur >= 8, "session fields seen {occur}");
}
