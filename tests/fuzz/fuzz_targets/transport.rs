//! Transport sniffing on the first bytes of a connection: TLS ClientHello or MQTT CONNECT, and
//! TLS application data in a segment.
#![no_main]

use aliiot::core::transport;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tls = transport::is_tls_client_hello(data);
    let mqtt = transport::is_mqtt_connect(data);
    assert!(!(tls && mqtt), "both TLS and MQTT");
    if tls {
        assert_eq!(data.first(), Some(&0x16));
    }
    if mqtt {
        assert_eq!(data.first(), Some(&0x10));
    }
    if transport::has_tls_app_data(data) {
        assert!(data.len() >= 5);
    }
});
