//! The core's [`Sink`] over Wireshark's proto_tree and columns. Every call goes through the C
//! shim, which catches Wireshark exceptions; with no tree only the columns and expert infos are
//! written.

use std::ffi::c_char;

use wireshark_sys as ws;

use super::registry::{ei, ett, hf, proto};
use crate::core::expert::Ei;
use crate::core::fields::{Ett, Hf};
use crate::core::locate::{self, Placer};
use crate::core::render::{Sink, Value};

const MAX_DEPTH: usize = 16;

pub struct TreeSink {
    pinfo: *mut ws::packet_info,
    root: *mut ws::proto_tree,
    tvb: *mut ws::tvbuff_t,
    span: Option<(i32, i32)>,
    stack: [*mut ws::proto_tree; MAX_DEPTH],
    depth: usize,
    /// Subtrees opened past MAX_DEPTH (their items go to the deepest tree kept).
    overflow: usize,
    top_item: *mut ws::proto_item,
    last: *mut ws::proto_item,
    items_wanted: bool,
    info_wanted: bool,
    visible: bool,
    /// Expert items are wanted (aliiot's own item is then always made).
    experts: bool,
    /// Items made from a PUBLISH's payload are wanted.
    payload: bool,
    /// The dissected bytes and the packet's parts, to place fields read from the packet.
    data: *const u8,
    data_len: usize,
    /// Where each field read from the packet lies, found as the fields are shown.
    placer: Placer,
}

/// What this dissection of a frame wants from aliiot: its items (tree, filter, export, expert
/// items), and the Info column.
#[derive(Clone, Copy)]
pub struct Wants {
    pub items: bool,
    /// Whether expert items are wanted (they need aliiot's own item to sit on).
    pub experts: bool,
    pub info: bool,
    /// Whether a PUBLISH's payload must be read in full: the tree is visible, expert items are
    /// wanted, or a field made from the payload is filtered on or exported.
    pub payload: bool,
    /// Whether the tree is shown (else only referenced fields matter).
    pub visible: bool,
}

impl Wants {
    /// `facts`: the shim's answers for this call; `publish`: whether the bytes hold a PUBLISH
    /// (only a payload needs the payload fields' references looked at).
    pub fn of(facts: &ws::shim_frame_facts, tree: *mut ws::proto_tree, publish: bool) -> Wants {
        let expert_tap = facts.experts_wanted != 0;
        let items = facts.wants_proto != 0 || expert_tap;
        let visible = items && facts.tree_visible != 0;
        // Expert items are made when the expert tap or `_ws.expert` asks, or a filter names one
        // of aliiot's (`aliiot.alink.error_code`, say).
        let experts =
            expert_tap || items && !visible && super::registry::any_expert_referenced(tree);
        let payload = items
            && (experts
                || visible
                || publish && super::registry::any_payload_field_referenced(tree));
        Wants {
            items,
            experts,
            info: facts.has_columns != 0,
            payload,
            visible,
        }
    }
}

fn cptr(s: &str) -> *const c_char {
    s.as_ptr() as *const c_char
}

impl TreeSink {
    pub fn new(
        pinfo: *mut ws::packet_info,
        root: *mut ws::proto_tree,
        tvb: *mut ws::tvbuff_t,
        span: Option<(i32, i32)>,
    ) -> TreeSink {
        TreeSink {
            pinfo,
            root,
            tvb,
            span,
            stack: [std::ptr::null_mut(); MAX_DEPTH],
            depth: 0,
            overflow: 0,
            top_item: std::ptr::null_mut(),
            last: std::ptr::null_mut(),
            items_wanted: true,
            info_wanted: true,
            visible: true,
            experts: true,
            payload: true,
            data: std::ptr::null(),
            data_len: 0,
            placer: Placer::default(),
        }
    }

    /// The bytes of `tvb` (from offset 0), and the placer of this packet's parts in them: fields
    /// read from the packet then point at their bytes.
    pub fn reading(mut self, data: &[u8], placer: Placer) -> TreeSink {
        self.data = data.as_ptr();
        self.data_len = data.len();
        self.placer = placer;
        self
    }

