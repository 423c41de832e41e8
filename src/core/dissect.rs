//! A capture's MQTT packets, frame by frame: which connection each belongs to, its MQTT protocol
//! level and MQTT 5 topic aliases, its analysis on the first pass and its cached facts on later
//! passes. The glue hands in the bytes MQTT consumed in a frame and shows what comes out.

use std::collections::HashMap;
use std::rc::Rc;

use super::cache::{FrameCache, Slot};
use super::mqtt::{self, Aliases, Span};
use super::secrets::Secrets;
use super::session::{Capture, Conn, Detail, FrameCtx, MqttPdu, PduRecord};
use super::transport::Connections;

/// TCP flags.
pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const ACK: u8 = 0x10;

/// What `show` is given for each packet: the capture's state, the packet's connection, its
/// record, where it lies in the bytes, and the packet as read.
pub type Show<'s> = dyn FnMut(&Capture, u32, &PduRecord, Span, &MqttPdu<'_>) + 's;

#[derive(Default)]
pub struct Dissection {
    pub capture: Capture,
    /// Which TCP connection each packet belongs to.
    pub connections: Connections,
    frames: FrameCache,
    /// First pass: the frame being dissected (a frame's packets can come from several calls: TCP
    /// reassembly, WebSocket messages).
    pending: Pending,
    /// MQTT 5 topic aliases of each (connection, sender).
    aliases: HashMap<(u32, u64), Aliases>,
    /// Whether frames are dissected again later, so that the cache is worth its cost.
    pub revisits: Revisits,
    /// A later pass: the slots of the frame being shown (one buffer for every frame).
    shown: Vec<Slot>,
}

#[derive(Default)]
struct Pending {
    frame: u32,
    /// Its analysed packets, kept for later passes, stored in `frames` when the next frame begins.
    slots: Vec<Slot>,
    /// How many of its packets were analysed (kept or not).
    analysed: u32,
    /// How many calls had packets: with more than one, a later pass counts which call shows
    /// which ([`Dissection::later_pass`]).
    calls: u32,
}

/// Whether the program dissects frames again after the first pass (Wireshark, sharkd, `tshark
/// -2`) or reads the capture once (one-pass tshark), told by asking whether it still keeps an
/// earlier frame. One-pass tshark keeps only the time reference and the previous displayed and
/// captured frames; a program that revisits keeps them all. So a frame two or more before the
/// current one, asked again at each MQTT frame, is missing exactly when nothing will be revisited.
/// Until then the cache is kept: a wrong "no" would lose later passes, a late one costs a little.
/// So after [`Revisits::TRUSTED`] frames asked, one MQTT frame in [`Revisits::EVERY`] asks (each
/// question is a frame lookup in the program's store, asked in every first-pass MQTT frame of a
/// program that revisits).
#[derive(Debug, Default)]
pub struct Revisits {
    /// Decided: nothing will be revisited.
    never: bool,
    /// An earlier MQTT frame with a time stamp (the provider answers with the time stamp, so a
    /// frame without one would look missing), not the first frame (the usual time reference).
    probe: u32,
    /// The frame after `probe` that may become the next probe.
    next: u32,
    /// How many calls could have asked (a frame with several MQTT calls counts each).
    asked: u32,
}

impl Revisits {
    /// Frames that ask every time before questions thin out.
    pub const TRUSTED: u32 = 64;
    /// Then one frame in this many asks.
    pub const EVERY: u32 = 16;

    /// Whether it is decided that nothing will be revisited.
    pub fn never(&self) -> bool {
        self.never
    }

    /// First pass, at an MQTT frame `frame` (`has_ts`: it carries a time stamp): whether to keep
    /// its packets for later passes. `kept` asks the program whether it still has an earlier frame.
    pub fn keep(&mut self, frame: u32, has_ts: bool, kept: impl FnOnce(u32) -> bool) -> bool {
        if self.never {
            return false;
        }
        if self.probe >= 2 && self.probe.saturating_add(2) <= frame {
            self.asked = self.asked.saturating_add(1);
            let ask = self.asked <= Self::TRUSTED || self.asked % Self::EVERY == 0;
            if ask && !kept(self.probe) {
                self.never = true;
                return false;
            }
        }
        if has_ts && frame >= 2 && frame != self.next {
            // The previous candidate is now at least one frame back; this frame becomes one.
            if self.next >= 2 && self.next < frame {
                self.probe = self.next;
            }
            self.next = frame;
        }
        true
    }
}

