//! Per-connection state and per-packet analysis: who the device is, how its login went.
//!
//! The glue feeds every MQTT packet of a capture, in frame order, on the first pass only; the
//! records produced here are cached per frame and re-rendered on every later pass.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::rc::Rc;

use super::clientid::ClientId;
use super::expert::{Finding, RefusalHint};
use super::fields::Ei;
use super::flow::{FlowPacket, FlowRecord, FlowState};
use super::fxhash::FxMap;
use super::payload::{self, Body, Payload};
use super::secrets::Secrets;
use super::sign::{check_login, SignCheck, SignStatus};
use super::topic::{self, Class, TopicInfo};

/// Open requests kept per connection; beyond this new requests are not tracked (bounded memory
/// on hostile or very long captures).
pub const MAX_PENDING: usize = 10_000;
/// Subscription filters analysed per SUBSCRIBE/UNSUBSCRIBE.
pub const MAX_FILTERS: usize = 64;

pub use super::mqtt::{CONNACK, CONNECT, PUBLISH, SUBSCRIBE, UNSUBSCRIBE};

/// The parts of one MQTT packet aliiot reads ([`super::mqtt::parse`]), borrowed from its bytes.
#[derive(Debug, Default, Clone)]
pub struct MqttPdu<'a> {
    /// Message type (high nibble of the first byte).
    pub msg_type: u8,
    pub version: Option<u8>,
    pub keepalive: Option<u16>,
    pub client_id: Option<&'a [u8]>,
    pub username: Option<&'a [u8]>,
    pub password: Option<&'a [u8]>,
    /// CONNACK return code (3.1/3.1.1) or reason code (5.0).
    pub connack_code: Option<u8>,
    /// Whether `connack_code` is an MQTT 5.0 reason code.
    pub connack_v5: bool,
    pub topics: Vec<&'a [u8]>,
    /// PUBLISH payload.
    pub payload: Option<&'a [u8]>,
    pub qos: u8,
    pub dup: bool,
    pub retain: bool,
    pub msgid: Option<u16>,
    /// SUBACK granted QoS / reason codes, in filter order.
    pub sub_codes: Vec<u8>,
    /// CONNECT carries a will message.
    pub will: bool,
    /// MQTT 5 facts (reason codes, user properties, topic alias, packet length).
    pub v5: super::mqtt5::V5,
    /// MQTT 5 request/response: Response Topic and Correlation Data properties.
    pub response_topic: Option<&'a [u8]>,
    pub correlation: Option<&'a [u8]>,
    /// CONNACK Assigned Client Identifier (MQTT 5; the Link SDK's "assigned client id" mode).
    pub assigned_client_id: Option<&'a [u8]>,
}

/// Facts about the frame that carries the packet.
#[derive(Debug, Clone, Copy, Default)]
pub struct FrameCtx {
    pub frame: u32,
    /// Keys of the sending and receiving endpoints (address + port).
    pub src: u64,
    pub dst: u64,
    /// Transport ports (0 when unknown).
    pub src_port: u32,
    pub dst_port: u32,
    /// Whether TLS carries this MQTT.
    pub over_tls: bool,
    /// Capture time, nanoseconds since the Unix epoch.
    pub ts_ns: i64,
}

/// How much of a packet's record the caller looks at now (the first pass keeps the same facts
/// for later passes whatever it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Nothing: no item, column or statistic is made of it now. A PUBLISH's topic is not kept
    /// in the record and its payload is read only for pairing and counting.
    Bare,
    /// Its summary (Info column, statistics): the topic, and the payload's Alink facts.
    Summary,
    /// Everything: the packet is shown.
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentitySource {
    Login = 1,
    Topic = 2,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub product_key: String,
    pub device_name: String,
    pub source: IdentitySource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    DeviceToCloud = 1,
    CloudToDevice = 2,
}

/// One MQTT connection (a transport conversation).
#[derive(Debug, Default)]
pub struct Conn {
    pub identity: Option<Rc<Identity>>,
    /// Endpoint key of the device side.
    pub device_endpoint: Option<u64>,
    pub connect_frame: Option<u32>,
    pub connack_frame: Option<u32>,
    pub sign: Option<SignStatus>,
    /// The CONNECT's client id lacked the `|…|` parameters (the likeliest cause of a refusal).
    pub client_id_without_params: bool,
    /// A gateway: says gw=1 at login, or manages sub-devices (topo, combine, sub/register).
    pub is_gateway: bool,
    /// Every request seen, in order; records refer to them by index.
    pub requests: Vec<Request>,
    /// What pairs requests with replies while the connection is open; dropped when it ends.
    matching: Option<Box<Matching>>,
    /// MQTT-level flow: acknowledgements, keep-alive, how the session ended.
    pub flow: FlowState,
    /// SDK language and version from the client id (`lan`, `_v`).
    pub sdk: Option<String>,
    pending_limit_hit: bool,
}

/// The pairing state of an open connection (what a finished one no longer needs).
#[derive(Debug, Default)]
struct Matching {
    /// Requests still waiting for a reply, by matching key.
    pending: FxMap<PairKey, usize>,
    /// Alink requests by id alone, for the platform's `/ext/error` reports.
    alink_by_id: FxMap<PairKey, PairKey>,
    /// Requests without an id (shadow, up_raw/down_raw): sent and answered counts per stream;
    /// their replies come in order.
    fifo: FxMap<PairKey, (u64, u64)>,
    /// SUBSCRIBE filters by packet id, until their SUBACK.
    sub_filters: FxMap<usize, Vec<String>>,
}

/// A request and, once seen, its reply.
#[derive(Debug, Clone)]
pub struct Request {
    pub frame: u32,
    pub ts_ns: i64,
    /// False for `sys.ack: 0` (no reply wanted).
    pub expects_reply: bool,
    pub response: Option<u32>,
}

/// What a reply answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyLink {
    pub request_frame: u32,
    pub delta_ns: i64,
}

/// A classified topic, owned: its text in one allocation, the parts as ranges of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicView {
    pub class: Class,
    pub is_reply: bool,
    pub wildcard: bool,
    text: Box<str>,
    identifier: Option<(u32, u32)>,
    product_key: Option<(u32, u32)>,
    device_name: Option<(u32, u32)>,
    rrpc_id: Option<(u32, u32)>,
}

impl TopicView {
    /// `t` is what [`topic::classify`] found in `text`.
    pub fn new(text: &str, t: &TopicInfo<'_>) -> TopicView {
        // Where `part` (a slice of `text`) lies in it.
        let range = |part: Option<&str>| {
            let part = part?;
            let start = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
            let end = start.checked_add(part.len()).filter(|e| *e <= text.len())?;
            Some((u32::try_from(start).ok()?, u32::try_from(end).ok()?))
        };
        TopicView {
            class: t.class,
            is_reply: t.is_reply,
            wildcard: t.wildcard,
            identifier: range(t.identifier),
            product_key: range(t.product_key),
            device_name: range(t.device_name),
            rrpc_id: range(t.rrpc_id),
            text: text.into(),
        }
    }