    /// Where the field's value lies in the packet, if it was read from it.
    fn place(&mut self, f: Hf, v: &Value<'_>) -> Option<(i32, i32)> {
        if self.data.is_null() || !locate::from_packet(f) {
            return None;
        }
        // SAFETY: `data` is the slice given to `reading`, valid for this dissection call, which
        // outlives the sink.
        let data = unsafe { std::slice::from_raw_parts(self.data, self.data_len) };
        let mut digits = [0u8; 20];
        let signed;
        let text = match v {
            Value::Str(s) => s,
            Value::U32(n) => crate::core::render::decimal(*n as u64, &mut digits),
            Value::I32(n) if *n >= 0 => crate::core::render::decimal(*n as u64, &mut digits),
            // Rare (securemode=-2): not worth a buffer of its own.
            Value::I32(n) => {
                signed = n.to_string();
                signed.as_str()
            }
            // A time sent as milliseconds since the epoch (an event's "time").
            Value::Time(s, ns) if ns % 1_000_000 == 0 => u64::try_from(*s)
                .ok()
                .and_then(|s| s.checked_mul(1000))
                .and_then(|ms| ms.checked_add((ns / 1_000_000) as u64))
                .map_or("", |ms| crate::core::render::decimal(ms, &mut digits)),
            _ => "",
        };
        let (start, len) = self.placer.place(f, text, data)?;
        Some((i32::try_from(start).ok()?, i32::try_from(len).ok()?))
    }

    pub fn wanting(mut self, w: Wants) -> TreeSink {
        self.items_wanted = w.items;
        self.info_wanted = w.info;
        self.visible = w.visible;
        self.experts = w.experts;
        self.payload = w.payload;
        self
    }

    /// Whether field `f` is left out: there is no tree, or nobody sees or asks for it. Most
    /// fields a filter or an export runs past end here, before [`TreeSink::add`] is called.
    #[inline(always)]
    fn skips(&mut self, f: Hf) -> bool {
        let t = self.current();
        if t.is_null() {
            self.last = std::ptr::null_mut();
            return true;
        }
        if !self.visible && !super::registry::field_referenced(t, f) {
            // What Wireshark would fake, skipped before it is made (its children go to the
            // parent, as under a faked item).
            self.last = t as *mut ws::proto_item;
            return true;
        }
        false
    }

    /// A field, and with `description` its label followed by ` (description)`; `f` is not
    /// [`TreeSink::skips`]ped.
    #[inline(never)]
    fn add(&mut self, f: Hf, v: Value<'_>, description: Option<&str>) {
        use crate::core::fields::{Kind, FIELDS};
        let t = self.current();
        let id = hf(f);
        let placed = if self.visible {
            self.place(f, &v)
        } else {
            None
        };
        let (at, len) = placed.unwrap_or((0, 0));
        let tvb = self.tvb;
        let kind = FIELDS[f as usize].kind;
        // Shown with its description: one label where the value is shown as it is (a string, a
        // plain decimal), else the value's own label and the description appended to it.
        let (described, appended) = match description.filter(|_| self.visible) {
            Some(d)
                if matches!(
                    (&v, kind),
                    (Value::Str(_), Kind::Str) | (Value::U32(_), Kind::U32Dec)
                ) =>
            {
                (Some(d), None)
            }
            d => (None, d),
        };
        unsafe {
            self.last = match (v, described) {
                (Value::Str(s), Some(d)) => ws::shim_add_string_described(
                    t,
                    id,
                    tvb,
                    at,
                    len,
                    self.pinfo,
                    cptr(s),
                    s.len(),
                    cptr(d),
                    d.len(),
                ),
                (Value::U32(n), Some(d)) => {
                    ws::shim_add_uint_described(t, id, tvb, at, len, n, cptr(d), d.len())
                }
                (Value::Str(s), _) => {
                    ws::shim_add_string(t, id, tvb, at, len, self.pinfo, cptr(s), s.len())
                }
                (Value::U32(n), _) if matches!(kind, Kind::Bool(_)) => {
                    ws::shim_add_bool(t, id, tvb, at, len, n as i32)
                }
                (Value::U32(n), _) => ws::shim_add_uint(t, id, tvb, at, len, n),
                (Value::I32(n), _) => ws::shim_add_int(t, id, tvb, at, len, n),
                (Value::Bool(b), _) => ws::shim_add_bool(t, id, tvb, at, len, b as i32),
                (Value::Time(s, ns) | Value::RelTime(s, ns), _) => {
                    ws::shim_add_time(t, id, tvb, at, len, s, ns)
                }
                (Value::F64(v), _) => ws::shim_add_double(t, id, tvb, at, len, v),
            };
            if placed.is_none() {
                ws::shim_item_set_generated(self.last);
            }
        }
        if let Some(d) = appended {
            self.append(&format!(" ({d})"));
        }
    }

    fn current(&self) -> *mut ws::proto_tree {
        if self.depth == 0 {
            std::ptr::null_mut()
        } else {
            self.stack[self.depth - 1]
        }
    }

