//! The epan glue: plugin symbols, registration, and the attachment to MQTT: the shim's wrapper
//! calls Wireshark's MQTT dissector, then hands the bytes MQTT consumed to [`pdus`], which cuts
//! and reads them with the core's MQTT parser (no postdissector, no fields read from a tree).
//!
//! Rules kept here: every `extern "C"` entry runs inside [`guard`] (no panic crosses FFI); every
//! Wireshark call that can throw goes through the C shim, which catches the exception, so no
//! longjmp crosses a Rust frame; real work happens on the first pass only, and every pass renders
//! from the cache.

mod registry;
mod state;
mod tap;
mod tree;

use std::ffi::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};

use wireshark_sys as ws;

use crate::core::locate::Placer;
use crate::core::mqtt;
use crate::core::render;
use crate::core::session::{Capture, Conn, Detail, FrameCtx, MqttPdu, PduRecord};
use state::with_state;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const VERSION_LEN: usize = VERSION.len() + 1;

const fn version_array() -> [u8; VERSION_LEN] {
    let mut out = [0u8; VERSION_LEN];
    let v = VERSION.as_bytes();
    let mut i = 0;
    while i < v.len() {
        out[i] = v[i];
        i += 1;
    }
    out
}

// The four (five from 4.4 on) symbols Wireshark's plugin loader looks for.
#[no_mangle]
#[used]
pub static plugin_version: [u8; VERSION_LEN] = version_array();
#[no_mangle]
#[used]
pub static plugin_want_major: c_int = ws::WIRESHARK_VERSION_MAJOR as c_int;
#[no_mangle]
#[used]
pub static plugin_want_minor: c_int = ws::WIRESHARK_VERSION_MINOR as c_int;

struct SyncPlugin(ws::proto_plugin);
// SAFETY: the struct holds only function pointers; Wireshark reads it once at registration.
unsafe impl Sync for SyncPlugin {}

static PLUGIN: SyncPlugin = SyncPlugin(ws::proto_plugin {
    register_protoinfo: Some(register_protoinfo),
    register_handoff: Some(register_handoff),
});

#[no_mangle]
pub extern "C" fn plugin_register() {
    guard((), || {
        // A panic is caught at the callback it happened in (see `guard`); say what it was through
        // Wireshark's log rather than Rust's default message on stderr.
        std::panic::set_hook(Box::new(|info| {
            let payload = info.payload();
            let what = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("panic");
            let at = info
                .location()
                .map(|l| format!(" ({}:{})", l.file(), l.line()))
                .unwrap_or_default();
            state::warn(&format!(
                "aliiot: internal error (a bug; please report it with the capture): {what}{at}"
            ));
        }));
        unsafe { ws::proto_register_plugin(&PLUGIN.0) };
        tap::register_plugin();
    });
}

/// WS_PLUGIN_DESC_DISSECTOR
#[cfg(ws_plugin_describe)]
#[no_mangle]
pub extern "C" fn plugin_describe() -> u32 {
    1
}

/// Runs `f`, turning a panic into `default`. A panic that reached Wireshark would abort it.
pub(crate) fn guard<R>(default: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => default,
    }
}

extern "C" fn register_protoinfo() {
    guard((), registry::register);
}

extern "C" fn register_handoff() {
    guard((), || {
        let hooks = ws::shim_hooks {
            is_tls_client_hello: Some(pred_tls_client_hello),
            is_mqtt_connect: Some(pred_mqtt_connect),
            ws_pieces: Some(ws_pieces),
            pdus: Some(pdus),
            warm: Some(warm),
            tcp_flags: Some(tcp_flags),
            tls_data: Some(tls_data),
        };
        registry::handoff(&hooks);
    });
}

extern "C" fn init_routine() {
    guard((), || {
        state::reset_and_load_secrets();
        // Decode As, MQTT's port preference or a profile may have moved MQTT since handoff.
        unsafe { ws::shim_attach_again() };
    });
}

extern "C" fn cleanup_routine() {
    guard((), state::clear);
}

pub(crate) fn routines() -> (unsafe extern "C" fn(), unsafe extern "C" fn()) {
    (init_routine, cleanup_routine)
}

extern "C" fn pred_tls_client_hello(b: *const u8, len: usize) -> c_int {
    guard(0, || {
        // SAFETY: the shim passes the captured first bytes of the segment, valid for this call.
        let bytes = unsafe { std::slice::from_raw_parts(b, len) };
        crate::core::transport::is_tls_client_hello(bytes) as c_int
    })
}

