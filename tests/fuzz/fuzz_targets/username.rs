//! `split_username`: the login user name `deviceName&productKey`.
#![no_main]

use aliiot::core::session::split_username;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let u = String::from_utf8_lossy(data);
    if let Some((dn, pk)) = split_username(&u) {
        assert!(!dn.is_empty() && !pk.is_empty());
        assert!(!pk.contains('&'));
        assert_eq!(format!("{dn}&{pk}"), u);
    } else {
        // Only refused when there is no '&' or one side is empty.
        match u.rsplit_once('&') {
            None => {}
            Some((dn, pk)) => assert!(dn.is_empty() || pk.is_empty()),
        }
    }
});
