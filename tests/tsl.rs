//! The thing model (TSL): values named and checked against a product's model from the TSL folder
//! (`-o aliiot.tsl_folder:…`) or from the capture itself, in captures of real SDKs sending values
//! that break the model (tests/captures/lab/tsl-record.sh), and bad model files.

mod common;

use common::{harness, rows, Harness};

/// PyPI aliyun-iot-linkkit 1.2.13 with the lab thermostat's model (tests/tsl/lab).
const LINKKIT: &str = "36-tsl-linkkit-violations.pcapng";
/// Alibaba's C SDK 3.x in its TSL-driven mode: asks for its model on thing/dynamicTsl/get.
const C_SDK: &str = "37-tsl-c-sdk3-dynamictsl.pcapng";
/// linkkit downloads its model on thing/dsltemplate/get.
const TEMPLATE: &str = "38-tsl-dsltemplate-linkkit.pcapng";
/// The Node SDK's thing-model capture from the shared set.
const NODE: &str = "02-alibabacloud-sdk-thing-model.pcapng";

/// linkkit's capture (LINKKIT) with the lab thermostat's model, as fields.
fn with_lab_model(h: &Harness, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    h.fields(LINKKIT, &["-o", &h.tsl_folder("lab")], filter, fields)
}

/// Every finding, per frame, in the words of the TSL reference (§5.2); the 6332 reply to the post
/// naming a property the model lacks points at it.
#[test]
fn what_the_python_sdk_sends_against_the_model() {
    let h = harness();
    let r = with_lab_model(
        h,
        "aliiot.tsl.violation or aliiot.tsl.cause_frame",
        &[
            "frame.number",
            "aliiot.tsl.cause_frame",
            "aliiot.tsl.violation",
        ],
    );
    assert_eq!(
        rows(&r),
        [
            "16  TSL: out of range: \"CurrentTemperature\"=120.5 is above the model's maximum 85|\
             TSL: \"TargetTemperature\" number sent as string|\
             TSL: enum \"WorkMode\"=7 not in {0,1,2}|\
             TSL: text too long: \"DisplayText\" 22 > 12 characters (22 bytes)|\
             TSL: bool \"PowerSwitch\" must be 0 or 1, got true",
            "21  TSL: write to read-only property \"CurrentTemperature\"|\
             TSL: out of range: \"TargetTemperature\"=40 is above the model's maximum 28",
            "29  TSL: unknown property \"Counter\"",
            "32 29 ",
            "34  TSL: service \"Calibrate\" lacks input \"mode\"|\
             TSL: out of range: \"offset\"=7.5 is above the model's maximum 5|\
             TSL: service \"Calibrate\" has unknown input \"force\"",
            "38  TSL: out of range: \"Schedule.Hour\"=25 is above the model's maximum 23|\
             TSL: struct \"Schedule\" lacks \"Minute\"|\
             TSL: array \"History\" has 5 items > size 4|\
             TSL: \"History\"[1] is not double|\
             TSL: date \"LastMaintenance\" sent as number",
            "44  TSL: sync service \"Reboot\" delivered async (product may be verification-free)",
            "48  TSL: out of range: \"Temperature\"=250.0 is above the model's maximum 200|\
             TSL: event \"Overheat\" has unknown output \"Extra\"",
            "50  TSL: out of range: \"newOffset\"=7.5 is above the model's maximum 5|\
             TSL: service \"Calibrate\" reply has unknown output \"note\"",
        ]
    );
    // Severities as the reference rates them: E errors, W warnings, N notes.
    let r = with_lab_model(
        h,
        "aliiot.tsl.violation",
        &["frame.number", "_ws.expert.severity"],
    );
    const E: &str = "8388608";
    const W: &str = "6291456";
    const N: &str = "4194304";
    assert_eq!(
        rows(&r),
        [
            format!("16 {E}|{W}|{E}|{E}|{W}"),
            format!("21 {E}|{E}"),
            format!("29 {E}"),
            format!("34 {W}|{E}|{E}"),
            format!("38 {E}|{W}|{E}|{E}|{W}"),
            format!("44 {N}"),
            format!("48 {E}|{E}"),
            format!("50 {E}|{E}"),
        ]
    );
    // Each check has its own expert name to filter on.
    let r = with_lab_model(h, "aliiot.tsl.out_of_range", &["frame.number"]);
    assert_eq!(rows(&r), ["16", "21", "34", "38", "48", "50"]);
    let r = with_lab_model(h, "aliiot.tsl.explains_error", &["frame.number"]);
    assert_eq!(rows(&r), ["32"]);
}

