//! The loader over good and bad files, the checker over every data type and check of the TSL
//! reference (§5.2), and messages described against a model.

use std::rc::Rc;

use super::check::{check_value, Issues, TslIssue};
use super::load::{self, LoadError};
use super::model::{Access, DataType, Found, NumKind, ProductModel};
use super::{describe, Args, Source};
use crate::core::expert::{Finding, EXPERTS};
use crate::core::json;
use crate::core::topic;

/// A thermostat: every data type, an event, a sync and an async service.
pub const THERMOSTAT: &str = r#"{
  "schema": "https://iotx-tsl.oss-ap-southeast-1.aliyuncs.com/schema.json",
  "profile": {"productKey": "a1B2c3D4e5F"},
  "properties": [
    {"identifier": "CurrentTemperature", "name": "Current temperature", "accessMode": "r",
     "dataType": {"type": "float", "specs": {"min": "-40", "max": "20", "step": "0.1", "unit": "°C", "unitName": "Celsius"}}},
    {"identifier": "TargetTemperature", "name": "Target temperature", "accessMode": "rw",
     "dataType": {"type": "int", "specs": {"min": "5", "max": "35", "step": "1", "unit": "°C", "unitName": "Celsius"}}},
    {"identifier": "Humidity", "name": "Humidity", "accessMode": "r",
     "dataType": {"type": "double", "specs": {"min": "0", "max": "100", "step": "0.5", "unit": "%"}}},
    {"identifier": "PowerSwitch", "name": "Power", "accessMode": "rw",
     "dataType": {"type": "bool", "specs": {"0": "off", "1": "on"}}},
    {"identifier": "WorkMode", "name": "Work mode", "accessMode": "rw",
     "dataType": {"type": "enum", "specs": {"0": "auto", "1": "cool", "2": "heat"}}},
    {"identifier": "Label", "name": "Label", "accessMode": "rw",
     "dataType": {"type": "text", "specs": {"length": "8"}}},
    {"identifier": "LastService", "name": "Last service", "accessMode": "r",
     "dataType": {"type": "date", "specs": {}}},
    {"identifier": "Schedule", "name": "Schedule", "accessMode": "rw",
     "dataType": {"type": "struct", "specs": [
        {"identifier": "Hour", "name": "Hour", "dataType": {"type": "int", "specs": {"min": "0", "max": "23"}}},
        {"identifier": "Enabled", "name": "Enabled", "dataType": {"type": "bool", "specs": {"0": "no", "1": "yes"}}}
     ]}},
    {"identifier": "Readings", "name": "Readings", "accessMode": "r",
     "dataType": {"type": "array", "specs": {"size": "3", "item": {"type": "int", "specs": {"min": "0", "max": "9"}}}}}
  ],
  "events": [
    {"identifier": "post", "name": "post", "type": "info", "method": "thing.event.property.post", "outputData": []},
    {"identifier": "Overheat", "name": "Overheat", "type": "alert", "method": "thing.event.Overheat.post",
     "outputData": [{"identifier": "Temperature", "name": "Temperature", "dataType": {"type": "float", "specs": {"min": "0", "max": "200", "unit": "°C"}}}]}
  ],
  "services": [
    {"identifier": "set", "name": "set", "callType": "async", "method": "thing.service.property.set", "inputData": [], "outputData": []},
    {"identifier": "get", "name": "get", "callType": "async", "method": "thing.service.property.get", "inputData": ["CurrentTemperature"], "outputData": []},
    {"identifier": "Calibrate", "name": "Calibrate", "callType": "async", "method": "thing.service.Calibrate",
     "inputData": [{"identifier": "offset", "name": "Offset", "dataType": {"type": "double", "specs": {"min": "-5", "max": "5"}}}],
     "outputData": [{"identifier": "result", "name": "Result", "dataType": {"type": "int", "specs": {}}}]},
    {"identifier": "Reboot", "name": "Reboot", "callType": "sync", "method": "thing.service.Reboot",
     "inputData": [], "outputData": []}
  ]
}"#;

