//! MQTT-level session flow of a connection: acknowledgements (PUBACK, SUBACK, UNSUBACK,
//! PINGRESP), retransmissions, keep-alive gaps, how the session ended, and its summary counts.
//! Alibaba-specific request/reply pairing lives in [`super::session`]; this is the MQTT layer
//! under it, and works for any MQTT session.

use std::collections::VecDeque;
use std::num::NonZeroU32;

use super::fxhash::FxMap;

use super::expert::Ei;
use super::expert::Finding;

pub use super::mqtt::{
    DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBLISH, PUBREC, SUBACK, SUBSCRIBE, UNSUBACK,
    UNSUBSCRIBE,
};

/// Open exchanges kept per connection (bounded memory with hostile captures).
pub const MAX_OPEN: usize = 10_000;
/// QoS 0 publishes remembered as possibly lost before an abrupt end.
const MAX_RECENT_QOS0: usize = 64;
/// How long before an abrupt end a QoS 0 publish counts as likely lost.
const LOST_WINDOW_NS: i64 = 5_000_000_000;

/// A packet that expects an acknowledgement, and the frame that gave it. A connection keeps one
/// per such packet for as long as the capture is open (later passes show the links), so it is
/// kept to 12 bytes: the packet's time, needed only until its acknowledgement, stays in [`Live`].
#[derive(Debug, Clone)]
pub struct Exchange {
    pub frame: u32,
    pub kind: u8,
    ack: Option<NonZeroU32>,
}

// What a finished connection keeps per exchange (see above).
const _: () = assert!(std::mem::size_of::<Exchange>() == 12);

impl Exchange {
    /// The frame that acknowledged it, once seen (frames count from 1).
    pub fn ack(&self) -> Option<u32> {
        self.ack.map(NonZeroU32::get)
    }
}

/// How a session ended, as seen at its last packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Disconnect = 1,
    Refused = 2,
    Reset = 3,
    Fin = 4,
    CaptureEnded = 5,
}

/// The MQTT flow state of one connection.
/// The acknowledgement state of an open connection (a finished one drops it).
#[derive(Debug, Default)]
struct Live {
    /// (request type, sender endpoint, packet id) -> index into `exchanges`, and its time.
    open: FxMap<(u8, u64, u16), (usize, i64)>,
    /// PINGREQs not answered yet: index into `exchanges`, and time.
    pings: VecDeque<(usize, i64)>,
    /// Device QoS 0 publishes after the broker last sent anything.
    recent_qos0: VecDeque<(u32, i64)>,
    /// When the device last sent something: the keep-alive check's start.
    last_device_ts: Option<i64>,
    /// The open-exchange bound was reached (said once).
    open_limit_hit: bool,
}

fn live(l: &mut Option<Box<Live>>) -> &mut Live {
    l.get_or_insert_with(Box::default)
}

#[derive(Debug, Default)]
pub struct FlowState {
    pub version: u8,
    pub keepalive: Option<u16>,
    pub exchanges: Vec<Exchange>,
    /// What pairs packets with their acknowledgements, and the keep-alive state, while the
    /// connection is open.
    live: Option<Box<Live>>,
    /// The first packet's time (valid once `last_frame` is set: frames count from 1).
    first_ts: i64,
    pub last_ts: i64,
    /// The last MQTT frame of the connection (where the end is shown).
    pub last_frame: u32,
    pub msgs_up: u32,
    pub msgs_down: u32,
    pub alink_errors: u32,
    pub disconnect: bool,
    pub refused: bool,
    /// The first TCP RST and FIN frames (frames count from 1).
    reset: Option<NonZeroU32>,
    fin: Option<NonZeroU32>,
    /// When the TCP connection ended (valid once `reset` or `fin` is set).
    end_ts: i64,
    /// QoS 0 messages sent right before an abrupt end, and CONNECT frames of other connections
    /// of the same device that overlapped this one: rare, so in one list.
    marks: Vec<(u32, Mark)>,
}

// What a finished connection keeps of its flow (part of `Conn`, see there).
const _: () = assert!(std::mem::size_of::<FlowState>() == 112);

/// What [`FlowState`] remembers of another frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    LikelyLost,
    Overlap,
}