/// Display names, units, types and value names; where the model came from.
#[test]
fn values_named_by_the_model() {
    let h = harness();
    let folder = h.tsl_folder("lab");
    let r = with_lab_model(
        h,
        "frame.number == 11",
        &[
            "aliiot.property.name",
            "aliiot.property.display_name",
            "aliiot.property.value",
            "aliiot.property.unit",
            "aliiot.property.unit_name",
            "aliiot.property.value_name",
            "aliiot.property.data_type",
        ],
    );
    assert_eq!(
        rows(&r),
        ["CurrentTemperature|PowerSwitch|WorkMode Current temperature|Power|Work mode 21.5|1|2 °C Celsius on|heat float|bool|enum"]
    );
    let source = with_lab_model(h, "frame.number == 11", &["aliiot.tsl.source"]);
    assert!(
        source[0][0].starts_with("file ") && source[0][0].ends_with("/tsl/lab/thermostat.json"),
        "{source:?}"
    );
    // The tree: labels with the model's names and units; struct members and array items nested.
    let cap = h.capture(LINKKIT);
    let tree = h.tshark(&[
        "-n",
        "-r",
        &cap,
        "-o",
        &folder,
        "-Y",
        "frame.number == 38",
        "-O",
        "aliiot",
    ]);
    for line in [
        "            Schedule = {\"Hour\":25,\"Enabled\":1} [2 TSL findings]",
        "                Enabled = 1 (yes)",
        "                    [Value name: yes]",
        "            Temperature history (History) = [20.5,\"x\",21.0,22.0,23.0] [2 TSL findings]",
        "                Temperature history [2] ([2]) = 21.0 °C",
        "            Last maintenance (LastMaintenance) = 1700000000000 [1 TSL finding]",
    ] {
        assert!(tree.lines().any(|l| l == line), "no {line:?} in\n{tree}");
    }
    let tree = h.tshark(&[
        "-n",
        "-r",
        &cap,
        "-o",
        &folder,
        "-Y",
        "frame.number == 11",
        "-O",
        "aliiot",
    ]);
    for line in [
        "            Current temperature (CurrentTemperature) = 21.5 °C",
        "            Power (PowerSwitch) = 1 (on)",
        "                Value: 1 (on)",
    ] {
        assert!(tree.lines().any(|l| l == line), "no {line:?} in\n{tree}");
    }
}

/// Two passes show what one shows: the first pass (no tree, as in the GUI) checks a request
/// only when an error reply comes, and the reply points at it all the same.
#[test]
fn two_passes_and_no_model() {
    let h = harness();
    let folder = h.tsl_folder("lab");
    let fields = [
        "frame.number",
        "aliiot.tsl.cause_frame",
        "aliiot.tsl.violation",
    ];
    let filter = "aliiot.tsl.violation or aliiot.tsl.cause_frame";
    let one = h.fields(LINKKIT, &["-o", &folder], filter, &fields);
    let two = h.fields(LINKKIT, &["-2", "-o", &folder], filter, &fields);
    assert_eq!(one, two);
    assert_eq!(one.len(), 9);
    let r = h.fields(
        LINKKIT,
        &["-2", "-o", &folder],
        "aliiot.tsl.explains_error",
        &["frame.number", "aliiot.tsl.cause_frame"],
    );
    assert_eq!(rows(&r), ["32 29"]);
    // The summary lines (Info column) are the same with or without a model.
    let cap = h.capture(LINKKIT);
    let lines = |extra: &[&str]| {
        let mut args = vec!["-n", "-r", &cap, "-Y", "mqtt.msgtype == 3"];
        args.extend_from_slice(extra);
        h.tshark(&args)
    };
    let with = lines(&["-o", &folder]);
    assert_eq!(with, lines(&[]));
    assert!(
        with.contains(" · thing.event.property.post reply 6332"),
        "{with}"
    );
    // Without a model nothing of it shows.
    let r = h.fields(
        LINKKIT,
        &[],
        "aliiot.tsl.violation or aliiot.tsl.source or aliiot.property.display_name",
        &["frame.number"],
    );
    assert!(r.is_empty(), "{r:?}");
}

