//! aliiot never takes Wireshark down: a panic inside a callback is contained.
//!
//! Needs the test hook (`cargo test --features panic-hook`, which `make test` uses); the plugin
//! `make build` ships has no hook.
#![cfg(feature = "panic-hook")]

mod common;
use common::*;

const CAPTURE: &str = "01-aliyun-iot-mqtt-basic.pcapng";

#[test]
fn a_panic_marks_its_packet_and_the_rest_is_dissected() {
    let h = harness();
    let cap = h.capture(CAPTURE);
    let frames_with = |env: &[(&str, &str)], filter: &str| {
        let (out, err, ok) = h.run_env(
            env,
            &[
                "-n",
                "-2",
                "-r",
                &cap,
                "-Y",
                filter,
                "-T",
                "fields",
                "-e",
                "frame.number",
            ],
        );
        assert!(ok, "tshark must exit 0 after a contained panic: {err}");
        (out.lines().map(str::to_string).collect::<Vec<_>>(), err)
    };
    let (all, err) = frames_with(&[], "aliiot.device_name");
    assert!(err.is_empty(), "{err}");
    assert_eq!(all, ["4", "6", "8", "9", "11", "12", "14", "16", "18"]);

    // Frame 6 (the CONNACK) panics on both passes.
    let hook = [("ALIIOT_TEST_PANIC_FRAME", "6")];
    let (marked, err) = frames_with(&hook, "aliiot.internal_error");
    assert_eq!(marked, ["6"]);
    // The panic is reported once per pass through Wireshark's log, not Rust's default message.
    assert_eq!(
        err.matches("aliiot: internal error (a bug; please report it with the capture)")
            .count(),
        2,
        "{err}"
    );
    assert!(!err.contains("panicked at"), "{err}");
    assert!(
        err.contains("test hook: ALIIOT_TEST_PANIC_FRAME=6"),
        "{err}"
    );

    let (rest, _) = frames_with(&hook, "aliiot.device_name");
    let expected: Vec<_> = all.iter().filter(|f| *f != "6").cloned().collect();
    assert_eq!(rest, expected, "every other frame is still dissected");
}
