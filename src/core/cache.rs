//! What aliiot keeps of each analysed MQTT packet between passes, packed: a few varint-coded
//! bytes per packet in chunks of 1 MiB, a sparse index of the frames, and side tables for what is
//! shared (identities) or rare (experts, SUBACK results, topics given by MQTT 5 aliases).
//!
//! A property post costs about 25 bytes plus 2 of frame header, against 112 for the same facts as a
//! struct: what lets a capture of millions of packets stay within a few percent of Wireshark's
//! own memory. Pure Rust: encoded and decoded by the tests below without Wireshark.

use std::hash::Hasher;
use std::num::NonZeroU32;
use std::rc::Rc;

use super::expert::Ei;
use super::flow::FlowRecord;
use super::mqtt::{CONNACK, CONNECT, PUBLISH, SUBSCRIBE, UNSUBSCRIBE};
use super::payload::Payload;
use super::secrets::Secrets;
use super::session::{
    connack, describe_connect, describe_filters, describe_publish, Detail, Direction, Identity,
    MqttPdu, PduRecord, PublishInfo, ReplyLink, SubLogin, TopicView, Topics,
};
use super::topic;
use super::tsl::InForce;

/// One analysed MQTT packet of a frame. Everything a later pass needs of the packet itself is
/// read again from its bytes, but for a topic MQTT 5 gave by alias (the packet has none).
#[derive(Debug, Clone)]
pub struct Slot {
    pub conv: u32,
    /// The topic an alias stood for, when the packet's own topic was empty.
    pub alias_topic: Option<Rc<[u8]>>,
    pub record: CachedRecord,
}

/// What the cache keeps of a [`PduRecord`] between passes: the facts that came from the
/// connection's state (links, flow, identity, experts), not what a PUBLISH says of itself. Its
/// topic and payload are described again from the packet when it is shown
/// ([`CachedRecord::restore`]), so a cached packet costs well under a hundred bytes, whatever
/// its payload.
#[derive(Debug, Clone, Default)]
pub struct CachedRecord {
    pub(crate) msg_type: u8,
    pub(crate) direction: Option<Direction>,
    pub(crate) identity: Option<Rc<Identity>>,
    pub(crate) connect_in: Option<NonZeroU32>,
    /// Index into [`Conn::requests`], plus one.
    pub(crate) request: Option<NonZeroU32>,
    /// Index into the flow's exchanges, plus one.
    pub(crate) exchange: Option<NonZeroU32>,
    pub(crate) dup_of: Option<NonZeroU32>,
    /// The request a reply answers, and the time between them.
    pub(crate) reply_to: Option<NonZeroU32>,
    pub(crate) reply_delta_ns: i64,
    /// The packet an acknowledgement answers, and the time between them.
    pub(crate) ack_to: Option<NonZeroU32>,
    pub(crate) ack_delta_ns: i64,
    /// Everything rare, in one allocation only when present.
    pub(crate) extra: Option<Rc<[Rare]>>,
    /// A CONNECT whose first expert items are made again from its bytes: whether TLS carried it.
    pub(crate) connect_experts: Option<bool>,
    /// A PUBLISH: what its Info column shows ([`Self::restore_column`]).
    pub(crate) publish: Option<PublishInfo>,
}

/// The rare parts of a record, only those present: a CONNECT's login, a CONNACK's result, expert
/// items, SUBSCRIBE filters, SUBACK results…
#[derive(Debug, Clone)]
pub(crate) enum Rare {
    Experts(Box<[(Ei, String)]>),
    Gateway(Rc<Identity>),
    SubLogins(Box<[SubLogin]>),
    NtpOffset(f64),
    NtpCaptureOffset(f64),
    EchoOf(u32),
    V5Reason(u8, &'static str),
    PayloadExpertsAt(u8),
    AssignedClientId(Box<str>),
    /// A SUBACK's filters and codes in one allocation (see [`pack_sub_results`]).
    SubResults(Box<[u8]>),
    KeepaliveGap(i64),
}

fn nz(v: Option<usize>, plus: usize) -> Option<NonZeroU32> {
    v.and_then(|v| u32::try_from(v + plus).ok())
        .and_then(NonZeroU32::new)
}

impl CachedRecord {
    /// Whether showing the packet needs the packet again ([`Self::restore_with`]): a PUBLISH's
    /// topic and payload, a CONNECT's login.
    pub fn needs_packet(&self) -> bool {
        matches!(
            self.msg_type,
            PUBLISH | CONNECT | CONNACK | SUBSCRIBE | UNSUBSCRIBE
        )
    }

    /// The full record again, from the cached facts and the same packet read anew: a PUBLISH's
    /// topic (`topic`, when it came from an alias, else the packet's) and payload, a CONNECT's
    /// login (its sign checked again with `secrets`).
    /// With [`Detail::Summary`] the payload gives only its Alink facts, as on a first pass that
    /// shows no item made from it.
    pub fn restore_with(
        &self,
        pdu: &MqttPdu<'_>,
        topic: Option<&[u8]>,
        secrets: &Secrets,
        detail: Detail,
        models: InForce<'_>,
    ) -> PduRecord {
        let topic = topic.or(pdu.topic);
        let mut rec = self.restore_as(topic, pdu.payload, detail, models);
        if self.msg_type == CONNECT {
            let tls = self.connect_experts.unwrap_or(false);
            let view = describe_connect(pdu, secrets, tls);
            rec.login = view.login.map(Box::new);
            if self.connect_experts.is_some() {
                // The CONNECT's own expert items come first, as on the first pass.
                rec.connect_experts = Some((view.experts.len().min(255) as u8, tls));
                rec.experts.splice(0..0, view.experts);
            }
        }
        if matches!(self.msg_type, SUBSCRIBE | UNSUBSCRIBE) {
            (rec.filters, rec.topics) = describe_filters(pdu);
        }
        if self.msg_type == CONNACK {
            rec.connack = pdu.connack_code.map(|c| connack(c, pdu.connack_v5));
        }
        rec
    }

