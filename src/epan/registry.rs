//! Registration: the protocol, its fields, subtrees and expert items (from the core's tables),
//! preferences, and in handoff the attachment to MQTT.

use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::atomic::{AtomicI32, AtomicPtr, Ordering};
use std::sync::OnceLock;

use wireshark_sys as ws;

use crate::core::expert::{Ei, Group, Severity, EXPERTS};
use crate::core::fields::{Ett, Hf, Kind, ETT_COUNT, FIELDS};

const N_FIELDS: usize = FIELDS.len();
const N_EXPERTS: usize = EXPERTS.len();

static PROTO: AtomicI32 = AtomicI32::new(-1);
/// Wireshark writes each registered id through a pointer into these arrays.
static HF_IDS: [AtomicI32; N_FIELDS] = [const { AtomicI32::new(-1) }; N_FIELDS];
static ETT_IDS: [AtomicI32; ETT_COUNT] = [const { AtomicI32::new(-1) }; ETT_COUNT];

/// expert_field storage Wireshark fills in at registration and reads on every expert item.
struct ExpertIds(std::cell::UnsafeCell<[ws::expert_field; N_EXPERTS]>);
// SAFETY: written once by Wireshark during registration, then only read; epan is single-threaded.
unsafe impl Sync for ExpertIds {}
static EI_IDS: ExpertIds = ExpertIds(std::cell::UnsafeCell::new(
    [ws::expert_field { ei: -1, hf: -1 }; N_EXPERTS],
));

pub fn proto() -> c_int {
    PROTO.load(Ordering::Relaxed)
}

pub fn hf(f: Hf) -> c_int {
    HF_IDS[f as usize].load(Ordering::Relaxed)
}

/// The field and expert registrations as Wireshark keeps them: it marks a field a filter or an
/// export references in place (`ref_type`), so asking is one load. Null where this Wireshark
/// keeps copies (checked at registration): then each field is asked of Wireshark.
static HF_REG: AtomicPtr<ws::hf_register_info> = AtomicPtr::new(std::ptr::null_mut());
static EI_REG: AtomicPtr<ws::ei_register_info> = AtomicPtr::new(std::ptr::null_mut());

/// Whether a filter or an export references field `f`; `tree`: a tree nobody sees.
pub fn field_referenced(tree: *mut ws::proto_tree, f: Hf) -> bool {
    referenced_at(tree, f as usize)
}

/// [`field_referenced`] of `FIELDS[i]`.
fn referenced_at(tree: *mut ws::proto_tree, i: usize) -> bool {
    let p = HF_REG.load(Ordering::Relaxed);
    if p.is_null() {
        return unsafe { ws::shim_field_referenced(tree, HF_IDS[i].load(Ordering::Relaxed)) } != 0;
    }
    assert!(i < N_FIELDS);
    // SAFETY: p is the leaked array of N_FIELDS registrations, and i < N_FIELDS; Wireshark writes
    // ref_type on this thread, outside this read.
    unsafe {
        std::ptr::addr_of!((*p.add(i)).hfinfo.ref_type).read() != ws::hf_ref_type_HF_REF_TYPE_NONE
    }
}

/// Whether a filter names one of aliiot's expert items (`aliiot.alink.error_code`, say).
pub fn any_expert_referenced(tree: *mut ws::proto_tree) -> bool {
    let p = EI_REG.load(Ordering::Relaxed);
    if p.is_null() {
        // SAFETY: written once by Wireshark at registration, read-only since.
        let ids = unsafe { &*EI_IDS.0.get() };
        return ids
            .iter()
            .any(|e| unsafe { ws::shim_field_referenced(tree, e.hf) } != 0);
    }
    // SAFETY: p is the leaked array of N_EXPERTS registrations.
    let regs = unsafe { std::slice::from_raw_parts(p, N_EXPERTS) };
    // Asked for every packet a filter looks at: one load per registration, no early exit to
    // branch on (most filters name none of them).
    regs.iter().fold(false, |any, r| {
        any | (r.eiinfo.hf_info.hfinfo.ref_type != ws::hf_ref_type_HF_REF_TYPE_NONE)
    })
}