fn model() -> Rc<ProductModel> {
    Rc::new(
        load::parse(THERMOSTAT.as_bytes())
            .unwrap()
            .into_product(Source::File("thermostat.json".into())),
    )
}

fn value(text: &str) -> json::Value<'_> {
    json::parse(text.as_bytes()).unwrap().value
}

/// The findings of one value of a data type, in their expert words.
fn check(dt: &str, v: &str) -> Vec<String> {
    let dt = load::parse(
        format!(r#"{{"profile":{{"productKey":"p1"}},"properties":[{{"identifier":"x","dataType":{dt}}}]}}"#)
            .as_bytes(),
    )
    .unwrap()
    .module
    .properties[0]
    .param
    .data_type
    .clone();
    let mut out = Issues::default();
    check_value(&dt, &value(v), "x", &mut out);
    words(&out.finish())
}

fn words(issues: &[TslIssue]) -> Vec<String> {
    issues.iter().map(|i| Finding::Tsl(i).item().1).collect()
}

fn severity(i: &TslIssue) -> String {
    let (ei, _) = Finding::Tsl(i).item();
    format!("{:?}", EXPERTS[ei as usize].severity)
}

#[test]
fn loads_every_type_and_skips_the_default_features() {
    let m = model();
    assert_eq!(&*m.product_key, "a1B2c3D4e5F");
    assert_eq!(m.default.properties.len(), 9);
    // post, set and get are the property post, set and get: not events or services of their own.
    assert_eq!(m.default.events.len(), 1);
    assert_eq!(m.default.services.len(), 2);
    let Found::Yes(p) = m.property("CurrentTemperature") else {
        panic!()
    };
    assert_eq!(p.access, Access::ReadOnly);
    assert_eq!(&*p.param.name, "Current temperature");
    let DataType::Number(NumKind::Float, r) = &p.param.data_type else {
        panic!()
    };
    assert_eq!(r.max.as_ref().unwrap().value, 20.0);
    assert_eq!(&*r.max.as_ref().unwrap().text, "20");
    assert_eq!(r.unit.as_deref(), Some("°C"));
    assert_eq!(r.unit_name.as_deref(), Some("Celsius"));
    let Found::Yes(w) = m.property("WorkMode") else {
        panic!()
    };
    assert_eq!(w.param.data_type.value_name(2.0), Some("heat"));
    assert_eq!(w.param.data_type.value_name(3.0), None);
    assert!(matches!(m.property("Nope"), Found::No));
    assert!(matches!(m.property("fb:Nope"), Found::NoModule("fb")));
    let Found::Yes(s) = m.service("Reboot") else {
        panic!()
    };
    assert!(s.sync);
}

#[test]
fn custom_modules_answer_to_their_prefix() {
    let mut m = (*model()).clone();
    let module = load::parse(
        br#"{"profile":{"productKey":"a1B2c3D4e5F"},"functionBlockId":"light",
            "properties":[{"identifier":"NightLightSwitch","accessMode":"rw","dataType":{"type":"bool","specs":{"0":"off","1":"on"}}}]}"#,
    )
    .unwrap();
    assert_eq!(module.module.id.as_deref(), Some("light"));
    m.add_module(module.module);
    assert!(matches!(
        m.property("light:NightLightSwitch"),
        Found::Yes(_)
    ));
    assert!(matches!(m.property("NightLightSwitch"), Found::No));
    assert!(matches!(
        m.property("dark:NightLightSwitch"),
        Found::NoModule("dark")
    ));
}

fn bad(text: &str) -> LoadError {
    load::parse(text.as_bytes()).unwrap_err()
}