extern "C" fn pred_mqtt_connect(b: *const u8, len: usize) -> c_int {
    guard(0, || {
        // SAFETY: as above.
        let bytes = unsafe { std::slice::from_raw_parts(b, len) };
        crate::core::transport::is_mqtt_connect(bytes) as c_int
    })
}

/// MQTT over WebSocket: the whole MQTT packets of one WebSocket message (see core::wsstream).
extern "C" fn ws_pieces(
    pinfo: *mut ws::packet_info,
    msg: *const u8,
    len: usize,
    out: *mut ws::shim_ws_piece,
    max: usize,
) -> usize {
    use crate::core::wsstream::Piece;
    guard(0, || unsafe {
        // SAFETY: the shim passes the message's captured bytes and room for `max` pieces.
        let msg = std::slice::from_raw_parts(msg, len);
        let out = std::slice::from_raw_parts_mut(out, max);
        let frame = ws::shim_pinfo_num(pinfo);
        let visited = ws::shim_pinfo_visited(pinfo) != 0;
        let stream_key = (
            ws::shim_conversation_index(pinfo),
            ws::shim_pinfo_src_key(pinfo),
        );
        let seq = ws::shim_take_index(pinfo, 1, 1);
        with_state(|st| {
            let pieces = st.ws.pieces(stream_key, frame, seq, !visited, msg);
            let mut n = 0;
            for (p, slot) in pieces.iter().zip(out.iter_mut()) {
                *slot = match p {
                    Piece::InMessage { offset, len } => ws::shim_ws_piece {
                        offset: *offset as u32,
                        len: *len as u32,
                        data: std::ptr::null(),
                    },
                    Piece::Reassembled(bytes) => ws::shim_ws_piece {
                        offset: 0,
                        len: bytes.len() as u32,
                        data: bytes.as_ptr(),
                    },
                };
                n += 1;
            }
            n
        })
    })
}

/// The MQTT packets MQTT just dissected: `bytes` are the captured bytes it consumed from `tvb`.
extern "C" fn pdus(
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    bytes: *const u8,
    len: usize,
) {
    let panicked = guard(true, || {
        // SAFETY: the shim passes the tvb's captured bytes, valid for this call.
        let data = unsafe { std::slice::from_raw_parts(bytes, len) };
        unsafe { pdus_inner(tvb, pinfo, tree, data) };
        false
    });
    if panicked {
        unsafe { tree::internal_error(pinfo, tree, tvb) };
    }
}

/// Before MQTT dissects a frame (first pass): the connection is asked for while MQTT works, so
/// the analysis after it finds it cached. Between two packets of one connection a capture goes
/// through hundreds of other connections' packets, and each part of a connection's state was a
/// cache miss in the analysis (perf, a million frames). The parts it points to are asked for
/// once MQTT is done ([`warm_parts`]): reading where they are now would wait for the
/// connection. Prefetches only: nothing changes.
extern "C" fn warm(pinfo: *mut ws::packet_info) {
    guard((), || unsafe {
        let (src, dst) = (ws::shim_pinfo_src_key(pinfo), ws::shim_pinfo_dst_key(pinfo));
        let frame = ws::shim_pinfo_num(pinfo);
        with_state(|st| {
            st.warmed = Some((frame, src, dst));
            if let Some(conn) = st.dissection.open_conn(src, dst) {
                prefetch((conn as *const Conn).cast(), std::mem::size_of::<Conn>());
            }
        });
    });
}

/// The parts of the connection's state (see [`warm`]), asked for before its packets are parsed.
fn warm_parts(d: &crate::core::dissect::Dissection, ctx: &FrameCtx) {
    if let Some(conn) = d.open_conn(ctx.src, ctx.dst) {
        for (p, len) in conn.state_addresses() {
            prefetch(p, len);
        }
    }
}

