//! Login sign verification (protocol reference §2.5 and §3.1).
//!
//! Device-secret login: password = hex HMAC(deviceSecret,
//! `clientId<prefix>deviceName<dn>productKey<pk>[timestamp<ts>]`), the algorithm named by
//! `signmethod`, hex case not significant. Dynamic registration: HMAC(productSecret,
//! `deviceName<dn>productKey<pk>random<r>`). Secrets are only ever used here, never stored in
//! results.

use hmac::{Hmac, Mac};

use super::clientid::ClientId;
use super::secrets::Secrets;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha1,
    Sha256,
}

impl Algorithm {
    /// From a `signmethod` value (`hmacsha1`, `hmacSha256`, `sha256`, …).
    pub fn from_signmethod(m: &str) -> Option<Algorithm> {
        // Case-insensitive, every leading "hmac" dropped: compared where it lies, not lowered
        // into a copy (this runs for every login).
        let mut m = m.as_bytes();
        while m.len() >= 4 && m[..4].eq_ignore_ascii_case(b"hmac") {
            m = &m[4..];
        }
        [
            (&b"md5"[..], Algorithm::Md5),
            (b"sha1", Algorithm::Sha1),
            (b"sha256", Algorithm::Sha256),
        ]
        .into_iter()
        .find_map(|(name, a)| m.eq_ignore_ascii_case(name).then_some(a))
    }

    /// From the length of a hex digest, for logins that name no `signmethod`.
    pub fn from_hex_len(n: usize) -> Option<Algorithm> {
        match n {
            32 => Some(Algorithm::Md5),
            40 => Some(Algorithm::Sha1),
            64 => Some(Algorithm::Sha256),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "HMAC-MD5",
            Algorithm::Sha1 => "HMAC-SHA1",
            Algorithm::Sha256 => "HMAC-SHA256",
        }
    }

    /// Lower-case hex of HMAC(key, content).
    pub fn hmac_hex(self, key: &[u8], content: &[u8]) -> String {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], content: &[u8]) -> Vec<u8> {
            let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key)
                .expect("HMAC takes any key length");
            m.update(content);
            m.finalize().into_bytes().to_vec()
        }
        let bytes = match self {
            Algorithm::Md5 => run::<Hmac<md5::Md5>>(key, content),
            Algorithm::Sha1 => run::<Hmac<sha1::Sha1>>(key, content),
            Algorithm::Sha256 => run::<Hmac<sha2::Sha256>>(key, content),
        };
        hex(&bytes)
    }
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignStatus {
    Verified = 1,
    Mismatch = 2,
    NoSecret = 3,
    /// The password is a token (deviceToken, iotToken), not an HMAC sign.
    NotASign = 4,
}

impl SignStatus {
    pub fn label(self) -> &'static str {
        match self {
            SignStatus::Verified => "sign verified",
            SignStatus::Mismatch => "sign mismatch",
            SignStatus::NoSecret => "no secret known",
            SignStatus::NotASign => "not a sign (token)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    Device = 1,
    Product = 2,
}

/// The outcome of checking one login. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignCheck {
    pub status: SignStatus,
    pub secret_kind: SecretKind,
    pub algorithm: Option<Algorithm>,
    /// The string that was signed (the one that matched, or the one the platform expects).
    pub content: Option<String>,
    /// Whether the algorithm came from the password length because no `signmethod` was given.
    pub algorithm_inferred: bool,
    /// The password is not a hex digest of the expected length.
    pub password_not_hex: bool,
}

fn is_hex_digest(p: &[u8]) -> bool {
    !p.is_empty() && p.iter().all(u8::is_ascii_hexdigit)
}

/// Checks a CONNECT password. `pk`/`dn` come from the user name.
pub fn check_login(
    cid: &ClientId,
    pk: &str,
    dn: &str,
    password: &[u8],
    secrets: &Secrets,
) -> SignCheck {
    let password_not_hex = !is_hex_digest(password);
    let explicit = cid.signmethod().and_then(Algorithm::from_signmethod);
    let dynreg = cid.is_dynamic_registration();
    let (algorithm, inferred) = match explicit {
        Some(a) => (Some(a), false),
        None if dynreg => (Some(Algorithm::Sha256), true),
        // Documented default is hmacmd5; the password length is the better witness.
        None => (
            Algorithm::from_hex_len(password.len()).or(Some(Algorithm::Md5)),
            true,
        ),
    };
    let secret_kind = if dynreg {
        SecretKind::Product
    } else {
        SecretKind::Device
    };
    let mut check = SignCheck {
        status: SignStatus::NoSecret,
        secret_kind,
        algorithm,
        content: None,
        algorithm_inferred: inferred,
        password_not_hex,
    };
    if cid.uses_token() {
        check.status = SignStatus::NotASign;
        check.algorithm = None;
        return check;
    }
    // Pieces joined, not format!: this runs for every login.
    let content = if dynreg {
        let random = cid.random().unwrap_or("");
        ["deviceName", dn, "productKey", pk, "random", random].concat()
    } else {
        let ts = cid.timestamp_text();
        let (ts_key, ts) = ts.map_or(("", ""), |t| ("timestamp", t));
        let prefix = cid.prefix();
        [
            "clientId",
            prefix,
            "deviceName",
            dn,
            "productKey",
            pk,
            ts_key,
            ts,
        ]
        .concat()
    };
    check.content = Some(content);
    let secret = if dynreg {
        secrets.product(pk)
    } else {
        secrets.device(pk, dn)
    };
    let (Some(secret), Some(alg)) = (secret, algorithm) else {
        return check;
    };
    let expected = alg.hmac_hex(
        secret.as_bytes(),
        check.content.as_deref().unwrap_or("").as_bytes(),
    );
    check.status = if password.eq_ignore_ascii_case(expected.as_bytes()) {
        SignStatus::Verified
    } else {
        SignStatus::Mismatch
    };
    check
}