    /// The record for a pass that shows the Info column and nothing else ([`Detail::Column`]),
    /// from the cached facts alone; `None` when that needs the packet (a CONNECT's login, a
    /// CONNACK's result, a PUBLISH whose topic's class was not kept).
    pub fn restore_column(&self) -> Option<PduRecord> {
        self.column_kept().then(|| self.column_record())
    }

    /// Whether [`Self::restore_column`] has a record.
    pub fn column_kept(&self) -> bool {
        match self.msg_type {
            CONNECT | CONNACK => false,
            PUBLISH => self.publish.is_some(),
            _ => true,
        }
    }

    /// [`Self::restore_column`]'s record, when [`Self::column_kept`] (returned, not wrapped: a
    /// record is a few hundred bytes, moved once more for each wrapping).
    pub fn column_record(&self) -> PduRecord {
        let mut rec = self.restore_as(None, None, Detail::Column, InForce::NONE);
        if let (PUBLISH, Some(p)) = (self.msg_type, self.publish) {
            rec.topics = Topics::One(TopicView::of_class(p.class, p.is_reply, p.wildcard));
            rec.payload = p.payload_code.map(Payload::code_only);
        }
        rec
    }

    /// The full record again: the cached facts, plus the PUBLISH topic and payload described
    /// anew from the same packet (the bytes the first pass analysed).
    pub fn restore(&self, topic: Option<&[u8]>, payload: Option<&[u8]>) -> PduRecord {
        self.restore_as(topic, payload, Detail::Full, InForce::NONE)
    }

