//! The MQTT parser: cutting the bytes MQTT consumed into packets, and reading each one, for every
//! protocol level. The first input byte picks the level the connection is known to speak.
#![no_main]

use aliiot::core::mqtt;
use libfuzzer_sys::fuzz_target;

fn within(part: &[u8], whole: &[u8]) -> bool {
    let (p, w) = (part.as_ptr() as usize, whole.as_ptr() as usize);
    p >= w && p + part.len() <= w + whole.len()
}

fuzz_target!(|input: &[u8]| {
    let Some((&level, data)) = input.split_first() else {
        return;
    };
    let version = [0, mqtt::V31, mqtt::V311, mqtt::V50][(level & 3) as usize];
    let mut next = 0usize;
    for span in mqtt::split(data) {
        // Spans follow each other from the first byte, and only the last runs past the data.
        assert_eq!(span.offset, next);
        assert!(span.len >= 1);
        next = span.offset.saturating_add(span.len);
        let bytes = span.bytes(data);
        assert!(!bytes.is_empty());
        let (pdu, info) = mqtt::parse(bytes, span.len, version);
        assert_eq!(pdu.msg_type, bytes[0] >> 4);
        if bytes.len() < span.len {
            assert!(info.truncated);
        }
        // Everything read borrows from the packet's own bytes.
        for s in pdu.topics.iter().copied().chain(
            [pdu.topic, pdu.client_id, pdu.username, pdu.password, pdu.payload, pdu.response_topic,
             pdu.correlation, pdu.assigned_client_id]
                .into_iter()
                .flatten(),
        ) {
            assert!(within(s, bytes));
        }
        if info.truncated {
            assert!(pdu.payload.is_none());
        }
    }
    assert!(next >= data.len());
});