/// Whether a filter or an export references a field made from a PUBLISH's payload
/// ([`crate::core::fields::from_payload`]).
pub fn any_payload_field_referenced(tree: *mut ws::proto_tree) -> bool {
    static FROM_PAYLOAD: OnceLock<RefTypes> = OnceLock::new();
    any_referenced_of(tree, &FROM_PAYLOAD, crate::core::fields::from_payload)
}

/// Whether a filter or an export references a field made from a connection's state
/// ([`crate::core::fields::from_session`]).
pub fn any_session_field_referenced(tree: *mut ws::proto_tree) -> bool {
    static FROM_SESSION: OnceLock<RefTypes> = OnceLock::new();
    any_referenced_of(tree, &FROM_SESSION, crate::core::fields::from_session)
}

/// The fields of one kind: their indices, and where Wireshark marks each referenced (empty
/// where this Wireshark keeps copies of the registrations).
struct RefTypes {
    indices: Vec<usize>,
    marks: Vec<*const ws::hf_ref_type>,
}
// SAFETY: the pointers are into the leaked registrations, only read, on epan's one thread.
unsafe impl Send for RefTypes {}
unsafe impl Sync for RefTypes {}

/// Whether any field `kind` picks (listed once, in `list`) is referenced. Asked for every
/// packet a filter or an export looks at, and most name none of them: one load per field.
fn any_referenced_of(
    tree: *mut ws::proto_tree,
    list: &OnceLock<RefTypes>,
    kind: fn(&crate::core::fields::FieldDef) -> bool,
) -> bool {
    let list = list.get_or_init(|| {
        let indices: Vec<usize> = (0..N_FIELDS).filter(|&i| kind(&FIELDS[i])).collect();
        let p = HF_REG.load(Ordering::Relaxed);
        let marks = if p.is_null() {
            Vec::new()
        } else {
            // SAFETY: p is the leaked array of N_FIELDS registrations and every i < N_FIELDS.
            indices
                .iter()
                .map(|&i| unsafe { std::ptr::addr_of!((*p.add(i)).hfinfo.ref_type) })
                .collect()
        };
        RefTypes { indices, marks }
    });
    if list.marks.is_empty() {
        return list.indices.iter().any(|&i| referenced_at(tree, i));
    }
    // SAFETY: each mark points into the leaked registrations; Wireshark writes them on this
    // thread, outside this read.
    list.marks.iter().fold(false, |any, &m| {
        any | (unsafe { m.read() } != ws::hf_ref_type_HF_REF_TYPE_NONE)
    })
}

pub fn ett(e: Ett) -> c_int {
    ETT_IDS[e as usize].load(Ordering::Relaxed)
}

pub fn ei(e: Ei) -> *mut ws::expert_field {
    // SAFETY: index is in range by construction of the Ei enum (checked by a core test).
    unsafe { (EI_IDS.0.get() as *mut ws::expert_field).add(e as usize) }
}

/// A string that lives as long as Wireshark (registration data is kept by pointer).
fn leak(s: &str) -> *const c_char {
    CString::new(s)
        .expect("no NUL in registration strings")
        .into_raw()
}

fn value_strings<T: Copy>(vals: &[(T, &str)], to_u32: impl Fn(T) -> u32) -> *const c_void {
    let mut v: Vec<ws::value_string> = vals
        .iter()
        .map(|(n, s)| ws::value_string {
            value: to_u32(*n),
            strptr: leak(s),
        })
        .collect();
    v.push(ws::value_string {
        value: 0,
        strptr: std::ptr::null(),
    });
    Box::leak(v.into_boxed_slice()).as_ptr() as *const c_void
}

