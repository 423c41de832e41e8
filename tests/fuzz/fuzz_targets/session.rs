//! The whole per-capture pipeline without Wireshark: a sequence of synthetic MQTT packets on a
//! few connections goes through `session::Capture` (login, sign, topics, payloads, request/reply
//! pairing, MQTT flow), each record is rendered through `render::render` into a sink that checks
//! the tree stays balanced (and once more without a tree, which must give the same Info column),
//! and a final pass re-renders everything and feeds the statistics, as Wireshark's later passes do.
//!
//! Input: records, each
//!   byte 0   bits 0-3 MQTT message type, bit 4 DUP, bit 5 RETAIN, bits 6-7 QoS
//!   byte 1   bit 0 sent by the device, bit 1 over TLS, bit 2 CONNACK code is MQTT 5, bit 3 will,
//!            bit 4 this record is a TCP FIN/RST (bit 5: RST) instead of a packet,
//!            bit 6 CONNECT: replace the password by the correct sign for the lab secrets
//!   byte 2   connection (modulo 4)
//!   byte 3-4 milliseconds since the previous record (u16 LE)
//!   then fields `tag, len: u16 LE, value` until tag 0 (see `Tag`). A cut record is dropped.
//! tests/fuzz/make-seeds.py writes real captures' packets in this format.
#![no_main]

use std::sync::OnceLock;

use aliiot::core::cache::{FrameCache, Slot};
use aliiot::core::clientid::ClientId;
use aliiot::core::expert::Ei;
use aliiot::core::fields::{Ett, Hf};
use aliiot::core::mqtt::{CONNECT, PUBLISH};
use aliiot::core::mqtt5::V5;
use aliiot::core::render::{self, Sink, Value};
use aliiot::core::secrets::Secrets;
use aliiot::core::session::{split_username, Capture, Detail, FrameCtx, MqttPdu, PduRecord};
use aliiot::core::sign;
use aliiot::core::stats::{self, DeviceTable, StatsSink};
use libfuzzer_sys::fuzz_target;

const MAX_RECORDS: usize = 512;

/// The lab's secrets (tests/captures/manifest.json and lab-manifest.json).
fn secrets() -> &'static Secrets {
    static S: OnceLock<Secrets> = OnceLock::new();
    S.get_or_init(|| {
        let mut s = Secrets::default();
        for n in 1..=25 {
            s.add_device(
                "a1B2c3D4e5F",
                &format!("lab-sensor-{n:02}"),
                &format!("3f1d0c9e8b7a6d5c4b3a29180f7e6d{n:02}"),
            );
        }
        s.add_device("a1B2c3D4e5F", "dev", "3f1d0c9e8b7a6d5c4b3a29180f7e6d00");
        s.add_device(
            "a1GwPkXyz12",
            "lab-gw-01",
            "7c1e5a9d3b2f48e6a0c4d8b2f6e1a301",
        );
        s.add_device(
            "a1GwPkXyz12",
            "lab-gw-02",
            "7c1e5a9d3b2f48e6a0c4d8b2f6e1a302",
        );
        s.add_device(
            "a1SubPk0001",
            "lab-sub-01",
            "5e2b8f1c4a7d90e3b6f2c5a8d1e4b701",
        );
        s.add_device(
            "a1SubPk0001",
            "lab-sub-02",
            "5e2b8f1c4a7d90e3b6f2c5a8d1e4b702",
        );
        s.add_device(
            "a1DynPk0001",
            "lab-dyn-01",
            "d4e5f6a7b8c9d0e1f2a3b4c5d6e7f801",
        );
        s.add_product("a1DynPk0001", "Zx9YwVuTsRqPoNmL");
        s
    })
}

/// A sink that draws nothing but checks what the glue relies on: `open` first and once, every
/// subtree closed, never a pop of aliiot's own item; with `items` false (tshark without a tree),
/// no item at all. Keeps the Info column text.
struct CheckSink {
    items: bool,
    opened: bool,
    depth: usize,
    calls: usize,
    info: String,
}

impl CheckSink {
    fn new(items: bool) -> Self {
        CheckSink {
            items,
            opened: false,
            depth: 0,
            calls: 0,
            info: String::new(),
        }
    }
}

impl CheckSink {
    fn touch(&mut self) {
        assert!(self.opened, "item added before open");
        self.calls += 1;
    }
}