impl Dissection {
    /// First pass: whether no packet of frame `frame` was analysed yet (a frame's packets can
    /// come in several calls).
    pub fn frame_is_new(&mut self, frame: u32) -> bool {
        self.flush_before(frame);
        self.pending.analysed == 0
    }

    /// Stores the pending first-pass packets of the frame before `frame`.
    fn flush_before(&mut self, frame: u32) {
        let p = &mut self.pending;
        if p.frame != frame {
            if !p.slots.is_empty() {
                self.frames.store(p.frame, &p.slots, p.calls > 1);
                p.slots.clear();
            }
            p.analysed = 0;
            p.calls = 0;
        }
        p.frame = frame;
    }

    /// First pass: analyses the MQTT packets in `data` (the bytes MQTT consumed in frame
    /// `ctx.frame`), in order, and shows each. `over_tls` says whether TLS carries the frame (asked
    /// for a CONNECT only); `default_version` is MQTT's protocol level preference, for a
    /// connection whose CONNECT is not in the capture; `keep`: whether to keep the packets for
    /// later passes ([`Revisits::keep`]). Read once and with nothing shown (`Detail::Bare`), the
    /// packets are not analysed at all.
    #[allow(clippy::too_many_arguments)]
    pub fn first_pass(
        &mut self,
        data: &[u8],
        mut ctx: FrameCtx,
        over_tls: &dyn Fn() -> bool,
        default_version: u8,
        secrets: &Secrets,
        detail: Detail,
        keep: bool,
        show: &mut Show<'_>,
    ) {
        self.flush_before(ctx.frame);
        if !keep {
            // Nothing will be revisited: what was kept before that was known is of no use.
            if !self.frames.is_empty() {
                self.frames = FrameCache::default();
            }
            if detail == Detail::Bare {
                // Read once and nothing made of this packet. One-pass tshark asks the same of
                // every frame (its tree and columns are primed alike), so no later packet is
                // shown either: the state an analysis builds would never be read.
                return;
            }
        }
        let conv = self.connections.id(ctx.src, ctx.dst);
        let analysed_before = self.pending.analysed;
        for span in mqtt::split(data) {
            let version = self.version(conv, default_version);
            let (mut pdu, _) = mqtt::parse(span.bytes(data), span.len, version);
            if pdu.msg_type == mqtt::CONNECT {
                ctx.over_tls = over_tls();
            }
            if let Some(level) = pdu.version {
                self.capture.conns.or_default(conv).mqtt_level = Some(level);
            }
            // MQTT 5 topic alias: a topic sets it, an empty topic stands for the one it set.
            let mut alias_topic: Option<Rc<[u8]>> = None;
            if let (mqtt::PUBLISH, Some(alias)) = (pdu.msg_type, pdu.v5.topic_alias) {
                let aliases = self.aliases.entry((conv, ctx.src)).or_default();
                alias_topic = aliases.resolve(alias, pdu.topic).map(Rc::from);
            }
            if let Some(t) = &alias_topic {
                pdu.topic = Some(&t[..]);
            }
            let mut rec = PduRecord::default();
            self.capture
                .analyze_with(conv, &pdu, &ctx, secrets, detail, &mut rec);
            show(&self.capture, conv, &rec, span, &pdu);
            self.pending.analysed += 1;
            // Not kept (described again from the packet when shown): its allocation serves the
            // next packet.
            if let Some(p) = rec.payload.take() {
                super::payload::recycle(p);
            }
            if keep {
                self.pending.slots.push(Slot {
                    conv,
                    alias_topic,
                    record: rec.into_cached(),
                });
            }
        }
        if self.pending.analysed > analysed_before {
            self.pending.calls += 1;
        }
    }