/// What the flow analysis says about one packet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlowRecord {
    /// Index into [`FlowState::exchanges`] when this packet expects an acknowledgement.
    pub exchange: Option<usize>,
    /// The frame this acknowledgement answers, and how long it took.
    pub ack_to: Option<(u32, i64)>,
    /// A DUP retransmission: the frame of the first copy.
    pub dup_of: Option<u32>,
    /// SUBACK: each filter of its SUBSCRIBE with the granted QoS or failure code.
    pub sub_results: Vec<(String, u8)>,
    /// A silence from the device longer than 1.5 × its keep-alive, before this packet.
    pub keepalive_gap_ns: Option<i64>,
}

/// The facts about one MQTT packet the flow needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlowPacket<'a> {
    pub msg_type: u8,
    pub qos: u8,
    pub dup: bool,
    pub retain: bool,
    pub msgid: Option<u16>,
    pub frame: u32,
    pub ts_ns: i64,
    /// Endpoint keys of sender and receiver.
    pub src: u64,
    pub dst: u64,
    /// Whether the device sent it (None when the direction is not known).
    pub from_device: Option<bool>,
    pub filters: &'a [&'a [u8]],
    pub sub_codes: &'a [u8],
}

/// Where an object lives and its size in bytes (null and 0 for none): what the dissector asks
/// the caches for ([`crate::core::session::Conn::state_addresses`]).
pub(crate) fn extent<T>(p: Option<&T>) -> (*const u8, usize) {
    p.map_or((std::ptr::null(), 0), |p| {
        ((p as *const T).cast(), std::mem::size_of::<T>())
    })
}

impl FlowState {
    /// Where the acknowledgement state a packet reads lives, and its size (see
    /// [`crate::core::session::Conn::state_addresses`]).
    pub(crate) fn state_addresses(&self) -> [(*const u8, usize); 2] {
        [
            extent(self.live.as_deref()),
            (self.exchanges.as_ptr_range().end.cast(), 1),
        ]
    }

    /// Whether the session had ended before `frame`.
    pub fn ended_before(&self, frame: u32) -> bool {
        self.reset.is_some_and(|f| f.get() < frame)
            || self.fin.is_some_and(|f| f.get() < frame)
            || (self.disconnect && self.last_frame < frame)
    }

    pub fn ended(&self) -> bool {
        self.disconnect || self.refused || self.reset.is_some() || self.fin.is_some()
    }

    pub fn end(&self) -> End {
        if self.disconnect {
            End::Disconnect
        } else if self.refused {
            End::Refused
        } else if self.reset.is_some() {
            End::Reset
        } else if self.fin.is_some() {
            End::Fin
        } else {
            End::CaptureEnded
        }
    }

    /// A TCP FIN or RST in this connection (first pass).
    pub fn on_tcp_end(&mut self, frame: u32, ts_ns: i64, reset: bool) {
        if self.reset.is_none() && self.fin.is_none() {
            self.end_ts = ts_ns;
        }
        let frame = NonZeroU32::new(frame).unwrap_or(NonZeroU32::MIN);
        if reset {
            self.reset.get_or_insert(frame);
        } else {
            self.fin.get_or_insert(frame);
        }
        if !self.disconnect && !self.refused {
            // QoS 0 publishes shortly before an abrupt end were probably never delivered.
            let end = ts_ns;
            self.marks.retain(|(_, m)| *m != Mark::LikelyLost);
            let lost = self
                .live
                .iter()
                .flat_map(|l| l.recent_qos0.iter())
                .filter(|(_, t)| end.saturating_sub(*t) <= LOST_WINDOW_NS)
                .map(|(f, _)| (*f, Mark::LikelyLost));
            self.marks.extend(lost);
        }
    }

    /// Whether `frame` is a QoS 0 message probably lost in an abrupt end.
    pub fn likely_lost(&self, frame: u32) -> bool {
        self.marks.contains(&(frame, Mark::LikelyLost))
    }

