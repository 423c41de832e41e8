//! Per-capture state: the secrets in force, each connection's session, each frame's analysis.
//!
//! Dissection is single-threaded per epan session, so a thread-local is enough. Everything is
//! dropped when a capture is closed or re-dissected (init and cleanup routines).

use std::cell::RefCell;
use std::ffi::CStr;

use wireshark_sys as ws;

use crate::core::dissect::Dissection;
use crate::core::secrets::Secrets;

#[derive(Default)]
pub struct State {
    pub secrets: Secrets,
    /// Every connection's and frame's analysis.
    pub dissection: Dissection,
    /// MQTT over WebSocket.
    pub ws: crate::core::wsstream::Streams,
    /// The "no TLS keys" hint: once per connection.
    pub key_hints: crate::core::transport::KeyHints,
    /// The TSL folder's models, read again only when the folder changes.
    pub tsl_folder: crate::core::tsl::folder::Folder,
    /// The endpoints (frame, source key, destination key) the warm hook just computed for the
    /// MQTT call that follows it, so the first pass does not compute them again.
    pub warmed: Option<(u32, u64, u64)>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// Runs `f` with the state. Never nested: the glue calls nothing that re-enters aliiot.
pub fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|s| f(&mut s.borrow_mut()))
}

pub fn clear() {
    with_state(|st| {
        st.dissection = Dissection::default();
        st.dissection.capture.tsl.files = st.tsl_folder.models.clone();
        st.ws = Default::default();
        st.key_hints = Default::default();
        st.warmed = None;
    });
}

unsafe fn cstr(p: *const std::ffi::c_char) -> &'static str {
    if p.is_null() {
        ""
    } else {
        CStr::from_ptr(p).to_str().unwrap_or("")
    }
}

/// Called when a capture is opened or re-dissected: drops the old analysis and reads the secrets
/// tables and keys file as they are now.
pub fn reset_and_load_secrets() {
    let mut secrets = Secrets::default();
    unsafe {
        let mut row: ws::shim_secret = std::mem::zeroed();
        for i in 0..ws::shim_device_secret_count() {
            if ws::shim_device_secret_get(i, &mut row) != 0 {
                let (pk, dn, s) = (
                    cstr(row.product_key),
                    cstr(row.device_name),
                    cstr(row.secret),
                );
                if !pk.is_empty() && !dn.is_empty() && !s.is_empty() {
                    secrets.add_device(pk, dn, s);
                }
            }
        }
        for i in 0..ws::shim_product_secret_count() {
            if ws::shim_product_secret_get(i, &mut row) != 0 {
                let (pk, s) = (cstr(row.product_key), cstr(row.secret));
                if !pk.is_empty() && !s.is_empty() {
                    secrets.add_product(pk, s);
                }
            }
        }
        let path = cstr(ws::shim_pref_keys_file());
        if !path.is_empty() {
            match std::fs::read(path) {
                Ok(bytes) => {
                    for problem in secrets.load_keys_file(&bytes) {
                        warn(&format!("aliiot: {path}: {problem}"));
                    }
                }
                Err(e) => warn(&format!("aliiot: cannot read the secrets file {path}: {e}")),
            }
        }
    }
    // SAFETY: the preference's string, valid until preferences change (not during this call).
    let folder = unsafe { cstr(ws::shim_pref_tsl_folder()) };
    with_state(|st| {
        st.secrets = secrets;
        if let Some(messages) = st.tsl_folder.refresh(folder) {
            for m in messages {
                warn(&format!("aliiot: {m}"));
            }
        }
    });
    clear();
}

pub fn warn(msg: &str) {
    let c = std::ffi::CString::new(msg.replace('\0', " ")).unwrap_or_default();
    unsafe { ws::shim_log_warning(c.as_ptr()) };
}
