//! Which protocol a connection to an MQTT port actually speaks: Alibaba's TLS endpoint listens on
//! 1883 too, and 443 carries both HTTPS and MQTT over TLS (protocol reference §1, §9). And which
//! TCP connection a packet belongs to.

use super::fxhash::FxMap;

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

/// Whether TLS records starting at the segment's first byte include application data (content
/// type 23): encrypted data, once the handshake is under way.
pub fn has_tls_app_data(b: &[u8]) -> bool {
    let mut at = 0usize;
    while let Some(h) = b.get(at..at + 5) {
        if h[1] != 0x03 || !(20..=24).contains(&h[0]) {
            return false;
        }
        if h[0] == 23 {
            return true;
        }
        at += 5 + u16::from_be_bytes([h[3], h[4]]) as usize;
    }
    false
}

/// Which TCP connection a segment belongs to, by its two endpoint keys (address and port), without
/// Wireshark's conversation table: a lookup there costs about a thousand instructions a packet,
/// this one a hash of two words. A SYN without ACK opens a new connection on the same endpoints
/// (a reused port), as TCP's own conversations do.
///
/// Connections that saw a FIN or RST move to a second table, so the one probed on every packet
/// holds the open connections only and stays in the caches; a capture of a million frames had
/// seen 18,540 connections, of which at most 352 were open at once. A packet on an ended
/// connection finds it there and moves it back: the numbers are the same either way.
#[derive(Default)]
pub struct Connections {
    open: FxMap<(u64, u64), u32>,
    ended: FxMap<(u64, u64), u32>,
    next: u32,
}

fn pair(a: u64, b: u64) -> (u64, u64) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

impl Connections {
    /// The connection between `src` and `dst`, numbered from 1 in order of first appearance.
    pub fn id(&mut self, src: u64, dst: u64) -> u32 {
        let key = pair(src, dst);
        if let Some(&id) = self.open.get(&key) {
            return id;
        }
        let id = self.ended.remove(&key).unwrap_or_else(|| {
            self.next += 1;
            self.next
        });
        self.open.insert(key, id);
        id
    }

    /// The open connection between `src` and `dst`, if any; nothing is numbered or moved.
    pub fn find_open(&self, src: u64, dst: u64) -> Option<u32> {
        self.open.get(&pair(src, dst)).copied()
    }

    /// The connection between `src` and `dst` if one was seen (tests inspect the tables with it;
    /// the dissection learns a number from [`Self::id`] or [`Self::ended`]).
    #[cfg(test)]
    pub fn find(&self, src: u64, dst: u64) -> Option<u32> {
        self.find_open(src, dst)
            .or_else(|| self.ended.get(&pair(src, dst)).copied())
    }

    /// A connection opens between `src` and `dst`: what follows is a new connection.
    pub fn opened(&mut self, src: u64, dst: u64) {
        let key = pair(src, dst);
        self.open.remove(&key);
        self.ended.remove(&key);
    }

    /// A table keeps the capacity of its largest size: after a burst of connections (all of a
    /// capture's sessions opened before any ends) the open table would stay that large, probed
    /// and held for nothing. Under a quarter full it shrinks to twice what it holds, so a
    /// capture pays for the connections open now, and a table that swings around one size is
    /// not rebuilt on every FIN.
    fn shrink_open(&mut self) {
        const SMALL: usize = 64;
        let (len, cap) = (self.open.len(), self.open.capacity());
        if cap > SMALL && len * 4 < cap {
            self.open.shrink_to(len * 2);
        }
    }

    /// A FIN or RST between `src` and `dst`: the connection leaves the table of open ones.
    /// Its number, if one was seen (open or already ended).
    pub fn ended(&mut self, src: u64, dst: u64) -> Option<u32> {
        let key = pair(src, dst);
        match self.open.remove(&key) {
            Some(id) => {
                self.ended.insert(key, id);
                self.shrink_open();
                Some(id)
            }
            None => self.ended.get(&key).copied(),
        }
    }
}

/// Ports the platform listens on for MQTT: plain and TLS MQTT, and WebSocket on 443 and 80
/// (reference §1). The side on one of them is the platform when a capture starts mid-session.
pub fn is_broker_port(p: u32) -> bool {
    matches!(p, MQTT_PORT | MQTT_TLS_PORT | 443 | 80)
}