/// Checks a sub-device sign from a gateway's topo/add or combine/(batch_)login (reference §4.6):
/// HMAC(sub-device secret, `clientId<full clientId>deviceName<dn>productKey<pk>timestamp<ts>`).
/// Returns the status and the algorithm used.
pub fn check_subdevice(
    pk: &str,
    dn: &str,
    client_id: &str,
    timestamp: &str,
    signmethod: Option<&str>,
    sign: &str,
    secrets: &Secrets,
) -> (SignStatus, Option<Algorithm>) {
    let alg = signmethod
        .and_then(Algorithm::from_signmethod)
        .or_else(|| Algorithm::from_hex_len(sign.len()));
    let (Some(secret), Some(alg)) = (secrets.device(pk, dn), alg) else {
        return (SignStatus::NoSecret, alg);
    };
    let content = format!("clientId{client_id}deviceName{dn}productKey{pk}timestamp{timestamp}");
    let expected = alg.hmac_hex(secret.as_bytes(), content.as_bytes());
    let status = if sign.as_bytes().eq_ignore_ascii_case(expected.as_bytes()) {
        SignStatus::Verified
    } else {
        SignStatus::Mismatch
    };
    (status, Some(alg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets_with(pk: &str, dn: &str, s: &str) -> Secrets {
        let mut x = Secrets::default();
        x.add_device(pk, dn, s);
        x
    }

    #[test]
    fn reference_doc_vectors() {
        let content = b"clientId12345deviceNamedeviceproductKeypktimestamp789";
        assert_eq!(
            Algorithm::Sha1.hmac_hex(b"secret", content),
            "fafd82a3d602b37fb0fa8b7892f24a477f851a14"
        );
        assert_eq!(
            Algorithm::Sha256.hmac_hex(b"secret", content),
            "6074a46a91b1ebb2cc4ea42790ad0e80202c9843859fc292e57c4eb19fad9e57"
        );
        assert_eq!(
            Algorithm::Md5.hmac_hex(b"secret", content),
            "14b198324fe55e1d3c88f2e705e201ee"
        );
        // Third-party broker vector (reference §11).
        assert_eq!(
            Algorithm::Sha1.hmac_hex(
                b"fc73ae4f1f2fb21073f1eee685cf4435",
                b"clientId11111deviceNametest1productKeya1U4pQzrgimtimestamp2524608000000"
            ),
            "88794a49fc0663f9eb3eb3c97194d2f76d10329b"
        );
    }

    #[test]
    fn doc_example_login_upper_case_password() {
        let cid = ClientId::parse("12345|securemode=3,signmethod=hmacsha1,timestamp=789|");
        let s = secrets_with("pk", "device", "secret");
        let c = check_login(
            &cid,
            "pk",
            "device",
            b"FAFD82A3D602B37FB0FA8B7892F24A477F851A14",
            &s,
        );
        assert_eq!(c.status, SignStatus::Verified);
        assert_eq!(
            c.content.as_deref(),
            Some("clientId12345deviceNamedeviceproductKeypktimestamp789")
        );
        assert_eq!(c.algorithm, Some(Algorithm::Sha1));
    }

    #[test]
    fn link_sdk_sha256_upper() {
        let cid = ClientId::parse(
            "a1AbCdEfGhI.thermo-001|timestamp=2524608000000,_ss=1,_v=sdk-c-4.2.0,securemode=2,signmethod=hmacsha256,ext=3,_conn=tls_1f4|",
        );
        let s = secrets_with(
            "a1AbCdEfGhI",
            "thermo-001",
            "8f7e6d5c4b3a29180f1e2d3c4b5a6978",
        );
        let c = check_login(
            &cid,
            "a1AbCdEfGhI",
            "thermo-001",
            b"76FE3D8C7C87FC178258C698E2C25999F498908298A956E49D703BBE6651111A",
            &s,
        );
        assert_eq!(c.status, SignStatus::Verified);
    }

    #[test]
    fn node_and_python_styles() {
        let s = secrets_with(
            "a1AbCdEfGhI",
            "thermo-001",
            "8f7e6d5c4b3a29180f1e2d3c4b5a6978",
        );
        let node = ClientId::parse(
            "a1AbCdEfGhI&thermo-001|securemode=2,signmethod=hmacsha1,timestamp=1700000000000,lan=NodeJS,_v=1.2.8|",
        );
        let c = check_login(
            &node,
            "a1AbCdEfGhI",
            "thermo-001",
            b"3dde441d25eacdf154f9b1dd9e3faf462002f8a3",
            &s,
        );
        assert_eq!(c.status, SignStatus::Verified);
        let py = ClientId::parse(
            "a1AbCdEfGhI&thermo-001|securemode=2,signmethod=hmacsha1,ext=1,_ss=1,lan=Python,_v=1.2.13,timestamp=1700000000|",
        );
        let c = check_login(
            &py,
            "a1AbCdEfGhI",
            "thermo-001",
            b"ba2e176d00a0f7b03e9ed7ae1811a6c99351527c",
            &s,
        );
        assert_eq!(c.status, SignStatus::Verified);
        // One wrong digit
        let c = check_login(
            &py,
            "a1AbCdEfGhI",
            "thermo-001",
            b"ba2e176d00a0f7b03e9ed7ae1811a6c99351527d",
            &s,
        );
        assert_eq!(c.status, SignStatus::Mismatch);
    }

    #[test]
    fn dynamic_registration_uses_product_secret() {
        let cid = ClientId::parse("thermo-001.a1AbCdEfGhI|random=3735928559,authType=register,securemode=2,signmethod=hmacsha256|");
        let mut s = Secrets::default();
        s.add_product("a1AbCdEfGhI", "Zx9YwVuTsRqPoNmL");
        let c = check_login(
            &cid,
            "a1AbCdEfGhI",
            "thermo-001",
            b"C28250FC1B78486DF8AED18A9714D6EA613A05E1FE66A16206B2C0CE992F695B",
            &s,
        );
        assert_eq!(c.status, SignStatus::Verified);
        assert_eq!(c.secret_kind, SecretKind::Product);
        assert_eq!(
            c.content.as_deref(),
            Some("deviceNamethermo-001productKeya1AbCdEfGhIrandom3735928559")
        );
    }

    #[test]
    fn no_signmethod_infers_from_length() {
        // The 06b capture's login: no |…| part, HMAC-SHA1 without timestamp.
        let cid = ClientId::parse("a1B2c3D4e5F&lab-sensor-06");
        let secret = "3f1d0c9e8b7a6d5c4b3a29180f7e6d06";
        let pw = Algorithm::Sha1.hmac_hex(
            secret.as_bytes(),
            b"clientIda1B2c3D4e5F&lab-sensor-06deviceNamelab-sensor-06productKeya1B2c3D4e5F",
        );
        let s = secrets_with("a1B2c3D4e5F", "lab-sensor-06", secret);
        let c = check_login(&cid, "a1B2c3D4e5F", "lab-sensor-06", pw.as_bytes(), &s);
        assert_eq!(c.status, SignStatus::Verified);
        assert!(c.algorithm_inferred);
    }

    #[test]
    fn subdevice_login_vector() {
        // Reference §11 (f): the sub-device signs the full client id string.
        let s = secrets_with("a1SubPkXyzA", "sub-01", "00112233445566778899aabbccddeeff");
        let (status, alg) = check_subdevice(
            "a1SubPkXyzA",
            "sub-01",
            "a1SubPkXyzA.sub-01|_ss=1,_v=sdk-c-4.1.0|",
            "1700000000123",
            Some("hmacSha256"),
            "92212D334F8FB9B052C3BD2C1AA522C825B9EDDAD34021674930FA92B87BAC86",
            &s,
        );
        assert_eq!(
            (status, alg),
            (SignStatus::Verified, Some(Algorithm::Sha256))
        );
    }

    #[test]
    fn tokens_and_missing_secrets() {
        let cid = ClientId::parse("cid|authType=connwl,securemode=-2,_ss=1|");
        let c = check_login(
            &cid,
            "pk",
            "dn",
            b"opaque-device-token",
            &Secrets::default(),
        );
        assert_eq!(c.status, SignStatus::NotASign);
        let cid = ClientId::parse("cid|securemode=3,signmethod=hmacsha1|");
        let c = check_login(&cid, "pk", "dn", b"zz-not-hex", &Secrets::default());
        assert_eq!(c.status, SignStatus::NoSecret);
        assert!(c.password_not_hex);
    }
}