impl Sink for CheckSink {
    fn open(&mut self, summary: &str) {
        assert!(!self.opened, "opened twice");
        let _ = summary.len();
        self.opened = true;
        self.depth = 1;
    }
    fn field(&mut self, hf: Hf, v: Value<'_>) {
        self.touch();
        let _ = aliiot::core::fields::FIELDS[hf as usize].abbrev;
        if let Value::Time(_, ns) | Value::RelTime(_, ns) = v {
            assert!(
                (0..1_000_000_000).contains(&ns),
                "nanoseconds out of range: {ns}"
            );
        }
    }
    fn append(&mut self, text: &str) {
        self.touch();
        let _ = text.len();
    }
    fn push(&mut self, _: Ett) {
        self.touch();
        self.depth += 1;
    }
    fn push_text(&mut self, _: Ett, label: &str) {
        self.touch();
        let _ = label.len();
        self.depth += 1;
    }
    fn pop(&mut self) {
        self.touch();
        assert!(self.depth > 1, "pop of aliiot's own item");
        self.depth -= 1;
    }
    fn expert(&mut self, _: Ei, msg: &str) {
        self.touch();
        let _ = msg.len();
    }
    fn info(&mut self, text: &str) {
        self.info.push_str(text);
    }
    fn items_wanted(&self) -> bool {
        self.items
    }
}

#[derive(Default)]
struct NullStats;

impl StatsSink for NullStats {
    fn tick(&mut self, path: &[&str]) {
        assert!(!path.is_empty());
    }
    fn sample(&mut self, path: &[&str], _: i64) {
        assert!(!path.is_empty());
    }
}

fn render_checked(
    rec: &PduRecord,
    capture: &Capture,
    conv: u32,
    frame: u32,
    final_pass: bool,
    properties: Option<&[u8]>,
) {
    let conn = &capture.conns[&conv];
    let mut sink = CheckSink::new(true);
    render::render(rec, conn, frame, final_pass, properties, &mut sink);
    assert_eq!(sink.opened, render::visible(rec, conn));
    if sink.opened {
        assert_eq!(sink.depth, 1, "subtrees left open");
    } else {
        assert_eq!(sink.calls, 0);
    }
    // Without a tree (tshark -r without -V or a filter on aliiot) only the Info column is
    // written, and it must read the same.
    let mut lean = CheckSink::new(false);
    render::render(rec, conn, frame, final_pass, properties, &mut lean);
    assert!(
        !lean.opened && lean.calls == 0,
        "items made though none are wanted"
    );
    assert_eq!(lean.info, sink.info, "Info column differs without a tree");
}

/// Field tags of a record.
struct Tag;
impl Tag {
    const CLIENT_ID: u8 = 1;
    const USERNAME: u8 = 2;
    const PASSWORD: u8 = 3;
    const TOPIC: u8 = 4;
    const PAYLOAD: u8 = 5;
    const VERSION: u8 = 6;
    const KEEPALIVE: u8 = 7;
    const CONNACK_CODE: u8 = 8;
    const MSGID: u8 = 9;
    const SUB_CODES: u8 = 10;
    const RESPONSE_TOPIC: u8 = 11;
    const CORRELATION: u8 = 12;
    const ASSIGNED_CLIENT_ID: u8 = 13;
    const PUBACK_REASON: u8 = 14;
    const DISCONNECT_REASON: u8 = 15;
    const USER_PROPERTIES: u8 = 16;
    const TOPIC_ALIAS: u8 = 17;
    const PACKET_LEN: u8 = 18;
    /// Absolute capture time, i64 LE nanoseconds (any value: the glue saturates).
    const TIME: u8 = 19;
    /// Source and destination ports, u16 LE each.
    const PORTS: u8 = 20;
}

struct Record<'a> {
    head: [u8; 5],
    fields: Vec<(u8, &'a [u8])>,
}

fn records(mut data: &[u8]) -> Vec<Record<'_>> {
    let mut out = Vec::new();
    'outer: while data.len() >= 5 && out.len() < MAX_RECORDS {
        let head = [data[0], data[1], data[2], data[3], data[4]];
        data = &data[5..];
        let mut fields = Vec::new();
        loop {
            let Some((&tag, rest)) = data.split_first() else {
                break 'outer;
            };
            data = rest;
            if tag == 0 {
                break;
            }
            if data.len() < 2 {
                break 'outer;
            }
            let len = u16::from_le_bytes([data[0], data[1]]) as usize;
            data = &data[2..];
            if data.len() < len {
                break 'outer;
            }
            fields.push((tag, &data[..len]));
            data = &data[len..];
        }
        out.push(Record { head, fields });
    }
    out
}

fn int<const N: usize>(v: &[u8]) -> Option<[u8; N]> {
    v.get(..N).map(|b| b.try_into().unwrap())
}