/// An FT_FRAMENUM field of the given link type (request, response, ack…).
fn framenum(kind: ws::ft_framenum_type) -> (ws::ftenum, c_int, *const c_void, u64) {
    (
        ws::ftenum_FT_FRAMENUM,
        ws::field_display_e_BASE_NONE as c_int,
        kind as usize as *const c_void,
        0,
    )
}

fn header_field(i: usize) -> ws::hf_register_info {
    let f = &FIELDS[i];
    let none = ws::field_display_e_BASE_NONE as c_int;
    let (ftype, display, strings, bitmask): (ws::ftenum, c_int, *const c_void, u64) = match f.kind {
        Kind::Str => (ws::ftenum_FT_STRING, none, std::ptr::null(), 0),
        Kind::U8(vals) => (
            ws::ftenum_FT_UINT8,
            ws::field_display_e_BASE_DEC as c_int,
            vals.map_or(std::ptr::null(), |v| value_strings(v, |n| n)),
            0,
        ),
        Kind::U32Dec => (
            ws::ftenum_FT_UINT32,
            ws::field_display_e_BASE_DEC as c_int,
            std::ptr::null(),
            0,
        ),
        Kind::U32Hex => (
            ws::ftenum_FT_UINT32,
            ws::field_display_e_BASE_HEX as c_int,
            std::ptr::null(),
            0,
        ),
        Kind::I32(vals) => (
            ws::ftenum_FT_INT32,
            ws::field_display_e_BASE_DEC as c_int,
            if vals.is_empty() {
                std::ptr::null()
            } else {
                value_strings(vals, |n: i32| n as u32)
            },
            0,
        ),
        Kind::Bool(0) => (ws::ftenum_FT_BOOLEAN, none, std::ptr::null(), 0),
        Kind::Bool(mask) => (ws::ftenum_FT_BOOLEAN, 32, std::ptr::null(), mask as u64),
        Kind::AbsTimeUtc => (
            ws::ftenum_FT_ABSOLUTE_TIME,
            ws::field_display_e_ABSOLUTE_TIME_UTC as c_int,
            std::ptr::null(),
            0,
        ),
        Kind::RelTime => (ws::ftenum_FT_RELATIVE_TIME, none, std::ptr::null(), 0),
        Kind::F64 => (ws::ftenum_FT_DOUBLE, none, std::ptr::null(), 0),
        Kind::FrameRequest => framenum(ws::ft_framenum_type_FT_FRAMENUM_REQUEST),
        Kind::FrameResponse => framenum(ws::ft_framenum_type_FT_FRAMENUM_RESPONSE),
        Kind::FrameAck => framenum(ws::ft_framenum_type_FT_FRAMENUM_ACK),
        Kind::FrameRetransPrev => framenum(ws::ft_framenum_type_FT_FRAMENUM_RETRANS_PREV),
    };
    ws::hf_register_info {
        p_id: HF_IDS[i].as_ptr(),
        hfinfo: ws::header_field_info {
            name: leak(f.name),
            abbrev: leak(f.abbrev),
            type_: ftype,
            display,
            strings,
            bitmask,
            blurb: leak(f.blurb),
            // HFILL
            id: -1,
            parent: 0,
            ref_type: ws::hf_ref_type_HF_REF_TYPE_NONE,
            same_name_prev_id: -1,
            same_name_next: std::ptr::null_mut(),
        },
    }
}