    fn restore_as(
        &self,
        topic: Option<&[u8]>,
        payload: Option<&[u8]>,
        detail: Detail,
        models: InForce<'_>,
    ) -> PduRecord {
        let mut rec = PduRecord {
            msg_type: self.msg_type,
            direction: self.direction,
            identity: self.identity.clone(),
            connect_in: self.connect_in.map(NonZeroU32::get),
            request: self.request.map(|r| r.get() as usize - 1),
            reply: self.reply_to.map(|f| ReplyLink {
                request_frame: f.get(),
                delta_ns: self.reply_delta_ns,
            }),
            flow: FlowRecord {
                exchange: self.exchange.map(|x| x.get() as usize - 1),
                ack_to: self.ack_to.map(|f| (f.get(), self.ack_delta_ns)),
                dup_of: self.dup_of.map(NonZeroU32::get),
                ..FlowRecord::default()
            },
            publish_info: self.publish,
            ..PduRecord::default()
        };
        if self.msg_type == PUBLISH {
            (rec.topics, rec.payload) = describe_publish(topic, payload, detail, models);
            rec.payload_experts_at = rec.payload.as_ref().map(|_| 0);
        }
        for item in self.extra.iter().flat_map(|x| x.iter()) {
            match item {
                Rare::Experts(e) => rec.experts = e.to_vec(),
                Rare::Gateway(g) => rec.gateway = Some(g.clone()),
                Rare::SubLogins(l) => rec.sub_logins = l.to_vec(),
                Rare::NtpOffset(v) => rec.ntp_offset_ms = Some(*v),
                Rare::NtpCaptureOffset(v) => rec.ntp_capture_offset_ms = Some(*v),
                Rare::EchoOf(f) => rec.echo_of = Some(*f),
                Rare::V5Reason(c, m) => rec.v5_reason = Some((*c, m)),
                Rare::PayloadExpertsAt(at) => rec.payload_experts_at = Some(*at),
                Rare::AssignedClientId(id) => rec.assigned_client_id = Some(id.to_string()),
                Rare::SubResults(r) => {
                    rec.flow.sub_results = unpack_sub_results(r, self.identity.as_deref())
                }
                Rare::KeepaliveGap(g) => rec.flow.keepalive_gap_ns = Some(*g),
            }
        }
        rec
    }
}

impl PduRecord {
    /// The compact form kept between passes (see [`CachedRecord`]).
    pub fn into_cached(self) -> CachedRecord {
        // A CONNECT's login is described again from the packet when shown (restore_with).
        let mut rare = Vec::new();
        // A CONNACK's result is read again from the packet when shown.
        // A CONNECT's own expert items are made again from the packet when shown.
        let own = self.connect_experts.map_or(0, |(n, _)| n as usize);
        if self.experts.len() > own {
            rare.push(Rare::Experts(self.experts[own..].into()));
        }
        if let Some(g) = self.gateway {
            rare.push(Rare::Gateway(g));
        }
        if !self.sub_logins.is_empty() {
            rare.push(Rare::SubLogins(self.sub_logins.into()));
        }
        if let Some(v) = self.ntp_offset_ms {
            rare.push(Rare::NtpOffset(v));
        }
        if let Some(v) = self.ntp_capture_offset_ms {
            rare.push(Rare::NtpCaptureOffset(v));
        }
        if let Some(f) = self.echo_of {
            rare.push(Rare::EchoOf(f));
        }
        if let Some((c, m)) = self.v5_reason {
            rare.push(Rare::V5Reason(c, m));
        }
        if let Some(id) = self.assigned_client_id {
            rare.push(Rare::AssignedClientId(id.into()));
        }
        // 0, the usual place, is restored with the payload.
        if let Some(at) = self.payload_experts_at.filter(|at| *at > 0) {
            rare.push(Rare::PayloadExpertsAt(at));
        }
        if !self.flow.sub_results.is_empty() {
            let packed = pack_sub_results(&self.flow.sub_results, self.identity.as_deref());
            rare.push(Rare::SubResults(packed));
        }
        if let Some(g) = self.flow.keepalive_gap_ns {
            rare.push(Rare::KeepaliveGap(g));
        }
        CachedRecord {
            msg_type: self.msg_type,
            direction: self.direction,
            identity: self.identity,
            connect_in: nz(self.connect_in.map(|f| f as usize), 0),
            request: nz(self.request, 1),
            exchange: nz(self.flow.exchange, 1),
            dup_of: nz(self.flow.dup_of.map(|f| f as usize), 0),
            reply_to: nz(self.reply.map(|r| r.request_frame as usize), 0),
            reply_delta_ns: self.reply.map_or(0, |r| r.delta_ns),
            ack_to: nz(self.flow.ack_to.map(|(f, _)| f as usize), 0),
            ack_delta_ns: self.flow.ack_to.map_or(0, |(_, d)| d),
            extra: (!rare.is_empty()).then(|| Rc::from(rare)),
            connect_experts: self.connect_experts.map(|(_, tls)| tls),
            publish: self.publish_info,
        }
    }
}

/// The part of a filter that names the connection's device, `/{pk}/{dn}/`: most filters have it
/// (`/sys/{pk}/{dn}/thing/…`), so it is kept once, in the identity, not in every filter.
fn device_part(id: Option<&Identity>) -> Option<String> {
    id.map(|i| format!("/{}/{}/", i.product_key(), i.device_name()))
}

/// Each code, its filter's length (u32 LE; the top bit says the device part follows), then,
/// with the device part, where it goes (u16 LE), then the rest of the filter's UTF-8.
fn pack_sub_results(r: &[(String, u8)], id: Option<&Identity>) -> Box<[u8]> {
    let part = device_part(id);
    let mut out = Vec::with_capacity(r.iter().map(|(f, _)| f.len() + 5).sum());
    for (filter, code) in r {
        out.push(*code);
        let at = part
            .as_deref()
            .and_then(|p| filter.find(p).map(|at| (at, p.len())))
            .filter(|(at, _)| *at <= u16::MAX as usize);
        match at {
            Some((at, n)) if filter.len() < 1 << 31 => {
                let rest = [&filter[..at], &filter[at + n..]].concat();
                out.extend((rest.len() as u32 | 1 << 31).to_le_bytes());
                out.extend((at as u16).to_le_bytes());
                out.extend(rest.as_bytes());
            }
            _ => {
                out.extend((filter.len() as u32 & !(1 << 31)).to_le_bytes());
                out.extend(filter.as_bytes());
            }
        }
    }
    out.into()
}

fn unpack_sub_results(b: &[u8], id: Option<&Identity>) -> Vec<(String, u8)> {
    let part = device_part(id).unwrap_or_default();
    let mut out = Vec::new();
    let mut rest = b;
    while let [code, l0, l1, l2, l3, tail @ ..] = rest {
        let len = u32::from_le_bytes([*l0, *l1, *l2, *l3]);
        let (mut at, mut tail) = (None, tail);
        if len & 1 << 31 != 0 {
            let [a0, a1, t @ ..] = tail else { break };
            at = Some(u16::from_le_bytes([*a0, *a1]) as usize);
            tail = t;
        }
        let n = ((len & !(1 << 31)) as usize).min(tail.len());
        let mut filter = String::from_utf8_lossy(&tail[..n]).into_owned();
        if let Some(at) = at.filter(|at| filter.is_char_boundary(*at)) {
            filter.insert_str(at, &part);
        }
        out.push((filter, *code));
        rest = &tail[n..];
    }
    out
}

const CHUNK: usize = 1 << 20;

/// Where each kept frame's bytes are, for about 2 bytes a frame instead of an 8-byte entry each:
/// every frame's bytes in a chunk start with a header (how many frames it is after the previous
/// kept frame, and its length, as varints), and the index marks only every [`SPARSE`]th frame and
/// the first frame of each chunk. A lookup finds the mark at or before the frame, then steps
/// through at most [`SPARSE`] headers; passes go through frames in order, so it usually resumes
/// where the previous lookup stopped.
#[derive(Default)]
struct Index {
    /// (frame, chunk << 20 | offset of its header), in frame order.
    marks: Vec<(u32, u32)>,
    /// Frames kept.
    len: usize,
    /// The last frame kept.
    last: Option<u32>,
    /// Frames kept since the last mark, itself included.
    since_mark: usize,
    /// Where the last lookup stopped: (mark, position of a header, that frame).
    hint: std::cell::Cell<(usize, u32, u32)>,
}

const SPARSE: usize = 32;

/// A frame's header: frames since the previous kept frame (0 at a mark), and its bytes' length
/// times two, plus one when the frame's packets came in several calls ([`FrameCache::store`]).
fn header(chunk: &[u8], at: usize) -> Option<(u32, usize, usize, bool)> {
    let mut r = Reader { b: chunk, at };
    let delta = u32::try_from(r.var()).ok()?;
    let len = r.var();
    let several = len & 1 != 0;
    let len = usize::try_from(len >> 1).ok()?;
    let body = r.at;
    (body.checked_add(len)? <= chunk.len()).then_some((delta, body, body + len, several))
}

impl Index {
    /// The mark at or before `frame`, if any.
    fn mark_of(&self, frame: u32) -> Option<usize> {
        let (h, _, _) = self.hint.get();
        let covers = |m: usize| {
            self.marks.get(m).is_some_and(|&(f, _)| f <= frame)
                && self.marks.get(m + 1).map_or(true, |&(f, _)| f > frame)
        };
        if covers(h) {
            return Some(h);
        }
        if covers(h + 1) {
            return Some(h + 1);
        }
        self.marks
            .partition_point(|&(f, _)| f <= frame)
            .checked_sub(1)
    }

