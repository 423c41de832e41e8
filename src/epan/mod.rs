//! The epan glue: plugin symbols, registration, and the two attachments to MQTT (a postdissector
//! that reads MQTT's fields, and a heuristic on the `mqtt.topic` list).
//!
//! Rules kept here: every `extern "C"` entry runs inside [`guard`] (no panic crosses FFI); every
//! Wireshark call that can throw goes through the C shim, which catches the exception, so no
//! longjmp crosses a Rust frame; real work happens on the first pass only, and every pass renders
//! from the cache.

mod registry;
mod state;
mod tap;
mod tree;

use std::ffi::{c_char, c_int, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use wireshark_sys as ws;

use crate::core::cache::{PacketLoc, Slot};
use crate::core::render;
use crate::core::session::{FrameCtx, MqttPdu, PduRecord};
use crate::core::topic;
use registry::{mqtt_hf, MqttField};
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
        Err(_) => {
            state::note_panic();
            default
        }
    }
}

extern "C" fn register_protoinfo() {
    guard((), registry::register);
}

extern "C" fn register_handoff() {
    guard((), || {
        registry::handoff(dissect_post, heuristic);
    });
}

extern "C" fn init_routine() {
    guard((), state::reset_and_load_secrets);
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
        with_state(|st| {
            let w = &mut st.ws;
            if w.frame != frame {
                w.frame = frame;
                w.seq = 0;
            } else {
                w.seq += 1;
            }
            let key = (frame, w.seq);
            if !visited || !w.pieces.contains_key(&key) {
                let pieces = w.streams.entry(stream_key).or_default().push(msg);
                w.pieces.insert(key, pieces);
            }
            let Some(pieces) = w.pieces.get(&key) else {
                return 0;
            };
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

/// `mqtt.topic` heuristic: claims the payloads of Alibaba topics (later layers decode them) and
/// returns false at once for any other topic, so other heuristics still get their turn.
extern "C" fn heuristic(
    _tvb: *mut ws::tvbuff_t,
    _pinfo: *mut ws::packet_info,
    _tree: *mut ws::proto_tree,
    topic: *const c_char,
) -> c_int {
    guard(0, || {
        if topic.is_null() {
            return 0;
        }
        // SAFETY: MQTT passes a NUL-terminated packet-scoped string, valid for this call.
        let t = unsafe { CStr::from_ptr(topic) }.to_bytes();
        std::str::from_utf8(t).is_ok_and(topic::is_alibaba) as c_int
    })
}

/// The postdissector: runs for every frame after all other dissectors.
extern "C" fn dissect_post(
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    _data: *mut c_void,
) -> c_int {
    let panicked = guard(true, || {
        unsafe { dissect_post_inner(tvb, pinfo, tree) };
        false
    });
    if panicked {
        unsafe { tree::internal_error(pinfo, tree, tvb) };
    }
    0
}

unsafe fn dissect_post_inner(
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
) {
    let frame = ws::shim_pinfo_num(pinfo);
    let visited = ws::shim_pinfo_visited(pinfo) != 0;
    #[cfg(feature = "panic-hook")]
    panic_hook(frame);
    // The next dissection of any frame numbers its WebSocket messages from 0 again.
    with_state(|st| st.ws.frame = u32::MAX);
    let tapping = tap::listening();
    if tapping {
        tap::begin_frame();
    }
    let fresh = if visited {
        Vec::new()
    } else {
        tcp_end(pinfo, tree, frame);
        if ws::shim_pinfo_has_proto(pinfo, c"mqtt".as_ptr()) != 0 {
            first_pass(tvb, pinfo, tree, frame)
        } else {
            if ws::shim_pinfo_has_proto(pinfo, c"tls".as_ptr()) != 0 {
                tls_first_pass(pinfo, tree, frame);
            }
            Vec::new()
        }
    };
    with_state(|st| {
        if st.tls_hints.contains(&frame) {
            let mut sink = tree::TreeSink::new(pinfo, tree, tvb, None);
            use crate::core::render::Sink;
            sink.open(", encrypted MQTT");
            sink.expert(
                crate::core::fields::Ei::TlsNoKeys,
                crate::core::transport::TLS_KEY_HINT,
            );
        }
    });
    // Frames with nothing of aliiot's stop here, before asking what the dissection wants.
    let analysed = if visited {
        with_state(|st| st.frames.has(frame))
    } else {
        !fresh.is_empty()
    };
    if !analysed {
        return;
    }
    let wants = tree::Wants::of(pinfo, tree);
    let show = |st: &state::State, rec: &PduRecord, conv: u32, span: Option<(u32, u32)>| {
        let Some(conn) = st.capture.conns.get(&conv) else {
            return;
        };
        if !render::visible(rec, conn) {
            return;
        }
        if wants.items || wants.info {
            let span = span.map(|(s, l)| (s as i32, l as i32));
            let mut sink = tree::TreeSink::new(pinfo, tree, tvb, span).wanting(wants);
            render::render(rec, conn, frame, visited, &mut sink);
        }
        if tapping {
            if let Some(r) = crate::core::stats::tap_record(rec, conn, frame, visited) {
                tap::queue(pinfo, r);
            }
        }
    };
    if !visited {
        // First pass: show the full records just made, then keep their compact form.
        with_state(|st| {
            for (slot, rec) in &fresh {
                show(st, rec, slot.conv, slot.span);
            }
            let slots: Vec<Slot> = fresh
                .into_iter()
                .map(|(slot, rec)| Slot {
                    record: rec.into_cached(),
                    ..slot
                })
                .collect();
            st.frames.store(frame, &slots);
        });
        return;
    }
    // Later passes: the cached facts, plus what a PUBLISH says of itself, read again from the
    // bytes the first pass analysed (MQTT's fields are not primed for aliiot on later passes).
    if !wants.items && !wants.info && !tapping {
        return;
    }
    with_state(|st| {
        for slot in st.frames.of(frame) {
            let rec = match &slot.packet {
                Some(PacketLoc::InSource {
                    source,
                    topic,
                    payload,
                }) => {
                    let source = *source;
                    let read = |(start, len): (u32, u32)| {
                        let p =
                            ws::shim_ds_bytes(pinfo, source as c_int, start as c_int, len as c_int);
                        // SAFETY: the shim returns the data source's captured bytes, valid for
                        // this packet, or NULL.
                        (!p.is_null()).then(|| std::slice::from_raw_parts(p, len as usize))
                    };
                    slot.record.restore(read(*topic), payload.and_then(read))
                }
                Some(PacketLoc::Copied(c)) => slot.record.restore(c.0.as_deref(), c.1.as_deref()),
                None => slot.record.restore(None, None),
            };
            show(st, &rec, slot.conv, slot.span);
        }
    });
}

/// Where a field's bytes lie: data source index, start, length.
unsafe fn located(pinfo: *mut ws::packet_info, fi: &ws::shim_finfo) -> Option<(i32, u32, u32)> {
    let idx = ws::shim_ds_index(pinfo, fi.ds_tvb);
    (idx >= 0 && fi.start >= 0 && fi.length >= 0).then_some((
        idx,
        fi.start as u32,
        fi.length as u32,
    ))
}

/// How a later pass finds this PUBLISH's topic and payload again.
fn packet_loc(g: &Group<'_>) -> PacketLoc {
    let topic = g.pdu.topics.first().copied();
    match (g.topic_at, g.payload_at) {
        (Some((ts, tstart, tlen)), p)
            if ts <= u8::MAX as i32
                && p.map_or(true, |(ps, _, _)| ps == ts)
                && (p.is_some() || g.pdu.payload.is_none()) =>
        {
            PacketLoc::InSource {
                source: ts as u8,
                topic: (tstart, tlen),
                payload: p.map(|(_, s, l)| (s, l)),
            }
        }
        _ => PacketLoc::Copied(std::rc::Rc::new((
            topic.map(Box::from),
            g.pdu.payload.map(Box::from),
        ))),
    }
}

/// Test hook (cargo feature `panic-hook`, never in the plugin `make build` ships): panics in
/// the postdissector on the frame named by `ALIIOT_TEST_PANIC_FRAME`, so the tests can show a
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

/// A TCP FIN or RST ends the MQTT session of its connection (first pass).
unsafe fn tcp_end(pinfo: *mut ws::packet_info, tree: *mut ws::proto_tree, frame: u32) {
    let flag = |f: MqttField| {
        let mut fi: ws::shim_finfo = std::mem::zeroed();
        ws::shim_finfo_get(tree, mqtt_hf(f), 0, &mut fi) != 0 && fi.uint_value != 0
    };
    let (fin, reset) = (flag(MqttField::TcpFin), flag(MqttField::TcpReset));
    if !fin && !reset {
        return;
    }
    let conv = ws::shim_conversation_index(pinfo);
    let (mut secs, mut nsecs) = (0i64, 0i32);
    ws::shim_pinfo_abs_ts(pinfo, &mut secs, &mut nsecs);
    let ts = secs
        .saturating_mul(1_000_000_000)
        .saturating_add(nsecs as i64);
    with_state(|st| st.capture.tcp_end(conv, frame, ts, reset));
}

/// TLS that carries no readable MQTT: once per connection to the platform (an MQTT TLS port, or
/// a platform server name), a hint on how to supply keys.
unsafe fn tls_first_pass(pinfo: *mut ws::packet_info, tree: *mut ws::proto_tree, frame: u32) {
    let conv = ws::shim_conversation_index(pinfo);
    let mut fi: ws::shim_finfo = std::mem::zeroed();
    if ws::shim_finfo_get(tree, mqtt_hf(MqttField::TlsServerName), 0, &mut fi) != 0
        && !fi.str_value.is_null()
    {
        let name = CStr::from_ptr(fi.str_value).to_string_lossy();
        if crate::core::transport::is_platform_server_name(&name) {
            with_state(|st| st.platform_tls.insert(conv));
        }
    }
    if ws::shim_finfo_count(tree, mqtt_hf(MqttField::TlsAppData)) == 0 {
        return;
    }
    let (mut src_port, mut dst_port) = (0, 0);
    ws::shim_pinfo_ports(pinfo, &mut src_port, &mut dst_port);
    let mqtt_port = crate::core::transport::is_mqtt_tls_port(src_port)
        || crate::core::transport::is_mqtt_tls_port(dst_port);
    with_state(|st| {
        if (mqtt_port || st.platform_tls.contains(&conv)) && st.tls_hinted.insert(conv) {
            st.tls_hints.insert(frame);
        }
    });
}

/// One MQTT packet's fields, grouped by the range of its `mqtt` protocol item.
struct Group<'a> {
    ds: *const c_void,
    start: i32,
    end: i32,
    pdu: MqttPdu<'a>,
    /// Data source index, start and length of the (first) topic and of the payload, when they
    /// are the packet's own bytes.
    topic_at: Option<(i32, u32, u32)>,
    payload_at: Option<(i32, u32, u32)>,
    /// MQTT 5 property ids and string values with their offsets, to tell which string is which.
    prop_ids: Vec<(i32, u8)>,
    prop_strings: Vec<(i32, &'a [u8])>,
}

/// The MQTT packets of this frame, each with the `fields` read from MQTT's tree, in the order of
/// their data source and offset (the same order on every pass).
unsafe fn read_groups<'a>(
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    fields: &[MqttField],
) -> Vec<Group<'a>> {
    let mqtt = mqtt_hf(MqttField::Proto);
    let mut n = 0;
    let items = ws::shim_finfo_array(tree, mqtt, &mut n);
    if n == 0 {
        return Vec::new();
    }
    let mut groups: Vec<Group<'_>> = Vec::with_capacity(n as usize);
    let mut fi: ws::shim_finfo = std::mem::zeroed();
    for i in 0..n {
        if ws::shim_finfo_read(items, i, mqtt, &mut fi) != 0 {
            groups.push(Group {
                ds: fi.ds_tvb,
                start: fi.start,
                end: fi.start.saturating_add(fi.length.max(0)),
                pdu: MqttPdu {
                    v5: crate::core::mqtt5::V5 {
                        packet_len: fi.length.max(0) as usize,
                        ..Default::default()
                    },
                    ..Default::default()
                },
                topic_at: None,
                payload_at: None,
                prop_ids: Vec::new(),
                prop_strings: Vec::new(),
            });
        }
    }
    groups.sort_by_key(|g| (g.ds as usize, g.start));
    for field in fields {
        let hf = mqtt_hf(*field);
        let mut n = 0;
        let array = ws::shim_finfo_array(tree, hf, &mut n);
        for i in 0..n {
            if ws::shim_finfo_read(array, i, hf, &mut fi) == 0 {
                continue;
            }
            let Some(g) = groups.iter_mut().find(|g| {
                g.ds == fi.ds_tvb
                    && fi.start >= g.start
                    && (fi.start < g.end || fi.start == g.start)
            }) else {
                continue;
            };
            // SAFETY: the shim returns bytes only when the whole field is captured in its data
            // source, which lives for this packet; the slices do not outlive this call.
            let bytes: Option<&[u8]> = if !fi.bytes.is_null() {
                Some(std::slice::from_raw_parts(
                    fi.bytes,
                    fi.length.max(0) as usize,
                ))
            } else if !fi.str_value.is_null() {
                Some(CStr::from_ptr(fi.str_value).to_bytes())
            } else {
                None
            };
            match field {
                MqttField::PropertyId => g.prop_ids.push((fi.start, fi.uint_value as u8)),
                MqttField::PropString => {
                    if let Some(b) = bytes {
                        g.prop_strings.push((fi.start, b))
                    }
                }
                _ => {}
            }
            let p = &mut g.pdu;
            match field {
                MqttField::MsgType => p.msg_type = fi.uint_value as u8,
                MqttField::Version => p.version = Some(fi.uint_value as u8),
                MqttField::KeepAlive => p.keepalive = Some(fi.uint_value as u16),
                MqttField::ClientId => p.client_id = bytes,
                MqttField::UserName => p.username = bytes,
                MqttField::Password => p.password = bytes,
                MqttField::ConnackCode => p.connack_code = Some(fi.uint_value as u8),
                MqttField::ConnackReason => {
                    p.connack_code = Some(fi.uint_value as u8);
                    p.connack_v5 = true;
                }
                MqttField::Topic => {
                    if let Some(b) = bytes {
                        if p.topics.is_empty() && fi.generated == 0 && !fi.bytes.is_null() {
                            g.topic_at = located(pinfo, &fi);
                        }
                        p.topics.push(b)
                    }
                }
                MqttField::Msg | MqttField::MsgText => {
                    // The payload's own bytes (mqtt.msg_text replaces mqtt.msg when MQTT is set
                    // to show text); only when captured in full.
                    if !fi.bytes.is_null() {
                        p.payload = bytes;
                        g.payload_at = located(pinfo, &fi);
                    }
                }
                MqttField::Qos => p.qos = fi.uint_value as u8,
                MqttField::Dup => p.dup = fi.uint_value != 0,
                MqttField::Retain => p.retain = fi.uint_value != 0,
                MqttField::MsgId => p.msgid = Some(fi.uint_value as u16),
                MqttField::SubackQos | MqttField::SubackReason => {
                    if p.sub_codes.len() < 256 {
                        p.sub_codes.push(fi.uint_value as u8)
                    }
                }
                MqttField::WillFlag => p.will = fi.uint_value != 0,
                MqttField::PubackReason => p.v5.puback_reason = Some(fi.uint_value as u8),
                MqttField::DisconnectReason => p.v5.disconnect_reason = Some(fi.uint_value as u8),
                MqttField::PropKey => p.v5.user_properties += 1,
                MqttField::TopicAlias => p.v5.topic_alias = Some(fi.uint_value as u16),
                MqttField::Proto
                | MqttField::PropertyId
                | MqttField::PropString
                | MqttField::TcpFin
                | MqttField::TcpReset
                | MqttField::TlsAppData
                | MqttField::TlsServerName => {}
            }
        }
    }
    groups
}

/// First pass: analyses each MQTT packet of the frame in order: its connection, its span in the
/// frame's bytes, its full record.
unsafe fn first_pass(
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    frame: u32,
) -> Vec<(Slot, PduRecord)> {
    let mut groups = read_groups(pinfo, tree, MqttField::READ);
    if groups.is_empty() {
        return Vec::new();
    }
    // A string property is the one whose id precedes it: response topic (0x08), correlation data
    // (0x09).
    for g in &mut groups {
        for (start, value) in &g.prop_strings {
            let id = g
                .prop_ids
                .iter()
                .filter(|(s, _)| s < start)
                .max_by_key(|(s, _)| *s)
                .map(|(_, id)| *id);
            match id {
                Some(0x08) => g.pdu.response_topic = Some(value),
                Some(0x09) => g.pdu.correlation = Some(value),
                Some(0x12) => g.pdu.assigned_client_id = Some(value),
                _ => {}
            }
        }
    }
    let frame_ds = ws::shim_tvb_identity(tvb);
    let (mut src_port, mut dst_port) = (0, 0);
    ws::shim_pinfo_ports(pinfo, &mut src_port, &mut dst_port);
    let (mut secs, mut nsecs) = (0i64, 0i32);
    ws::shim_pinfo_abs_ts(pinfo, &mut secs, &mut nsecs);
    let ctx = FrameCtx {
        frame,
        src: ws::shim_pinfo_src_key(pinfo),
        dst: ws::shim_pinfo_dst_key(pinfo),
        src_port,
        dst_port,
        over_tls: ws::shim_pinfo_has_proto(pinfo, c"tls".as_ptr()) != 0,
        ts_ns: secs
            .saturating_mul(1_000_000_000)
            .saturating_add(nsecs as i64),
    };
    let conv = ws::shim_conversation_index(pinfo);
    with_state(|st| {
        let secrets = &st.secrets;
        let capture = &mut st.capture;
        groups
            .iter()
            .map(|g| {
                let span = (g.ds == frame_ds).then_some((g.start as u32, (g.end - g.start) as u32));
                let slot = Slot {
                    conv,
                    span,
                    packet: (g.pdu.msg_type == crate::core::session::PUBLISH)
                        .then(|| packet_loc(g)),
                    record: crate::core::session::CachedRecord::default(),
                };
                (slot, capture.analyze(conv, &g.pdu, &ctx, secrets))
            })
            .collect()
    })
}
