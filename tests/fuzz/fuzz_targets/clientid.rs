//! `ClientId::parse` (the `prefix|k=v,…|` grammar) and `parse_timestamp`, plus every accessor on
//! the result. Input: the client id bytes (lossily decoded, as the session does).
#![no_main]

use aliiot::core::clientid::{self, ClientId, MAX_PARAMS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    let cid = ClientId::parse(&raw);

    // Cheap invariants of the grammar.
    assert!(raw.starts_with(cid.prefix.as_str()));
    assert_eq!(cid.has_params, raw.contains('|'));
    assert!(cid.params.len() <= MAX_PARAMS);
    if !cid.has_params {
        assert!(cid.params.is_empty());
    }

    for p in &cid.params {
        // The first parameter with a key is the one `get` returns, whatever its case.
        let v = cid.get(&p.key).expect("a parsed key is found again");
        let _ = cid.get(&p.key.to_ascii_uppercase());
        let _ = clientid::is_known_key(&p.key);
        let _ = v.len();
        if let Some(t) = clientid::parse_timestamp(&p.value) {
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
    assert!(others <= cid.params.len());
    for p in cid.other_params() {
        assert!(!clientid::is_known_key(&p.key));
    }

    // The timestamp parser on the raw input too (it is called on any parameter value).
    if let Some(t) = clientid::parse_timestamp(&raw) {
        assert!(raw.len() <= 13 && raw.bytes().all(|b| b.is_ascii_digit()));
        let _ = t.to_unix();
    }
});
