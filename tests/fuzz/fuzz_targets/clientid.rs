//! `ClientId::parse` (the `prefix|k=v,…|` grammar) and `parse_timestamp`, plus every accessor on
//! the result. Input: the client id bytes (lossily decoded, as the session does).
#![no_main]

use aliiot::core::clientid::{self, ClientId, MAX_PARAMS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    let cid = ClientId::parse(&raw);

    // Cheap invariants of the grammar.
    assert!(raw.starts_with(cid.prefix()));
    assert_eq!(cid.has_params, raw.contains('|'));
    let params = cid.params().count();
    assert!(params <= MAX_PARAMS);
    if !cid.has_params {
        assert_eq!(params, 0);
    }
    // The named parameters are the first of their key, as `get` finds them.
    assert_eq!(cid.signmethod(), cid.get("signmethod"));
    assert_eq!(cid.timestamp_text(), cid.get("timestamp"));
    assert_eq!(cid.sdk_version(), cid.get("_v"));
    assert_eq!(cid.sdk_language(), cid.get("lan"));
    assert_eq!(cid.auth_type(), cid.get("authtype"));
    assert_eq!(cid.random(), cid.get("random"));
    assert_eq!(cid.instance_id(), cid.get("instanceid"));

    for p in cid.params() {
        // The first parameter with a key is the one `get` returns, whatever its case.
        let v = cid.get(p.key).expect("a parsed key is found again");
        let _ = cid.get(&p.key.to_ascii_uppercase());
        let _ = clientid::is_known_key(p.key);
        let _ = v.len();
        if let Some(t) = clientid::parse_timestamp(p.value) {
            let (s, ns) = t.to_unix();
            assert!((0..1_000_000_000).contains(&ns));
            assert!(s >= 0);
        }
    }
    if let Some(t) = cid.timestamp {
        let (_, ns) = t.to_unix();
        assert!((0..1_000_000_000).contains(&ns));
    }
    if let Some(m) = cid.securemode {
        // A mode that declares TLS is one the SDKs use.
        assert!(!clientid::securemode_declares_tls(m) || clientid::is_known_securemode(m));
    }
    let _ = cid.is_dynamic_registration();
    let _ = cid.uses_token();
    let others = cid.other_params().count();
    assert!(others <= params);
    for p in cid.other_params() {
        assert!(!clientid::is_known_key(p.key));
    }

    // The timestamp parser on the raw input too (it is called on any parameter value).
    if let Some(t) = clientid::parse_timestamp(&raw) {
        assert!(raw.len() <= 13 && raw.bytes().all(|b| b.is_ascii_digit()));
        let _ = t.to_unix();
    }
});