    fn part(&self, r: Option<(u32, u32)>) -> Option<&str> {
        r.and_then(|(a, b)| self.text.get(a as usize..b as usize))
    }
    /// Event or service identifier, RRPC / broadcast message id, or the user-topic suffix.
    pub fn identifier(&self) -> Option<&str> {
        self.part(self.identifier)
    }
    pub fn product_key(&self) -> Option<&str> {
        self.part(self.product_key)
    }
    pub fn device_name(&self) -> Option<&str> {
        self.part(self.device_name)
    }
    /// The `{id}` of an `/ext/rrpc/{id}/…` wrapper.
    pub fn rrpc_id(&self) -> Option<&str> {
        self.part(self.rrpc_id)
    }

    pub fn flow(&self) -> topic::Flow {
        topic::message_flow(self.class, self.is_reply)
    }
}

/// Every connection of a capture, and the devices seen on them (to spot one device logged in on
/// two connections at once).
#[derive(Debug, Default)]
pub struct Capture {
    pub conns: FxMap<u32, Box<Conn>>,
    devices: HashMap<(String, String), Vec<u32>>,
}

impl Capture {
    /// Analyses one MQTT packet of connection `conv` (first pass, in frame order).
    pub fn analyze(
        &mut self,
        conv: u32,
        pdu: &MqttPdu<'_>,
        ctx: &FrameCtx,
        secrets: &Secrets,
    ) -> PduRecord {
        self.analyze_with(conv, pdu, ctx, secrets, Detail::Full)
    }

    /// [`Self::analyze`]; `detail` says whether the record is shown now (else a PUBLISH's payload is
    /// read only for what the connection's state needs: its record is described again from the
    /// packet when shown, as on every later pass).
    pub fn analyze_with(
        &mut self,
        conv: u32,
        pdu: &MqttPdu<'_>,
        ctx: &FrameCtx,
        secrets: &Secrets,
        detail: Detail,
    ) -> PduRecord {
        let conn = self.conns.entry(conv).or_default();
        let rec = conn.analyze_with(pdu, ctx, secrets, detail);
        if pdu.msg_type == CONNECT {
            if let Some(id) = conn
                .identity
                .clone()
                .filter(|i| i.source == IdentitySource::Login)
            {
                let key = (id.product_key.clone(), id.device_name.clone());
                let mine = conn.connect_frame.unwrap_or(ctx.frame);
                let others = self.devices.entry(key).or_default();
                for &other in others.iter().filter(|c| **c != conv) {
                    let Some(o) = self.conns.get_mut(&other) else {
                        continue;
                    };
                    if o.flow.ended_before(ctx.frame) {
                        continue;
                    }
                    if let Some(theirs) = o.connect_frame {
                        o.flow.overlaps.push(mine);
                        if let Some(c) = self.conns.get_mut(&conv) {
                            c.flow.overlaps.push(theirs);
                        }
                    }
                }
                if !others.contains(&conv) && others.len() < 1024 {
                    others.push(conv);
                }
            }
        }
        rec
    }

    /// A TCP FIN or RST on connection `conv` (first pass).
    pub fn tcp_end(&mut self, conv: u32, frame: u32, ts_ns: i64, reset: bool) {
        if let Some(c) = self.conns.get_mut(&conv) {
            c.flow.on_tcp_end(frame, ts_ns, reset);
            // After a reset, or a FIN that follows the DISCONNECT, no MQTT can follow: what only
            // pairing needs is freed, so a capture of many short sessions holds matching state
            // for the open ones only.
            if reset || c.flow.disconnect {
                c.release_matching();
                // An ended connection overlaps no later login of its device.
                if let Some(id) = c
                    .identity
                    .as_ref()
                    .filter(|i| i.source == IdentitySource::Login)
                {
                    let key = (id.product_key.clone(), id.device_name.clone());
                    if let Some(convs) = self.devices.get_mut(&key) {
                        convs.retain(|&other| other != conv);
                        if convs.is_empty() {
                            self.devices.remove(&key);
                        }
                    }
                }
            }
        }
    }
}

/// The kinds of [`PairKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum KeyKind {
    /// MQTT 5 Response Topic + Correlation Data.
    Mqtt5 = 1,
    /// `/ext/rrpc/{id}/…`: request and response share the topic.
    ExtRrpc,
    /// `/sys/…/rrpc/request/{id}` and its response.
    Rrpc,
    /// NTP by the device's send time.
    Ntp,
    /// Shadow and raw data: the n-th reply answers the n-th request.
    InOrder,
    /// Alink by class, identifier, device and id.
    Alink,
    /// An Alink id alone (the platform's `/ext/error` names only the id).
    AlinkId,
}

/// A request's pairing key: its kind and the parts that must match, digested into 128 bits (two
/// differently seeded Fx digests, length-prefixed parts), so pending requests cost no allocation
/// per key. Keys stay within one connection, so a collision could only mis-pair two requests of
/// the same device in a capture crafted for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PairKey(u64, u64);

impl PairKey {
    fn of(kind: KeyKind, parts: &[&[u8]]) -> PairKey {
        use std::hash::Hasher;
        let digest = |seed: u8| {
            let mut h = super::fxhash::FxHasher::default();
            h.write_u64((seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            h.write_u8(kind as u8);
            for p in parts {
                h.write_usize(p.len());
                h.write(p);
            }
            h.finish()
        };
        PairKey(digest(1), digest(2))
    }

    fn bytes(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.0.to_le_bytes());
        b[8..].copy_from_slice(&self.1.to_le_bytes());
        b
    }
}

/// What the CONNECT said, for display.
#[derive(Debug, Clone)]
pub struct Login {
    pub client_id: ClientId,
    pub sign: Option<SignCheck>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connack {
    pub code: u8,
    pub accepted: bool,
    pub meaning: &'static str,
}

/// The analysis of one MQTT packet; owned data only, so it can be cached for later passes.
#[derive(Debug, Clone, Default)]
pub struct PduRecord {
    pub msg_type: u8,
    pub direction: Option<Direction>,
    /// The identity known when this packet was analysed (the connection's may become known later).
    pub identity: Option<Rc<Identity>>,
    pub connect_in: Option<u32>,
    pub login: Option<Box<Login>>,
    pub connack: Option<Connack>,
    pub experts: Vec<(Ei, String)>,
    /// The gateway whose connection carries a sub-device's message.
    pub gateway: Option<Rc<Identity>>,
    /// The PUBLISH topic, or every SUBSCRIBE/UNSUBSCRIBE filter.
    pub topics: Vec<TopicView>,
    /// SUBSCRIBE/UNSUBSCRIBE filters as sent (at most [`MAX_FILTERS`]).
    pub filters: Vec<Box<str>>,
    pub payload: Option<Payload>,
    /// Index into [`Conn::requests`] when this message is a request.
    pub request: Option<usize>,
    pub reply: Option<ReplyLink>,
    /// Sub-devices a gateway adds or logs in, with their signs checked.
    pub sub_logins: Vec<SubLogin>,
    /// NTP: how far the platform's clock is ahead of the device's, in ms.
    pub ntp_offset_ms: Option<f64>,
    pub flow: FlowRecord,
    /// MQTT 5 PUBACK/DISCONNECT reason code and its meaning.
    pub v5_reason: Option<(u8, &'static str)>,
    pub assigned_client_id: Option<String>,
    /// Where the payload's expert items stand among [`Self::experts`] (they are made from the
    /// payload when shown, not kept).
    pub payload_experts_at: Option<u8>,
}

impl PduRecord {
    /// Whether the packet is an Alink reply with an error code.
    pub fn alink_error(&self) -> bool {
        self.payload.as_ref().is_some_and(Payload::alink_error)
    }