/// The password an SDK would compute for this client id and user name with the lab secrets.
fn correct_password(cid: &[u8], user: &[u8]) -> Option<String> {
    let cid_text = String::from_utf8_lossy(cid);
    let user = String::from_utf8_lossy(user);
    let (dn, pk) = split_username(&user)?;
    let cid = ClientId::parse(&cid_text);
    let s = secrets();
    let check = sign::check_login(&cid, pk, dn, b"", s);
    let secret = if cid.is_dynamic_registration() {
        s.product(pk)?
    } else {
        s.device(pk, dn)?
    };
    // Without a signmethod the algorithm is inferred from the (empty) password: HMAC-MD5, whose
    // digest length infers it again.
    let alg = check.algorithm?;
    let content = check.content?;
    Some(alg.hmac_hex(secret.as_bytes(), content.as_bytes()))
}

fuzz_target!(|data: &[u8]| {
    let secrets = secrets();
    let mut capture = Capture::default();
    // One-pass tshark's lighter analyses, fed the same packets: the Info column alone
    // (Detail::Column) and fields that need no session state (Detail::Fields).
    let mut column = Capture::default();
    let mut fields = Capture::default();
    let mut seen: Vec<(u32, u32, PduRecord)> = Vec::new();
    let mut ts_ns: i64 = 1_733_000_000_000_000_000;
    let mut passwords: Vec<String> = Vec::new();
    let recs = records(data);
    // Computed passwords are borrowed by the packets: make them first.
    for r in &recs {
        // The last field with a tag wins, as in the packet built below.
        let get = |t| {
            r.fields
                .iter()
                .rev()
                .find(|(tag, _)| *tag == t)
                .map(|(_, v)| *v)
        };
        if r.head[0] & 0x0f == CONNECT && r.head[1] & 0x40 != 0 {
            let pw = match (get(Tag::CLIENT_ID), get(Tag::USERNAME)) {
                (Some(c), Some(u)) => correct_password(c, u),
                _ => None,
            };
            passwords.push(pw.unwrap_or_default());
        }
    }
    let mut pw_iter = passwords.iter();

    for (i, r) in recs.iter().enumerate() {
        let frame = i as u32 + 1;
        let [b0, flags, conv, d0, d1] = r.head;
        let conv = (conv % 4) as u32;
        ts_ns = ts_ns.saturating_add(u16::from_le_bytes([d0, d1]) as i64 * 1_000_000);
        let mut pdu = MqttPdu {
            msg_type: b0 & 0x0f,
            dup: b0 & 0x10 != 0,
            retain: b0 & 0x20 != 0,
            qos: b0 >> 6,
            connack_v5: flags & 0x04 != 0,
            will: flags & 0x08 != 0,
            ..Default::default()
        };
        let mut v5 = V5::default();
        let from_device = flags & 0x01 != 0;
        let (mut dev_port, mut broker_port) = (50_000 + conv, 1883u32);
        for &(tag, v) in &r.fields {
            match tag {
                Tag::CLIENT_ID => pdu.client_id = Some(v),
                Tag::USERNAME => pdu.username = Some(v),
                Tag::PASSWORD => pdu.password = Some(v),
                // A PUBLISH has one topic; other packets' topics are filters.
                Tag::TOPIC if pdu.msg_type == PUBLISH && pdu.topic.is_none() => pdu.topic = Some(v),
                Tag::TOPIC => pdu.topics.push(v),
                Tag::PAYLOAD => pdu.payload = Some(v),
                Tag::VERSION => pdu.version = v.first().copied(),
                Tag::KEEPALIVE => pdu.keepalive = int::<2>(v).map(u16::from_le_bytes),
                Tag::CONNACK_CODE => pdu.connack_code = v.first().copied(),
                Tag::MSGID => pdu.msgid = int::<2>(v).map(u16::from_le_bytes),
                Tag::SUB_CODES => pdu.sub_codes = v.to_vec(),
                Tag::RESPONSE_TOPIC => pdu.response_topic = Some(v),
                Tag::CORRELATION => pdu.correlation = Some(v),
                Tag::ASSIGNED_CLIENT_ID => pdu.assigned_client_id = Some(v),
                Tag::PUBACK_REASON => v5.puback_reason = v.first().copied(),
                Tag::DISCONNECT_REASON => v5.disconnect_reason = v.first().copied(),
                Tag::USER_PROPERTIES => {
                    v5.user_properties = int::<4>(v).map(u32::from_le_bytes).unwrap_or(0)
                }
                Tag::TOPIC_ALIAS => v5.topic_alias = int::<2>(v).map(u16::from_le_bytes),
                Tag::PACKET_LEN => {
                    v5.packet_len = int::<4>(v).map(u32::from_le_bytes).unwrap_or(0) as usize
                }
                Tag::TIME => {
                    if let Some(b) = int::<8>(v) {
                        ts_ns = i64::from_le_bytes(b);
                    }
                }
                Tag::PORTS => {
                    if let (Some(a), Some(b)) = (int::<2>(v), v.get(2..).and_then(int::<2>)) {
                        dev_port = u16::from_le_bytes(a) as u32;
                        broker_port = u16::from_le_bytes(b) as u32;
                    }
                }
                _ => {}
            }
        }
        pdu.v5 = v5;
        let computed = (pdu.msg_type == CONNECT && flags & 0x40 != 0)
            .then(|| pw_iter.next())
            .flatten()
            .filter(|p| !p.is_empty());
        if let Some(pw) = computed {
            pdu.password = Some(pw.as_bytes());
        }

        if flags & 0x10 != 0 {
            // The full analysis is shown again by the later passes below; the lean ones stand
            // for a one-pass read, which frees an ended connection's links (and must still give
            // the same Info column and identity).
            capture.tcp_end(conv, frame, ts_ns, flags & 0x20 != 0, true);
            column.tcp_end(conv, frame, ts_ns, flags & 0x20 != 0, false);
            fields.tcp_end(conv, frame, ts_ns, flags & 0x20 != 0, false);
            continue;
        }
        let (dev, broker) = (1000 + 2 * conv as u64, 1001 + 2 * conv as u64);
        let ctx = FrameCtx {
            frame,
            src: if from_device { dev } else { broker },
            dst: if from_device { broker } else { dev },
            src_port: if from_device { dev_port } else { broker_port },
            dst_port: if from_device { broker_port } else { dev_port },
            over_tls: flags & 0x02 != 0,
            ts_ns,
        };
        let rec = capture.analyze(conv, &pdu, &ctx, secrets);
        let info = |rec: &PduRecord, capture: &Capture| {
            let mut sink = CheckSink::new(false);
            render::render(rec, &capture.conns[&conv], frame, false, None, &mut sink);
            sink.info
        };
        for (lean, detail) in [(&mut column, Detail::Column), (&mut fields, Detail::Fields)] {
            let mut r = PduRecord::default();
            lean.analyze_with(conv, &pdu, &ctx, secrets, detail, &mut r);
            assert_eq!(
                info(&r, lean),
                info(&rec, &capture),
                "Info column differs with {detail:?}"
            );
            if detail == Detail::Fields {
                // What a filter on the product key or device name matches.
                assert_eq!(r.identity, rec.identity, "identity differs with {detail:?}");
            }
        }
        // A later pass showing the Info column alone, from the cache without the packet.
        {
            let mut cache = FrameCache::default();
            let slot = Slot {
                conv,
                alias_topic: None,
                record: rec.clone().into_cached(),
            };
            let several = frame % 2 == 0;
            cache.store(frame, &[slot], several);
            let mut slots = Vec::new();
            assert_eq!(cache.of_into(frame, &mut slots), several);
            if let Some(kept) = slots.remove(0).record.restore_column() {
                let (from_cache, from_packet) = (info(&kept, &capture), info(&rec, &capture));
                assert_eq!(
                    from_cache, from_packet,
                    "Info column differs from the cache"
                );
            }
        }
        if computed.is_some() {
            if let Some(s) = rec.login.as_ref().and_then(|l| l.sign.as_ref()) {
                assert!(
                    matches!(
                        s.status,
                        sign::SignStatus::Verified | sign::SignStatus::NotASign
                    ),
                    "a correctly signed login did not verify: {:?}",
                    s
                );
            }
        }
        render_checked(&rec, &capture, conv, frame, false, pdu.properties);
        seen.push((conv, frame, rec));
    }

    // Later passes: everything is known now.
    let mut table = DeviceTable::default();
    for (conv, frame, rec) in &seen {
        render_checked(rec, &capture, *conv, *frame, true, None);
        let conn = &capture.conns[conv];
        if let Some(t) = stats::tap_record(rec, conn, *frame, true) {
            stats::apply(&t, &mut NullStats);
            table.add(&t);
        }
    }
    let _ = table.render();
    for conn in capture.conns.values() {
        let _ = conn.flow.end();
        let _ = conn.flow.duration_ns();
        assert!(conn
            .requests
            .iter()
            .all(|r| r.response().is_none_or(|f| f >= r.frame)));
    }
});
