//! Transport sniffing on the first bytes of a connection: TLS ClientHello or MQTT CONNECT, and the
//! platform's ports and server names.
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
    if data.len() >= 4 {
        let port = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
        let _ = transport::is_mqtt_tls_port(port);
    }
    let _ = transport::is_platform_server_name(&String::from_utf8_lossy(data));
});
