//! aliiot's taps and their statistics: the tree (`tshark -z aliiot,tree`, Statistics › Alibaba
//! Cloud IoT), the messages tree (`-z aliiot_messages,tree`) and the device table
//! (`-z aliiot,devices`) over the `aliiot` tap; the properties
//! tree (Statistics › Alibaba Cloud IoT properties) and table (`-z aliiot,properties`) over the
//! `aliiot_properties` tap, whose records exist only while one of them listens. Their content comes
//! from the core ([`crate::core::stats`]); this only moves records to Wireshark.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_int, c_void, CString};
use std::sync::atomic::{AtomicI32, Ordering};

use wireshark_sys as ws;

use super::guard;
use crate::core::stats::{self, DeviceTable, PropertyRecord, PropertyTable, StatsSink, TapRecord};

static TAP: AtomicI32 = AtomicI32::new(-1);
static PROPERTIES_TAP: AtomicI32 = AtomicI32::new(-1);

thread_local! {
    /// The current frame's records; the tap hands Wireshark their index + 1 (taps run before the
    /// next frame is dissected).
    static RECORDS: RefCell<Vec<TapRecord>> = const { RefCell::new(Vec::new()) };
    /// Node ids of each stats tree instance's top-level nodes.
    static TOP_IDS: RefCell<HashMap<usize, Vec<c_int>>> = RefCell::new(HashMap::new());
    static DEVICES: RefCell<DeviceTable> = RefCell::new(DeviceTable::default());
    /// The current frame's property records (as RECORDS).
    static PROPERTY_RECORDS: RefCell<Vec<PropertyRecord>> = const { RefCell::new(Vec::new()) };
    static PROPERTIES: RefCell<PropertyTable> = RefCell::new(PropertyTable::default());
}

pub fn register_tap() {
    TAP.store(
        unsafe { ws::shim_register_tap(c"aliiot".as_ptr()) },
        Ordering::Relaxed,
    );
    PROPERTIES_TAP.store(
        unsafe { ws::shim_register_tap(c"aliiot_properties".as_ptr()) },
        Ordering::Relaxed,
    );
}

pub fn register_plugin() {
    unsafe { ws::shim_tap_register_plugin(Some(register_listeners)) };
}

/// The taps whose listeners the shim's frame facts ask about: bit 0 of their `taps`,
/// [`LISTENING`], says whether anyone listens (statistics open: only then are records built);
/// bit 1, [`LISTENING_PROPERTIES`], whether the properties statistics listen (then payloads are
/// read in full).
pub fn ids() -> [c_int; 2] {
    [
        TAP.load(Ordering::Relaxed),
        PROPERTIES_TAP.load(Ordering::Relaxed),
    ]
}
pub const LISTENING: u8 = 1;
pub const LISTENING_PROPERTIES: u8 = 2;

pub fn begin_frame() {
    RECORDS.with(|r| r.borrow_mut().clear());
    PROPERTY_RECORDS.with(|r| r.borrow_mut().clear());
}

pub unsafe fn queue_properties(pinfo: *mut ws::packet_info, rec: PropertyRecord) {
    let idx = PROPERTY_RECORDS.with(|r| {
        let mut r = r.borrow_mut();
        r.push(rec);
        r.len()
    });
    ws::shim_tap_queue(
        PROPERTIES_TAP.load(Ordering::Relaxed),
        pinfo,
        idx as *const c_void,
    );
}

pub unsafe fn queue(pinfo: *mut ws::packet_info, rec: TapRecord) {
    let idx = RECORDS.with(|r| {
        let mut r = r.borrow_mut();
        r.push(rec);
        r.len()
    });
    ws::shim_tap_queue(TAP.load(Ordering::Relaxed), pinfo, idx as *const c_void);
}

extern "C" fn register_listeners() {
    guard((), || unsafe {
        ws::shim_register_stats_tree(
            0,
            c"aliiot".as_ptr(),
            c"aliiot".as_ptr(),
            c"Alibaba Cloud IoT".as_ptr(),
            Some(st_init),
            Some(st_packet),
        );
        ws::shim_register_stats_tree(
            2,
            c"aliiot".as_ptr(),
            c"aliiot_messages".as_ptr(),
            c"Alibaba Cloud IoT messages".as_ptr(),
            None,
            Some(st_messages_packet),
        );
        ws::shim_register_stats_tree(
            1,
            c"aliiot_properties".as_ptr(),
            c"aliiot_properties".as_ptr(),
            c"Alibaba Cloud IoT properties".as_ptr(),
            None,
            Some(st_properties_packet),
        );
        ws::shim_register_cli_stat(
            0,
            c"aliiot".as_ptr(),
            c"aliiot,devices".as_ptr(),
            c"Alibaba Cloud IoT devices".as_ptr(),
            Some(devices_reset),
            Some(devices_packet),
            Some(devices_draw),
        );
        ws::shim_register_cli_stat(
            1,
            c"aliiot_properties".as_ptr(),
            c"aliiot,properties".as_ptr(),
            c"Alibaba Cloud IoT properties".as_ptr(),
            Some(properties_reset),
            Some(properties_packet),
            Some(properties_draw),
        );
    });
}

/// `f` of the property record a tap call carries (borrowed: each listener reads it in turn).
fn with_property_record<R>(data: *const c_void, f: impl FnOnce(&PropertyRecord) -> R) -> Option<R> {
    let idx = (data as usize).wrapping_sub(1);
    PROPERTY_RECORDS.with(|r| r.borrow().get(idx).map(f))
}

extern "C" fn properties_reset() {
    guard((), || PROPERTIES.with(|d| d.borrow_mut().clear()));
}