    /// Every expert item of the packet, the payload's in their place.
    pub fn all_experts(&self) -> Vec<(Ei, String)> {
        let mut out = self.experts.clone();
        if let (Some(at), Some(p), Some(t)) =
            (self.payload_experts_at, &self.payload, self.topics.first())
        {
            let at = (at as usize).min(out.len());
            let items = p
                .issues
                .iter()
                .map(|i| Finding::Payload(i, t.class.name).item());
            out.splice(at..at, items);
        }
        out
    }
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
}

/// The rare parts of a record, only those present: a CONNECT's login, a CONNACK's result, expert
/// items, SUBSCRIBE filters, SUBACK results…
#[derive(Debug, Clone)]
pub(crate) enum Rare {
    Connack(Connack),
    Experts(Box<[(Ei, String)]>),
    Gateway(Rc<Identity>),
    SubLogins(Box<[SubLogin]>),
    NtpOffset(f64),
    V5Reason(u8, &'static str),
    PayloadExpertsAt(u8),
    AssignedClientId(Box<str>),
    SubResults(Box<[(String, u8)]>),
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
        matches!(self.msg_type, PUBLISH | CONNECT | SUBSCRIBE | UNSUBSCRIBE)
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
    ) -> PduRecord {
        let mut rec = self.restore_as(topic.or(pdu.topics.first().copied()), pdu.payload, detail);
        if self.msg_type == CONNECT {
            rec.login = describe_login(pdu, secrets).map(Box::new);
        }
        if matches!(self.msg_type, SUBSCRIBE | UNSUBSCRIBE) {
            (rec.filters, rec.topics) = describe_filters(pdu);
        }
        rec
    }

    /// The full record again: the cached facts, plus the PUBLISH topic and payload described
    /// anew from the same packet (the bytes the first pass analysed).
    pub fn restore(&self, topic: Option<&[u8]>, payload: Option<&[u8]>) -> PduRecord {
        self.restore_as(topic, payload, Detail::Full)
    }

    fn restore_as(
        &self,
        topic: Option<&[u8]>,
        payload: Option<&[u8]>,
        detail: Detail,
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
            ..PduRecord::default()
        };
        if self.msg_type == PUBLISH {
            (rec.topics, rec.payload) = describe_publish_as(topic, payload, detail);
            rec.payload_experts_at = rec.payload.as_ref().map(|_| 0);
        }
        for item in self.extra.iter().flat_map(|x| x.iter()) {
            match item {
                Rare::Connack(c) => rec.connack = Some(*c),
                Rare::Experts(e) => rec.experts = e.to_vec(),
                Rare::Gateway(g) => rec.gateway = Some(g.clone()),
                Rare::SubLogins(l) => rec.sub_logins = l.to_vec(),
                Rare::NtpOffset(v) => rec.ntp_offset_ms = Some(*v),
                Rare::V5Reason(c, m) => rec.v5_reason = Some((*c, m)),
                Rare::PayloadExpertsAt(at) => rec.payload_experts_at = Some(*at),
                Rare::AssignedClientId(id) => rec.assigned_client_id = Some(id.to_string()),
                Rare::SubResults(r) => rec.flow.sub_results = r.to_vec(),
                Rare::KeepaliveGap(g) => rec.flow.keepalive_gap_ns = Some(*g),
            }
        }
        rec
    }
}

/// A SUBSCRIBE's or UNSUBSCRIBE's filters as sent (at most [`MAX_FILTERS`]), and the Alibaba
/// ones classified. Pure: read again from the packet on every pass, not kept.
fn describe_filters(pdu: &MqttPdu<'_>) -> (Vec<Box<str>>, Vec<TopicView>) {
    let filters: Vec<Box<str>> = pdu
        .topics
        .iter()
        .take(MAX_FILTERS)
        .map(|f| super::lossy(f).into())
        .collect();
    let topics = classify_filters(filters.iter().map(|f| &**f));
    (filters, topics)
}

/// The classified SUBSCRIBE/UNSUBSCRIBE filters (the Alibaba ones).
fn classify_filters<'a>(filters: impl Iterator<Item = &'a str>) -> Vec<TopicView> {
    filters
        .filter_map(|f| topic::classify(f).map(|t| TopicView::new(f, &t)))
        .collect()
}

/// What a PUBLISH says of itself: its classified topic and analysed payload. Pure: the same on
/// every pass.
pub fn describe_publish(
    topic: Option<&[u8]>,
    payload: Option<&[u8]>,
) -> (Vec<TopicView>, Option<Payload>) {
    describe_publish_as(topic, payload, Detail::Full)
}

fn describe_publish_as(
    topic: Option<&[u8]>,
    payload: Option<&[u8]>,
    detail: Detail,
) -> (Vec<TopicView>, Option<Payload>) {
    let Some(topic_bytes) = topic else {
        return (Vec::new(), None);
    };
    let text = super::lossy(topic_bytes);
    let Some(t) = topic::classify(&text) else {
        return (Vec::new(), None);
    };
    let payload = payload.map(|b| match detail {
        Detail::Full => payload::analyze(&t, b),
        _ => payload::facts(&t, b),
    });
    (vec![TopicView::new(&text, &t)], payload)
}

impl PduRecord {
    /// The compact form kept between passes (see [`CachedRecord`]).
    pub fn into_cached(self) -> CachedRecord {
        // A CONNECT's login is described again from the packet when shown (restore_with).
        let mut rare = Vec::new();
        if let Some(c) = self.connack {
            rare.push(Rare::Connack(c));
        }
        if !self.experts.is_empty() {
            rare.push(Rare::Experts(self.experts.into()));
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
            rare.push(Rare::SubResults(self.flow.sub_results.into()));
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
        }
    }
}

/// The NTP offset of the platform's clock over the device's: ((srt − dst) + (sst − drt)) / 2,
/// where the device's receive time drt (on its own clock) is its send time plus the round trip
/// seen in the capture.
fn ntp_offset_ms(item: &dyn Fn(&str) -> Option<String>, round_trip_ns: i64) -> Option<f64> {
    let num = |k: &str| item(k).and_then(|v| v.parse::<f64>().ok());
    let (dst, srt, sst) = (
        num("deviceSendTime")?,
        num("serverRecvTime")?,
        num("serverSendTime")?,
    );
    let drt = dst + round_trip_ns as f64 / 1e6;
    Some(((srt - dst) + (sst - drt)) / 2.0)
}

/// One sub-device in a topo/add or combine/(batch_)login request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubLogin {
    pub product_key: String,
    pub device_name: String,
    pub status: SignStatus,
}