fn expert_info(i: usize) -> ws::ei_register_info {
    let e = &EXPERTS[i];
    let group = match e.group {
        Group::Protocol => ws::PI_PROTOCOL,
        Group::Malformed => ws::PI_MALFORMED,
        Group::Security => ws::PI_SECURITY,
        Group::ResponseCode => ws::PI_RESPONSE_CODE,
        Group::Sequence => ws::PI_SEQUENCE,
        Group::Decryption => ws::PI_DECRYPTION,
    };
    let severity = match e.severity {
        Severity::Chat => ws::PI_CHAT,
        Severity::Note => ws::PI_NOTE,
        Severity::Warn => ws::PI_WARN,
        Severity::Error => ws::PI_ERROR,
    };
    // SAFETY: an all-zero ei_register_info is valid (null pointers, zero ints); the fields that
    // matter are set below, the rest is EXPFILL.
    let mut r: ws::ei_register_info = unsafe { std::mem::zeroed() };
    // SAFETY: i < N_EXPERTS.
    r.ids = unsafe { (EI_IDS.0.get() as *mut ws::expert_field).add(i) };
    r.eiinfo.name = leak(e.abbrev);
    r.eiinfo.group = group as c_int;
    r.eiinfo.severity = severity as c_int;
    r.eiinfo.summary = leak(e.summary);
    // EXPFILL: {0, {NULL, NULL, FT_NONE, BASE_NONE, NULL, 0, NULL, HFILL}}
    r.eiinfo.hf_info.p_id = std::ptr::null_mut();
    r.eiinfo.hf_info.hfinfo.id = -1;
    r.eiinfo.hf_info.hfinfo.same_name_prev_id = -1;
    r.eiinfo.hf_info.hfinfo.ref_type = ws::hf_ref_type_HF_REF_TYPE_NONE;
    r
}

pub fn register() {
    unsafe {
        let proto = ws::proto_register_protocol(
            c"Alibaba Cloud IoT".as_ptr(),
            c"aliiot".as_ptr(),
            c"aliiot".as_ptr(),
        );
        PROTO.store(proto, Ordering::Relaxed);

        let hfs: Vec<ws::hf_register_info> = (0..N_FIELDS).map(header_field).collect();
        let hfs = Box::leak(hfs.into_boxed_slice());
        ws::proto_register_field_array(proto, hfs.as_mut_ptr(), hfs.len() as c_int);

        // Wireshark writes each subtree's id through its pointer and keeps no pointer to the array
        // (proto_register_subtree_array, the same in 4.0 to 4.6): it lives for the call only.
        let etts: [*mut c_int; ETT_COUNT] = std::array::from_fn(|i| ETT_IDS[i].as_ptr());
        ws::proto_register_subtree_array(etts.as_ptr(), ETT_COUNT as c_int);

        let eis: Vec<ws::ei_register_info> = (0..N_EXPERTS).map(expert_info).collect();
        let eis = Box::leak(eis.into_boxed_slice());
        let module = ws::expert_register_protocol(proto);
        ws::expert_register_field_array(module, eis.as_mut_ptr(), eis.len() as c_int);
        if ws::shim_registered_in_place(hfs.as_ptr(), hfs.len(), eis.as_ptr(), eis.len()) != 0 {
            HF_REG.store(hfs.as_mut_ptr(), Ordering::Relaxed);
            EI_REG.store(eis.as_mut_ptr(), Ordering::Relaxed);
        } else {
            ws::shim_log_debug(
                c"aliiot: fields are registered as copies: references are asked field by field"
                    .as_ptr(),
            );
        }

        ws::shim_register_prefs(proto, None);
        ws::shim_register_attachment(proto);
        super::tap::register_tap();
        let (init, cleanup) = super::routines();
        ws::register_init_routine(Some(init));
        ws::register_cleanup_routine(Some(cleanup));
    }
}

/// Installs the attachment to MQTT (see the shim): the wrappers on MQTT's, TLS's and TCP's
/// entries, the TLS heuristic for MQTT on 443, and WebSocket.
pub fn handoff(hooks: &ws::shim_hooks) {
    unsafe {
        // MQTT's own port, when its table names none.
        static PORTS: [u32; 1] = [crate::core::transport::MQTT_PORT];
        ws::shim_attach(hooks, PORTS.as_ptr(), PORTS.len());
    }
}