#[test]
fn a_bad_file_says_where_and_what() {
    let e = bad("{\n  \"profile\": {\"productKey\": \"p1\"},\n  \"properties\": [\n    {\"identifier\": \"a\", }\n  ]\n}");
    assert_eq!((e.line, e.column), (4, 25));
    assert_eq!(e.message, "trailing comma");
    let e = bad("{\"profile\": {\"productKey\": \"p1\"},\n\"properties\": [{\"identifier\": \"a\",\n \"dataType\": {\"type\": \"int\", \"specs\": {\"min\": \"zero\"}}}]}");
    assert_eq!(
        (e.line, e.message.as_str()),
        (3, "\"zero\" is not a number")
    );
    let e = bad(
        r#"{"profile": {"productKey": "p1"}, "properties": [{"identifier": "a", "dataType": {"type": "integer"}}]}"#,
    );
    assert!(
        e.message.starts_with("unknown variant `integer`"),
        "{}",
        e.message
    );
    let e = bad("{\"profile\": {\"productKey\": \"p1\"}, \"properties\": [\n{\"identifier\": \"a\", \"dataType\": {\"type\": \"text\"}},\n{\"identifier\": \"a\", \"dataType\": {\"type\": \"date\"}}\n]}");
    assert_eq!(
        (e.line, e.message.as_str()),
        (4, "identifier \"a\" appears twice")
    );
    let e = bad(
        r#"{"profile": {"productKey": "p1"}, "properties": [{"identifier": "a", "dataType": {"type": "int", "specs": {"min": "9", "max": "1"}}}]}"#,
    );
    assert_eq!(e.message, "min 9 is above max 1");
    let e = bad(
        r#"{"profile": {"productKey": "p1"}, "properties": [{"identifier": "a", "dataType": {"type": "enum", "specs": {"on": "x"}}}]}"#,
    );
    assert_eq!(e.message, "enum specs key \"on\" is not an integer");
    let e = bad(r#"{"profile": {"productKey": "p1"}, "properties": "none"}"#);
    assert_eq!(
        e.message,
        "invalid type: string \"none\", expected an array"
    );
    let e = bad(r#"{"properties": []}"#);
    assert_eq!(
        (e.line, e.message.as_str()),
        (0, "not a thing model: no profile.productKey")
    );
    assert_eq!(e.to_string(), "not a thing model: no profile.productKey");
    let e = bad(r#"{"profile": {"productKey": "p1"}, "properties": [{"identifier": "a"}]}"#);
    assert_eq!(e.message, "property \"a\" has no dataType");
    assert_eq!(bad("").message, "EOF while parsing a value");
    // A byte order mark is allowed; a document that is not an object is not a model.
    assert_eq!(
        bad("\u{feff}{}").message,
        "not a thing model: no profile.productKey"
    );
    let e = bad("\n  [1, 2]");
    assert_eq!(
        (e.line, e.column, e.message.as_str()),
        (2, 3, "not a thing model: a JSON object was expected")
    );
    let e = bad(r#"{"profile": 5}"#);
    assert_eq!(
        e.message,
        "invalid type: integer `5`, expected a profile object"
    );
}

#[test]
fn specs_numbers_as_strings_or_numbers_and_missing_specs() {
    let f = load::parse(
        br#"{"profile":{"productKey":"p1"},"properties":[
        {"identifier":"a","dataType":{"type":"int","specs":{"min":0,"max":"10","step":""}}},
        {"identifier":"b","dataType":{"type":"double"}},
        {"identifier":"c","dataType":{"specs":{"length":"4"},"type":"text"}}]}"#,
    )
    .unwrap();
    let DataType::Number(_, r) = &f.module.properties[0].param.data_type else {
        panic!()
    };
    assert_eq!(
        (r.min.as_ref().unwrap().value, r.step.is_none()),
        (0.0, true)
    );
    assert_eq!(f.module.properties[1].param.data_type.name(), "double");
    assert_eq!(
        f.module.properties[2].param.data_type,
        DataType::Text(Some(4))
    );
}

#[test]
fn numbers() {
    let int = r#"{"type":"int","specs":{"min":"5","max":"35","step":"5"}}"#;
    assert!(check(int, "10").is_empty());
    assert_eq!(
        check(int, "40"),
        [r#"TSL: out of range: "x"=40 is above the model's maximum 35"#]
    );
    assert_eq!(
        check(int, "-1"),
        [r#"TSL: out of range: "x"=-1 is below the model's minimum 5"#]
    );
    assert_eq!(check(int, "12"), [r#"TSL: "x"=12 off step 5"#]);
    assert_eq!(
        check(int, "10.5"),
        [
            r#"TSL: "x" expects an integer, got 10.5"#,
            r#"TSL: "x"=10.5 off step 5"#
        ]
    );
    assert_eq!(check(int, r#""10""#), [r#"TSL: "x" number sent as string"#]);
    assert_eq!(
        check(int, r#""ten""#),
        [r#"TSL: type mismatch: "x" expects int, got string"#]
    );
    assert_eq!(
        check(int, "{}"),
        [r#"TSL: type mismatch: "x" expects int, got object"#]
    );
    let float = r#"{"type":"float","specs":{"min":"0","max":"1","step":"0.1"}}"#;
    assert!(check(float, "0.3").is_empty(), "0.3 is on a 0.1 step");
    assert_eq!(
        check(float, "1"),
        [r#"TSL: "x" float without decimal point (docs require e.g. 10.0)"#]
    );
    assert_eq!(check(float, "0.35"), [r#"TSL: "x"=0.35 off step 0.1"#]);
    assert!(check(r#"{"type":"double","specs":{}}"#, "1e3").is_empty());
}

#[test]
fn text_date_bool_enum() {
    let text = r#"{"type":"text","specs":{"length":"3"}}"#;
    assert!(check(text, r#""abc""#).is_empty());
    assert!(check(text, r#""äöü""#).is_empty(), "characters, not bytes");
    assert_eq!(
        check(text, r#""abcd""#),
        [r#"TSL: text too long: "x" 4 > 3 characters (4 bytes)"#]
    );
    assert_eq!(
        check(text, "3"),
        [r#"TSL: type mismatch: "x" expects text, got number"#]
    );
    let date = r#"{"type":"date","specs":{}}"#;
    assert!(check(date, r#""1700000000000""#).is_empty());
    assert_eq!(
        check(date, r#""yesterday""#),
        [r#"TSL: date "x" is not a millisecond timestamp"#]
    );
    assert_eq!(
        check(date, "1700000000000"),
        [r#"TSL: date "x" sent as number"#]
    );
    let b = r#"{"type":"bool","specs":{"0":"off","1":"on"}}"#;
    assert!(check(b, "1").is_empty());
    assert_eq!(check(b, "2"), [r#"TSL: bool "x" must be 0 or 1, got 2"#]);
    assert_eq!(
        check(b, "true"),
        [r#"TSL: bool "x" must be 0 or 1, got true"#]
    );
    assert_eq!(check(b, r#""1""#), [r#"TSL: "x" number sent as string"#]);
    let e = r#"{"type":"enum","specs":{"0":"auto","1":"cool","2":"heat"}}"#;
    assert!(check(e, "2").is_empty());
    assert_eq!(check(e, "5"), [r#"TSL: enum "x"=5 not in {0,1,2}"#]);
    assert_eq!(check(e, "1.5"), [r#"TSL: "x" expects an integer, got 1.5"#]);
    assert_eq!(
        check(e, "[]"),
        [r#"TSL: type mismatch: "x" expects enum, got array"#]
    );
}

#[test]
fn structs_and_arrays() {
    let st = r#"{"type":"struct","specs":[
        {"identifier":"Hour","dataType":{"type":"int","specs":{"min":"0","max":"23"}}},
        {"identifier":"On","dataType":{"type":"bool","specs":{}}}]}"#;
    assert!(check(st, r#"{"Hour":7,"On":1}"#).is_empty());
    assert_eq!(
        check(st, r#"{"Hour":25,"Minute":3}"#),
        [
            r#"TSL: out of range: "x.Hour"=25 is above the model's maximum 23"#,
            r#"TSL: struct "x" has unknown member "Minute""#,
            r#"TSL: struct "x" lacks "On""#,
        ]
    );
    let arr = r#"{"type":"array","specs":{"size":"2","item":{"type":"int","specs":{"max":"9"}}}}"#;
    assert!(check(arr, "[1,2]").is_empty());
    assert_eq!(
        check(arr, r#"[1,"a",10]"#),
        [
            r#"TSL: array "x" has 3 items > size 2"#,
            r#"TSL: "x"[1] is not int"#,
            r#"TSL: out of range: "x[2]"=10 is above the model's maximum 9"#,
        ]
    );
    let of_structs = r#"{"type":"array","specs":{"size":"4","item":{"type":"struct","specs":[{"identifier":"a","dataType":{"type":"text","specs":{}}}]}}}"#;
    assert_eq!(
        check(of_structs, r#"[{"a":"x"},{"a":1}]"#),
        [r#"TSL: type mismatch: "x[1].a" expects text, got number"#]
    );
}

#[test]
fn severities_follow_the_reference() {
    use TslIssue as T;
    let id = || "x".to_string();
    assert_eq!(severity(&T::UnknownProperty { id: id() }), "Error");
    assert_eq!(
        severity(&T::AboveMax {
            id: id(),
            value: "1".into(),
            max: "0".into()
        }),
        "Error"
    );
    assert_eq!(severity(&T::NumberAsString { id: id() }), "Warn");
    assert_eq!(
        severity(&T::StructLacks {
            id: id(),
            member: id()
        }),
        "Warn"
    );
    assert_eq!(
        severity(&T::MissingInput {
            service: id(),
            input: id()
        }),
        "Warn"
    );
    assert_eq!(
        severity(&T::OffStep {
            id: id(),
            value: "1".into(),
            step: "2".into()
        }),
        "Note"
    );
    assert_eq!(severity(&T::EventNotWrapped), "Note");
}

/// The thermostat's model and, for a gateway's sub-devices, a light's (product a1SubPk0001).
fn models() -> super::Tsl {
    let mut tsl = super::Tsl::default();
    tsl.files.insert((*model()).clone());
    let light = load::parse(
        br#"{"profile":{"productKey":"a1SubPk0001"},"properties":[
            {"identifier":"Brightness","name":"Brightness","dataType":{"type":"int","specs":{"min":"0","max":"100","unit":"%"}}}]}"#,
    )
    .unwrap();
    tsl.files
        .insert(light.into_product(Source::File("light.json".into())));
    tsl
}

fn described(topic: &str, payload: &str) -> super::Described {
    let t = topic::classify(topic).unwrap();
    let v = value(payload);
    let tsl = models();
    describe(tsl.at(1), &t, v.get("params"), v.get("data")).unwrap()
}

fn all_words(d: &super::Described) -> Vec<String> {
    let mut out = words(&d.issues);
    for p in &d.values {
        out.extend(words(&p.tsl.as_ref().unwrap().issues));
    }
    out
}

const SYS: &str = "/sys/a1B2c3D4e5F/th-01/thing/";

#[test]
fn a_property_post_named_and_checked() {
    let d = described(
        &format!("{SYS}event/property/post"),
        r#"{"id":"1","version":"1.0","params":{"CurrentTemperature":24.5,"WorkMode":{"value":1,"time":1700000000000},"Counter":3,"Schedule":{"Hour":7,"Enabled":1}},"method":"thing.event.property.post"}"#,
    );
    assert_eq!(d.args, Args::Properties);
    assert_eq!(
        all_words(&d),
        [
            r#"TSL: out of range: "CurrentTemperature"=24.5 is above the model's maximum 20"#,
            r#"TSL: unknown property "Counter""#,
        ]
    );
    let t = d.values[0].tsl.as_ref().unwrap().def.as_ref().unwrap();
    assert_eq!(
        (&*t.display_name, t.data_type, t.unit.as_deref()),
        ("Current temperature", "float", Some("°C"))
    );
    let mode = &d.values[1];
    assert_eq!(
        (mode.value.as_str(), mode.time),
        ("1", Some(1_700_000_000_000))
    );
    assert_eq!(
        mode.tsl
            .as_ref()
            .unwrap()
            .def
            .as_ref()
            .unwrap()
            .value_name
            .as_deref(),
        Some("cool")
    );
    assert!(d.values[2].tsl.as_ref().unwrap().def.is_none());
    let members = &d.values[3].tsl.as_ref().unwrap().members;
    assert_eq!(members.len(), 2);
    assert_eq!(
        &*members[1]
            .tsl
            .as_ref()
            .unwrap()
            .def
            .as_ref()
            .unwrap()
            .display_name,
        "Enabled"
    );
    assert_eq!(
        members[1]
            .tsl
            .as_ref()
            .unwrap()
            .def
            .as_ref()
            .unwrap()
            .value_name
            .as_deref(),
        Some("yes")
    );
}

#[test]
fn sets_gets_and_desired() {
    let d = described(
        &format!("{SYS}service/property/set"),
        r#"{"id":"2","params":{"CurrentTemperature":10.5,"TargetTemperature":22}}"#,
    );
    assert_eq!(
        all_words(&d),
        [r#"TSL: write to read-only property "CurrentTemperature""#]
    );
    let d = described(
        &format!("{SYS}service/property/get"),
        r#"{"id":"3","params":["Humidity","Nope"]}"#,
    );
    assert_eq!(all_words(&d), [r#"TSL: unknown property "Nope""#]);
    let d = described(
        &format!("{SYS}service/property/get_reply"),
        r#"{"id":"3","code":200,"data":{"Humidity":101.0}}"#,
    );
    assert_eq!(
        all_words(&d),
        [r#"TSL: out of range: "Humidity"=101.0 is above the model's maximum 100"#]
    );
    let d = described(
        &format!("{SYS}property/desired/get_reply"),
        r#"{"id":"4","code":200,"data":{"TargetTemperature":{"value":50,"version":3}}}"#,
    );
    assert_eq!(
        all_words(&d),
        [r#"TSL: out of range: "TargetTemperature"=50 is above the model's maximum 35"#]
    );
    let d = described(
        &format!("{SYS}property/desired/delete"),
        r#"{"id":"5","params":{"Gone":{}}}"#,
    );
    assert_eq!(all_words(&d), [r#"TSL: unknown property "Gone""#]);
    let d = described(
        &format!("{SYS}event/property/batch/post"),
        r#"{"id":"6","params":{"properties":{"Humidity":[{"value":50.5,"time":1},{"value":"x","time":2}]},"events":{"Overheat":[{"value":{"Temperature":250.0},"time":3}]}}}"#,
    );
    assert_eq!(
        all_words(&d),
        [
            r#"TSL: type mismatch: "Humidity" expects double, got string"#,
            r#"TSL: out of range: "Temperature"=250.0 is above the model's maximum 200"#,
        ]
    );
}

#[test]
fn events_and_services() {
    let d = described(
        &format!("{SYS}event/Overheat/post"),
        r#"{"id":"7","params":{"value":{"Temperature":90.5},"time":1}}"#,
    );
    assert_eq!(d.args, Args::EventOutputs);
    assert!(all_words(&d).is_empty());
    let d = described(
        &format!("{SYS}event/Overheat/post"),
        r#"{"id":"8","params":{"Temperature":90.5,"Level":2}}"#,
    );
    assert_eq!(
        all_words(&d),
        [
            r#"TSL: event params not wrapped in "value" (the Link and Node SDKs send them so)"#,
            r#"TSL: event "Overheat" has unknown output "Level""#,
        ]
    );
    let d = described(
        &format!("{SYS}event/Meltdown/post"),
        r#"{"id":"9","params":{"value":{}}}"#,
    );
    assert_eq!(all_words(&d), [r#"TSL: unknown event "Meltdown""#]);
    let d = described(
        &format!("{SYS}event/post/post"),
        r#"{"id":"9","params":{"value":{}}}"#,
    );
    assert_eq!(all_words(&d), [r#"TSL: unknown event "post""#]);
    let d = described(
        &format!("{SYS}service/Calibrate"),
        r#"{"id":"10","params":{"offset":7.5,"force":1}}"#,
    );
    assert_eq!(d.args, Args::ServiceInputs);
    assert_eq!(
        all_words(&d),
        [
            r#"TSL: out of range: "offset"=7.5 is above the model's maximum 5"#,
            r#"TSL: service "Calibrate" has unknown input "force""#,
        ]
    );
    let d = described(
        &format!("{SYS}service/Calibrate"),
        r#"{"id":"11","params":{}}"#,
    );
    assert_eq!(
        all_words(&d),
        [r#"TSL: service "Calibrate" lacks input "offset""#]
    );
    let d = described(
        &format!("{SYS}service/Calibrate_reply"),
        r#"{"id":"11","code":200,"data":{"result":1,"extra":2}}"#,
    );
    assert_eq!(d.args, Args::ServiceOutputs);
    assert_eq!(
        all_words(&d),
        [r#"TSL: service "Calibrate" reply has unknown output "extra""#]
    );
    let d = described(
        &format!("{SYS}service/SelfDestruct"),
        r#"{"id":"12","params":{}}"#,
    );
    assert_eq!(all_words(&d), [r#"TSL: unknown service "SelfDestruct""#]);
    let d = described(
        &format!("{SYS}service/Reboot"),
        r#"{"id":"13","params":{}}"#,
    );
    assert_eq!(
        all_words(&d),
        [r#"TSL: sync service "Reboot" delivered async (product may be verification-free)"#]
    );
    let d = described(
        &format!("/ext/rrpc/77{SYS}service/Reboot").replace("77/sys", "77/sys"),
        r#"{"id":"13","params":{}}"#,
    );
    assert!(
        all_words(&d).is_empty(),
        "RRPC is how a sync service arrives"
    );
}

#[test]
fn too_many_properties_and_too_many_findings() {
    let props: Vec<String> = (0..201).map(|i| format!(r#""p{i}":1"#)).collect();
    let d = described(
        &format!("{SYS}event/property/post"),
        &format!(r#"{{"id":"1","params":{{{}}}}}"#, props.join(",")),
    );
    assert_eq!(
        words(&d.issues),
        ["TSL: 201 properties in one post (limit 200, code 6106)"]
    );
    let items: Vec<String> = (0..100).map(|_| "\"a\"".to_string()).collect();
    let d = described(
        &format!("{SYS}event/property/post"),
        &format!(
            r#"{{"id":"1","params":{{"Readings":[{}]}}}}"#,
            items.join(",")
        ),
    );
    let found = all_words(&d);
    assert_eq!(found.len(), 65);
    assert_eq!(found[64], "TSL: 37 more findings not shown");
}

#[test]
fn a_gateways_pack_post() {
    let d = described(
        &format!("{SYS}event/property/pack/post"),
        r#"{"id":"14","params":{
            "properties":{"CurrentTemperature":{"value":90.5,"time":1}},
            "events":{"Overheat":{"value":{"Temperature":95.0,"Level":3},"time":1}},
            "subDevices":[
              {"identity":{"productKey":"a1SubPk0001","deviceName":"lamp-1"},
               "properties":{"Brightness":{"value":120,"time":1}}},
              {"identity":{"productKey":"a1NoModel01","deviceName":"x"},
               "properties":{"Anything":{"value":1,"time":1}}}]}}"#,
    );
    assert_eq!(d.args, Args::Pack);
    assert_eq!(
        all_words(&d),
        [
            r#"TSL: out of range: "CurrentTemperature"=90.5 is above the model's maximum 20"#,
            r#"TSL: event "Overheat" has unknown output "Level""#,
            r#"TSL: out of range: "Brightness"=120 is above the model's maximum 100"#,
        ]
    );
    let names: Vec<&str> = d
        .values
        .iter()
        .map(|p| {
            p.tsl
                .as_ref()
                .unwrap()
                .def
                .as_ref()
                .map_or(&*p.name, |d| &*d.display_name)
        })
        .collect();
    // A sub-device whose product has no model: its values are not listed.
    assert_eq!(
        names,
        [
            "Current temperature",
            "Temperature",
            "Level",
            "lamp-1: Brightness"
        ]
    );
}

/// A value is shown as sent: an argument or member that is an object with a `value` key is not
/// taken for a `{value, time}` wrapper (only property posts and desired replies have one).
#[test]
fn objects_with_a_value_key_stay_whole() {
    let d = described(
        &format!("{SYS}service/Calibrate"),
        r#"{"id":"15","params":{"offset":{"value":1}}}"#,
    );
    assert_eq!(d.values[0].value, r#"{"value":1}"#);
    assert_eq!(d.values[0].value_num, None);
    assert_eq!(
        all_words(&d),
        [r#"TSL: type mismatch: "offset" expects double, got object"#]
    );
}
