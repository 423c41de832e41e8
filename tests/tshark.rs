//! The plugin in the real tshark, on real device-SDK captures (tests/captures, copied from the
//! project's shared captures; see tests/captures/README.md), asserting exact field values.

mod common;

use common::{harness, rows, secrets_args, SERIES};

fn with_secrets(extra: &[&str]) -> Vec<String> {
    let mut v = secrets_args();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn plugin_loads_with_version_fields_and_no_heuristic() {
    let h = harness();
    let plugins = h.tshark(&["-G", "plugins"]);
    let line = plugins
        .lines()
        .find(|l| l.starts_with("aliiot.so"))
        .expect("aliiot in -G plugins");
    let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
    assert_eq!(
        cols[..3],
        ["aliiot.so", env!("CARGO_PKG_VERSION"), "dissector"],
        "{line}"
    );
    let personal = h.home.join(format!(
        ".local/lib/wireshark/plugins/{SERIES}/epan/aliiot.so"
    ));
    assert_eq!(
        cols[3],
        personal.display().to_string(),
        "loaded from the wrong folder: {line}"
    );

    let protocols = h.tshark(&["-G", "protocols"]);
    assert!(
        protocols
            .lines()
            // 4.0 prints three columns; 4.4+ adds the enabled flags.
            .any(|l| l.starts_with("Alibaba Cloud IoT\taliiot\taliiot")),
        "protocol row missing"
    );

    // Every field and expert item of the core's tables is registered, with its blurb.
    let fields = h.tshark(&["-G", "fields"]);
    for f in aliiot::core::fields::FIELDS {
        let row = fields
            .lines()
            .find(|l| l.split('\t').nth(2) == Some(f.abbrev))
            .unwrap_or_else(|| panic!("{} not registered", f.abbrev));
        assert!(
            row.ends_with(f.blurb),
            "{} registered without its blurb: {row}",
            f.abbrev
        );
    }
    let n_registered = fields
        .lines()
        .filter(|l| {
            l.split('\t')
                .nth(2)
                .is_some_and(|a| a.starts_with("aliiot."))
        })
        .count();
    let n_experts = aliiot::core::expert::EXPERTS.len();
    assert_eq!(n_registered, aliiot::core::fields::FIELDS.len() + n_experts);

    // No heuristic on MQTT's payloads: one that claimed them would change what stock shows
    // (TCP's PDU sizes, other heuristics' turn); aliiot reads the payloads itself. Its only
    // heuristic is the TLS one that finds MQTT on 443, under MQTT's name.
    let heur = h.tshark(&["-G", "heuristic-decodes"]);
    assert!(
        !heur.lines().any(|l| l.starts_with("mqtt.topic\taliiot")),
        "{heur}"
    );
    assert!(heur.lines().any(|l| l.starts_with("tls\tmqtt\t")), "{heur}");
}

/// The README's promise: filtering one device lists its whole session, and with its secret the
/// CONNECT shows the sign as verified.
#[test]
fn tutorial_session_filtered_by_device() {
    let h = harness();
    let extra = secrets_args();
    let r = h.fields(
        "01-aliyun-iot-mqtt-basic.pcapng",
        &refs(&extra),
        "aliiot.device_name == \"lab-sensor-01\"",
        &[
            "frame.number",
            "mqtt.msgtype",
            "aliiot.product_key",
            "aliiot.direction",
            "aliiot.sign.status",
            "aliiot.connect_in",
        ],
    );
    assert_eq!(
        rows(&r),
        [
            "4 1 a1B2c3D4e5F 1 1 ",
            "6 2 a1B2c3D4e5F 2  4",
            "8 8 a1B2c3D4e5F 1  4",
            "9 9 a1B2c3D4e5F 2  4",
            "11 3 a1B2c3D4e5F 1  4",
            "12 4 a1B2c3D4e5F 2  4",
            "14 3 a1B2c3D4e5F 2  4",
            "16 4 a1B2c3D4e5F 1  4",
            "18 14 a1B2c3D4e5F 1  4",
        ]
    );
    // The filter in the README, in the product-key form too.
    let n = h.fields(
        "01-aliyun-iot-mqtt-basic.pcapng",
        &[],
        "aliiot.product_key == \"a1B2c3D4e5F\"",
        &["frame.number"],
    );
    assert_eq!(n.len(), 9);
}

#[test]
fn client_id_fields() {
    let h = harness();
    let r = h.fields(
        "02-alibabacloud-sdk-thing-model.pcapng",
        &[],
        "mqtt.msgtype == 1",
        &[
            "aliiot.clientid.prefix",
            "aliiot.clientid.securemode",
            "aliiot.clientid.signmethod",
            "aliiot.clientid.timestamp",
            "aliiot.clientid.timestamp_unit",
            "aliiot.clientid.sdk_language",
            "aliiot.clientid.sdk_version",
            "aliiot.identity_source",
        ],
    );
    assert_eq!(
        rows(&r),
        ["a1B2c3D4e5F&lab-sensor-02 3 hmacsha1 2026-11-22T02:32:58.665000000Z 1 NodeJS 1.2.8 1"]
    );
    // Generic pairs for keys without a named field (MQTT 5 capture: mqtt5=1).
    let r = h.fields(
        "05-mqtt5-mqttjs-alibaba-auth.pcapng",
        &[],
        "mqtt.msgtype == 1",
        &[
            "aliiot.clientid.param.key",
            "aliiot.clientid.param.value",
            "aliiot.clientid.sdk_language",
        ],
    );
    assert_eq!(rows(&r), ["mqtt5 1 mqttjs"]);
}

/// Every shared capture verifies with the manifest's secrets, except 06a (wrong secret).
#[test]
fn sign_status_on_every_capture() {
    let h = harness();
    let extra = secrets_args();
    let expect: &[(&str, &[&str])] = &[
        ("01-aliyun-iot-mqtt-basic.pcapng", &["4 1 HMAC-SHA1"]),
        ("02-alibabacloud-sdk-thing-model.pcapng", &["4 1 HMAC-SHA1"]),
        ("04-tls-alibabacloud-sdk.pcapng", &["8 1 HMAC-SHA1"]),
        ("05-mqtt5-mqttjs-alibaba-auth.pcapng", &["4 1 HMAC-SHA256"]),
        (
            "06a-bad-devicesecret.pcapng",
            &["4 2 HMAC-SHA1", "14 2 HMAC-SHA1", "24 2 HMAC-SHA256"],
        ),
        ("06b-bad-clientid-no-ext.pcapng", &["4 1 HMAC-SHA1"]),
    ];
    for (cap, want) in expect {
        let r = h.fields(
            cap,
            &refs(&extra),
            "mqtt.msgtype == 1",
            &[
                "frame.number",
                "aliiot.sign.status",
                "aliiot.sign.algorithm",
            ],
        );
        assert_eq!(rows(&r), *want, "{cap}");
    }
    // Without secrets nothing can be verified.
    let r = h.fields(
        "01-aliyun-iot-mqtt-basic.pcapng",
        &[],
        "mqtt.msgtype == 1",
        &["aliiot.sign.status"],
    );
    assert_eq!(rows(&r), ["3"]);
}

#[test]
fn refused_logins_are_explained() {
    let h = harness();
    let extra = secrets_args();
    let r = h.fields(
        "06a-bad-devicesecret.pcapng",
        &refs(&extra),
        "aliiot.login.code",
        &[
            "frame.number",
            "aliiot.login.code",
            "aliiot.login.accepted",
            "aliiot.connect_in",
        ],
    );
    assert_eq!(rows(&r), ["6 5 0 4", "16 5 0 14", "26 135 0 24"]);
    let r = h.fields(
        "06a-bad-devicesecret.pcapng",
        &refs(&extra),
        "aliiot.login.refused",
        &["frame.number", "_ws.expert.message"],
    );
    assert_eq!(r.len(), 3);
    assert!(
        r[2][1].starts_with("Login refused (0x87): Not authorized"),
        "{:?}",
        r[2]
    );
    assert!(
        r[0][1].ends_with("The sign does not match the secret entered."),
        "{:?}",
        r[0]
    );
    let r = h.fields(
        "06a-bad-devicesecret.pcapng",
        &refs(&extra),
        "aliiot.sign.mismatch",
        &["_ws.expert.message"],
    );
    assert_eq!(
        r[0][0].split('|').next().unwrap(),
        "Login sign mismatch: tried HMAC-SHA1 with the device secret of lab-sensor-06&a1B2c3D4e5F over \
         'clientIda1B2c3D4e5F&lab-sensor-06deviceNamelab-sensor-06productKeya1B2c3D4e5Ftimestamp1795314800548'"
    );

    // 06b: no |…| part, the sign itself is right; the refusal points at the client id.
    let r = h.fields(
        "06b-bad-clientid-no-ext.pcapng",
        &refs(&extra),
        "aliiot",
        &["frame.number", "aliiot.sign.status", "_ws.expert.message"],
    );
    assert_eq!(r[0][0], "4");
    assert!(
        r[0][2].starts_with("Client id has no |securemode=…,signmethod=…| part"),
        "{:?}",
        r[0]
    );
    assert_eq!(r[1][0], "6");
    assert!(
        r[1][2].ends_with("The client id lacks its |securemode=…| part."),
        "{:?}",
        r[1]
    );
}

#[test]
fn secrets_never_appear_in_any_output() {
    let h = harness();
    let extra = secrets_args();
    for cap in [
        "01-aliyun-iot-mqtt-basic.pcapng",
        "06a-bad-devicesecret.pcapng",
    ] {
        let path = h.capture(cap);
        let mut args = refs(&extra);
        args.extend_from_slice(&["-r", &path, "-V", "-2"]);
        let v = h.tshark(&args);
        let mut args = refs(&extra);
        args.extend_from_slice(&["-r", &path, "-T", "json"]);
        let j = h.tshark(&args);
        assert!(v.contains("Alibaba Cloud IoT"));
        assert!(j.contains("\"aliiot.device_name\""));
        for out in [v, j] {
            assert!(
                !out.contains("3f1d0c9e8b7a6d5c4b3a29180f7e6d0"),
                "a device secret leaked"
            );
        }
    }
}

#[test]
fn cleartext_and_tls() {
    let h = harness();
    let extra = with_secrets(&[]);
    let r = h.fields(
        "02-alibabacloud-sdk-thing-model.pcapng",
        &refs(&extra),
        "aliiot.cleartext_credentials",
        &["frame.number"],
    );
    assert_eq!(rows(&r), ["4"]);
    // 04 is TLS (keys embedded in the pcapng): identity and sign seen inside, nothing in clear.
    let r = h.fields(
        "04-tls-alibabacloud-sdk.pcapng",
        &refs(&extra),
        "aliiot.device_name == \"lab-sensor-04\" && mqtt.msgtype <= 2",
        &[
            "frame.number",
            "aliiot.sign.status",
            "aliiot.login.accepted",
            "aliiot.clientid.securemode",
        ],
    );
    assert_eq!(rows(&r), ["8 1  2", "11  1 "]);
    assert!(h
        .fields(
            "04-tls-alibabacloud-sdk.pcapng",
            &[],
            "aliiot.cleartext_credentials",
            &["frame.number"]
        )
        .is_empty());
}

/// Plain `-r` builds no visible tree, `-2` runs two passes, `-V`/`-T json`/`-T ek` print the tree:
/// all show the same analysis.
#[test]
fn every_tshark_mode() {
    let h = harness();
    let extra = secrets_args();
    let cap = h.capture("01-aliyun-iot-mqtt-basic.pcapng");
    let mut a = refs(&extra);
    a.extend_from_slice(&["-n", "-r", &cap]);
    let summary = h.tshark(&a);
    let line4 = summary
        .lines()
        .find(|l| l.trim_start().starts_with("4 "))
        .unwrap();
    assert!(
        line4.ends_with("Connect Command · lab-sensor-01 (a1B2c3D4e5F), sign verified"),
        "{line4}"
    );
    let line6 = summary
        .lines()
        .find(|l| l.trim_start().starts_with("6 "))
        .unwrap();
    assert!(
        line6.ends_with("Connect Ack · lab-sensor-01 login accepted"),
        "{line6}"
    );

    // Two passes: the forward link from CONNECT to CONNACK appears, later frames keep identity.
    let r = h.fields(
        "01-aliyun-iot-mqtt-basic.pcapng",
        &["-2"],
        "aliiot",
        &["frame.number", "aliiot.connack_in", "aliiot.device_name"],
    );
    assert_eq!(r[0], ["4", "6", "lab-sensor-01"]);
    assert_eq!(r.len(), 9);
    assert_eq!(r[8], ["18", "", "lab-sensor-01"]);

    let mut a = refs(&extra);
    a.extend_from_slice(&["-n", "-r", &cap, "-V", "-Y", "frame.number == 4"]);
    let v = h.tshark(&a);
    for want in [
        "Alibaba Cloud IoT, lab-sensor-01 (a1B2c3D4e5F), sign verified",
        // Read from the client id: the item points at its bytes (not generated, no brackets).
        "\n        Secure mode: TCP direct, plain (3)\n",
        "[Sign: Verified (1)]",
        "[Signed content: clientId30ae1c35-e206-44ca-b583-e2a5549c038ddeviceNamelab-sensor-01productKeya1B2c3D4e5Ftimestamp1795314776064]",
        "[Expert Info (Chat/Security): Login sign verified (HMAC-SHA1 with the device secret)]",
    ] {
        assert!(v.contains(want), "-V lacks {want}:\n{v}");
    }

    for format in ["json", "ek"] {
        let mut a = refs(&extra);
        a.extend_from_slice(&["-n", "-r", &cap, "-T", format, "-Y", "frame.number == 6"]);
        let out = h.tshark(&a);
        let key = if format == "json" {
            "\"aliiot.device_name\": \"lab-sensor-01\""
        } else {
            "\"aliiot_aliiot_device_name\":\"lab-sensor-01\""
        };
        assert!(out.contains(key), "-T {format} lacks {key}:\n{out}");
    }
}

/// Every kind of label aliiot writes, as `-V` and PDML show it: the protocol line with its summary
/// appended, a text subtree, a string and a number shown with a description, and a text line too
/// long for a label (Wireshark's own truncation mark, within its 240-byte label).
#[test]
fn labels_as_wireshark_writes_them() {
    let h = harness();
    let cap = h.capture("39-tsl-temperature-series.pcapng");
    let tsl = h.tsl_folder("lab");
    let v = h.tshark(&[
        "-n",
        "-r",
        &cap,
        "-o",
        &tsl,
        "-2",
        "-V",
        "-Y",
        "frame.number == 14",
    ]);
    for want in [
        "\nAlibaba Cloud IoT, lab-sensor-28 (a1B2c3D4e5F), thing.event.property.post reply\n",
        "\n    Topic: thing.event.property.post (reply)\n",
        "\n        [Topic class: thing.event.property.post (Device reports property values)]\n",
        "\n    Alink reply: id 1, code 200\n",
        "\n        Code: 200 (success)\n",
    ] {
        assert!(v.contains(want), "-V lacks {want:?}:\n{v}");
    }
    let pdml = h.tshark(&[
        "-n",
        "-r",
        &cap,
        "-o",
        &tsl,
        "-T",
        "pdml",
        "-Y",
        "frame.number == 14",
    ]);
    for want in [
        // A text item has no field name; its label is its show attribute.
        "<field name=\"\" show=\"Topic: thing.event.property.post (reply)\"",
        "<field name=\"aliiot.alink.code\" showname=\"Code: 200 (success)\"",
    ] {
        assert!(pdml.contains(want), "PDML lacks {want}:\n{pdml}");
    }

    let cap = h.capture("25-ws-split-and-coalesced.pcapng");
    let v = h.tshark(&["-n", "-r", &cap, "-V", "-Y", "frame.number == 17"]);
    let long: Vec<&str> = v
        .lines()
        .map(str::trim)
        .filter(|l| l.contains("note = lab padding so that this Alink property post"))
        .collect();
    assert_eq!(long.len(), 1, "{v}");
    // Wireshark's mark: "[truncated]" up to 4.2, "[…]" from 4.4 on.
    assert!(
        long[0].starts_with("[truncated]") || long[0].starts_with("[…]"),
        "{}",
        long[0]
    );
    assert!(long[0].len() < 240, "{} bytes: {}", long[0].len(), long[0]);
}

/// Real MQTT from mosquitto's clients: no aliiot layer at all, no expert items, and the
/// SparkplugB heuristic still gets its topic.
#[test]
fn plain_mqtt_is_left_alone() {
    let h = harness();
    let cap = "07-plain-mosquitto.pcapng";
    assert!(h.fields(cap, &[], "mqtt", &["frame.number"]).len() >= 19);
    assert!(h.fields(cap, &[], "aliiot", &["frame.number"]).is_empty());
    assert!(h
        .fields(cap, &["-2"], "aliiot", &["frame.number"])
        .is_empty());
    assert_eq!(
        rows(&h.fields(cap, &[], "sparkplugb", &["frame.number"])),
        ["34"]
    );
}

/// aliiot never changes MQTT's own fields: the MQTT layer is identical with and without it.
#[test]
fn mqtt_fields_are_unchanged() {
    let h = harness();
    for cap in [
        "01-aliyun-iot-mqtt-basic.pcapng",
        "02-alibabacloud-sdk-thing-model.pcapng",
        "04-tls-alibabacloud-sdk.pcapng",
        "05-mqtt5-mqttjs-alibaba-auth.pcapng",
        "06a-bad-devicesecret.pcapng",
        "08-bad-input.pcap",
    ] {
        let path = h.capture(cap);
        let with = h.tshark(&["-n", "-r", &path, "-T", "json", "-j", "mqtt"]);
        let without = h.tshark(&[
            "-n",
            "-r",
            &path,
            "-T",
            "json",
            "-j",
            "mqtt",
            "--disable-protocol",
            "aliiot",
        ]);
        assert!(
            with.contains("\"mqtt\""),
            "{cap}: no MQTT layer in the JSON"
        );
        // `-j mqtt` lists aliiot's layer as filtered out; apart from that marker, byte-identical.
        let marker = ",\n        \"aliiot\": {\n          \"filtered\": \"aliiot\"\n        }";
        assert!(with.contains(marker), "{cap}: aliiot did not run");
        assert!(
            with.replace(marker, "") == without,
            "{cap}: MQTT layer differs with aliiot enabled"
        );
    }
}

/// Hostile and malformed logins (tests/captures/make-bad-input.py): each gets the right expert
/// item and tshark finishes cleanly in every mode.
#[test]
fn bad_input() {
    let h = harness();
    let cap = "08-bad-input.pcap";
    for mode in [&["-V"][..], &["-2", "-V"], &[]] {
        let path = h.capture(cap);
        let mut a = vec!["-n", "-r", &path];
        a.extend_from_slice(mode);
        h.tshark(&a);
    }
    let expert = |filter: &str| rows(&h.fields(cap, &[], filter, &["tcp.srcport"]));
    assert_eq!(expert("aliiot.password.not_hex"), ["40001"]);
    assert_eq!(expert("aliiot.clientid.prefix_too_long"), ["40002"]);
    assert_eq!(expert("aliiot.clientid.malformed"), ["40003"]);
    assert_eq!(expert("aliiot.not_utf8"), ["40004"]);
    assert_eq!(expert("aliiot.clientid.escaped_commas"), ["40006"]);
    assert_eq!(expert("aliiot.clientid.unknown_securemode"), ["40006"]);
    assert_eq!(expert("aliiot.keepalive_out_of_range"), ["40006"]);
    // MQTT 5: 3000 user properties on the CONNECT, 25 and topic alias 30 on a PUBLISH, then a
    // property list that runs past its packet (MQTT marks it malformed; aliiot goes on).
    assert_eq!(expert("aliiot.mqtt5.platform_limit"), ["40009", "40009"]);
    let r = h.fields(
        cap,
        &[],
        "tcp.srcport == 40009 && aliiot.mqtt5.platform_limit",
        &["_ws.expert.message"],
    );
    assert!(
        r[0][0].contains("3000 user properties: the platform takes at most 20"),
        "{:?}",
        r[0]
    );
    assert!(
        r[1][0].contains("Topic alias 30: the platform allows at most 20"),
        "{:?}",
        r[1]
    );
    // The malformed CONNECT (5) and the one cut by the snap length (8) get nothing, not a crash.
    assert!(expert("tcp.srcport == 40005 && aliiot").is_empty());
    assert!(expert("tcp.srcport == 40008 && aliiot").is_empty());
    // 3000 parameters: 64 kept, the rest counted.
    let r = h.fields(
        cap,
        &[],
        "aliiot.clientid.malformed",
        &["_ws.expert.message"],
    );
    assert!(
        r[0][0].contains("Client id has 2938 more parameters than aliiot shows"),
        "{:?}",
        r[0]
    );
    // Identity with replacement characters for invalid UTF-8.
    let r = h.fields(
        cap,
        &[],
        "tcp.srcport == 40004 && mqtt.msgtype == 1",
        &["aliiot.device_name"],
    );
    assert_eq!(rows(&r), ["bad-04\u{fffd}"]);
    // The 1000-level topic keeps the login's identity.
    let r = h.fields(
        cap,
        &[],
        "tcp.srcport == 40007 && mqtt.msgtype == 3",
        &["aliiot.device_name"],
    );
    assert_eq!(rows(&r), ["bad-07"]);
}

/// A keys file given as a preference works like the table; a missing one is reported, not fatal.
#[test]
fn keys_file_preference() {
    let h = harness();
    let keys = h.dir.join("captures/lab.keys");
    std::fs::write(
        &keys,
        "# lab devices\na1B2c3D4e5F,lab-sensor-01,3f1d0c9e8b7a6d5c4b3a29180f7e6d01\n",
    )
    .unwrap();
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let pref = format!("aliiot.keys_file:{}", keys.display());
    let r = h.fields(
        "01-aliyun-iot-mqtt-basic.pcapng",
        &["-o", &pref],
        "mqtt.msgtype == 1",
        &["aliiot.sign.status"],
    );
    assert_eq!(rows(&r), ["1"]);

    let missing = format!("aliiot.keys_file:{}", h.dir.join("nope.keys").display());
    let path = h.capture("01-aliyun-iot-mqtt-basic.pcapng");
    let (out, err, ok) = h.run_raw(&[
        "-n",
        "-r",
        &path,
        "-o",
        &missing,
        "-Y",
        "mqtt.msgtype == 1",
        "-T",
        "fields",
        "-e",
        "aliiot.sign.status",
    ]);
    assert!(ok);
    assert_eq!(out.trim(), "3");
    assert!(err.contains("cannot read the secrets file"), "{err}");
}

/// A capture that starts mid-session (tests/captures/09-mid-session.pcapng is frames 12–22 of 01:
/// no CONNECT). Identity comes from the first Alibaba topic; the broker's port tells the direction.
/// One pass cannot name the device on the PUBACK before that topic; two passes do.
#[test]
fn capture_started_mid_session() {
    let h = harness();
    let cap = "09-mid-session.pcapng";
    let f = [
        "frame.number",
        "mqtt.msgtype",
        "aliiot.device_name",
        "aliiot.identity_source",
        "aliiot.direction",
    ];
    let one = h.fields(cap, &[], "mqtt", &f);
    assert_eq!(
        rows(&one),
        [
            "1 4   ",
            "3 3 lab-sensor-01 2 2",
            "5 4 lab-sensor-01 2 1",
            "7 14 lab-sensor-01 2 1"
        ]
    );
    let two = h.fields(cap, &["-2"], "mqtt", &f);
    assert_eq!(
        rows(&two),
        [
            "1 4 lab-sensor-01 2 2",
            "3 3 lab-sensor-01 2 2",
            "5 4 lab-sensor-01 2 1",
            "7 14 lab-sensor-01 2 1"
        ]
    );
}

/// The plugin exports exactly the loader's symbols for the series it was built for.
#[test]
fn exports_exactly_the_plugin_abi() {
    let h = harness();
    let so = h.home.join(format!(
        ".local/lib/wireshark/plugins/{SERIES}/epan/aliiot.so"
    ));
    let out = std::process::Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&so)
        .output()
        .expect("nm");
    let mut syms: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(str::to_string))
        .collect();
    syms.sort();
    let mut want = vec![
        "plugin_register",
        "plugin_version",
        "plugin_want_major",
        "plugin_want_minor",
    ];
    if SERIES != "4.0" && SERIES != "4.2" {
        want.push("plugin_describe");
    }
    want.sort();
    assert_eq!(syms, want);
}