/// The C SDK asks for its model (thing/dynamicTsl/get: the SDK's TSL-driven mode never calls
/// its dsltemplate request): messages after the reply are checked against it, among them what
/// the SDK sends beyond the model and its own refusal (400) of a set the model faults.
#[test]
fn model_from_the_c_sdk_download() {
    let h = harness();
    let r = h.fields(
        C_SDK,
        &[],
        "aliiot.tsl.violation or aliiot.tsl.learned or aliiot.tsl.cause_frame",
        &[
            "frame.number",
            "aliiot.tsl.cause_frame",
            "aliiot.tsl.violation",
            "_ws.expert.message",
        ],
    );
    assert_eq!(
        rows(&r),
        [
            "53   Thing model of product a1RIsMLz2BJ taken from this reply: later messages are checked against it",
            "57  TSL: out of range: \"CurrentTemperature\"=71.5 is above the model's maximum 55|\
             TSL: out of range: \"RSSI\"=20 is above the model's maximum -1|\
             TSL: enum \"WorkMode\"=5 not in {0,1,2}|\
             TSL: text too long: \"DeviceLabel\" 15 > 8 characters (15 bytes) \
             TSL: out of range: \"CurrentTemperature\"=71.5 is above the model's maximum 55|\
             TSL: out of range: \"RSSI\"=20 is above the model's maximum -1|\
             TSL: enum \"WorkMode\"=5 not in {0,1,2}|\
             TSL: text too long: \"DeviceLabel\" 15 > 8 characters (15 bytes)",
            "59  TSL: write to read-only property \"CurrentTemperature\"|TSL: unknown property \"TargetTemperature\" \
             TSL: write to read-only property \"CurrentTemperature\"|TSL: unknown property \"TargetTemperature\"",
            "61 59  Code 400 answers the request in frame 59, which breaks the thing model (2 findings): likely why it was refused|Alink code 400: request error / internal error",
            "63  TSL: unknown service \"Calibrate\" TSL: unknown service \"Calibrate\"",
            "65  TSL: event params not wrapped in \"value\" (the Link and Node SDKs send them so)|\
             TSL: enum \"ErrorCode\"=3 not in {0,1,2} \
             TSL: event params not wrapped in \"value\" (the Link and Node SDKs send them so)|\
             TSL: enum \"ErrorCode\"=3 not in {0,1,2}",
            "67  TSL: unknown service \"Reboot\" TSL: unknown service \"Reboot\"",
        ]
    );
    let r = h.fields(
        C_SDK,
        &[],
        "frame.number in {55, 57}",
        &[
            "frame.number",
            "aliiot.tsl.source",
            "aliiot.property.display_name",
        ],
    );
    assert_eq!(
        rows(&r),
        [
            "55 capture, the thing model reply in frame 53 Main light|Current temperature|Signal strength|Work mode|Device label",
            "57 capture, the thing model reply in frame 53 Main light|Current temperature|Signal strength|Work mode|Device label",
        ]
    );
}

/// A model downloaded on thing/dsltemplate/get is in force from the next frame on, on every pass:
/// the post before it is not checked. A file for the product wins over the capture's model.
#[test]
fn model_from_dsltemplate_get_reply() {
    let h = harness();
    for two_pass in [false, true] {
        let extra: &[&str] = if two_pass { &["-2"] } else { &[] };
        let r = h.fields(
            TEMPLATE,
            extra,
            "mqtt.topic contains \"property/post\" and not mqtt.topic contains \"reply\" or aliiot.tsl.learned",
            &["frame.number", "aliiot.tsl.source", "aliiot.tsl.violation"],
        );
        assert_eq!(
            rows(&r),
            [
                "11  ",
                "19  ",
                "21 capture, the thing model reply in frame 19 ",
                "26 capture, the thing model reply in frame 19 TSL: out of range: \"CurrentTemperature\"=99.5 is above the model's maximum 85|TSL: enum \"WorkMode\"=3 not in {0,1,2}",
            ],
            "two passes: {two_pass}"
        );
    }
    let folder = h.tsl_folder("lab");
    let r = h.fields(
        TEMPLATE,
        &["-o", &folder],
        "frame.number in {11, 19}",
        &["frame.number", "aliiot.tsl.violation", "_ws.expert.message"],
    );
    assert_eq!(
        rows(&r),
        [
            "11 TSL: out of range: \"CurrentTemperature\"=99.5 is above the model's maximum 85 TSL: out of range: \"CurrentTemperature\"=99.5 is above the model's maximum 85",
            // Nothing learned: the file is the product's model.
            "19  34 more JSON values are not shown",
        ]
    );
}