/// MQTT's own port (plain MQTT; the platform's TLS endpoint listens on it too).
pub const MQTT_PORT: u32 = 1883;
/// MQTT over TLS.
pub const MQTT_TLS_PORT: u32 = 8883;

/// The hint on encrypted MQTT that cannot be read: once per connection, on its first
/// undecrypted TLS application data.
#[derive(Debug, Default)]
pub struct KeyHints {
    hinted: std::collections::HashSet<u32>,
    frames: std::collections::HashSet<u32>,
}

impl KeyHints {
    /// Whether frame `frame` carries the hint. `undecrypted`: TLS could not decrypt the frame's
    /// records, `data` (their bytes) on connection `conv()`.
    pub fn hint(
        &mut self,
        frame: u32,
        undecrypted: bool,
        data: &[u8],
        conv: impl FnOnce() -> u32,
    ) -> bool {
        if undecrypted && has_tls_app_data(data) && self.hinted.insert(conv()) {
            self.frames.insert(frame);
        }
        self.frames.contains(&frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hint_once_per_connection() {
        let app = [23, 3, 3, 0, 2, 0xaa, 0xbb];
        let handshake = [22, 3, 3, 0, 1, 0];
        let mut h = KeyHints::default();
        assert!(!h.hint(3, true, &handshake, || 1));
        assert!(!h.hint(4, false, &app, || 1), "decrypted: no hint");
        assert!(h.hint(5, true, &app, || 1));
        assert!(!h.hint(6, true, &app, || 1), "once per connection");
        assert!(h.hint(7, true, &app, || 2));
        // Later passes: the same frames.
        assert!(h.hint(5, true, &app, || 1) && !h.hint(6, true, &app, || 1));
    }

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
    fn tls_app_data() {
        // ServerHello, ChangeCipherSpec, then application data (a TLS 1.3 server flight).
        let mut b = vec![22, 3, 3, 0, 2, 2, 0, 20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 1];
        assert!(has_tls_app_data(&b));
        b.truncate(13);
        assert!(!has_tls_app_data(&b));
        assert!(!has_tls_app_data(b"\x10\x0c\x00\x04MQTT"));
        // A record cut by the segment end still counts by its header.
        assert!(has_tls_app_data(&[23, 3, 3, 0x40, 0]));
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

    #[test]
    fn connections_by_endpoints_and_reuse() {
        let mut c = Connections::default();
        let a = c.id(10, 20);
        assert_eq!(a, 1);
        assert_eq!(c.id(20, 10), a, "either direction is the same connection");
        assert_eq!(c.id(10, 30), 2);
        assert_eq!(c.find(20, 10), Some(a));
        assert_eq!(c.find(20, 30), None);
        c.opened(10, 20);
        assert_eq!(c.find(10, 20), None);
        assert_eq!(c.id(10, 20), 3, "a reused port is a new connection");
    }

    #[test]
    fn ended_connections_keep_their_numbers() {
        let mut c = Connections::default();
        let a = c.id(10, 20);
        let b = c.id(10, 30);
        assert_eq!(c.ended(20, 10), Some(a));
        assert_eq!(
            c.open.len(),
            1,
            "only the open connection is probed on every packet"
        );
        assert_eq!(c.find(10, 20), Some(a));
        assert_eq!(
            c.id(10, 20),
            a,
            "a packet after the FIN is still the same connection"
        );
        assert_eq!(c.ended(10, 20), Some(a));
        assert_eq!(
            c.ended(10, 20),
            Some(a),
            "a second FIN finds it among the ended"
        );
        assert_eq!(c.ended(99, 98), None);
        assert_eq!(c.id(30, 10), b);
        c.opened(10, 20);
        assert_eq!(
            c.find(10, 20),
            None,
            "a SYN forgets an ended connection too"
        );
        assert_eq!(c.id(10, 20), 3);
    }

    #[test]
    fn open_table_shrinks_after_a_burst() {
        let mut c = Connections::default();
        for port in 0..1000 {
            c.id(1, 100 + port);
        }
        let peak = c.open.capacity();
        assert!(peak >= 1000);
        for port in 0..990 {
            c.ended(1, 100 + port);
        }
        assert_eq!(c.open.len(), 10);
        assert!(
            c.open.capacity() <= 128,
            "ten open connections keep a table of {} slots (peak {peak})",
            c.open.capacity()
        );
        for port in 0..1000u32 {
            assert_eq!(
                c.id(1, 100 + u64::from(port)),
                port + 1,
                "numbers survive the shrink"
            );
        }
    }
}
