//! Which reply answers which request: each topic family pairs as its catalogue row says
//! ([`topic::Pairing`]), MQTT 5 requests by Response Topic and Correlation Data, `/ext/rrpc/`
//! calls by the id in their topic.

use super::*;
use crate::core::expert::Finding;
use crate::core::fxhash::FxMap;
use crate::core::payload::{self, Body, Payload};
use crate::core::topic::{self, TopicInfo};
use crate::core::tsl::InForce;

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
    /// The legacy firmware query and its upgrade push, by device.
    Ota,
    /// A device message by topic and payload, to know its echo.
    Echo,
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
            let mut h = crate::core::fxhash::FxHasher::default();
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

/// The pairing state of an open connection (what a finished one no longer needs).
#[derive(Debug, Default)]
pub(super) struct Matching {
    /// Requests still waiting for a reply, by matching key: index and time.
    pub(super) pending: FxMap<PairKey, (usize, i64)>,
    /// Alink requests by id alone, for the platform's `/ext/error` reports.
    pub(super) alink_by_id: FxMap<PairKey, PairKey>,
    /// Requests without an id (shadow, up_raw/down_raw): sent and answered counts per stream;
    /// their replies come in order.
    pub(super) fifo: FxMap<PairKey, (u64, u64)>,
    /// SUBSCRIBE filters by packet id, until their SUBACK.
    pub(super) sub_filters: FxMap<usize, Vec<String>>,
    /// On a connection whose device subscribed to a topic it publishes on: its recent
    /// messages by a digest of topic and payload, to know their echoes.
    uplinks: FxMap<PairKey, u32>,
    /// Requests a thing model checks that were not described yet, by index: their topic and
    /// payload ([`pack_request`]), until their reply.
    unchecked: FxMap<usize, Box<[u8]>>,
}

/// A request's topic and payload in one allocation: the topic's length (u16 LE), topic, payload.
fn pack_request(topic: &str, payload: &[u8]) -> Option<Box<[u8]>> {
    let n = u16::try_from(topic.len()).ok()?;
    let mut out = Vec::with_capacity(2 + topic.len() + payload.len());
    out.extend(n.to_le_bytes());
    out.extend(topic.as_bytes());
    out.extend(payload);
    Some(out.into())
}

/// How many thing-model findings a packed request has.
fn findings_of(packed: &[u8], models: InForce<'_>) -> u8 {
    let [a, b, rest @ ..] = packed else { return 0 };
    let n = u16::from_le_bytes([*a, *b]) as usize;
    let (Some(topic), Some(payload)) = (rest.get(..n), rest.get(n..)) else {
        return 0;
    };
    let Some(t) = std::str::from_utf8(topic).ok().and_then(topic::classify) else {
        return 0;
    };
    let p = crate::core::payload::analyze(&t, payload, models);
    p.tsl_findings().min(u8::MAX as usize) as u8
}

/// The connection's pairing state, made when first needed (again after a late packet).
pub(super) fn matching(m: &mut Option<Box<Matching>>) -> &mut Matching {
    m.get_or_insert_with(Box::default)
}

/// What a message is to pairing.
enum Role {
    /// A request, and whether it wants a reply (`sys.ack: 0` does not).
    Request(bool),
    Reply,
    /// `/ext/rrpc/{id}/…`: request and response share the topic.
    Either,
}

/// A message's place in pairing: its key and role, plus what else its kind keeps.
struct Pair {
    key: PairKey,
    role: Role,
    /// In-order pairing: the stream whose answered count a reply advances.
    fifo_base: Option<PairKey>,
    /// An Alink request: its id alone, for the platform's `/ext/error` reports.
    by_id: Option<PairKey>,
}

impl Pair {
    fn new(key: PairKey, role: Role) -> Pair {
        Pair {
            key,
            role,
            fifo_base: None,
            by_id: None,
        }
    }
}

/// A top-level member of a JSON payload (or of an Alink message's `params`), as text.
fn json_item(p: &Payload, key: &str) -> Option<String> {
    let items = match &p.body {
        Body::Json(items) => items,
        Body::Alink(a) => &a.params,
        _ => return None,
    };
    items
        .iter()
        .find(|i| i.depth == 0 && i.key == key)
        .map(|i| i.value.clone())
}

/// The Alink envelope of a payload (a file chunk's is its header).
fn alink_of(b: &Body) -> Option<&payload::Alink> {
    match b {
        Body::Alink(a) => Some(a),
        Body::File(f) => Some(&f.header),
        _ => None,
    }
}

impl Conn {
    /// On a connection whose messages come back: a device message is remembered, a message
    /// from the broker that repeats one (same topic and payload) is its echo (returns its frame).
    pub(super) fn echo(
        &mut self,
        direction: Option<Direction>,
        topic: &str,
        payload: Option<&[u8]>,
        frame: u32,
    ) -> Option<u32> {
        const MAX_UPLINKS: usize = 256;
        let digest = PairKey::of(
            KeyKind::Echo,
            &[topic.as_bytes(), payload.unwrap_or_default()],
        );
        let m = matching(&mut self.matching);
        match direction? {
            Direction::DeviceToCloud => {
                if m.uplinks.len() >= MAX_UPLINKS {
                    m.uplinks.clear();
                }
                m.uplinks.insert(digest, frame);
                None
            }
            Direction::CloudToDevice => m.uplinks.remove(&digest),
        }
    }