    /// Where `frame`'s bytes are in `chunks`: (chunk, start, end), and whether its packets came
    /// in several calls.
    fn find(&self, chunks: &[Vec<u8>], frame: u32) -> Option<(usize, usize, usize, bool)> {
        let m = self.mark_of(frame)?;
        let (mark_frame, at) = self.marks[m];
        let c = (at >> 20) as usize;
        let chunk = chunks.get(c)?;
        // The mark's frames end at the next mark, or at the chunk's end (a chunk starts a mark).
        let end = match self.marks.get(m + 1) {
            Some(&(_, next)) if (next >> 20) as usize == c => (next as usize) & (CHUNK - 1),
            _ => chunk.len(),
        };
        let (hm, hat, hf) = self.hint.get();
        // (The hint's frame is below the mark's before any lookup set it.)
        let (mut pos, mut f) = if hm == m && hf <= frame && hf >= mark_frame {
            ((hat as usize) & (CHUNK - 1), hf)
        } else {
            ((at as usize) & (CHUNK - 1), mark_frame)
        };
        let (_, mut body, mut next, mut several) = header(chunk, pos).filter(|_| pos < end)?;
        loop {
            if f >= frame {
                self.hint.set((m, ((c << 20) | pos) as u32, f));
                return (f == frame).then_some((c, body, next, several));
            }
            // The next frame of this mark, if any.
            let (delta, b, n, sev) = header(chunk, next).filter(|_| next < end)?;
            (pos, body, next, several) = (next, b, n, sev);
            f = f.checked_add(delta)?;
        }
    }
}

#[derive(Default)]
pub struct FrameCache {
    chunks: Vec<Vec<u8>>,
    /// (frame, chunk << 20 | offset), in frame order.
    index: Index,
    identities: Vec<Rc<Identity>>,
    extras: Vec<Rc<[Rare]>>,
    /// SUBACK results kept once (`extras`' index, by a hash of the packed results): the devices
    /// of a fleet subscribe to the same filters, which are kept without the device part.
    sub_results: std::collections::HashMap<u64, u32>,
    /// Topics given by alias, shared by index.
    alias_topics: Vec<Rc<[u8]>>,
    /// Where a frame's slots are encoded before they are copied into a chunk.
    scratch: Vec<u8>,
}

/// One record's bytes, on the stack.
struct Enc {
    b: [u8; 128],
    n: usize,
}

impl Default for Enc {
    fn default() -> Self {
        Enc { b: [0; 128], n: 0 }
    }
}

impl Enc {
    fn push(&mut self, v: u8) {
        // At most 115 bytes are written (a byte past the end is dropped, never out of bounds).
        if let Some(slot) = self.b.get_mut(self.n) {
            *slot = v;
            self.n += 1;
        }
    }
    fn put(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.push(v as u8);
    }
    fn bytes(&self) -> &[u8] {
        &self.b[..self.n]
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    (v >> 1) as i64 ^ -((v & 1) as i64)
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        let v = self.b.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        v
    }
    fn var(&mut self) -> u64 {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte();
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                break;
            }
        }
        v
    }
    fn u32(&mut self) -> u32 {
        self.var() as u32
    }
    /// A frame given relative to `frame`.
    fn frame(&mut self, frame: u32) -> Option<NonZeroU32> {
        NonZeroU32::new((frame as i64 - unzigzag(self.var())) as u32)
    }
}

const CONNECT_IN: u8 = 1;
const REQUEST: u8 = 2;
const EXCHANGE: u8 = 4;
const DUP_OF: u8 = 8;
const REPLY: u8 = 16;
const ACK: u8 = 32;
const ALIAS_TOPIC: u8 = 64;
/// A CONNECT whose own expert items are made again (a byte follows: whether TLS carried it).
const CONNECT_EXPERTS: u8 = 128;

/// The packed results of a record whose only rare part is a SUBACK's results.
fn sub_results_only(x: &[Rare]) -> Option<&[u8]> {
    match x {
        [Rare::SubResults(b)] => Some(b),
        _ => None,
    }
}

impl FrameCache {
    /// Where `x` is kept in `extras`: a SUBACK's results the same as an earlier SUBACK's (the
    /// device part aside) share its entry; anything else gets its own.
    fn extra_index(&mut self, x: &Rc<[Rare]>) -> u32 {
        let n = self.extras.len() as u32;
        let Some(b) = sub_results_only(x) else {
            self.extras.push(x.clone());
            return n;
        };
        let mut h = super::fxhash::FxHasher::default();
        h.write(b);
        // Keyed by the hash alone: a collision (equal hashes, other results) keeps its own entry.
        let at = *self.sub_results.entry(h.finish()).or_insert(n);
        match self
            .extras
            .get(at as usize)
            .and_then(|e| sub_results_only(e))
        {
            // A key new here points at `n`, past the end of `extras`: it lands below.
            Some(kept) if kept == b => at,
            _ => {
                self.extras.push(x.clone());
                n
            }
        }
    }

    /// Number of frames with slots.
    pub fn frames(&self) -> usize {
        self.index.len
    }

    /// Whether no frame is kept.
    pub fn is_empty(&self) -> bool {
        self.index.len == 0
    }