/// Asks the caches for the lines of `len` bytes at `p` (a hint: no fault, nothing read; null is
/// skipped).
#[inline(always)]
fn prefetch(p: *const u8, len: usize) {
    #[cfg(target_arch = "x86_64")]
    if !p.is_null() {
        // From the line `p` is in to the one its last byte is in.
        let skip = p as usize % 64;
        for line in (0..skip + len.max(1)).step_by(64) {
            let at = p.wrapping_sub(skip).wrapping_add(line);
            // SAFETY: a prefetch never faults, whatever the address.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at.cast())
            };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (p, len);
}

/// What the shim says of the frame and of what this dissection wants, asked in one call for
/// each call with MQTT packets (about fifteen small calls before).
unsafe fn facts(pinfo: *mut ws::packet_info, tree: *mut ws::proto_tree) -> ws::shim_frame_facts {
    let taps = tap::ids();
    // SAFETY: plain integers, for which all zeroes is a value; the shim sets every field.
    let mut f: ws::shim_frame_facts = std::mem::zeroed();
    ws::shim_frame_facts_of(
        pinfo,
        tree,
        registry::proto(),
        taps.as_ptr(),
        taps.len(),
        &mut f,
    );
    f
}

/// Facts about the frame that carries the packets (`warmed`: the endpoint keys [`warm`] computed
/// for this call, if it did).
unsafe fn frame_ctx(
    pinfo: *mut ws::packet_info,
    f: &ws::shim_frame_facts,
    warmed: Option<(u32, u64, u64)>,
) -> FrameCtx {
    let (src, dst) = match warmed {
        Some((frame, src, dst)) if frame == f.num => (src, dst),
        _ => (ws::shim_pinfo_src_key(pinfo), ws::shim_pinfo_dst_key(pinfo)),
    };
    FrameCtx {
        frame: f.num,
        src,
        dst,
        src_port: f.src_port,
        dst_port: f.dst_port,
        // Read for a CONNECT only (the one packet that asks).
        over_tls: false,
        ts_ns: ts_ns(f.ts_secs, f.ts_nsecs),
    }
}

unsafe fn abs_ts_ns(pinfo: *mut ws::packet_info) -> i64 {
    let (mut secs, mut nsecs) = (0i64, 0i32);
    ws::shim_pinfo_abs_ts(pinfo, &mut secs, &mut nsecs);
    ts_ns(secs, nsecs)
}

/// A time stamp in nanoseconds since the epoch.
fn ts_ns(secs: i64, nsecs: i32) -> i64 {
    secs.saturating_mul(1_000_000_000)
        .saturating_add(nsecs as i64)
}

unsafe fn pdus_inner(
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    data: &[u8],
) {
    let facts = facts(pinfo, tree);
    let frame = facts.num;
    let visited = facts.visited != 0;
    #[cfg(feature = "panic-hook")]
    panic_hook(frame);
    let properties = facts.taps & tap::LISTENING_PROPERTIES != 0;
    let tapping = facts.taps & tap::LISTENING != 0 || properties;
    let publish =
        mqtt::split(data).any(|sp| sp.bytes(data).first().map(|b| b >> 4) == Some(mqtt::PUBLISH));
    let wants = tree::Wants::of(&facts, tree, publish);
    let detail = if wants.payload || properties {
        Detail::Full
    } else if wants.items || wants.info || tapping {
        Detail::Summary
    } else {
        Detail::Bare
    };
    let mut show =
        |capture: &Capture, conv: u32, rec: &PduRecord, span: mqtt::Span, pdu: &MqttPdu<'_>| {
            let Some(conn) = capture.conns.get(&conv) else {
                return;
            };
            if !render::visible(rec, conn) {
                return;
            }
            if !wants.items {
                if wants.info {
                    let mut column = render::ColumnSink(|text: &str| unsafe {
                        ws::shim_col_append_info(pinfo, text.as_ptr().cast(), text.len())
                    });
                    render::render(rec, conn, frame, visited, None, &mut column);
                }
            } else {
                let at = span.offset.min(data.len());
                let shown = span.len.min(data.len() - at);
                // The packet's parts, to point fields at their bytes: only where the tree is
                // seen (a filter or an export reads values, not places).
                let placer = if wants.visible {
                    Placer::of(span.bytes(data), span.offset, pdu)
                } else {
                    Placer::default()
                };
                let mut sink =
                    tree::TreeSink::new(pinfo, tree, tvb, Some((at as i32, shown as i32)))
                        .wanting(wants)
                        .reading(data, placer);
                render::render(rec, conn, frame, visited, pdu.properties, &mut sink);
            }
            if tapping {
                if let Some(r) = crate::core::stats::tap_record(rec, conn, frame, visited) {
                    tap::queue(pinfo, r);
                }
                if properties {
                    if let Some(r) = crate::core::stats::property_record(rec, conn) {
                        tap::queue_properties(pinfo, r);
                    }
                }
            }
        };
    let default_version = facts.mqtt_version;
    if !visited {
        let over_tls = || ws::shim_pinfo_has_proto(pinfo, c"tls".as_ptr()) != 0;
        let has_ts = facts.has_ts != 0;
        with_state(|st| {
            let ctx = frame_ctx(pinfo, &facts, st.warmed.take());
            warm_parts(&st.dissection, &ctx);
            // The frame's packets so far (from earlier calls: TCP reassembly, WebSocket messages).
            if st.dissection.frame_is_new(frame) && tapping {
                tap::begin_frame();
            }
            let revisits = &mut st.dissection.revisits;
            let knew = revisits.never();
            let keep = revisits.keep(frame, has_ts, |n| ws::shim_frame_kept(pinfo, n) != 0);
            if revisits.never() && !knew {
                ws::shim_log_debug(
                    c"aliiot: frames are read once (no frame store): nothing is kept for later passes"
                        .as_ptr(),
                );
            }
            // Nothing kept for a later pass and only the Info column, or items that need no
            // session state: a lighter analysis (one-pass tshark asks the same of every frame).
            let detail = match detail {
                Detail::Summary if !keep && !tapping && !wants.items => Detail::Column,
                Detail::Summary
                    if !keep
                        && !tapping
                        && !wants.visible
                        && !wants.experts
                        && !registry::any_session_field_referenced(tree) =>
                {
                    if wants.info {
                        Detail::Fields
                    } else {
                        Detail::Items
                    }
                }
                d => d,
            };
            st.dissection.first_pass(
                data,
                ctx,
                &over_tls,
                default_version,
                &st.secrets,
                detail,
                keep,
                &mut show,
            );
        });
        return;
    }
    // Later passes: the cached facts, plus what the packet says of itself (a PUBLISH's topic and
    // payload, a CONNECT's login), read again from its bytes.
    if !wants.items && !wants.info && !tapping {
        // Nothing of this call is shown, nor of the frame's other calls (what is wanted is the
        // same for each), so which packets they hold does not matter.
        return;
    }
    // Which of the frame's packets these are: the frame's n-th to (n + count)-th, counted in the
    // frame's dissection when its packets came in several calls (few frames: a lookup and an
    // insertion in the frame's list of protocol data), else all of them.
    let mut first = |several: bool| {
        let first = if several {
            let count = mqtt::split(data).count() as u32;
            ws::shim_take_index(pinfo, 0, count)
        } else {
            0
        };
        if tapping && first == 0 {
            tap::begin_frame();
        }
        first as usize
    };
    // Only the Info column: the payload is read for its code alone, as on a one-pass read (the
    // facts that pair replies were read on the first pass and are kept).
    let detail = match detail {
        Detail::Summary if !tapping && !wants.items => Detail::Column,
        d => d,
    };
    with_state(|st| {
        st.dissection.later_pass(
            data,
            frame,
            &mut first,
            wants.items,
            default_version,
            &st.secrets,
            detail,
            &mut show,
        );
    });
}

