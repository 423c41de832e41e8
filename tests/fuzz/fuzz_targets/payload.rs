//! PUBLISH payload analysis (`payload::analyze`) on one topic of every payload family, and
//! `crc16_arc`. Input: byte 0 picks the topic from [`TOPICS`] (modulo its length), the rest is the
//! payload.
#![no_main]

use aliiot::core::payload::{self, Body, MAX_PROPERTIES, MAX_TREE_ITEMS};
use aliiot::core::topic;
use libfuzzer_sys::fuzz_target;

/// One topic per payload family the analyser tells apart. Keep the order: the seeds in
/// tests/fuzz/seeds/payload/ start with the index (tests/fuzz/make-seeds.py has the same list).
pub const TOPICS: &[&str] = &[
    "/sys/a1B2c3D4e5F/dev/thing/event/property/post",
    "/sys/a1B2c3D4e5F/dev/thing/event/property/post_reply",
    "/sys/a1B2c3D4e5F/dev/thing/event/property/batch/post",
    "/sys/a1B2c3D4e5F/dev/thing/event/property/pack/post",
    "/sys/a1B2c3D4e5F/dev/thing/event/alarm/post",
    "/sys/a1B2c3D4e5F/dev/thing/service/property/set",
    "/sys/a1B2c3D4e5F/dev/thing/service/property/set_reply",
    "/sys/a1B2c3D4e5F/dev/thing/service/Reboot",
    "/sys/a1B2c3D4e5F/dev/thing/service/Reboot_reply",
    "/sys/a1B2c3D4e5F/dev/thing/property/desired/get_reply",
    "/sys/a1B2c3D4e5F/dev/thing/model/up_raw",
    "/sys/a1B2c3D4e5F/dev/thing/model/up_raw_reply",
    "/sys/a1B2c3D4e5F/dev/thing/model/down_raw",
    "/sys/a1B2c3D4e5F/dev/thing/file/download",
    // §6.2 binary framing: u16 BE header length | header JSON | chunk | CRC-16/ARC LE.
    "/sys/a1B2c3D4e5F/dev/thing/file/download_reply",
    "/sys/a1B2c3D4e5F/dev/thing/file/upload/mqtt/send",
    "/sys/a1B2c3D4e5F/dev/thing/topo/add",
    "/ext/session/a1B2c3D4e5F/dev/combine/login",
    "/ext/session/a1B2c3D4e5F/dev/combine/batch_login_reply",
    "/ota/device/inform/a1B2c3D4e5F/dev",
    "/ota/device/upgrade/a1B2c3D4e5F/dev",
    "/ota/device/progress/a1B2c3D4e5F/dev",
    "/sys/a1B2c3D4e5F/dev/thing/ota/firmware/get_reply",
    "/ext/ntp/a1B2c3D4e5F/dev/request",
    "/ext/ntp/a1B2c3D4e5F/dev/response",
    "/shadow/update/a1B2c3D4e5F/dev",
    "/shadow/get/a1B2c3D4e5F/dev",
    "/sys/a1B2c3D4e5F/dev/rrpc/request/1733000000000001",
    "/sys/a1B2c3D4e5F/dev/rrpc/response/1733000000000001",
    "/ext/rrpc/1733000000000202/sys/a1B2c3D4e5F/dev/thing/service/GetStatus",
    "/ext/rrpc/1733000000000201/a1B2c3D4e5F/dev/user/get",
    "/ext/error/a1B2c3D4e5F/dev",
    "/ext/register",
    "/ext/regnwl",
    "/a1B2c3D4e5F/dev/user/update",
    "/a1B2c3D4e5F/dev/update",
    "/broadcast/a1B2c3D4e5F/news",
    "/sys/a1B2c3D4e5F/dev/broadcast/request/1",
    "/sys/a1B2c3D4e5F/dev/something/else",
    "/sys/a1B2c3D4e5F/dev/thing/sub/register_reply",
    "/sys/a1B2c3D4e5F/dev/thing/proxy/provisioning/product_register_reply",
    "/sys/a1B2c3D4e5F/dev/secure_tunnel/notify",
    "/ext/network/probe/1",
    "/sys/a1B2c3D4e5F/dev/thing/deviceinfo/update",
    "/sys/a1B2c3D4e5F/dev/_thing/diag/post",
    "/sys/a1B2c3D4e5F/dev/thing/config/push",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let t = topic::classify(TOPICS[pick as usize % TOPICS.len()]).expect("listed topics classify");
    let p = payload::analyze(&t, bytes, aliiot::core::tsl::InForce::NONE);
    // The first pass's facts (debug assertions, on here, check the scan against the parser).
    let _ = payload::facts(&t, bytes);
    // The Info column's: the same code as the facts (checked there too).
    assert_eq!(payload::code_facts(&t, bytes).code(), payload::facts(&t, bytes).code());

    match &p.body {
        Body::Empty => assert!(bytes.is_empty()),
        Body::Binary { len, hex } => {
            assert_eq!(*len, bytes.len());
            assert!(hex.len() <= 2 * payload::MAX_HEX_BYTES + '…'.len_utf8());
        }
        Body::Text(s) => assert!(s.chars().count() <= 257),
        Body::Json(items) => assert!(items.len() <= MAX_TREE_ITEMS),
        Body::Alink(a) => {
            assert!(a.params.len() <= MAX_TREE_ITEMS && a.data.len() <= MAX_TREE_ITEMS);
            assert!(a.properties.len() <= MAX_PROPERTIES);
        }
        // Made by code_facts only, never by analyze.
        Body::AlinkCode(_) => panic!("analyze made a code-only body"),
        Body::File(f) => {
            assert_eq!(f.header_len as usize + f.chunk_len + 4, bytes.len());
            let chunk = &bytes[2 + f.header_len as usize..][..f.chunk_len];
            assert_eq!(f.crc_computed, payload::crc16_arc(chunk));
        }
    }
    for (_, v) in &p.named {
        let _ = v.len();
    }

    // CRC-16/ARC: appending the CRC (little endian) leaves a zero remainder.
    let crc = payload::crc16_arc(bytes);
    let mut framed = bytes.to_vec();
    framed.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(payload::crc16_arc(&framed), 0);
});