/// At most this many sub-devices are checked per request.
pub const MAX_SUB_LOGINS: usize = 64;

/// The sub-device entries of a topo/add (`params: [..]`), combine/login (`params: {..}`) or
/// combine/batch_login (`params: {signMethod, deviceList: [..]}`) request, signs checked.
fn sub_logins(v: &super::json::Value, secrets: &Secrets) -> Vec<SubLogin> {
    use super::json::Value;
    let Some(params) = v.get("params") else {
        return Vec::new();
    };
    let outer_method = params
        .get("signMethod")
        .or_else(|| params.get("signmethod"))
        .and_then(Value::as_str);
    let entries: Vec<&Value> = match params {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => match params.get("deviceList").and_then(Value::as_array) {
            Some(list) => list.iter().collect(),
            None => vec![params],
        },
        _ => Vec::new(),
    };
    let text = |e: &Value, k: &str| e.get(k).map(payload::value_text).unwrap_or_default();
    entries
        .into_iter()
        .take(MAX_SUB_LOGINS)
        .map(|e| {
            let (pk, dn) = (text(e, "productKey"), text(e, "deviceName"));
            let method = e
                .get("signMethod")
                .or_else(|| e.get("signmethod"))
                .and_then(Value::as_str)
                .or(outer_method);
            let (status, _) = super::sign::check_subdevice(
                &pk,
                &dn,
                &text(e, "clientId"),
                &text(e, "timestamp"),
                method,
                &text(e, "sign"),
                secrets,
            );
            SubLogin {
                product_key: pk,
                device_name: dn,
                status,
            }
        })
        .collect()
}

fn text(bytes: &[u8], what: &'static str, experts: &mut Vec<(Ei, String)>) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            experts.push(Finding::NotUtf8(what).item());
            String::from_utf8_lossy(bytes).into_owned()
        }
    }
}

/// Splits a login user name `deviceName&productKey`.
pub fn split_username(u: &str) -> Option<(&str, &str)> {
    let (dn, pk) = u.rsplit_once('&')?;
    (!dn.is_empty() && !pk.is_empty()).then_some((dn, pk))
}