/// The Node SDK's capture from the shared set with a model for its product: its 460 reply to the
/// lowBattery event points at the event, whose output the model does not know.
#[test]
fn node_sdk_error_reply_explained() {
    let h = harness();
    let folder = h.tsl_folder("sdk-demo");
    let r = h.fields(
        NODE,
        &["-o", &folder],
        "frame.number == 18",
        &[
            "aliiot.alink.code",
            "aliiot.tsl.cause_frame",
            "_ws.expert.message",
        ],
    );
    assert_eq!(
        rows(&r),
        ["460 13 Code 460 answers the request in frame 13, which breaks the thing model (2 findings): likely why it was refused|Alink code 460: request parameter error"]
    );
}

/// `-z aliiot,properties`: one row per product, device and property, with a filter argument.
#[test]
fn properties_statistic() {
    let h = harness();
    let folder = h.tsl_folder("lab");
    let cap = h.capture(LINKKIT);
    let out = h.tshark(&[
        "-n",
        "-q",
        "-r",
        &cap,
        "-o",
        &folder,
        "-z",
        "aliiot,properties",
    ]);
    assert_eq!(
        out,
        "\n=== Alibaba Cloud IoT properties ===\n\
Product      Device         Property            Name                 Count            Min            Avg            Max  Last                      TSL findings\n\
a1B2c3D4e5F  lab-sensor-26  Counter             -                        1              3              3              3  3                                    1\n\
a1B2c3D4e5F  lab-sensor-26  CurrentTemperature  Current temperature      2           21.5             71          120.5  120.5                                1\n\
a1B2c3D4e5F  lab-sensor-26  DisplayText         Display text             1              -              -              -  Living room thermostat               1\n\
a1B2c3D4e5F  lab-sensor-26  History             Temperature history      1              -              -              -  [20.5,\"x\",21.0,22.0,23.…             2\n\
a1B2c3D4e5F  lab-sensor-26  LastMaintenance     Last maintenance         1  1700000000000  1700000000000  1700000000000  1700000000000                        1\n\
a1B2c3D4e5F  lab-sensor-26  PowerSwitch         Power                    2              1              1              1  true                                 1\n\
a1B2c3D4e5F  lab-sensor-26  Schedule            Schedule                 1              -              -              -  {\"Hour\":25,\"Enabled\":1}              2\n\
a1B2c3D4e5F  lab-sensor-26  TargetTemperature   Target temperature       2             21             21             21  21                                   1\n\
a1B2c3D4e5F  lab-sensor-26  WorkMode            Work mode                2              2            4.5              7  7                                    1\n\
===\n"
    );
    // Without a model: the same rows, no names, no findings; a filter picks the packets.
    let out = h.tshark(&[
        "-n",
        "-q",
        "-r",
        &cap,
        "-z",
        "aliiot,properties,frame.number <= 16",
    ]);
    assert_eq!(
        out,
        "\n=== Alibaba Cloud IoT properties ===\n\
Product      Device         Property            Name  Count   Min  Avg    Max  Last                    TSL findings\n\
a1B2c3D4e5F  lab-sensor-26  CurrentTemperature  -         2  21.5   71  120.5  120.5                              0\n\
a1B2c3D4e5F  lab-sensor-26  DisplayText         -         1     -    -      -  Living room thermostat             0\n\
a1B2c3D4e5F  lab-sensor-26  PowerSwitch         -         2     1    1      1  true                               0\n\
a1B2c3D4e5F  lab-sensor-26  TargetTemperature   -         1     -    -      -  22                                 0\n\
a1B2c3D4e5F  lab-sensor-26  WorkMode            -         2     2  4.5      7  7                                  0\n\
===\n"
    );
    // The statistics tree (Statistics › Alibaba Cloud IoT properties) has the same numbers.
    let tree = h.tshark(&[
        "-n",
        "-q",
        "-r",
        &cap,
        "-o",
        &folder,
        "-z",
        "aliiot_properties,tree",
    ]);
    // Count, average, minimum, maximum (each Wireshark prints them with its own precision).
    let numbers = |name: &str| -> Vec<f64> {
        let line = tree
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in\n{tree}"));
        line.trim_start()[name.len()..]
            .split_whitespace()
            .take(4)
            .map(|n| n.trim_end_matches('%').parse().unwrap_or(f64::NAN))
            .collect()
    };
    let t = numbers("CurrentTemperature");
    assert_eq!(t[0], 2.0, "{tree}");
    assert!(
        (t[1] - 71.0).abs() < 0.01 && (t[2] - 21.5).abs() < 0.01 && (t[3] - 120.5).abs() < 0.01,
        "{tree}"
    );
    assert_eq!(numbers("lab-sensor-26")[0], 13.0, "{tree}");
    assert_eq!(numbers("TSL findings")[0], 1.0, "{tree}");
}