    /// Later passes: frame `frame`'s packets in `data` again, from the `first`-th of the frame
    /// on, from their cached facts and, when showing them needs it (`items`: fields that point
    /// at bytes are made), the packet read anew. `first` is asked whether the first pass had the
    /// frame's packets in several calls; with one (the usual frame), this call holds them all
    /// and `first` answers 0 without counting calls.
    #[allow(clippy::too_many_arguments)]
    pub fn later_pass(
        &mut self,
        data: &[u8],
        frame: u32,
        first: &mut dyn FnMut(bool) -> usize,
        items: bool,
        default_version: u8,
        secrets: &Secrets,
        detail: Detail,
        show: &mut Show<'_>,
    ) {
        self.flush_before(u32::MAX);
        let mut slots = std::mem::take(&mut self.shown);
        let several = self.frames.of_into(frame, &mut slots);
        let first = first(several);
        // What a packet not read again is shown with.
        let unread = MqttPdu::default();
        let column = detail == Detail::Column && !items;
        for (span, slot) in mqtt::split(data).zip(slots.iter().skip(first)) {
            let conv = slot.conv;
            // Only the Info column (tshark -2, a GUI's packet list): most packets need no
            // reading again.
            if column && slot.record.column_kept() {
                let rec = slot.record.column_record();
                show(&self.capture, conv, &rec, span, &unread);
                continue;
            }
            if !slot.record.needs_packet() && !items {
                let rec = slot.record.restore(None, None);
                show(&self.capture, conv, &rec, span, &unread);
                continue;
            }
            let version = self.version(conv, default_version);
            let (pdu, _) = mqtt::parse(span.bytes(data), span.len, version);
            let rec = if slot.record.needs_packet() {
                let models = self.capture.tsl.at(frame);
                slot.record
                    .restore_with(&pdu, slot.alias_topic.as_deref(), secrets, detail, models)
            } else {
                slot.record.restore(None, None)
            };
            show(&self.capture, conv, &rec, span, &pdu);
        }
        slots.clear();
        self.shown = slots;
    }

    /// The open connection between `src` and `dst`, before its packets are analysed (nothing
    /// changes): the dissector warms its state while MQTT dissects.
    pub fn open_conn(&self, src: u64, dst: u64) -> Option<&Conn> {
        let conv = self.connections.find_open(src, dst)?;
        self.capture.conns.get(&conv)
    }

    /// Bytes the packed records of later passes take.
    pub fn cache_bytes(&self) -> usize {
        self.frames.used()
    }

    fn version(&self, conv: u32, default_version: u8) -> u8 {
        self.capture
            .conns
            .get(&conv)
            .and_then(|c| c.mqtt_level)
            .unwrap_or(default_version)
    }