/// Whether a CONNECT looks like an Alibaba device's: a `|…securemode=…|` client id, or a user
/// name `deviceName&productKey` whose product key has the platform's shape.
fn is_alibaba_login(cid: &ClientId, username: Option<&str>) -> bool {
    if cid.has_params
        && (cid.securemode.is_some() || cid.signmethod.is_some() || cid.auth_type.is_some())
    {
        return true;
    }
    username.and_then(split_username).is_some_and(|(_, pk)| {
        (6..=32).contains(&pk.len()) && pk.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// The connection's pairing state, made when first needed (again after a late packet).
fn matching(m: &mut Option<Box<Matching>>) -> &mut Matching {
    m.get_or_insert_with(Box::default)
}

impl Conn {
    fn direction(&mut self, msg_type: u8, ctx: &FrameCtx) -> Option<Direction> {
        if self.device_endpoint.is_none() {
            // Packets only a client sends tell which side the device is.
            use super::mqtt::{PINGREQ, PINGRESP, SUBACK, UNSUBACK};
            if matches!(msg_type, CONNECT | SUBSCRIBE | UNSUBSCRIBE | PINGREQ) {
                self.device_endpoint = Some(ctx.src);
            } else if matches!(msg_type, CONNACK | SUBACK | UNSUBACK | PINGRESP) {
                self.device_endpoint = Some(ctx.dst);
            } else if is_broker_port(ctx.dst_port) && !is_broker_port(ctx.src_port) {
                // Capture started mid-session: the side on the broker's port is the platform.
                self.device_endpoint = Some(ctx.src);
            } else if is_broker_port(ctx.src_port) && !is_broker_port(ctx.dst_port) {
                self.device_endpoint = Some(ctx.dst);
            }
        }
        let dev = self.device_endpoint?;
        if ctx.src == dev {
            Some(Direction::DeviceToCloud)
        } else if ctx.dst == dev {
            Some(Direction::CloudToDevice)
        } else {
            None
        }
    }

    fn release_matching(&mut self) {
        self.matching = None;
        self.requests.shrink_to_fit();
        self.flow.release_matching();
    }

    /// Analyses one packet of this connection (first pass only).
    pub fn analyze(&mut self, pdu: &MqttPdu<'_>, ctx: &FrameCtx, secrets: &Secrets) -> PduRecord {
        self.analyze_with(pdu, ctx, secrets, Detail::Full)
    }

    /// [`Self::analyze`], reading a PUBLISH's payload in full only for [`Detail::Full`].
    pub fn analyze_with(
        &mut self,
        pdu: &MqttPdu<'_>,
        ctx: &FrameCtx,
        secrets: &Secrets,
        detail: Detail,
    ) -> PduRecord {
        let rec = self.analyze_packet(pdu, ctx, secrets, detail);
        if detail != Detail::Full {
            return rec;
        }
        // What later passes show must be what the first pass showed.
        debug_assert_eq!(
            format!(
                "{:?}",
                rec.clone()
                    .into_cached()
                    .restore_with(pdu, None, secrets, Detail::Full)
            ),
            format!("{rec:?}"),
            "a cached record restores to the record it came from"
        );
        rec
    }

    fn analyze_packet(
        &mut self,
        pdu: &MqttPdu<'_>,
        ctx: &FrameCtx,
        secrets: &Secrets,
        detail: Detail,
    ) -> PduRecord {
        let mut rec = PduRecord {
            msg_type: pdu.msg_type,
            assigned_client_id: pdu
                .assigned_client_id
                .map(|b| String::from_utf8_lossy(b).into_owned()),
            ..PduRecord::default()
        };
        if pdu.msg_type == CONNECT {
            // A CONNECT starts a new session; the device is its sender.
            self.device_endpoint = Some(ctx.src);
            self.connect_frame = Some(ctx.frame);
            self.connack_frame = None;
            self.flow.version = pdu.version.unwrap_or(4);
            self.flow.keepalive = pdu.keepalive;
            if pdu.will && self.flow.version == 4 {
                rec.experts.push(Finding::Will.item());
            }
            self.analyze_connect(pdu, ctx, secrets, &mut rec);
        } else if self.identity.is_none() {
            self.identity_from_topics(pdu);
        }
        rec.direction = self.direction(pdu.msg_type, ctx);
        if pdu.msg_type == CONNACK {
            if self.connack_frame.is_none() {
                self.connack_frame = Some(ctx.frame);
            }
            if let Some(code) = pdu.connack_code {
                let c = connack(code, pdu.connack_v5);
                self.flow.refused |= !c.accepted;
                if !c.accepted && self.identity.is_some() {
                    let hint = match self.sign {
                        _ if self.client_id_without_params => RefusalHint::NoParams,
                        Some(SignStatus::Verified) => RefusalHint::SignVerified,
                        Some(SignStatus::Mismatch) => RefusalHint::SignMismatch,
                        _ => RefusalHint::None,
                    };
                    let refused = Finding::LoginRefused {
                        code,
                        v5: pdu.connack_v5,
                        meaning: c.meaning,
                        hint,
                    };
                    rec.experts.push(refused.item());
                }
                rec.connack = Some(c);
            }
        }
        if pdu.msg_type != CONNECT {
            rec.connect_in = self.connect_frame;
        }
        rec.identity = self.identity.clone();
        let flow_packet = FlowPacket {
            msg_type: pdu.msg_type,
            qos: pdu.qos,
            dup: pdu.dup,
            retain: pdu.retain,
            msgid: pdu.msgid,
            frame: ctx.frame,
            ts_ns: ctx.ts_ns,
            src: ctx.src,
            dst: ctx.dst,
            from_device: rec.direction.map(|d| d == Direction::DeviceToCloud),
            filters: &pdu.topics,
            sub_codes: &pdu.sub_codes,
        };
        rec.flow = self.flow.on_packet(
            &flow_packet,
            &mut matching(&mut self.matching).sub_filters,
            &mut rec.experts,
        );
        rec.v5_reason = super::mqtt5::check(pdu.msg_type, &pdu.v5, &mut rec.experts);
        match pdu.msg_type {
            PUBLISH => {
                self.analyze_publish(pdu, ctx, secrets, detail, &mut rec);
            }
            SUBSCRIBE | UNSUBSCRIBE => (rec.filters, rec.topics) = describe_filters(pdu),
            _ => {}
        }
        rec
    }

    fn analyze_publish(
        &mut self,
        pdu: &MqttPdu<'_>,
        ctx: &FrameCtx,
        secrets: &Secrets,
        detail: Detail,
        rec: &mut PduRecord,
    ) {
        let Some(topic_bytes) = pdu.topics.first() else {
            return;
        };
        let topic_text = super::lossy(topic_bytes);
        let Some(t) = topic::classify(&topic_text) else {
            return;
        };
        let c = t.class;
        if c.marks_gateway() {
            self.is_gateway = true;
        }
        // Whose message is this? A gateway carries its sub-devices' topics.
        if let (Some(login), Some(pk), Some(dn)) =
            (self.identity.clone(), t.product_key, t.device_name)
        {
            if login.source == IdentitySource::Login
                && (login.product_key != pk || login.device_name != dn)
                && !c.names_gateway_session()
            {
                if self.is_gateway {
                    rec.gateway = Some(login.clone());
                    rec.identity = Some(Rc::new(Identity {
                        product_key: pk.to_string(),
                        device_name: dn.to_string(),
                        source: IdentitySource::Topic,
                    }));
                } else if !t.wildcard {
                    let foreign = Finding::ForeignTopic {
                        product_key: pk,
                        device_name: dn,
                        login_product_key: &login.product_key,
                        login_device_name: &login.device_name,
                    };
                    rec.experts.push(foreign.item());
                }
            }
        }
        let payload = pdu.payload.map(|b| {
            if detail == Detail::Full {
                payload::analyze(&t, b)
            } else {
                payload::facts(&t, b)
            }
        });
        if let Some(p) = &payload {
            // The payload's own expert items are made from the payload when it is shown; this
            // is where they stand among the packet's.
            rec.payload_experts_at = Some(rec.experts.len().min(u8::MAX as usize) as u8);
            self.match_request(
                &t,
                p,
                ctx,
                (pdu.response_topic, pdu.correlation, &topic_text),
                rec,
            );
        }
        if !t.is_reply && c.logs_sub_devices_in() {
            if let Some(v) = pdu.payload.and_then(|b| super::json::parse(b).ok()) {
                rec.sub_logins = sub_logins(&v.value, secrets);
                for l in &rec.sub_logins {
                    if l.status == SignStatus::Mismatch {
                        let mismatch = Finding::SubDeviceSignMismatch {
                            product_key: &l.product_key,
                            device_name: &l.device_name,
                        };
                        rec.experts.push(mismatch.item());
                    }
                }
            }
        }
        if payload.as_ref().is_some_and(Payload::alink_error) {
            self.flow.alink_errors += 1;
        }
        if detail != Detail::Bare {
            rec.topics.push(TopicView::new(&topic_text, &t));
            rec.payload = payload;
        }
    }

    /// Pairs requests and replies: Alink by topic + id, RRPC by message id, NTP by the device's
    /// send time, shadow updates in order.
    fn match_request(
        &mut self,
        t: &TopicInfo<'_>,
        p: &Payload,
        ctx: &FrameCtx,
        (response_topic, correlation, topic): (Option<&[u8]>, Option<&[u8]>, &str),
        rec: &mut PduRecord,
    ) {
        enum Role {
            Request(bool),
            Reply,
            /// `/ext/rrpc/{id}/…`: request and response share the topic.
            Either,
        }
        let pk = t.product_key.unwrap_or("");
        let dn = t.device_name.unwrap_or("");
        let c = t.class;
        let json_item = |key: &str| -> Option<String> {
            let items = match &p.body {
                Body::Json(items) => items,
                Body::Alink(a) => &a.params,
                _ => return None,
            };
            items
                .iter()
                .find(|i| i.depth == 0 && i.key == key)
                .map(|i| i.value.clone())
        };
        let mut fifo_base: Option<PairKey> = None;
        let mut by_id: Option<PairKey> = None;
        let (key, role) = if let (Some(rt), Some(cd)) = (response_topic, correlation) {
            // MQTT 5 request: the reply comes on its Response Topic with its Correlation Data.
            (
                PairKey::of(
                    KeyKind::Mqtt5,
                    &[String::from_utf8_lossy(rt).as_bytes(), cd],
                ),
                Role::Request(true),
            )
        } else if let (None, Some(cd)) = (response_topic, correlation) {
            (
                PairKey::of(KeyKind::Mqtt5, &[topic.as_bytes(), cd]),
                Role::Reply,
            )
        } else if let Some(rrpc) = t.rrpc_id {
            let parts = [rrpc.as_bytes(), &[c.index()], pk.as_bytes(), dn.as_bytes()];
            (PairKey::of(KeyKind::ExtRrpc, &parts), Role::Either)
        } else {
            let as_reply = |is_reply: bool| {
                if is_reply {
                    Role::Reply
                } else {
                    Role::Request(true)
                }
            };
            match c.pairing {
                topic::Pairing::None => return,
                topic::Pairing::Rrpc => {
                    let id = t.identifier.unwrap_or("");
                    let parts = [pk.as_bytes(), dn.as_bytes(), id.as_bytes()];
                    (PairKey::of(KeyKind::Rrpc, &parts), as_reply(t.is_reply))
                }
                topic::Pairing::Ntp => {
                    let Some(sent) = json_item("deviceSendTime") else {
                        return;
                    };
                    let parts = [pk.as_bytes(), dn.as_bytes(), sent.as_bytes()];
                    (PairKey::of(KeyKind::Ntp, &parts), as_reply(t.is_reply))
                }
                topic::Pairing::InOrder | topic::Pairing::ShadowReply => {
                    // No id: the n-th reply answers the n-th request.
                    let stream = if c.pairing == topic::Pairing::ShadowReply {
                        if json_item("method").as_deref() != Some("reply") {
                            return;
                        }
                        topic::SHADOW_UPDATE
                    } else {
                        c
                    };
                    let base = PairKey::of(
                        KeyKind::InOrder,
                        &[&[stream.index()], pk.as_bytes(), dn.as_bytes()],
                    );
                    let counts = matching(&mut self.matching).fifo.entry(base).or_default();
                    let nth =
                        |n: u64| PairKey::of(KeyKind::InOrder, &[&base.bytes(), &n.to_le_bytes()]);
                    if t.is_reply {
                        fifo_base = Some(base);
                        (nth(counts.1 + 1), Role::Reply)
                    } else {
                        counts.0 += 1;
                        (nth(counts.0), Role::Request(true))
                    }
                }
                topic::Pairing::ExtError => {
                    // The platform's error report for a sub-device's request answers that
                    // request.
                    let Some(id) = alink_of(&p.body).and_then(|a| a.id.as_deref()) else {
                        return;
                    };
                    let m = matching(&mut self.matching);
                    let found = m
                        .alink_by_id
                        .get(&PairKey::of(KeyKind::AlinkId, &[id.as_bytes()]))
                        .copied()
                        .filter(|k| m.pending.contains_key(k));
                    let Some(key) = found else { return };
                    (key, Role::Reply)
                }
                topic::Pairing::ById => {
                    let Some(a) = alink_of(&p.body) else { return };
                    let Some(id) = a.id.as_deref().filter(|_| t.product_key.is_some()) else {
                        return;
                    };
                    let parts = [
                        &[c.index()],
                        t.identifier.unwrap_or("").as_bytes(),
                        pk.as_bytes(),
                        dn.as_bytes(),
                        id.as_bytes(),
                    ];
                    if !t.is_reply {
                        by_id = Some(PairKey::of(KeyKind::AlinkId, &[id.as_bytes()]));
                    }
                    let role = if t.is_reply {
                        Role::Reply
                    } else {
                        Role::Request(a.ack != Some(0))
                    };
                    (PairKey::of(KeyKind::Alink, &parts), role)
                }
            }
        };
        let role = match role {
            Role::Either if matching(&mut self.matching).pending.contains_key(&key) => Role::Reply,
            Role::Either => Role::Request(true),
            r => r,
        };
        match role {
            Role::Request(expects_reply) => {
                let m = matching(&mut self.matching);
                if m.pending.len() >= MAX_PENDING {
                    if !self.pending_limit_hit {
                        self.pending_limit_hit = true;
                        rec.experts.push(Finding::PendingLimit(MAX_PENDING).item());
                    }
                    return;
                }
                let idx = self.requests.len();
                self.requests.push(Request {
                    frame: ctx.frame,
                    ts_ns: ctx.ts_ns,
                    expects_reply,
                    response: None,
                });
                m.pending.insert(key, idx);
                if let Some(id) = by_id {
                    m.alink_by_id.insert(id, key);
                }
                rec.request = Some(idx);
            }
            _ => match matching(&mut self.matching).pending.remove(&key) {
                Some(idx) => {
                    let m = matching(&mut self.matching);
                    if let Some(counts) = fifo_base.and_then(|b| m.fifo.get_mut(&b)) {
                        counts.1 += 1;
                    }
                    let req = &mut self.requests[idx];
                    req.response = Some(ctx.frame);
                    let delta_ns = ctx.ts_ns.saturating_sub(req.ts_ns);
                    rec.reply = Some(ReplyLink {
                        request_frame: req.frame,
                        delta_ns,
                    });
                    if c == topic::NTP_RESPONSE {
                        rec.ntp_offset_ms = ntp_offset_ms(&json_item, delta_ns);
                    }
                }
                None => rec.experts.push(Finding::OrphanReply.item()),
            },
        }
    }

    fn identity_from_topics(&mut self, pdu: &MqttPdu<'_>) {
        for t in &pdu.topics {
            let Ok(t) = std::str::from_utf8(t) else {
                continue;
            };
            if let Some(topic::TopicDevice {
                product_key,
                device_name: Some(dn),
            }) = topic::device_of(t)
            {
                self.identity = Some(Rc::new(Identity {
                    product_key: product_key.to_string(),
                    device_name: dn.to_string(),
                    source: IdentitySource::Topic,
                }));
                return;
            }
        }
    }

    fn analyze_connect(
        &mut self,
        pdu: &MqttPdu<'_>,
        ctx: &FrameCtx,
        secrets: &Secrets,
        rec: &mut PduRecord,
    ) {
        let Some(cid_bytes) = pdu.client_id else {
            // MQTT could not read the client id (truncated or malformed CONNECT): nothing to say.
            return;
        };
        let mut experts = Vec::new();
        let cid_text = text(cid_bytes, "Client id", &mut experts);
        let cid = ClientId::parse(&cid_text);
        let username = pdu.username.map(|u| text(u, "User name", &mut experts));
        if !is_alibaba_login(&cid, username.as_deref()) {
            self.identity = None;
            self.sign = None;
            return;
        }
        rec.experts.append(&mut experts);
        self.client_id_without_params = !cid.has_params;
        for issue in &cid.issues {
            rec.experts.push(Finding::ClientId(issue).item());
        }
        let dynreg = cid.is_dynamic_registration();
        if let Some(k) = pdu.keepalive {
            if !dynreg && !(30..=1200).contains(&k) {
                rec.experts.push(Finding::KeepAlive(k).item());
            }
        }
        let identity = username.as_deref().and_then(split_username);
        match (&username, identity) {
            (Some(_), Some((dn, pk))) => {
                self.identity = Some(Rc::new(Identity {
                    product_key: pk.to_string(),
                    device_name: dn.to_string(),
                    source: IdentitySource::Login,
                }))
            }
            (Some(u), None) => {
                self.identity = None;
                if !cid.uses_token() {
                    rec.experts.push(Finding::UserNameFormat(u).item());
                }
            }
            (None, _) => {
                self.identity = None;
                rec.experts.push(Finding::NoUserName.item());
            }
        }
        let mut sign = None;
        if let (Some((dn, pk)), Some(pw)) = (identity, pdu.password) {
            let check = check_login(&cid, pk, dn, pw, secrets);
            if check.password_not_hex && check.status != SignStatus::NotASign {
                rec.experts.push(Finding::PasswordNotHex.item());
            }
            match check.status {
                SignStatus::Verified => rec.experts.push(Finding::SignVerified(&check).item()),
                SignStatus::Mismatch => {
                    let mismatch = Finding::SignMismatch {
                        check: &check,
                        device_name: dn,
                        product_key: pk,
                    };
                    rec.experts.push(mismatch.item());
                }
                _ => {}
            }
            self.sign = Some(check.status);
            sign = Some(check);
        } else {
            self.sign = None;
            if pdu.password.is_none() && identity.is_some() {
                rec.experts.push(Finding::NoPassword.item());
            }
        }
        if pdu.password.is_some() {
            let declared_tls = matches!(cid.securemode, Some(2 | -1 | 5 | 7 | 8));
            if !ctx.over_tls {
                let declared = cid.securemode.filter(|_| declared_tls);
                rec.experts.push(Finding::Cleartext(declared).item());
            }
        }
        self.sdk = match (&cid.sdk_language, &cid.sdk_version) {
            (Some(l), Some(v)) => Some(format!("{l} {v}")),
            (Some(x), None) | (None, Some(x)) => Some(x.clone()),
            (None, None) => None,
        };
        rec.login = Some(Box::new(Login {
            client_id: cid,
            sign,
        }));
    }
}

/// What a CONNECT says of the login: its client id and, when it has a user name and password,
/// its sign checked against `secrets`. None when it is not an Alibaba device's login. Pure: the
/// same on every pass, so the cache keeps none of it.
pub fn describe_login(pdu: &MqttPdu<'_>, secrets: &Secrets) -> Option<Login> {
    let cid = ClientId::parse(&String::from_utf8_lossy(pdu.client_id?));
    let username = pdu.username.map(String::from_utf8_lossy);
    if !is_alibaba_login(&cid, username.as_deref()) {
        return None;
    }
    let sign = match (username.as_deref().and_then(split_username), pdu.password) {
        (Some((dn, pk)), Some(pw)) => Some(check_login(&cid, pk, dn, pw, secrets)),
        _ => None,
    };
    Some(Login {
        client_id: cid,
        sign,
    })
}

/// Ports the platform listens on for MQTT (plain or TLS, and WebSocket on 443/80).
fn is_broker_port(p: u32) -> bool {
    matches!(p, 1883 | 8883 | 443 | 80)
}

fn alink_of(b: &Body) -> Option<&payload::Alink> {
    match b {
        Body::Alink(a) => Some(a),
        Body::File(f) => Some(&f.header),
        _ => None,
    }
}

/// What a CONNACK code means for an Alibaba device.
pub fn connack(code: u8, v5: bool) -> Connack {
    Connack {
        code,
        accepted: code == 0,
        meaning: super::expert::connack_meaning(code, v5),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::sign::Algorithm;

    const PK: &str = "a1B2c3D4e5F";

    fn connect<'a>(cid: &'a str, user: &'a str, pw: &'a str) -> MqttPdu<'a> {
        MqttPdu {
            msg_type: CONNECT,
            version: Some(4),
            keepalive: Some(60),
            client_id: Some(cid.as_bytes()),
            username: Some(user.as_bytes()),
            password: Some(pw.as_bytes()),
            ..Default::default()
        }
    }

    fn ctx(frame: u32, from_device: bool) -> FrameCtx {
        let (src, dst) = if from_device { (1, 2) } else { (2, 1) };
        FrameCtx {
            frame,
            src,
            dst,
            over_tls: false,
            ..Default::default()
        }
    }

    #[test]
    fn session_identity_and_sign() {
        let secret = "3f1d0c9e8b7a6d5c4b3a29180f7e6d02";
        let cid =
            "a1B2c3D4e5F&lab-sensor-02|securemode=3,signmethod=hmacsha1,timestamp=1733000000000|";
        let content = "clientIda1B2c3D4e5F&lab-sensor-02deviceNamelab-sensor-02productKeya1B2c3D4e5Ftimestamp1733000000000";
        let pw = Algorithm::Sha1.hmac_hex(secret.as_bytes(), content.as_bytes());
        let mut secrets = Secrets::default();
        secrets.add_device(PK, "lab-sensor-02", secret);
        let mut conn = Conn::default();
        let rec = conn.analyze(
            &connect(cid, "lab-sensor-02&a1B2c3D4e5F", &pw),
            &ctx(4, true),
            &secrets,
        );
        let login = rec.login.as_ref().unwrap();
        assert_eq!(login.sign.as_ref().unwrap().status, SignStatus::Verified);
        assert_eq!(rec.identity.as_ref().unwrap().device_name, "lab-sensor-02");
        assert_eq!(rec.direction, Some(Direction::DeviceToCloud));
        let eis: Vec<Ei> = rec.experts.iter().map(|e| e.0).collect();
        assert_eq!(eis, [Ei::SignVerified, Ei::Cleartext]);

        let ack = MqttPdu {
            msg_type: CONNACK,
            connack_code: Some(0),
            ..Default::default()
        };
        let rec = conn.analyze(&ack, &ctx(6, false), &secrets);
        assert_eq!(rec.connect_in, Some(4));
        assert_eq!(rec.direction, Some(Direction::CloudToDevice));
        assert!(rec.connack.unwrap().accepted);
        assert!(rec.experts.is_empty());
        assert_eq!(conn.connack_frame, Some(6));
    }

    #[test]
    fn refused_login_with_mismatch_explains() {
        let mut secrets = Secrets::default();
        secrets.add_device(PK, "lab-sensor-06", "3f1d0c9e8b7a6d5c4b3a29180f7e6d06");
        let mut conn = Conn::default();
        let rec = conn.analyze(
            &connect(
                "x|securemode=3,signmethod=hmacsha1,timestamp=1|",
                "lab-sensor-06&a1B2c3D4e5F",
                "00",
            ),
            &ctx(4, true),
            &secrets,
        );
        assert!(rec.experts.iter().any(|e| e.0 == Ei::SignMismatch
            && e.1.contains(
                "over 'clientIdxdeviceNamelab-sensor-06productKeya1B2c3D4e5Ftimestamp1'"
            )));
        let ack = MqttPdu {
            msg_type: CONNACK,
            connack_code: Some(0x87),
            connack_v5: true,
            ..Default::default()
        };
        let rec = conn.analyze(&ack, &ctx(6, false), &secrets);
        let (ei, msg) = &rec.experts[0];
        assert_eq!(*ei, Ei::LoginRefused);
        assert!(
            msg.starts_with("Login refused (0x87): Not authorized"),
            "{msg}"
        );
        let ack = MqttPdu {
            msg_type: CONNACK,
            connack_code: Some(5),
            ..Default::default()
        };
        let rec = conn.analyze(&ack, &ctx(6, false), &secrets);
        let (ei, msg) = &rec.experts[0];
        assert_eq!(*ei, Ei::LoginRefused);
        assert!(
            msg.starts_with("Login refused (5): Not authorized"),
            "{msg}"
        );
        assert!(
            msg.ends_with("The sign does not match the secret entered."),
            "{msg}"
        );
    }

    #[test]
    fn non_alibaba_clients_get_nothing() {
        let mut conn = Conn::default();
        let rec = conn.analyze(
            &connect("mosq-4f2a9c", "alice", "password"),
            &ctx(1, true),
            &Secrets::default(),
        );
        assert!(rec.login.is_none() && rec.identity.is_none() && rec.experts.is_empty());
        let publish = MqttPdu {
            msg_type: PUBLISH,
            topics: vec![b"home/kitchen/temp"],
            ..Default::default()
        };
        let rec = conn.analyze(&publish, &ctx(3, true), &Secrets::default());
        assert!(rec.identity.is_none() && rec.experts.is_empty());
    }

    #[test]
    fn identity_from_topic_without_connect() {
        let mut conn = Conn::default();
        let ack = MqttPdu {
            msg_type: 4,
            ..Default::default()
        };
        let rec = conn.analyze(&ack, &ctx(1, false), &Secrets::default());
        assert!(rec.identity.is_none());
        let publish = MqttPdu {
            msg_type: PUBLISH,
            topics: vec![b"/sys/a1B2c3D4e5F/dev-9/thing/event/property/post"],
            ..Default::default()
        };
        let rec = conn.analyze(&publish, &ctx(2, true), &Secrets::default());
        let id = rec.identity.unwrap();
        assert_eq!(
            (id.product_key.as_str(), id.device_name.as_str(), id.source),
            (PK, "dev-9", IdentitySource::Topic)
        );
        assert_eq!(rec.connect_in, None);
    }

    #[test]
    fn job_update_pairs_with_its_reply() {
        let mut conn = Conn::default();
        let publish = |topic: &'static str, payload: &'static str| MqttPdu {
            msg_type: PUBLISH,
            topics: vec![topic.as_bytes()],
            payload: Some(payload.as_bytes()),
            ..Default::default()
        };
        let s = Secrets::default();
        let req = publish(
            "/sys/a1B2c3D4e5F/dev/thing/job/update",
            r#"{"id":"7","version":"1.0","params":{"taskId":"t1","status":"IN_PROGRESS","progress":50}}"#,
        );
        let rec = conn.analyze(&req, &ctx(3, true), &s);
        assert_eq!(rec.request, Some(0));
        let reply = publish(
            "/sys/a1B2c3D4e5F/dev/thing/job/update_reply",
            r#"{"id":"7","code":200,"data":{}}"#,
        );
        let rec = conn.analyze(&reply, &ctx(4, false), &s);
        assert_eq!(rec.reply.map(|r| r.request_frame), Some(3));
        assert_eq!(rec.topics[0].class, topic::JOB_UPDATE);
    }

    #[test]
    fn reply_time_with_extreme_capture_times() {
        // The glue saturates odd capture times to i64::MIN / i64::MAX ns; the reply time then
        // saturates too instead of overflowing.
        let mut conn = Conn::default();
        let publish = |topic: &'static [u8], payload: &'static [u8]| MqttPdu {
            msg_type: PUBLISH,
            topics: vec![topic],
            payload: Some(payload),
            ..Default::default()
        };
        let at = |frame, ts_ns, from_device| FrameCtx {
            ts_ns,
            ..ctx(frame, from_device)
        };
        let req = conn.analyze(
            &publish(
                b"/sys/a1B2c3D4e5F/dev/thing/event/property/post",
                br#"{"id":"1","params":{}}"#,
            ),
            &at(1, i64::MIN, true),
            &Secrets::default(),
        );
        assert_eq!(req.request, Some(0));
        let rep = conn.analyze(
            &publish(
                b"/sys/a1B2c3D4e5F/dev/thing/event/property/post_reply",
                br#"{"id":"1","code":200}"#,
            ),
            &at(2, i64::MAX, false),
            &Secrets::default(),
        );
        assert_eq!(
            rep.reply,
            Some(ReplyLink {
                request_frame: 1,
                delta_ns: i64::MAX
            })
        );
    }

    #[test]
    fn connect_checks() {
        let mut conn = Conn::default();
        let mut p = connect(
            "x|securemode=2,signmethod=hmacsha1|",
            "not-a-device-name",
            "zz",
        );
        p.keepalive = Some(5);
        p.client_id = Some(b"x\xff|securemode=2,signmethod=hmacsha1|");
        let rec = conn.analyze(&p, &ctx(1, true), &Secrets::default());
        let eis: Vec<Ei> = rec.experts.iter().map(|e| e.0).collect();
        assert_eq!(
            eis,
            [
                Ei::NotUtf8,
                Ei::KeepAlive,
                Ei::UserNameFormat,
                Ei::Cleartext
            ]
        );
        assert!(rec.experts[3].1.contains("securemode=2 declares TLS"));
        assert!(rec.identity.is_none());
    }
}