/// Bad input to the preferences: rows of the secrets table with an empty, over-long or spaced
/// value are refused with a message naming the field, and the rows after them are still used; a
/// keys file that is binary, a folder or unreadable gives a message and nothing else changes.
#[test]
fn bad_secrets_rows_and_keys_files() {
    let h = harness();
    let profile = h.home.join(".config/wireshark/profiles/bad-secrets");
    std::fs::create_dir_all(&profile).unwrap();
    let long = "x".repeat(300);
    std::fs::write(
        profile.join("aliiot_device_secrets"),
        format!(
            "\"a1B2c3D4e5F\",\"other\",\"\"\n\"a1B2c3D4e5F\",\"lab sensor\",\"abc\"\n\"x\",\"y\",\"{long}\"\n\
             \"a1B2c3D4e5F\",\"lab-sensor-01\",\"3f1d0c9e8b7a6d5c4b3a29180f7e6d01\"\n"
        ),
    )
    .unwrap();
    common::make_world_readable(&h.home.join(".config"));
    let cap = h.capture("01-aliyun-iot-mqtt-basic.pcapng");
    let status = |extra: &[&str]| {
        let mut args = vec!["-n", "-r", &cap, "-Y", "mqtt.msgtype == 1"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["-T", "fields", "-e", "aliiot.sign.status"]);
        let (out, err, ok) = h.run_raw(&args);
        assert!(ok, "{err}");
        (out.trim().to_string(), err)
    };
    let (out, err) = status(&["-C", "bad-secrets"]);
    assert_eq!(
        out, "1",
        "the good row after the bad ones verifies the sign"
    );
    assert!(
        err.contains("Error loading table 'Alibaba Cloud IoT device secrets'")
            && err.contains("Device secret is longer than 256 characters"),
        "{err}"
    );

    // On the command line a bad row is an invalid -o, as for any Wireshark table.
    let (_, err, ok) = h.run_raw(&[
        "-n",
        "-r",
        &cap,
        "-o",
        "uat:aliiot_device_secrets:\"a1B2c3D4e5F\",\"lab-sensor-01\",\"\"",
    ]);
    assert!(
        !ok && err.contains("Device secret must not be empty"),
        "{err}"
    );

    let dir = h.dir.join("keys-cases");
    std::fs::create_dir_all(dir.join("folder.keys")).unwrap();
    std::fs::write(dir.join("binary.keys"), b"\x00\xff\xfe\x01binary").unwrap();
    std::fs::write(
        dir.join("unreadable.keys"),
        "a1B2c3D4e5F,lab-sensor-01,3f1d0c9e8b7a6d5c4b3a29180f7e6d01\n",
    )
    .unwrap();
    common::make_world_readable(&dir);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        dir.join("unreadable.keys"),
        std::fs::Permissions::from_mode(0o0),
    )
    .unwrap();
    for (file, message) in [
        ("binary.keys", "is not UTF-8 text; it was ignored"),
        ("folder.keys", "cannot read the secrets file"),
        ("unreadable.keys", "cannot read the secrets file"),
    ] {
        let pref = format!("aliiot.keys_file:{}", dir.join(file).display());
        let (out, err) = status(&["-o", &pref]);
        assert_eq!(out, "3", "{file}: no secret, nothing else changes");
        assert!(err.contains(message), "{file}: {err}");
    }
}