/// Test hook (cargo feature `panic-hook`, never in the plugin `make build` ships): panics in
/// the dissection of the frame named by `ALIIOT_TEST_PANIC_FRAME`, so the tests can show a
/// panic is contained: the packet gets an expert item and the rest of the capture is dissected.
#[cfg(feature = "panic-hook")]
fn panic_hook(frame: u32) {
    static AT: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();
    let at = AT.get_or_init(|| {
        std::env::var("ALIIOT_TEST_PANIC_FRAME")
            .ok()
            .and_then(|v| v.parse().ok())
    });
    if *at == Some(frame) {
        panic!("test hook: ALIIOT_TEST_PANIC_FRAME={frame}");
    }
}

/// TCP flags (first pass): a FIN or RST ends the MQTT session of its connection; a SYN without
/// ACK opens a new connection on its endpoints.
extern "C" fn tcp_flags(pinfo: *mut ws::packet_info, flags: u8) {
    guard((), || unsafe {
        let (src, dst) = (ws::shim_pinfo_src_key(pinfo), ws::shim_pinfo_dst_key(pinfo));
        let frame = ws::shim_pinfo_num(pinfo);
        let ts = abs_ts_ns(pinfo);
        with_state(|st| st.dissection.tcp_flags(src, dst, frame, ts, flags));
    });
}

/// TLS on an MQTT TLS port that showed no MQTT: once per connection, on its first undecrypted
/// application data, a hint on how to supply keys.
extern "C" fn tls_data(
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    bytes: *const u8,
    len: usize,
    undecrypted: c_int,
) {
    guard((), || unsafe {
        let frame = ws::shim_pinfo_num(pinfo);
        // SAFETY: the shim passes the tvb's captured bytes, valid for this call.
        let data = std::slice::from_raw_parts(bytes, len);
        let hint = with_state(|st| {
            st.key_hints.hint(frame, undecrypted != 0, data, || {
                ws::shim_conversation_index(pinfo)
            })
        });
        if hint {
            let mut sink = tree::TreeSink::new(pinfo, tree, tvb, None);
            use crate::core::render::Sink;
            sink.open(", encrypted MQTT");
            let (ei, text) = crate::core::expert::Finding::TlsNoKeys.item();
            sink.expert(ei, &text);
        }
    });
}