    /// CONNECT frames of other connections of the same device that overlapped this one.
    pub fn overlaps(&self) -> impl Iterator<Item = u32> + '_ {
        self.marks
            .iter()
            .filter(|(_, m)| *m == Mark::Overlap)
            .map(|(f, _)| *f)
    }

    /// Another connection of the same device, logged in at `connect_frame`, overlapped this one.
    pub fn add_overlap(&mut self, connect_frame: u32) {
        self.marks.push((connect_frame, Mark::Overlap));
    }

    /// Frees what only matching needs, once the connection can carry no more MQTT (see
    /// [`super::session::Capture::tcp_end`]); what later passes show stays.
    pub fn release_matching(&mut self) {
        self.live = None;
        self.exchanges.shrink_to_fit();
    }

    fn open_exchange(
        &mut self,
        key: (u8, u64, u16),
        p: &FlowPacket<'_>,
        rec: &mut FlowRecord,
        experts: &mut Vec<(Ei, String)>,
    ) {
        if let Some(&(idx, _)) = live(&mut self.live).open.get(&key) {
            let first = self.exchanges[idx].frame;
            if p.dup {
                rec.dup_of = Some(first);
                rec.exchange = Some(idx);
                return;
            }
            experts.push(Finding::PacketIdReused { id: key.2, first }.item());
        }
        let l = live(&mut self.live);
        if l.open.len() >= MAX_OPEN {
            if !l.open_limit_hit {
                l.open_limit_hit = true;
                experts.push(Finding::OpenLimit(MAX_OPEN).item());
            }
            return;
        }
        let idx = self.exchanges.len();
        self.exchanges.push(Exchange {
            frame: p.frame,
            kind: p.msg_type,
            ack: None,
        });
        live(&mut self.live).open.insert(key, (idx, p.ts_ns));
        rec.exchange = Some(idx);
    }

    /// `(idx, ts_ns)`: the exchange and when it opened.
    fn close_exchange(
        &mut self,
        (idx, ts_ns): (usize, i64),
        p: &FlowPacket<'_>,
        rec: &mut FlowRecord,
    ) -> usize {
        let ex = &mut self.exchanges[idx];
        ex.ack = NonZeroU32::new(p.frame);
        rec.ack_to = Some((ex.frame, p.ts_ns.saturating_sub(ts_ns)));
        idx
    }

    /// Analyses one packet (first pass). `sub_filters` keeps each open SUBSCRIBE's filters so its
    /// SUBACK can name them.
    pub fn on_packet(
        &mut self,
        p: &FlowPacket<'_>,
        sub_filters: &mut FxMap<usize, Vec<String>>,
        experts: &mut Vec<(Ei, String)>,
    ) -> FlowRecord {
        let mut rec = FlowRecord::default();
        if self.last_frame == 0 {
            self.first_ts = p.ts_ns;
        }
        self.last_ts = p.ts_ns;
        self.last_frame = p.frame;
        // Keep-alive: the device must send something within 1.5 × keep-alive.
        if p.from_device == Some(true) {
            let last = live(&mut self.live).last_device_ts.replace(p.ts_ns);
            if let (Some(last), Some(ka)) = (last, self.keepalive.filter(|k| *k > 0)) {
                // Capture times can be anything (the glue saturates them): no overflow.
                let gap = p.ts_ns.saturating_sub(last);
                if gap.saturating_mul(2) > ka as i64 * 3_000_000_000 {
                    rec.keepalive_gap_ns = Some(gap);
                    let gap = Finding::KeepAliveGap {
                        gap_ns: gap,
                        keepalive: ka,
                    };
                    experts.push(gap.item());
                }
            }
        } else if p.from_device == Some(false) {
            live(&mut self.live).recent_qos0.clear();
        }
        match p.msg_type {
            PUBLISH => {
                match p.from_device {
                    Some(true) => self.msgs_up += 1,
                    Some(false) => self.msgs_down += 1,
                    None => {}
                }
                if p.qos == 2 {
                    experts.push(Finding::QoS2.item());
                }
                if p.retain && self.version == 4 {
                    experts.push(Finding::Retain.item());
                }
                match (p.qos, p.msgid) {
                    (1 | 2, Some(id)) => {
                        self.open_exchange((PUBLISH, p.src, id), p, &mut rec, experts)
                    }
                    (0, _) if p.from_device == Some(true) => {
                        let recent = &mut live(&mut self.live).recent_qos0;
                        if recent.len() >= MAX_RECENT_QOS0 {
                            recent.pop_front();
                        }
                        recent.push_back((p.frame, p.ts_ns));
                    }
                    _ => {}
                }
            }
            SUBSCRIBE | UNSUBSCRIBE => {
                if let Some(id) = p.msgid {
                    self.open_exchange((p.msg_type, p.src, id), p, &mut rec, experts);
                    if let (SUBSCRIBE, Some(idx)) = (p.msg_type, rec.exchange) {
                        let names = p
                            .filters
                            .iter()
                            .take(64)
                            .map(|f| String::from_utf8_lossy(f).into_owned())
                            .collect();
                        sub_filters.insert(idx, names);
                    }
                }
            }
            PINGREQ if live(&mut self.live).pings.len() < MAX_OPEN => {
                let idx = self.exchanges.len();
                self.exchanges.push(Exchange {
                    frame: p.frame,
                    kind: PINGREQ,
                    ack: None,
                });
                live(&mut self.live).pings.push_back((idx, p.ts_ns));
                rec.exchange = Some(idx);
            }
            PUBACK | PUBREC | SUBACK | UNSUBACK => {
                let req = match p.msg_type {
                    PUBACK | PUBREC => PUBLISH,
                    SUBACK => SUBSCRIBE,
                    _ => UNSUBSCRIBE,
                };
                match p
                    .msgid
                    .and_then(|id| live(&mut self.live).open.remove(&(req, p.dst, id)))
                {
                    Some(open) => {
                        let idx = self.close_exchange(open, p, &mut rec);
                        if p.msg_type == SUBACK {
                            let names = sub_filters.remove(&idx).unwrap_or_default();
                            for (i, code) in p.sub_codes.iter().enumerate().take(64) {
                                let name = names
                                    .get(i)
                                    .cloned()
                                    .unwrap_or_else(|| format!("filter {}", i + 1));
                                if *code >= 0x80 {
                                    let refused = Finding::SubscriptionRefused {
                                        filter: &name,
                                        code: *code,
                                    };
                                    experts.push(refused.item());
                                }
                                rec.sub_results.push((name, *code));
                            }
                        }
                    }
                    None => experts.push(Finding::OrphanAck(p.msgid.unwrap_or(0)).item()),
                }
            }
            PINGRESP => {
                if let Some(open) = live(&mut self.live).pings.pop_front() {
                    self.close_exchange(open, p, &mut rec);
                }
            }
            DISCONNECT if p.from_device != Some(false) => self.disconnect = true,
            _ => {}
        }
        rec
    }

    /// Session length in nanoseconds, first packet to the end (or the last packet).
    pub fn duration_ns(&self) -> i64 {
        if self.last_frame == 0 {
            return 0;
        }
        let ended = self.reset.is_some() || self.fin.is_some();
        let end = if ended { self.end_ts } else { self.last_ts }.max(self.last_ts);
        end.saturating_sub(self.first_ts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(
        msg_type: u8,
        frame: u32,
        ts_s: i64,
        from_device: bool,
        msgid: Option<u16>,
    ) -> FlowPacket<'static> {
        let (src, dst) = if from_device { (1, 2) } else { (2, 1) };
        FlowPacket {
            msg_type,
            frame,
            ts_ns: ts_s * 1_000_000_000,
            src,
            dst,
            from_device: Some(from_device),
            msgid,
            ..Default::default()
        }
    }

    #[test]
    fn puback_pairs_by_id_and_direction() {
        let mut f = FlowState {
            version: 4,
            ..Default::default()
        };
        let mut subs = FxMap::default();
        let mut ex = Vec::new();
        let mut p = pkt(PUBLISH, 10, 1, true, Some(7));
        p.qos = 1;
        let r = f.on_packet(&p, &mut subs, &mut ex);
        assert_eq!(r.exchange, Some(0));
        // A PUBACK from the device for id 7 does not answer the device's own PUBLISH.
        let r = f.on_packet(&pkt(PUBACK, 11, 1, true, Some(7)), &mut subs, &mut ex);
        assert_eq!(r.ack_to, None);
        assert_eq!(ex[0].0, Ei::OrphanAck);
        let r = f.on_packet(&pkt(PUBACK, 12, 3, false, Some(7)), &mut subs, &mut ex);
        assert_eq!(r.ack_to, Some((10, 2_000_000_000)));
        assert_eq!(f.exchanges[0].ack(), Some(12));
    }

    #[test]
    fn dup_retransmission_and_id_reuse() {
        let mut f = FlowState::default();
        let (mut subs, mut ex) = (FxMap::default(), Vec::new());
        let mut p = pkt(PUBLISH, 1, 0, true, Some(5));
        p.qos = 1;
        f.on_packet(&p, &mut subs, &mut ex);
        let mut d = pkt(PUBLISH, 2, 1, true, Some(5));
        d.qos = 1;
        d.dup = true;
        assert_eq!(f.on_packet(&d, &mut subs, &mut ex).dup_of, Some(1));
        let mut again = pkt(PUBLISH, 3, 2, true, Some(5));
        again.qos = 1;
        let r = f.on_packet(&again, &mut subs, &mut ex);
        assert_eq!(r.exchange, Some(1));
        assert_eq!(ex.last().unwrap().0, Ei::PacketIdReused);
    }

    #[test]
    fn suback_names_refused_filters() {
        let mut f = FlowState::default();
        let (mut subs, mut ex) = (FxMap::default(), Vec::new());
        let filters: [&[u8]; 2] = [b"/a1B2c3D4e5F/dev/user/get", b"/secret/#"];
        let mut s = pkt(SUBSCRIBE, 1, 0, true, Some(9));
        s.filters = &filters;
        f.on_packet(&s, &mut subs, &mut ex);
        let mut a = pkt(SUBACK, 2, 0, false, Some(9));
        a.sub_codes = &[1, 0x80];
        let r = f.on_packet(&a, &mut subs, &mut ex);
        assert_eq!(
            r.sub_results,
            [
                ("/a1B2c3D4e5F/dev/user/get".to_string(), 1),
                ("/secret/#".to_string(), 0x80)
            ]
        );
        assert_eq!(
            ex,
            [(
                Ei::SubscriptionRefused,
                "Subscription to '/secret/#' refused (0x80)".to_string()
            )]
        );
    }

    #[test]
    fn keepalive_gap_and_abrupt_end() {
        let mut f = FlowState {
            keepalive: Some(30),
            ..Default::default()
        };
        let (mut subs, mut ex) = (FxMap::default(), Vec::new());
        f.on_packet(&pkt(PINGREQ, 1, 0, true, None), &mut subs, &mut ex);
        let r = f.on_packet(&pkt(PINGRESP, 2, 0, false, None), &mut subs, &mut ex);
        assert_eq!(r.ack_to, Some((1, 0)));
        // 44 s is within 1.5 × 30 s; 46 s is not.
        assert!(f
            .on_packet(&pkt(PUBLISH, 3, 44, true, None), &mut subs, &mut ex)
            .keepalive_gap_ns
            .is_none());
        let r = f.on_packet(&pkt(PUBLISH, 4, 90, true, None), &mut subs, &mut ex);
        assert_eq!(r.keepalive_gap_ns, Some(46_000_000_000));
        assert_eq!(ex.last().unwrap().0, Ei::KeepAliveGap);
        f.on_tcp_end(5, 91_000_000_000, true);
        assert_eq!(f.end(), End::Reset);
        assert!(f.likely_lost(4));
        assert_eq!(f.marks.len(), 1);
        assert_eq!(f.duration_ns(), 91_000_000_000);
    }

    #[test]
    fn extreme_capture_times_do_not_overflow() {
        // A crafted pcapng timestamp becomes i64::MIN or i64::MAX ns in the glue (saturated);
        // differences of such times overflowed (a panic in debug builds, nonsense in release).
        let mut f = FlowState {
            keepalive: Some(30),
            ..Default::default()
        };
        let (mut subs, mut ex) = (FxMap::default(), Vec::new());
        let at = |msg_type, frame, ts_ns, from_device| FlowPacket {
            ts_ns,
            ..pkt(msg_type, frame, 0, from_device, None)
        };
        let mut p = at(PUBLISH, 1, i64::MIN, true);
        p.msgid = Some(1);
        p.qos = 1;
        f.on_packet(&p, &mut subs, &mut ex);
        f.on_packet(&at(PUBLISH, 2, i64::MIN, true), &mut subs, &mut ex);
        let r = f.on_packet(&at(PINGREQ, 3, i64::MAX, true), &mut subs, &mut ex);
        assert_eq!(r.keepalive_gap_ns, Some(i64::MAX));
        let mut a = at(PUBACK, 4, i64::MAX, false);
        a.msgid = Some(1);
        assert_eq!(
            f.on_packet(&a, &mut subs, &mut ex).ack_to,
            Some((1, i64::MAX))
        );
        f.on_tcp_end(5, i64::MAX, true);
        assert!(f.marks.is_empty());
        assert_eq!(f.duration_ns(), i64::MAX);
    }

    #[test]
    fn open_exchanges_are_bounded() {
        let mut f = FlowState::default();
        let (mut subs, mut ex) = (FxMap::default(), Vec::new());
        for i in 0..100_000u32 {
            let mut p = pkt(PUBLISH, i, 0, true, Some((i % 65_536) as u16));
            p.qos = 1;
            p.src = i as u64 / 65_536;
            f.on_packet(&p, &mut subs, &mut ex);
        }
        assert_eq!(f.live.as_ref().map_or(0, |l| l.open.len()), MAX_OPEN);
        assert_eq!(f.exchanges.len(), MAX_OPEN);
    }
}