    /// Pairs requests and replies: MQTT 5 by Response Topic and Correlation Data, `/ext/rrpc/`
    /// by the id in its topic, every other family as its catalogue row says.
    /// `unchecked`: a request's topic and payload that its product's model checks but that was
    /// not described against it (checked should an error reply come); `models`: those in force.
    pub(super) fn match_request(
        &mut self,
        t: &TopicInfo<'_>,
        p: &Payload,
        ctx: &FrameCtx,
        mqtt5: (Option<&[u8]>, Option<&[u8]>, &str),
        (unchecked, models): (Option<(&str, &[u8])>, InForce<'_>),
        rec: &mut PduRecord,
    ) {
        if t.class == topic::NTP_REQUEST {
            if let Some(sent) = json_item(p, "deviceSendTime").filter(|s| !plausible_ms(s)) {
                rec.experts.push(Finding::NtpPlaceholder(&sent).item());
            }
        }
        let Some(pair) = self.pair_of(t, p, mqtt5) else {
            return;
        };
        let m = matching(&mut self.matching);
        let expects_reply = match pair.role {
            Role::Either if m.pending.contains_key(&pair.key) => None,
            Role::Either => Some(true),
            Role::Request(expects) => Some(expects),
            Role::Reply => None,
        };
        if let Some(expects_reply) = expects_reply {
            if m.pending.len() >= MAX_PENDING {
                if !self.pending_limit_hit {
                    self.pending_limit_hit = true;
                    rec.experts.push(Finding::PendingLimit(MAX_PENDING).item());
                }
                return;
            }
            let idx = self.requests.len();
            self.requests.push(Request::new(
                ctx.frame,
                expects_reply,
                p.tsl_findings().min(u8::MAX as usize) as u8,
            ));
            m.pending.insert(pair.key, (idx, ctx.ts_ns));
            if let Some(id) = pair.by_id {
                m.alink_by_id.insert(id, pair.key);
            }
            if let Some(packed) = unchecked.and_then(|(t, b)| pack_request(t, b)) {
                m.unchecked.insert(idx, packed);
            }
            rec.request = Some(idx);
            return;
        }
        let Some((idx, request_ts)) = m.pending.remove(&pair.key) else {
            rec.experts.push(Finding::OrphanReply.item());
            return;
        };
        if let Some(counts) = pair.fifo_base.and_then(|b| m.fifo.get_mut(&b)) {
            counts.1 += 1;
        }
        let packed = m.unchecked.remove(&idx);
        let req = &mut self.requests[idx];
        // Refused: what the model says of the request (the reply points at it).
        if let Some(packed) = packed.filter(|_| p.alink_error()) {
            req.tsl_findings = findings_of(&packed, models);
        }
        req.answered(ctx.frame);
        let delta_ns = ctx.ts_ns.saturating_sub(request_ts);
        rec.reply = Some(ReplyLink {
            request_frame: req.frame,
            delta_ns,
        });
        if t.class == topic::NTP_RESPONSE {
            match ntp_offset_ms(&|k| json_item(p, k), request_ts, ctx.ts_ns) {
                Some(Clock::Device(ms)) => rec.ntp_offset_ms = Some(ms),
                Some(Clock::Capture(ms)) => rec.ntp_capture_offset_ms = Some(ms),
                None => {}
            }
        }
    }

    /// The message's key and role; None when it does not pair.
    fn pair_of(
        &mut self,
        t: &TopicInfo<'_>,
        p: &Payload,
        (response_topic, correlation, topic): (Option<&[u8]>, Option<&[u8]>, &str),
    ) -> Option<Pair> {
        let pk = t.product_key.unwrap_or("");
        let dn = t.device_name.unwrap_or("");
        let c = t.class;
        let as_reply = |is_reply: bool| {
            if is_reply {
                Role::Reply
            } else {
                Role::Request(true)
            }
        };
        // MQTT 5 request/response, for topics the platform does not pair itself: the Link SDK
        // 4.x sets a Response Topic and Correlation Data on its property posts, and the platform
        // still answers on `_reply` by the Alink id.
        if let Some(cd) = correlation.filter(|_| c.pairing == topic::Pairing::None) {
            // The reply comes on its Response Topic with its Correlation Data.
            return Some(match response_topic {
                Some(rt) => Pair::new(
                    PairKey::of(
                        KeyKind::Mqtt5,
                        &[String::from_utf8_lossy(rt).as_bytes(), cd],
                    ),
                    Role::Request(true),
                ),
                None => Pair::new(
                    PairKey::of(KeyKind::Mqtt5, &[topic.as_bytes(), cd]),
                    Role::Reply,
                ),
            });
        }
        if let Some(rrpc) = t.rrpc_id {
            let parts = [rrpc.as_bytes(), &[c.index()], pk.as_bytes(), dn.as_bytes()];
            return Some(Pair::new(
                PairKey::of(KeyKind::ExtRrpc, &parts),
                Role::Either,
            ));
        }
        Some(match c.pairing {
            topic::Pairing::None => return None,
            topic::Pairing::Rrpc => {
                let id = t.identifier.unwrap_or("");
                let parts = [pk.as_bytes(), dn.as_bytes(), id.as_bytes()];
                Pair::new(PairKey::of(KeyKind::Rrpc, &parts), as_reply(t.is_reply))
            }
            topic::Pairing::Ntp => {
                let sent = json_item(p, "deviceSendTime")?;
                let parts = [pk.as_bytes(), dn.as_bytes(), sent.as_bytes()];
                Pair::new(PairKey::of(KeyKind::Ntp, &parts), as_reply(t.is_reply))
            }
            topic::Pairing::InOrder | topic::Pairing::ShadowReply => {
                // No id: the n-th reply answers the n-th request.
                let stream = if c.pairing == topic::Pairing::ShadowReply {
                    if json_item(p, "method").as_deref() != Some("reply") {
                        return None;
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
                    Pair {
                        fifo_base: Some(base),
                        ..Pair::new(nth(counts.1 + 1), Role::Reply)
                    }
                } else {
                    counts.0 += 1;
                    Pair::new(nth(counts.0), Role::Request(true))
                }
            }
            topic::Pairing::OtaQuery | topic::Pairing::OtaPush => {
                // The legacy firmware query; the platform answers with an upgrade push when it
                // has firmware, so neither side is missing when the other is.
                let key = PairKey::of(KeyKind::Ota, &[pk.as_bytes(), dn.as_bytes()]);
                if c.pairing == topic::Pairing::OtaQuery {
                    Pair::new(key, Role::Request(false))
                } else if matching(&mut self.matching).pending.contains_key(&key) {
                    Pair::new(key, Role::Reply)
                } else {
                    return None;
                }
            }
            topic::Pairing::ExtError => {
                // The platform's error report for a sub-device's request answers that request.
                let id = alink_of(&p.body)?.id.as_deref()?;
                let m = matching(&mut self.matching);
                let key = m
                    .alink_by_id
                    .get(&PairKey::of(KeyKind::AlinkId, &[id.as_bytes()]))
                    .copied()
                    .filter(|k| m.pending.contains_key(k))?;
                Pair::new(key, Role::Reply)
            }
            topic::Pairing::ById => {
                let a = alink_of(&p.body)?;
                let id = a.id.as_deref().filter(|_| t.product_key.is_some())?;
                let parts = [
                    &[c.index()],
                    t.identifier.unwrap_or("").as_bytes(),
                    pk.as_bytes(),
                    dn.as_bytes(),
                    id.as_bytes(),
                ];
                let key = PairKey::of(KeyKind::Alink, &parts);
                if t.is_reply {
                    Pair::new(key, Role::Reply)
                } else {
                    Pair {
                        by_id: Some(PairKey::of(KeyKind::AlinkId, &[id.as_bytes()])),
                        ..Pair::new(key, Role::Request(a.ack != Some(0)))
                    }
                }
            }
        })
    }
}

/// The earliest deviceSendTime taken for a time: 2000-01-01 in ms (the C SDK 3.x sends "1234").
const PLAUSIBLE_MS: f64 = 946_684_800_000.0;

fn plausible_ms(sent: &str) -> bool {
    sent.parse::<f64>().is_ok_and(|ms| ms >= PLAUSIBLE_MS)
}

/// How far the platform's clock is ahead, in ms, and of whose.
enum Clock {
    /// The device's: ((srt − dst) + (sst − drt)) / 2, where the device's receive time drt (on its
    /// own clock) is its send time plus the round trip seen in the capture.
    Device(f64),
    /// The capture's, when the device sent no usable time: the middle of the platform's two
    /// times against the middle of the request's and the response's capture times.
    Capture(f64),
}

fn ntp_offset_ms(
    item: &dyn Fn(&str) -> Option<String>,
    request_ns: i64,
    response_ns: i64,
) -> Option<Clock> {
    let num = |k: &str| item(k).and_then(|v| v.parse::<f64>().ok());
    let (srt, sst) = (num("serverRecvTime")?, num("serverSendTime")?);
    let round_trip_ms = response_ns.saturating_sub(request_ns) as f64 / 1e6;
    match num("deviceSendTime").filter(|dst| *dst >= PLAUSIBLE_MS) {
        Some(dst) => {
            let drt = dst + round_trip_ms;
            Some(Clock::Device(((srt - dst) + (sst - drt)) / 2.0))
        }
        None => {
            let capture_mid_ms = request_ns as f64 / 1e6 + round_trip_ms / 2.0;
            Some(Clock::Capture((srt + sst) / 2.0 - capture_mid_ms))
        }
    }
}