    fn enter(&mut self, t: *mut ws::proto_tree) {
        if self.depth < MAX_DEPTH {
            self.stack[self.depth] = t;
            self.depth += 1;
        } else {
            self.overflow += 1;
        }
    }
}

impl Sink for TreeSink {
    fn items_wanted(&self) -> bool {
        self.items_wanted
    }

    fn info_wanted(&self) -> bool {
        self.info_wanted
    }

    fn labels_wanted(&self) -> bool {
        self.visible
    }

    fn payload_wanted(&self) -> bool {
        self.payload
    }

    fn experts_wanted(&self) -> bool {
        self.visible || self.experts
    }

    fn open(&mut self, summary: &str) {
        if self.root.is_null() {
            return;
        }
        if !self.visible
            && !self.experts
            && unsafe { ws::shim_proto_item_needed(self.root, proto()) } == 0
        {
            // Only fields are filtered on or exported, and no expert item needs a place: they
            // go straight into the tree, as under a faked item (Wireshark fakes what is unseen).
            self.top_item = std::ptr::null_mut();
            self.last = self.root as *mut ws::proto_item;
            self.depth = 0;
            self.overflow = 0;
            self.enter(self.root);
            return;
        }
        let (start, len) = self.span.unwrap_or((0, 0));
        unsafe {
            let item = ws::shim_add_protocol(
                self.root,
                proto(),
                self.tvb,
                start,
                len,
                cptr(summary),
                summary.len(),
            );
            self.top_item = item;
            self.last = item;
            self.depth = 0;
            self.overflow = 0;
            self.enter(ws::shim_subtree(item, ett(Ett::Main)));
        }
    }

    fn field_described(&mut self, f: Hf, v: Value<'_>, description: &str) {
        if !self.skips(f) {
            self.add(f, v, Some(description));
        }
    }

    fn field(&mut self, f: Hf, v: Value<'_>) {
        if !self.skips(f) {
            self.add(f, v, None);
        }
    }

    fn append(&mut self, text: &str) {
        if self.visible {
            unsafe { ws::shim_item_append_text(self.last, cptr(text), text.len()) };
        }
    }

    fn push(&mut self, e: Ett) {
        let t = unsafe { ws::shim_subtree(self.last, ett(e)) };
        self.enter(t);
    }

    fn rewind(&mut self, root: Option<&'static str>) {
        if !self.data.is_null() {
            // SAFETY: as in `place`: the slice given to `reading`, valid for this call.
            let data = unsafe { std::slice::from_raw_parts(self.data, self.data_len) };
            self.placer.rewind(root, data);
        }
    }

    fn topic(&mut self, text: &str) {
        if self.data.is_null() {
            return;
        }
        // SAFETY: as in `place`: the slice given to `reading`, valid for this dissection call.
        let data = unsafe { std::slice::from_raw_parts(self.data, self.data_len) };
        self.placer.topic(text, data);
    }

    fn push_text(&mut self, e: Ett, label: &str) {
        let parent = self.current();
        if !self.visible {
            // A text item is never filtered on: in a tree nobody sees, Wireshark would fake it,
            // and its children would go to the parent. They go there without it.
            self.last = parent as *mut ws::proto_item;
            self.enter(parent);
            return;
        }
        let mut sub: *mut ws::proto_tree = std::ptr::null_mut();
        if !parent.is_null() {
            self.last = unsafe {
                ws::shim_add_text_subtree(
                    parent,
                    ett(e),
                    self.tvb,
                    &mut sub,
                    cptr(label),
                    label.len(),
                )
            };
        }
        self.enter(sub);
    }

    fn pop(&mut self) {
        // The main subtree (depth 1) stays open until the next packet.
        if self.overflow > 0 {
            self.overflow -= 1;
        } else if self.depth > 1 {
            self.depth -= 1;
        }
    }

    fn expert(&mut self, e: Ei, msg: &str) {
        // On aliiot's own item, where the user sees it first.
        unsafe { ws::shim_expert(self.pinfo, self.top_item, ei(e), cptr(msg), msg.len()) };
    }

    fn info(&mut self, text: &str) {
        unsafe { ws::shim_col_append_info(self.pinfo, cptr(text), text.len()) };
    }
}

/// Marks a frame whose analysis panicked; the rest of the capture is still dissected.
pub unsafe fn internal_error(
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    tvb: *mut ws::tvbuff_t,
) {
    let msg = "aliiot hit an internal error on this packet and skipped it; please report it with the capture";
    let item = ws::shim_add_protocol(tree, proto(), tvb, 0, 0, std::ptr::null(), 0);
    ws::shim_expert(pinfo, item, ei(Ei::InternalError), cptr(msg), msg.len());
}
