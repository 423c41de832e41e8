//! The device and product secrets the user gave aliiot, from the two UAT tables and the keys file.
//!
//! Secrets are used only by the sign check; nothing here is ever rendered.

use std::collections::HashMap;

#[derive(Default)]
pub struct Secrets {
    /// productKey → deviceName → deviceSecret
    device: HashMap<String, HashMap<String, String>>,
    product: HashMap<String, String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret, even in debug output.
        write!(f, "Secrets {{ {} secrets }}", self.len())
    }
}

impl Secrets {
    pub fn add_device(&mut self, product_key: &str, device_name: &str, secret: &str) {
        self.device
            .entry(product_key.trim().to_string())
            .or_default()
            .insert(device_name.trim().to_string(), secret.trim().to_string());
    }

    pub fn add_product(&mut self, product_key: &str, secret: &str) {
        self.product
            .insert(product_key.trim().to_string(), secret.trim().to_string());
    }

    pub fn device(&self, product_key: &str, device_name: &str) -> Option<&str> {
        self.device
            .get(product_key)?
            .get(device_name)
            .map(String::as_str)
    }

    pub fn product(&self, product_key: &str) -> Option<&str> {
        self.product.get(product_key).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.device.is_empty() && self.product.is_empty()
    }

    pub fn len(&self) -> usize {
        self.device.values().map(HashMap::len).sum::<usize>() + self.product.len()
    }

    /// Reads a keys file: one secret per line, `productKey,deviceName,deviceSecret` or
    /// `productKey,productSecret`; fields may be quoted; blank lines and `#` comments are skipped.
    /// Returns the problems found, one message per bad line (the good lines are still used).
    pub fn load_keys_file(&mut self, text: &[u8]) -> Vec<String> {
        let mut problems = Vec::new();
        let Ok(text) = std::str::from_utf8(text) else {
            problems.push("the secrets file is not UTF-8 text; it was ignored".to_string());
            return problems;
        };
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line
                .split(',')
                .map(|f| f.trim().trim_matches('"').trim())
                .collect();
            let bad = |why: &str| format!("secrets file line {}: {why}; line ignored", n + 1);
            if fields.iter().any(|f| f.is_empty()) {
                problems.push(bad("empty field"));
                continue;
            }
            if fields.iter().any(|f| f.len() > 256) {
                problems.push(bad("field longer than 256 characters"));
                continue;
            }
            match fields.as_slice() {
                [pk, dn, secret] => self.add_device(pk, dn, secret),
                [pk, secret] => self.add_product(pk, secret),
                _ => problems.push(bad(
                    "expected 'productKey,deviceName,deviceSecret' or 'productKey,productSecret'",
                )),
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_file_lines() {
        let mut s = Secrets::default();
        let problems = s.load_keys_file(
            b"# lab devices\n\"a1B2c3D4e5F\",\"lab-sensor-01\",\"3f1d\"\n a1B2c3D4e5F , Zx9Yw \n\nbad,,x\none\n",
        );
        assert_eq!(s.device("a1B2c3D4e5F", "lab-sensor-01"), Some("3f1d"));
        assert_eq!(s.product("a1B2c3D4e5F"), Some("Zx9Yw"));
        assert_eq!(s.device("a1B2c3D4e5F", "other"), None);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("secrets file line 5: empty field"));
        assert!(problems[1].starts_with("secrets file line 6: expected"));
    }

    #[test]
    fn binary_keys_file_is_refused_whole() {
        let mut s = Secrets::default();
        let problems = s.load_keys_file(&[0xff, 0xfe, 0, 1, 2]);
        assert!(s.is_empty());
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn debug_hides_secrets() {
        let mut s = Secrets::default();
        s.add_device("pk", "dn", "supersecret");
        assert!(!format!("{s:?}").contains("supersecret"));
    }
}