    /// Bytes of encoded slots (the chunks' used part), side tables aside.
    pub fn used(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    /// Keeps the slots of `frame`; `several_calls`: they came from more than one call (TCP
    /// reassembly, WebSocket messages), so a later pass must count which call shows which
    /// ([`Self::of_into`]). Frames come in order on a first pass; a frame stored again or out of
    /// order is ignored (its first analysis stands).
    pub fn store(&mut self, frame: u32, slots: &[Slot], several_calls: bool) {
        let ix = &self.index;
        if slots.is_empty() || ix.last.is_some_and(|f| f >= frame) {
            return;
        }
        // One buffer reused for every frame: no allocation per frame. The header goes first.
        let mut enc = std::mem::take(&mut self.scratch);
        enc.clear();
        for s in slots {
            self.encode(frame, s, &mut enc);
        }
        let mut head = Enc::default();
        // The header's two varints take at most 5 and 10 bytes. A chunk is never filled past
        // CHUNK (offsets are 20 bits); a frame larger than that has a chunk of its own.
        let needed = enc.len() + 15;
        let fits = self
            .chunks
            .last()
            .is_some_and(|c| c.len() + needed <= CHUNK);
        if !fits {
            self.chunks.push(Vec::with_capacity(CHUNK.max(needed)));
        }
        let ix = &mut self.index;
        // A new chunk starts with a mark (the first frame's chunk too): a lookup never crosses one.
        let mark = !fits || ix.since_mark >= SPARSE;
        let delta = match ix.last {
            Some(last) if !mark => frame - last,
            _ => 0,
        };
        head.put(delta as u64);
        head.put((enc.len() as u64) << 1 | several_calls as u64);
        let c = self.chunks.len() - 1;
        let chunk = &mut self.chunks[c];
        // Chunks past 4 GiB of cache are not indexable; such a capture keeps what fits.
        let Ok(at) = u32::try_from((c << 20) | chunk.len()) else {
            self.scratch = enc;
            return;
        };
        chunk.extend_from_slice(head.bytes());
        chunk.extend_from_slice(&enc);
        self.scratch = enc;
        if mark {
            ix.marks.push((frame, at));
            ix.since_mark = 0;
        }
        ix.since_mark += 1;
        ix.last = Some(frame);
        ix.len += 1;
    }

    /// Whether `frame` has slots (no decoding).
    pub fn has(&self, frame: u32) -> bool {
        self.index.find(&self.chunks, frame).is_some()
    }

    /// The slots of `frame` (empty when it carried no analysed MQTT), for tests: a pass uses
    /// [`Self::of_into`].
    #[cfg(test)]
    pub fn of(&self, frame: u32) -> Vec<Slot> {
        let mut out = Vec::new();
        self.of_into(frame, &mut out);
        out
    }

    /// The slots of `frame` (none when it carried no analysed MQTT) into `out`, cleared first: a
    /// pass reuses one buffer for every frame. Whether they came from several calls
    /// ([`Self::store`]).
    pub fn of_into(&self, frame: u32, out: &mut Vec<Slot>) -> bool {
        out.clear();
        let Some((c, off, end, several)) = self.index.find(&self.chunks, frame) else {
            return false;
        };
        let mut r = Reader {
            b: &self.chunks[c][..end],
            at: off,
        };
        while r.at < end {
            out.push(self.decode(frame, &mut r));
        }
        several
    }

    fn encode(&mut self, frame: u32, s: &Slot, out: &mut Vec<u8>) {
        // Written on the stack, then copied out at once (a record is at most 115 bytes).
        let mut enc = Enc::default();
        self.encode_into(frame, s, &mut enc);
        out.extend_from_slice(enc.bytes());
    }

    fn encode_into(&mut self, frame: u32, s: &Slot, out: &mut Enc) {
        let r = &s.record;
        let dir = match r.direction {
            None => 0,
            Some(Direction::DeviceToCloud) => 1,
            Some(Direction::CloudToDevice) => 2,
        };
        out.push(
            (r.msg_type & 0x0f)
                | (dir << 4)
                | ((r.identity.is_some() as u8) << 6)
                | ((r.extra.is_some() as u8) << 7),
        );
        let flags = (r.connect_in.is_some() as u8 * CONNECT_IN)
            | (r.request.is_some() as u8 * REQUEST)
            | (r.exchange.is_some() as u8 * EXCHANGE)
            | (r.dup_of.is_some() as u8 * DUP_OF)
            | (r.reply_to.is_some() as u8 * REPLY)
            | (r.ack_to.is_some() as u8 * ACK)
            | (s.alias_topic.is_some() as u8 * ALIAS_TOPIC)
            | (r.connect_experts.is_some() as u8 * CONNECT_EXPERTS);
        out.push(flags);
        if let Some(tls) = r.connect_experts {
            out.push(tls as u8);
        }
        out.put(s.conv as u64);
        if let Some(id) = &r.identity {
            // The identity carries its number here; checked, as one made for another cache could
            // carry a number too.
            let n = match id.cache_no() {
                Some(n)
                    if self
                        .identities
                        .get(n as usize)
                        .is_some_and(|x| Rc::ptr_eq(x, id)) =>
                {
                    n
                }
                _ => {
                    let n = self.identities.len() as u32;
                    self.identities.push(id.clone());
                    id.set_cache_no(n);
                    n
                }
            };
            out.put(n as u64);
        }
        if let Some(x) = &r.extra {
            out.put(self.extra_index(x) as u64);
        }
        let rel = |out: &mut Enc, f: NonZeroU32| out.put(zigzag(frame as i64 - f.get() as i64));
        if let Some(f) = r.connect_in {
            rel(out, f);
        }
        if let Some(v) = r.request {
            out.put(v.get() as u64);
        }
        if let Some(v) = r.exchange {
            out.put(v.get() as u64);
        }
        if let Some(f) = r.dup_of {
            rel(out, f);
        }
        if let Some(f) = r.reply_to {
            rel(out, f);
            out.put(zigzag(r.reply_delta_ns));
        }
        if let Some(f) = r.ack_to {
            rel(out, f);
            out.put(zigzag(r.ack_delta_ns));
        }
        if let Some(t) = &s.alias_topic {
            out.put(self.alias_topics.len() as u64);
            self.alias_topics.push(t.clone());
        }
        if r.msg_type == PUBLISH {
            // 0: not kept; else class index + 1, then wildcard, reply, payload, code flags.
            let Some(p) = r.publish else {
                out.push(0);
                return;
            };
            let code = p.payload_code.flatten();
            out.put(
                (p.class.index() as u64 + 1) << 4
                    | (p.wildcard as u64) << 3
                    | (p.is_reply as u64) << 2
                    | (p.payload_code.is_some() as u64) << 1
                    | code.is_some() as u64,
            );
            if let Some(c) = code {
                out.put(c);
            }
        }
    }

    fn decode(&self, frame: u32, r: &mut Reader<'_>) -> Slot {
        let head = r.byte();
        let flags = r.byte();
        let connect_experts = (flags & CONNECT_EXPERTS != 0).then(|| r.byte() != 0);
        let conv = r.u32();
        let identity = (head & 0x40 != 0)
            .then(|| r.var())
            .and_then(|i| self.identities.get(i as usize).cloned());
        let extra = (head & 0x80 != 0)
            .then(|| r.var())
            .and_then(|i| self.extras.get(i as usize).cloned());
        let has = |f: u8| flags & f != 0;
        let connect_in = if has(CONNECT_IN) {
            r.frame(frame)
        } else {
            None
        };
        let request = if has(REQUEST) {
            NonZeroU32::new(r.u32())
        } else {
            None
        };
        let exchange = if has(EXCHANGE) {
            NonZeroU32::new(r.u32())
        } else {
            None
        };
        let dup_of = if has(DUP_OF) { r.frame(frame) } else { None };
        let (reply_to, reply_delta_ns) = if has(REPLY) {
            (r.frame(frame), unzigzag(r.var()))
        } else {
            (None, 0)
        };
        let (ack_to, ack_delta_ns) = if has(ACK) {
            (r.frame(frame), unzigzag(r.var()))
        } else {
            (None, 0)
        };
        let alias_topic = if has(ALIAS_TOPIC) {
            self.alias_topics.get(r.var() as usize).cloned()
        } else {
            None
        };
        let publish = if head & 0x0f == PUBLISH {
            let v = r.var();
            let class = (v >> 4)
                .checked_sub(1)
                .and_then(|i| topic::ALL.get(i as usize).copied());
            let code = (v & 1 != 0).then(|| r.var());
            class.map(|class| PublishInfo {
                class,
                is_reply: v & 4 != 0,
                wildcard: v & 8 != 0,
                payload_code: (v & 2 != 0).then_some(code),
            })
        } else {
            None
        };
        Slot {
            conv,
            alias_topic,
            record: CachedRecord {
                msg_type: head & 0x0f,
                direction: match (head >> 4) & 3 {
                    1 => Some(Direction::DeviceToCloud),
                    2 => Some(Direction::CloudToDevice),
                    _ => None,
                },
                identity,
                connect_in,
                request,
                exchange,
                dup_of,
                reply_to,
                reply_delta_ns,
                ack_to,
                ack_delta_ns,
                extra,
                connect_experts,
                publish,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slot of connection `conv` with an empty record.
    fn slot(conv: u32) -> Slot {
        Slot {
            conv,
            alias_topic: None,
            record: CachedRecord::default(),
        }
    }

    #[test]
    fn sub_results_pack() {
        let r = vec![
            ("/a/#".to_string(), 0x80),
            ("".to_string(), 1),
            ("/ü".to_string(), 0),
        ];
        assert_eq!(unpack_sub_results(&pack_sub_results(&r, None), None), r);
        assert!(unpack_sub_results(&[], None).is_empty());
        // The device's own part of a filter is kept once, in the identity.
        let id = Identity::new(
            "a1B2c3D4e5F",
            "dev",
            crate::core::session::IdentitySource::Login,
        );
        let mine = vec![
            ("/sys/a1B2c3D4e5F/dev/thing/service/+".to_string(), 1),
            ("/a1B2c3D4e5F/dev/user/get".to_string(), 0),
            ("/a1B2c3D4e5F/other/user/get".to_string(), 0x80),
        ];
        let packed = pack_sub_results(&mine, Some(&id));
        assert_eq!(
            packed.len(),
            3 * 5 + 2 * 2 + "/systhing/service/+user/get".len() + 27
        );
        assert_eq!(unpack_sub_results(&packed, Some(&id)), mine);
    }
    use crate::core::secrets::Secrets;
    use crate::core::session::{Capture, FrameCtx, MqttPdu};

    fn ctx(frame: u32, up: bool) -> FrameCtx {
        FrameCtx {
            frame,
            src: if up { 1 } else { 2 },
            dst: if up { 2 } else { 1 },
            src_port: if up { 50000 } else { 1883 },
            dst_port: if up { 1883 } else { 50000 },
            over_tls: false,
            ts_ns: 1_700_000_000_000_000_000 + frame as i64 * 1_234_567,
        }
    }

    /// A session's records go through the cache and come back the same.
    #[test]
    fn slots_come_back_as_stored() {
        let mut cap = Capture::default();
        let secrets = Secrets::default();
        let post =
            br#"{"id":"7","version":"1.0","params":{"t":1},"method":"thing.event.property.post"}"#;
        let reply = br#"{"code":200,"data":{},"id":"7","message":"success","version":"1.0"}"#;
        let pdus: Vec<(MqttPdu, bool)> = vec![
            (
                MqttPdu {
                    msg_type: 1,
                    version: Some(4),
                    keepalive: Some(60),
                    client_id: Some(b"pk.dev|securemode=3,signmethod=hmacsha1,timestamp=1|"),
                    username: Some(b"dev&a1B2c3D4e5F"),
                    password: Some(b"00"),
                    ..Default::default()
                },
                true,
            ),
            (
                MqttPdu {
                    msg_type: 2,
                    connack_code: Some(0),
                    ..Default::default()
                },
                false,
            ),
            (
                MqttPdu {
                    msg_type: 3,
                    qos: 1,
                    msgid: Some(5),
                    topic: Some(b"/sys/a1B2c3D4e5F/dev/thing/event/property/post"),
                    payload: Some(post),
                    ..Default::default()
                },
                true,
            ),
            (
                MqttPdu {
                    msg_type: 4,
                    msgid: Some(5),
                    ..Default::default()
                },
                false,
            ),
            (
                MqttPdu {
                    msg_type: 3,
                    topic: Some(b"/sys/a1B2c3D4e5F/dev/thing/event/property/post_reply"),
                    payload: Some(reply),
                    ..Default::default()
                },
                false,
            ),
        ];
        let mut cache = FrameCache::default();
        let mut kept = Vec::new();
        for (i, (pdu, up)) in pdus.iter().enumerate() {
            let frame = 10 + 3 * i as u32;
            let rec = cap
                .analyze(7, pdu, &ctx(frame, *up), &secrets)
                .into_cached();
            let slot = Slot {
                conv: 7,
                alias_topic: (i == 4).then(|| Rc::from(pdu.topic.unwrap())),
                record: rec,
            };
            cache.store(frame, std::slice::from_ref(&slot), false);
            kept.push((frame, format!("{slot:?}")));
        }
        for (frame, want) in &kept {
            let got = cache.of(*frame);
            assert_eq!(got.len(), 1);
            assert_eq!(&format!("{:?}", got[0]), want);
        }
        assert!(cache.of(11).is_empty() && cache.of(1000).is_empty());
        assert!(cache.has(10) && cache.has(22) && !cache.has(11) && !cache.has(1000));
        // The reply links back to its request, the PUBACK to its PUBLISH.
        let reply = cache.of(22).remove(0).record.restore(None, None);
        assert_eq!(reply.reply.map(|r| r.request_frame), Some(16));
        let ack = cache.of(19).remove(0).record.restore(None, None);
        assert_eq!(ack.flow.ack_to.map(|a| a.0), Some(16));
        // Five packets in well under the 5 × 112 bytes the same facts take as structs.
        assert!(cache.used() < 5 * 24, "{} bytes", cache.used());
    }

    /// Many frames: marks and byte chunks both roll over.
    #[test]
    fn many_frames() {
        let mut cache = FrameCache::default();
        // Large connection numbers (five varint bytes) make 200 000 slots span two chunks.
        const BIG: u32 = 1 << 28;
        for f in 0..200_000u32 {
            cache.store(2 * f + 1, &[slot(BIG + f)], false);
        }
        assert_eq!(cache.frames(), 200_000);
        assert!(cache.used() > 1 << 20, "more than one chunk");
        for f in [0u32, 1, 8191, 8192, 8193, 50_000, 130_000, 199_999] {
            let got = cache.of(2 * f + 1);
            assert_eq!(got.len(), 1, "frame {}", 2 * f + 1);
            assert_eq!(got[0].conv, BIG + f);
            assert!(cache.of(2 * f + 2).is_empty());
        }
    }

    /// Lookups in pass order (each frame, with and without slots, across marks), backwards, by
    /// jumps and repeated, all find what was stored, and nothing where nothing was.
    #[test]
    fn lookups_in_any_order() {
        let mut cache = FrameCache::default();
        // Gaps of 1 to 1000 frames between kept frames.
        let mut frames = Vec::new();
        let mut f = 2u32;
        for i in 0..20_000u32 {
            frames.push(f);
            cache.store(f, &[slot(i)], false);
            f += 1 + (i * 7919) % 1000;
        }
        let last = *frames.last().unwrap();
        let expect = |frame: u32| frames.binary_search(&frame).ok();
        // Each kept frame, its neighbours and the middle of the gap after it: every kind of
        // lookup (a hit, a miss next to a hit, a miss far from one), forward then backward. All
        // of 0..=last would be ten million lookups, minutes in a debug build.
        let near = |&f: &u32| [f.saturating_sub(1), f, f + 1, f + 1 + f % 500];
        let mut forward: Vec<u32> = (0..3).chain(frames.iter().flat_map(near)).collect();
        forward.extend(last + 1..=last + 3);
        forward.sort_unstable();
        forward.dedup();
        let backward: Vec<u32> = forward.iter().rev().copied().collect();
        let jumps = [
            5u32,
            5,
            5,
            last,
            2,
            3,
            1,
            0,
            last + 1,
            frames[8191],
            frames[8192],
        ];
        for frame in forward.into_iter().chain(backward).chain(jumps) {
            let got = cache.of(frame);
            match expect(frame) {
                Some(i) => {
                    assert_eq!(got.len(), 1, "frame {frame}");
                    assert_eq!(got[0].conv, i as u32, "frame {frame}");
                }
                None => assert!(got.is_empty(), "frame {frame}"),
            }
            assert_eq!(cache.has(frame), expect(frame).is_some(), "frame {frame}");
        }
        // Stored again or out of order: ignored.
        cache.store(frames[10], &[slot(99)], false);
        cache.store(last, &[slot(99)], false);
        assert_eq!(cache.of(frames[10])[0].conv, 10);
        assert_eq!(cache.frames(), 20_000);
    }

    /// SUBACKs of devices subscribing alike share one entry of the side table.
    #[test]
    fn suback_results_are_kept_once_per_fleet() {
        use crate::core::session::IdentitySource::Login;
        let suback = |dn: &str, extra: Option<Rare>| {
            let id = Rc::new(Identity::new("a1B2c3D4e5F", dn, Login));
            let filters = vec![
                (format!("/sys/a1B2c3D4e5F/{dn}/thing/service/+"), 1),
                (format!("/a1B2c3D4e5F/{dn}/user/get"), 0x80),
            ];
            let mut rare = vec![Rare::SubResults(pack_sub_results(&filters, Some(&id)))];
            rare.extend(extra);
            let mut s = slot(1);
            s.record.msg_type = crate::core::mqtt::SUBACK;
            s.record.identity = Some(id);
            s.record.extra = Some(Rc::from(rare));
            (s, filters)
        };
        let mut cache = FrameCache::default();
        let mut want = Vec::new();
        for (frame, dn, extra) in [
            (1, "dev-a", None),
            (2, "dev-b", None),
            (3, "dev-c", Some(Rare::EchoOf(1))),
            (4, "dev-a", None),
        ] {
            let (s, filters) = suback(dn, extra);
            cache.store(frame, &[s], false);
            want.push((frame, filters));
        }
        // dev-a's, dev-b's and dev-a's again share one entry; dev-c's has more than results.
        assert_eq!(cache.extras.len(), 2);
        for (frame, filters) in want {
            let got = cache.of(frame);
            assert_eq!(got[0].record.restore(None, None).flow.sub_results, filters);
        }
        // Other results, and a hash that collides with kept results of other bytes, keep their own.
        let (mut s, _) = suback("dev-d", None);
        s.record.extra = Some(Rc::from([Rare::SubResults(Box::from(&b"\x00"[..]))]));
        cache.store(5, &[s], false);
        assert_eq!(cache.extras.len(), 3);
        let mut h = crate::core::fxhash::FxHasher::default();
        h.write(b"\x01");
        cache.sub_results.insert(h.finish(), 0);
        let (mut s, _) = suback("dev-e", None);
        s.record.extra = Some(Rc::from([Rare::SubResults(Box::from(&b"\x01"[..]))]));
        cache.store(6, &[s], false);
        assert_eq!(cache.extras.len(), 4);
        assert!(cache.of(6)[0]
            .record
            .restore(None, None)
            .flow
            .sub_results
            .is_empty());
    }

    /// Records share their identity, stored once per cache; an identity that another cache
    /// numbered first is stored again here, never taken for this cache's identity of that number.
    #[test]
    fn identities_are_stored_once_per_cache() {
        use crate::core::session::IdentitySource::Login;
        let a = Rc::new(Identity::new("a1B2c3D4e5F", "dev-a", Login));
        let b = Rc::new(Identity::new("a1B2c3D4e5F", "dev-b", Login));
        let with = |id: &Rc<Identity>, conv| {
            let mut s = slot(conv);
            s.record.identity = Some(id.clone());
            s
        };
        let mut other = FrameCache::default();
        other.store(1, &[with(&b, 9)], false);
        let mut cache = FrameCache::default();
        cache.store(1, &[with(&a, 1), with(&b, 2)], false);
        cache.store(2, &[with(&b, 2)], false);
        cache.store(3, &[with(&a, 1)], false);
        assert_eq!(cache.identities.len(), 2);
        for (frame, conv, id) in [(1, 1, &a), (1, 2, &b), (2, 2, &b), (3, 1, &a)] {
            let got = cache.of(frame);
            let s = got.iter().find(|s| s.conv == conv).expect("stored");
            assert!(
                Rc::ptr_eq(s.record.identity.as_ref().unwrap(), id),
                "frame {frame}"
            );
        }
        let got = other.of(1);
        assert!(Rc::ptr_eq(got[0].record.identity.as_ref().unwrap(), &b));
        assert_eq!(other.identities.len(), 1);
    }

    /// A frame whose slots take more than a chunk has a chunk of its own, and the frames after it
    /// are still found.
    #[test]
    fn a_frame_larger_than_a_chunk() {
        let mut cache = FrameCache::default();
        cache.store(1, &[slot(1)], false);
        let many: Vec<Slot> = (0..300_000).map(|_| slot(1 << 28)).collect();
        cache.store(2, &many, false);
        cache.store(3, &[slot(3)], false);
        assert!(cache.used() > CHUNK);
        assert_eq!(cache.of(1)[0].conv, 1);
        assert_eq!(cache.of(2).len(), 300_000);
        assert_eq!(cache.of(3)[0].conv, 3);
        assert!(cache.of(4).is_empty());
    }

    #[test]
    fn several_slots_in_one_frame_and_zigzag() {
        for v in [0i64, 1, -1, i64::MAX, i64::MIN, 123_456_789] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        let mut cache = FrameCache::default();
        let slot = |conv| Slot {
            conv,
            alias_topic: Some(Rc::from(&b"t"[..])),
            record: CachedRecord::default(),
        };
        // Frame 5's packets came in several calls (TCP reassembly, say), frame 6's in one.
        cache.store(5, &[slot(1), slot(2), slot(3)], true);
        cache.store(6, &[slot(4)], false);
        cache.store(6, &[slot(9)], true); // stored again: ignored
        let got = cache.of(5);
        assert_eq!(got.iter().map(|s| s.conv).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(cache.of(6).len(), 1);
        assert_eq!(cache.of(6)[0].conv, 4);
        assert_eq!(cache.of(6)[0].alias_topic.as_deref(), Some(&b"t"[..]));
        let mut out = Vec::new();
        assert!(cache.of_into(5, &mut out));
        assert!(!cache.of_into(6, &mut out));
        assert!(!cache.of_into(7, &mut out) && out.is_empty());
    }
}
