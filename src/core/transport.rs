//! Which protocol a connection to an MQTT port actually speaks: Alibaba's TLS endpoint listens on
//! 1883 too, and 443 carries both HTTPS and MQTT over TLS (protocol reference §1, §9).

/// A TLS handshake record with a ClientHello: `16 03 0x len len 01`. Anything else that merely
/// starts with 0x16 (MQTT reads it as a CONNECT with bad flags) is not TLS.
pub fn is_tls_client_hello(b: &[u8]) -> bool {
    match b {
        [0x16, 0x03, minor, hi, lo, 0x01, ..] => {
            *minor <= 0x04 && u16::from_be_bytes([*hi, *lo]) >= 4
        }
        _ => false,
    }
}

/// An MQTT CONNECT: type 1 with flags 0, a remaining length, then the protocol name "MQTT"
/// (3.1.1, 5.0) or "MQIsdp" (3.1).
pub fn is_mqtt_connect(b: &[u8]) -> bool {
    if b.first() != Some(&0x10) {
        return false;
    }
    // Remaining length: 1 to 4 bytes, high bit = more.
    let mut i = 1;
    while i < b.len() && i <= 4 && b[i] & 0x80 != 0 {
        i += 1;
    }
    let rest = match b.get(i + 1..) {
        Some(r) if i <= 4 => r,
        _ => return false,
    };
    rest.starts_with(b"\x00\x04MQTT") || rest.starts_with(b"\x00\x06MQIsdp")
}

/// Ports the platform serves MQTT over TLS on (reference §1).
pub fn is_mqtt_tls_port(p: u32) -> bool {
    matches!(p, 1883 | 8883)
}

/// Server names of the platform's MQTT endpoints (reference §1).
pub fn is_platform_server_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with(".aliyuncs.com")
        && (n.contains(".iot-as-mqtt.") || n.contains(".mqtt.iothub.") || n.contains(".itls."))
}

/// The expert text for encrypted MQTT that cannot be read: how to get a key log.
pub const TLS_KEY_HINT: &str =
    "Encrypted MQTT to the platform and no TLS keys to read it: record a key log \
(SSLKEYLOGFILE for C/OpenSSL and curl-based clients, node --tls-keylog=FILE for Node SDKs, \
ssl.SSLContext.keylog_filename for Python) and set it in Preferences › Protocols › TLS › \
(Pre)-Master-Secret log filename, or embed it with editcap --inject-secrets tls,FILE";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_client_hello() {
        assert!(is_tls_client_hello(&[
            0x16, 0x03, 0x01, 0x01, 0x5b, 0x01, 0x00, 0x01, 0x57
        ]));
        // TLS-looking bytes that are no ClientHello.
        assert!(!is_tls_client_hello(&[
            0x16, 0x03, 0x01, 0x00, 0x05, 0x41, 0x42
        ]));
        assert!(!is_tls_client_hello(&[0x16, 0x03, 0x09, 0x01, 0x00, 0x01]));
        assert!(!is_tls_client_hello(&[0x16, 0x03]));
        assert!(!is_tls_client_hello(&[0x10, 0xaf, 0x01, 0x00, 0x04, b'M']));
    }

    #[test]
    fn platform_names() {
        assert!(is_platform_server_name(
            "a1B2c3D4e5F.iot-as-mqtt.cn-shanghai.aliyuncs.com"
        ));
        assert!(is_platform_server_name(
            "iot-06z00abc.mqtt.iothub.aliyuncs.com"
        ));
        assert!(!is_platform_server_name("www.aliyuncs.com"));
        assert!(!is_platform_server_name("example.com"));
    }

    #[test]
    fn mqtt_connect() {
        assert!(is_mqtt_connect(b"\x10\xaf\x01\x00\x04MQTT\x04\xc2"));
        assert!(is_mqtt_connect(b"\x10\x26\x00\x06MQIsdp\x03"));
        assert!(!is_mqtt_connect(b"GET / HTTP/1.1\r\n"));
        assert!(!is_mqtt_connect(b"\x10\xff\xff\xff\xff\xff\x00\x04MQTT"));
        assert!(!is_mqtt_connect(b"\x10"));
        assert!(!is_mqtt_connect(b""));
    }
}
