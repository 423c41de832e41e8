//! The thing model: TSL files read by `tsl::load::parse` (any bytes: an error, never a panic),
//! and Alink payloads described and checked against a model (the lab thermostat's, or the one
//! just read). Input: a mode byte, then the bytes (mode 0: a TSL file; otherwise a payload on the
//! topic the mode picks, checked against the thermostat's model).
#![no_main]

use aliiot::core::payload::{self, Body};
use aliiot::core::topic;
use aliiot::core::tsl::{self, load, Source};
use libfuzzer_sys::fuzz_target;

const THERMOSTAT: &[u8] = include_bytes!("../../tsl/lab/thermostat.json");

const TOPICS: &[&str] = &[
    "/sys/a1B2c3D4e5F/dev/thing/event/property/post",
    "/sys/a1B2c3D4e5F/dev/thing/service/property/set",
    "/sys/a1B2c3D4e5F/dev/thing/service/property/get",
    "/sys/a1B2c3D4e5F/dev/thing/service/property/get_reply",
    "/sys/a1B2c3D4e5F/dev/thing/property/desired/get",
    "/sys/a1B2c3D4e5F/dev/thing/property/desired/get_reply",
    "/sys/a1B2c3D4e5F/dev/thing/property/desired/delete",
    "/sys/a1B2c3D4e5F/dev/thing/event/property/batch/post",
    "/sys/a1B2c3D4e5F/dev/thing/event/property/pack/post",
    "/sys/a1B2c3D4e5F/dev/thing/event/Overheat/post",
    "/sys/a1B2c3D4e5F/dev/thing/event/light:Blink/post",
    "/sys/a1B2c3D4e5F/dev/thing/service/Calibrate",
    "/sys/a1B2c3D4e5F/dev/thing/service/Calibrate_reply",
    "/ext/rrpc/77/sys/a1B2c3D4e5F/dev/thing/service/Reboot",
    "/sys/a1B2c3D4e5F/dev/thing/dsltemplate/get_reply",
];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    if mode == 0 {
        if let Ok(file) = load::parse(bytes) {
            let mut models = tsl::Tsl::default();
            models.files.insert(file.into_product(Source::Capture(1)));
            // A model read from anything describes a payload without trouble.
            let t = topic::classify(TOPICS[0]).unwrap();
            let _ = payload::analyze(&t, br#"{"id":"1","params":{"a":1,"b":"x","c":[1,{}]}}"#, models.at(2));
        } else if let Some(e) = load::parse(bytes).err() {
            assert!(!e.message.is_empty());
        }
        let _ = tsl::template_data(bytes);
        return;
    }
    let mut models = tsl::Tsl::default();
    models.files.insert(load::parse(THERMOSTAT).unwrap().into_product(Source::Capture(1)));
    let t = topic::classify(TOPICS[mode as usize % TOPICS.len()]).expect("listed topics classify");
    let p = payload::analyze(&t, bytes, models.at(2));
    if let Body::Alink(a) = &p.body {
        assert!(a.properties.len() <= payload::MAX_PROPERTIES);
        let n = a.tsl_findings().count();
        assert_eq!(n, p.tsl_findings());
        for prop in &a.properties {
            if let Some(t) = &prop.tsl {
                assert!(t.members.len() <= tsl::MAX_MEMBERS);
                assert!(t.issues.len() <= tsl::check::MAX_ISSUES + 1);
            }
        }
    }
});