extern "C" fn properties_packet(data: *const c_void) {
    guard((), || {
        with_property_record(data, |r| PROPERTIES.with(|d| d.borrow_mut().add(r)));
    });
}

extern "C" fn properties_draw() {
    guard((), || print(&PROPERTIES.with(|d| d.borrow().render())));
}

fn print(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

extern "C" fn st_properties_packet(st: *mut ws::stats_tree, data: *const c_void) -> c_int {
    guard(0, || {
        with_property_record(data, |rec| {
            stats::apply_properties(rec, &mut TreeSink { st, last: 0 });
            1
        })
        .unwrap_or(0)
    })
}

/// A stats tree whose paths start at its root.
struct TreeSink {
    st: *mut ws::stats_tree,
    /// The node the last call reached.
    last: c_int,
}

impl TreeSink {
    /// The node of each name of `path` but the last, from the root; the last one's parent.
    fn parent(&self, path: &[&str]) -> c_int {
        let mut parent = 0;
        for name in &path[..path.len().saturating_sub(1)] {
            parent = with_cstr(name, |n| unsafe { ws::shim_st_tick(self.st, n, parent, 1) });
        }
        parent
    }
}

impl StatsSink for TreeSink {
    fn tick(&mut self, path: &[&str]) {
        let parent = self.parent(path);
        if let Some(leaf) = path.last() {
            self.last = with_cstr(leaf, |n| unsafe { ws::shim_st_tick(self.st, n, parent, 1) });
        }
    }

    fn sample(&mut self, path: &[&str], value: i64) {
        self.sample_f64(path, value as f64);
    }

    fn sample_f64(&mut self, path: &[&str], value: f64) {
        let parent = self.parent(path);
        if let Some(leaf) = path.last() {
            self.last = with_cstr(leaf, |n| unsafe {
                ws::shim_st_avg_float(self.st, n, parent, value)
            });
        }
    }

    fn add_to_last(&mut self, name: &str, n: u32) {
        for _ in 0..n {
            with_cstr(name, |n| unsafe {
                ws::shim_st_tick(self.st, n, self.last, 0)
            });
        }
    }
}

/// `f` of the record a tap call carries (borrowed: each listener reads it in turn).
fn with_record<R>(data: *const c_void, f: impl FnOnce(&TapRecord) -> R) -> Option<R> {
    let idx = (data as usize).wrapping_sub(1);
    RECORDS.with(|r| r.borrow().get(idx).map(f))
}

extern "C" fn devices_reset() {
    guard((), || DEVICES.with(|d| d.borrow_mut().clear()));
}

extern "C" fn devices_packet(data: *const c_void) {
    guard((), || {
        with_record(data, |r| DEVICES.with(|d| d.borrow_mut().add(r)));
    });
}

extern "C" fn devices_draw() {
    guard((), || print(&DEVICES.with(|d| d.borrow().render())));
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

/// `f` with `s` as a C string: on the stack when short (every node of every packet's paths comes
/// through here), else through [`cstring`].
fn with_cstr<R>(s: &str, f: impl FnOnce(*const std::ffi::c_char) -> R) -> R {
    let mut buf = [0u8; 128];
    if s.len() < buf.len() && !s.as_bytes().contains(&0) {
        buf[..s.len()].copy_from_slice(s.as_bytes());
        f(buf.as_ptr().cast())
    } else {
        f(cstring(s).as_ptr())
    }
}

extern "C" fn st_init(st: *mut ws::stats_tree) {
    guard((), || {
        let ids = stats::TOP
            .iter()
            .map(|name| unsafe { ws::shim_st_node(st, cstring(name).as_ptr(), 0, 1) })
            .collect();
        TOP_IDS.with(|t| t.borrow_mut().insert(st as usize, ids));
    });
}

struct StSink<'a> {
    st: *mut ws::stats_tree,
    /// The ids of the tree's top nodes ([`stats::TOP`]), made by st_init.
    top: &'a [c_int],
}

impl StSink<'_> {
    fn top_id(&self, name: &str) -> c_int {
        stats::TOP
            .iter()
            .position(|t| *t == name)
            .and_then(|i| self.top.get(i).copied())
            .unwrap_or(0)
    }
}

impl StatsSink for StSink<'_> {
    fn tick(&mut self, path: &[&str]) {
        let mut parent = 0;
        for (i, name) in path.iter().enumerate() {
            let with_children = (i + 1 < path.len() || i == 0) as c_int;
            parent = with_cstr(name, |n| unsafe {
                ws::shim_st_tick(self.st, n, parent, with_children)
            });
        }
    }

    fn sample(&mut self, path: &[&str], value: i64) {
        let (Some(top), Some(leaf)) = (path.first(), path.last()) else {
            return;
        };
        let v = value.clamp(0, i32::MAX as i64) as c_int;
        let top = self.top_id(top);
        with_cstr(leaf, |n| unsafe { ws::shim_st_avg(self.st, n, top, v) });
    }
}

extern "C" fn st_messages_packet(st: *mut ws::stats_tree, data: *const c_void) -> c_int {
    guard(0, || {
        with_record(data, |rec| {
            stats::apply_messages(rec, &mut StSink { st, top: &[] });
            1
        })
        .unwrap_or(0)
    })
}

extern "C" fn st_packet(st: *mut ws::stats_tree, data: *const c_void) -> c_int {
    guard(0, || {
        // The top node ids borrowed, not cloned: this runs for every packet the tree sees.
        TOP_IDS.with(|t| {
            let t = t.borrow();
            let top = t.get(&(st as usize)).map_or(&[][..], Vec::as_slice);
            with_record(data, |rec| {
                stats::apply(rec, &mut StSink { st, top });
                1
            })
            .unwrap_or(0)
        })
    })
}