    /// TCP flags of a segment (first pass): a SYN without ACK opens a new connection on its
    /// endpoints; a FIN or RST ends the MQTT session of its connection.
    pub fn tcp_flags(&mut self, src: u64, dst: u64, frame: u32, ts_ns: i64, flags: u8) {
        if flags & (SYN | ACK) == SYN {
            self.connections.opened(src, dst);
        } else if let Some(conv) = self.connections.ended(src, dst) {
            let revisited = !self.revisits.never();
            self.capture
                .tcp_end(conv, frame, ts_ns, flags & RST != 0, revisited);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::mqtt::PUBLISH;

    /// An MQTT 5 PUBLISH (QoS 0) with a topic alias property.
    fn publish_v5(topic: &str, alias: u16, payload: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend((topic.len() as u16).to_be_bytes());
        body.extend(topic.as_bytes());
        body.extend([3, 0x23]);
        body.extend(alias.to_be_bytes());
        body.extend(payload);
        let mut p = vec![0x30, body.len() as u8];
        p.extend(body);
        p
    }

    fn ctx(frame: u32) -> FrameCtx {
        FrameCtx {
            frame,
            src: 1,
            dst: 2,
            src_port: 50000,
            dst_port: 1883,
            ..FrameCtx::default()
        }
    }

    #[test]
    fn aliases_versions_and_later_passes() {
        let mut d = Dissection::default();
        let s = Secrets::default();
        let topic = "/sys/a1B2c3D4e5F/dev/thing/event/property/post";
        // Two packets in one frame, the second giving its topic by alias; the level comes from
        // MQTT's preference (no CONNECT in the capture).
        let mut data = publish_v5(topic, 3, b"{\"id\":\"1\"}");
        data.extend(publish_v5("", 3, b"{\"id\":\"2\"}"));
        let mut seen = Vec::new();
        let no_tls = || false;
        d.first_pass(
            &data,
            ctx(1),
            &no_tls,
            5,
            &s,
            Detail::Full,
            true,
            &mut |_, conv, rec, span, _| {
                seen.push((conv, rec.topics.len(), span.offset, rec.msg_type))
            },
        );
        let second = publish_v5(topic, 3, b"").len() + 10;
        assert_eq!(seen, [(1, 1, 0, PUBLISH), (1, 1, second, PUBLISH)]);
        assert!(d.frame_is_new(2));
        // Later passes: from the cache, the aliased topic included; from the second packet on.
        let mut again = Vec::new();
        d.later_pass(
            &data,
            1,
            // One call had both packets: the frame is not marked as given in several calls.
            &mut |several| {
                assert!(!several);
                1
            },
            true,
            5,
            &s,
            Detail::Full,
            &mut |_, _, rec, _, _| {
                again.push(
                    rec.topics
                        .first()
                        .map(|t| t.product_key().map(str::to_string)),
                )
            },
        );
        assert_eq!(again, [Some(Some("a1B2c3D4e5F".to_string()))]);
    }

    /// A later pass counts which call shows which of a frame's packets only where the first
    /// pass had them in several calls (TCP reassembly, WebSocket messages, TLS records).
    #[test]
    fn frames_given_in_several_calls() {
        let mut d = Dissection::default();
        let s = Secrets::default();
        let topic = "/sys/a1B2c3D4e5F/dev/thing/event/property/post";
        let other = "/sys/a1B2c3D4e5F/dev/thing/event/other/post";
        let (a, b) = (publish_v5(topic, 1, b"{}"), publish_v5(other, 2, b"{}"));
        let both = [a.clone(), b.clone()].concat();
        let no_tls = || false;
        let first = |d: &mut Dissection, data: &[u8], frame| {
            d.first_pass(
                data,
                ctx(frame),
                &no_tls,
                5,
                &s,
                Detail::Full,
                true,
                &mut |_, _, _, _, _| {},
            )
        };
        // Frame 1: two calls of one packet each; frame 2: one call of both.
        first(&mut d, &a, 1);
        first(&mut d, &b, 1);
        first(&mut d, &both, 2);
        d.flush_before(3);
        let later = |d: &mut Dissection, data: &[u8], frame, at| {
            let mut asked = None;
            let mut topics = Vec::new();
            d.later_pass(
                data,
                frame,
                &mut |several| {
                    asked = Some(several);
                    at
                },
                true,
                5,
                &s,
                Detail::Full,
                &mut |_, _, rec, _, _| {
                    topics.push(rec.topics.first().map(|t| t.text().to_string()))
                },
            );
            (asked, topics)
        };
        let second = Some(other.to_string());
        assert_eq!(later(&mut d, &b, 1, 1), (Some(true), vec![second.clone()]));
        let (asked, topics) = later(&mut d, &both, 2, 0);
        assert_eq!((asked, topics.len(), &topics[1]), (Some(false), 2, &second));
    }

    /// What the dissector warms before MQTT runs: the open connection of the endpoints and where
    /// its parts are; nothing once it ended, and looking changes nothing.
    #[test]
    fn open_conn_and_its_state() {
        let mut d = Dissection::default();
        let s = Secrets::default();
        assert!(d.open_conn(1, 2).is_none());
        let topic = "/sys/a1B2c3D4e5F/dev/thing/event/property/post";
        let post = publish_v5(
            topic,
            0,
            b"{\"id\":\"1\",\"method\":\"thing.event.property.post\"}",
        );
        d.first_pass(
            &post,
            ctx(1),
            &|| false,
            5,
            &s,
            Detail::Full,
            true,
            &mut |_, _, _, _, _| {},
        );
        let conn = d.open_conn(2, 1).expect("either direction");
        assert!(std::ptr::eq(conn, &d.capture.conns[&1]));
        let parts = conn.state_addresses();
        // The identity from the topic (no CONNECT in the capture), and the pending request.
        assert_eq!(
            parts[0].0,
            Rc::as_ptr(conn.identity.as_ref().unwrap()).cast()
        );
        assert!(!parts[1].0.is_null() && parts[1].1 > 0, "pairing state");
        // Looking at endpoints never seen numbers nothing: the next new connection is the 2nd.
        assert!(d.open_conn(3, 4).is_none());
        assert_eq!(d.connections.id(5, 6), 2, "looking numbered nothing");
        d.tcp_flags(1, 2, 2, 0, 0x01);
        assert!(d.open_conn(1, 2).is_none(), "ended");
    }

    /// One-pass tshark: besides the previous frame, only the time reference (frame 1) and the
    /// previous displayed frame are known.
    fn one_pass(displayed: u32) -> impl Fn(u32, u32) -> bool {
        move |now, n| n == 1 || n + 1 == now || n == displayed
    }

    #[test]
    fn revisits_told_by_an_earlier_frame() {
        // A program with a frame store: every packet is kept, the whole capture long.
        let mut r = Revisits::default();
        let mqtt_frames = [1, 2, 3, 5, 6, 9, 12, 13, 20];
        assert!(mqtt_frames.iter().all(|&f| r.keep(f, true, |n| n < f)));
        // One-pass tshark: kept until a probe two frames back is found missing (frame 5 asks
        // for frame 2), then never again, even if a later answer would be yes.
        let mut r = Revisits::default();
        let kept: Vec<bool> = mqtt_frames
            .iter()
            .map(|&f| r.keep(f, true, |n| one_pass(0)(f, n)))
            .collect();
        assert_eq!(
            kept,
            [true, true, true, false, false, false, false, false, false]
        );
        // The previous displayed frame is known too: asking for it proves nothing, a later
        // probe decides (with -Y, frame 3 passed and frames after it did not).
        let mut r = Revisits::default();
        let kept: Vec<bool> = [2, 3, 5, 6, 9]
            .iter()
            .map(|&f| r.keep(f, true, |n| one_pass(if f < 6 { 2 } else { 3 })(f, n)))
            .collect();
        assert_eq!(kept, [true, true, true, true, false]);
        // A frame without a time stamp is never a probe: the provider would not answer for it.
        let mut r = Revisits::default();
        let kept: Vec<bool> = [2, 3, 5, 8, 9]
            .iter()
            .map(|&f| r.keep(f, f >= 8, |n| n >= 8 || n + 1 == f))
            .collect();
        assert_eq!(kept, [true, true, true, true, true]);
        // After TRUSTED frames that asked, one in EVERY asks: 1,000 frames of a program that
        // keeps them all ask about TRUSTED + (1,000 - TRUSTED) / EVERY times, not 1,000.
        let mut r = Revisits::default();
        let mut asked = 0u32;
        assert!((2..1_002).all(|f| r.keep(f, true, |n| {
            asked += 1;
            n < f
        })));
        let (t, e) = (Revisits::TRUSTED, Revisits::EVERY);
        assert!(
            asked > t && asked <= t + (1_000 - t) / e + 1,
            "{asked} questions"
        );
        // And a "no" comes at most EVERY frames late; a "yes" is never decided.
        let mut r = Revisits::default();
        let last_yes = t + 10;
        let decided = (2..10_000)
            .find(|&f| !r.keep(f, true, |_| f <= last_yes))
            .unwrap();
        assert!(decided > last_yes && decided <= last_yes + e, "{decided}");
        // Several calls for one frame (TCP reassembly) count once.
        let mut r = Revisits::default();
        assert!([4, 4, 4, 5, 5].iter().all(|&f| r.keep(f, true, |_| false)));
        assert!(!r.keep(6, true, |_| false));
    }

    #[test]
    fn one_pass_keeps_nothing_and_analyses_only_what_is_shown() {
        let mut d = Dissection::default();
        let s = Secrets::default();
        let data = publish_v5("/sys/a1B2c3D4e5F/dev/thing/event/property/post", 3, b"{}");
        // (frame, kept for later passes, detail, analysed and shown)
        let steps = [
            (1, true, Detail::Bare, true),
            (2, false, Detail::Summary, true),
            (3, false, Detail::Bare, false),
            (4, true, Detail::Bare, true),
        ];
        for (frame, keep, detail, analysed) in steps {
            let mut shown = false;
            d.first_pass(
                &data,
                ctx(frame),
                &|| false,
                5,
                &s,
                detail,
                keep,
                &mut |_, _, _, _, _| shown = true,
            );
            assert_eq!(shown, analysed, "frame {frame}");
            assert_eq!(d.frame_is_new(frame), !analysed, "frame {frame}");
            if frame == 2 {
                assert_eq!(
                    d.cache_bytes(),
                    0,
                    "what frame 1 kept is dropped once nothing is revisited"
                );
            }
        }
    }

    #[test]
    fn tcp_flags_open_and_end_connections() {
        let mut d = Dissection::default();
        let conv = d.connections.id(1, 2);
        d.capture.conns.or_default(conv);
        d.tcp_flags(1, 2, 5, 0, RST | ACK);
        assert!(d.capture.conns[&conv].flow.ended());
        // A new SYN on the same endpoints is a new connection.
        d.tcp_flags(1, 2, 6, 0, SYN);
        assert_ne!(d.connections.id(1, 2), conv);
    }
}
