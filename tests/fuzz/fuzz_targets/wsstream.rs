//! The WebSocket → MQTT packet cutter: `packet_len` and `Stream::push` fed with WebSocket
//! messages. Input: a sequence of messages, each `len: u8` then `len` bytes (`len` 255: a u16 LE
//! length follows), so the fuzzer controls where messages split packets.
//!
//! Besides "no panic", the pieces are checked against a reference: cutting the concatenated
//! stream into packets gives the same packets, as long as no packet announces a length the cutter
//! refuses to wait for.
#![no_main]

use aliiot::core::wsstream::{packet_len, Piece, Stream, MAX_PACKET};
use libfuzzer_sys::fuzz_target;

fn messages(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while let Some((&n, rest)) = data.split_first() {
        let (n, rest) = if n == 255 && rest.len() >= 2 {
            (u16::from_le_bytes([rest[0], rest[1]]) as usize, &rest[2..])
        } else {
            (n as usize, rest)
        };
        let n = n.min(rest.len());
        out.push(&rest[..n]);
        data = &rest[n..];
    }
    out
}

/// The packets of a byte stream, and the length of the incomplete tail; None when a packet
/// announces a length beyond MAX_PACKET (the cutter then hands bytes on as they are).
fn reference(stream: &[u8]) -> Option<(Vec<&[u8]>, usize)> {
    let mut pos = 0;
    let mut packets = Vec::new();
    while pos < stream.len() {
        match packet_len(&stream[pos..]) {
            Some(total) if total > MAX_PACKET => return None,
            Some(total) if pos + total <= stream.len() => {
                packets.push(&stream[pos..pos + total]);
                pos += total;
            }
            _ => break,
        }
    }
    Some((packets, stream.len() - pos))
}

fuzz_target!(|data: &[u8]| {
    let msgs = messages(data);
    let mut s = Stream::default();
    let mut got: Vec<Vec<u8>> = Vec::new();
    for m in &msgs {
        let mut end = 0;
        for piece in s.push(m) {
            match piece {
                Piece::InMessage { offset, len } => {
                    assert!(offset >= end, "pieces overlap or go backwards");
                    assert!(len > 0 && offset + len <= m.len());
                    end = offset + len;
                    let bytes = &m[offset..offset + len];
                    match packet_len(bytes) {
                        Some(total) if total > MAX_PACKET => assert_eq!(end, m.len()),
                        total => assert_eq!(total, Some(len)),
                    }
                    got.push(bytes.to_vec());
                }
                Piece::Reassembled(bytes) => {
                    assert_eq!(end, 0, "a reassembled packet comes first");
                    assert_eq!(packet_len(&bytes), Some(bytes.len()));
                    got.push(bytes);
                }
            }
        }
        assert!(s.pending() <= MAX_PACKET);
    }
    let stream: Vec<u8> = msgs.concat();
    if let Some((packets, tail)) = reference(&stream) {
        assert_eq!(got, packets);
        assert_eq!(s.pending(), tail);
    }
    let _ = packet_len(data);
});
