//! Login sign checks (`check_login`, `check_subdevice`), the secrets table they read
//! (`Secrets::add_device`, `add_product`) and the keys-file reader (`Secrets::load_keys_file`).
//!
//! Input, split on '\n' (so real logins make readable seeds):
//!   line 0  client id
//!   line 1  user name `deviceName&productKey`
//!   line 2  password (also used as the sub-device sign)
//!   line 3  device secret, entered for the user name's device
//!   line 4  product secret, entered for its product
//!   rest    a keys file, read into the same table
//! Besides "no panic", checks that a password computed with the secret the table holds verifies.
#![no_main]

use aliiot::core::clientid::ClientId;
use aliiot::core::secrets::Secrets;
use aliiot::core::session::split_username;
use aliiot::core::sign::{self, Algorithm, SignStatus};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(6, |b| *b == b'\n');
    let mut next = || parts.next().unwrap_or_default();
    let (cid_raw, user_raw, password, dev_secret, prod_secret, keys_file) =
        (next(), next(), next(), next(), next(), next());
    let cid_text = String::from_utf8_lossy(cid_raw);
    let user = String::from_utf8_lossy(user_raw);
    let (dn, pk) = split_username(&user).unwrap_or(("dev", "a1B2c3D4e5F"));

    let mut secrets = Secrets::default();
    let problems = secrets.load_keys_file(keys_file);
    let lines = keys_file.split(|b| *b == b'\n').count();
    assert!(problems.len() <= lines.max(1));
    if !dev_secret.is_empty() {
        secrets.add_device(pk, dn, &String::from_utf8_lossy(dev_secret));
    }
    if !prod_secret.is_empty() {
        secrets.add_product(pk, &String::from_utf8_lossy(prod_secret));
    }
    let _ = secrets.len();
    let _ = secrets.is_empty();
    let _ = format!("{secrets:?}");

    let cid = ClientId::parse(&cid_text);
    let check = sign::check_login(&cid, pk, dn, password, &secrets);
    let _ = check.status.label();
    if let Some(a) = check.algorithm {
        let _ = a.name();
    }
    if cid.uses_token() {
        assert_eq!(check.status, SignStatus::NotASign);
    }
    // The password the device would send, from the secret the table holds: it must verify
    // (in either hex case).
    let secret = if cid.is_dynamic_registration() {
        secrets.product(pk)
    } else {
        secrets.device(pk, dn)
    };
    if let (Some(secret), Some(alg), Some(content)) = (secret, check.algorithm, &check.content) {
        let expected = alg.hmac_hex(secret.as_bytes(), content.as_bytes());
        let ok = sign::check_login(&cid, pk, dn, expected.as_bytes(), &secrets);
        // (An inferred algorithm is inferred again from the computed digest's length.)
        assert_eq!(ok.status, SignStatus::Verified, "{content}");
        assert_eq!(ok.algorithm, check.algorithm);
        let upper = expected.to_ascii_uppercase();
        let ok = sign::check_login(&cid, pk, dn, upper.as_bytes(), &secrets);
        assert_eq!(ok.status, SignStatus::Verified);
    }

    // The sub-device sign of a gateway's topo/add or combine/login, from the same material.
    let ts = cid.timestamp_text().unwrap_or("");
    let sign_text = String::from_utf8_lossy(password);
    let (status, alg) = sign::check_subdevice(
        pk,
        dn,
        &cid_text,
        ts,
        cid.signmethod(),
        &sign_text,
        &secrets,
    );
    let _ = status.label();
    if let (Some(secret), Some(alg)) = (secrets.device(pk, dn), alg) {
        let content = format!("clientId{cid_text}deviceName{dn}productKey{pk}timestamp{ts}");
        let expected = alg.hmac_hex(secret.as_bytes(), content.as_bytes());
        let (status, _) = sign::check_subdevice(
            pk,
            dn,
            &cid_text,
            ts,
            Some(match alg {
                Algorithm::Md5 => "hmacmd5",
                Algorithm::Sha1 => "hmacsha1",
                Algorithm::Sha256 => "hmacsha256",
            }),
            &expected,
            &secrets,
        );
        assert_eq!(status, SignStatus::Verified);
    }
    let _ = Algorithm::from_signmethod(&sign_text);
    let _ = Algorithm::from_hex_len(password.len());
    let _ = sign::hex(password);
});