/// Bad model files: one message each, naming the file, line and column and what is wrong; the
/// good file of the folder still works, and so does everything else.
#[test]
fn bad_model_files() {
    let h = harness();
    let dir = h.scratch("bad-tsl");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tsl/sdk-demo/lab-sensor.json"),
        dir.join("good.json"),
    )
    .unwrap();
    std::fs::write(dir.join("invalid.json"), "{\n  \"profile\": {\"productKey\": \"p1\"},\n  \"properties\": [\n    {\"identifier\": \"a\", }\n  ]\n}\n").unwrap();
    std::fs::write(dir.join("specs.json"), "{\"profile\": {\"productKey\": \"p2\"},\n \"properties\": [{\"identifier\": \"a\",\n  \"dataType\": {\"type\": \"int\", \"specs\": {\"min\": \"zero\"}}}]}\n").unwrap();
    std::fs::write(dir.join("twice.json"), "{\"profile\": {\"productKey\": \"p3\"}, \"properties\": [\n{\"identifier\": \"a\", \"dataType\": {\"type\": \"text\"}},\n{\"identifier\": \"a\", \"dataType\": {\"type\": \"date\"}}\n]}\n").unwrap();
    std::fs::write(dir.join("not-a-model.json"), "[1, 2, 3]").unwrap();
    // 50 MB of a valid model: not read (no thing model is that large), said once.
    let mut huge = String::from("{\"profile\": {\"productKey\": \"p4\"}, \"properties\": [");
    let prop = "{\"identifier\": \"p\", \"name\": \"padding padding padding padding padding padding padding\", \"dataType\": {\"type\": \"int\"}},";
    while huge.len() < 50 << 20 {
        huge.push_str(prop);
    }
    huge.push_str("{\"identifier\": \"last\", \"dataType\": {\"type\": \"int\"}}]}");
    std::fs::write(dir.join("huge.json"), huge).unwrap();
    common::make_world_readable(&dir);
    let folder = format!("aliiot.tsl_folder:{}", dir.display());
    let cap = h.capture(NODE);
    let (out, err, ok) = h.run_raw(&[
        "-n",
        "-r",
        &cap,
        "-o",
        &folder,
        "-Y",
        "aliiot.tsl.violation",
        "-T",
        "fields",
        "-e",
        "frame.number",
    ]);
    assert!(ok, "{err}");
    assert_eq!(out, "13\n");
    let d = dir.display();
    let messages: Vec<&str> = err
        .lines()
        .filter_map(|l| l.split_once("-- aliiot: ").map(|(_, m)| m))
        .collect();
    assert_eq!(
        messages,
        [
            format!("{d}/huge.json: not read: 52.4 MB, more than a thing model can be (16 MB at most)"),
            format!("{d}/invalid.json: line 4 column 25: trailing comma"),
            format!("{d}/not-a-model.json: line 1 column 1: not a thing model: a JSON object was expected"),
            format!("{d}/specs.json: line 3 column 53: \"zero\" is not a number"),
            // Said where the parser stands once it has read the second one.
            format!("{d}/twice.json: line 4 column 1: identifier \"a\" appears twice"),
        ]
    );
    assert_eq!(err.lines().count(), 5, "{err}");
}

/// A folder that does not exist: said once, and nothing else changes.
#[test]
fn missing_folder() {
    let h = harness();
    let cap = h.capture(NODE);
    let (out, err, ok) = h.run_raw(&[
        "-n",
        "-r",
        &cap,
        "-o",
        "aliiot.tsl_folder:/nonexistent/tsl",
        "-Y",
        "aliiot.property.name",
        "-T",
        "fields",
        "-e",
        "aliiot.property.name",
    ]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 3);
    assert!(
        err.contains(
            "aliiot: cannot read the TSL folder /nonexistent/tsl: No such file or directory"
        ),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}
