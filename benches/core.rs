//! The core alone, without tshark: what aliiot costs per MQTT packet on the first pass and on a
//! later pass, over a synthetic capture shaped like bench/gen.py's (many devices, each with a
//! CONNECT, subscriptions, property posts and their replies, service calls, property sets, pings).
//!
//!   cargo bench --no-default-features --bench core            (or: make bench-core)
//!
//! It drives the core as the glue does ([`aliiot::core::dissect::Dissection`]): cut the bytes into
//! packets, read each, analyse it, keep its compact record; on the later pass restore the record
//! and describe the packet again; render both into a sink that only counts.
//! For repeatable counts: valgrind --tool=callgrind target/release/deps/core-<hash> --quick
//! (--only=shown, say, runs only the passes whose name has that word).
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

/// Counts the bytes held on the heap, to weigh what the analysis keeps.
struct Counting;

static HELD: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        HELD.fetch_add(l.size() as isize, Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        HELD.fetch_sub(l.size() as isize, Ordering::Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        HELD.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

use aliiot::core::dissect::{Dissection, ACK, FIN};
use aliiot::core::mqtt;
use aliiot::core::render::{self, Sink};
use aliiot::core::secrets::Secrets;
use aliiot::core::session::{Detail, FrameCtx};

fn remaining(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let b = (n % 128) as u8;
        n /= 128;
        out.push(if n > 0 { b | 0x80 } else { b });
        if n == 0 {
            break;
        }
    }
}

fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut p = vec![first];
    remaining(body.len(), &mut p);
    p.extend_from_slice(body);
    p
}

fn s16(s: &str) -> Vec<u8> {
    let mut v = (s.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(s.as_bytes());
    v
}

fn publish(topic: &str, payload: &str, pid: Option<u16>) -> Vec<u8> {
    let mut body = s16(topic);
    if let Some(p) = pid {
        body.extend_from_slice(&p.to_be_bytes());
    }
    body.extend_from_slice(payload.as_bytes());
    packet(if pid.is_some() { 0x32 } else { 0x30 }, &body)
}

fn connect(pk: &str, dn: &str) -> Vec<u8> {
    let mut body = s16("MQTT");
    body.extend_from_slice(&[4, 0xc2, 0, 60]);
    body.extend(s16(&format!(
        "{dn}|securemode=3,signmethod=hmacsha1,timestamp=1717200000000|"
    )));
    body.extend(s16(&format!("{dn}&{pk}")));
    body.extend(s16("0123456789abcdef0123456789abcdef01234567"));
    packet(0x10, &body)
}

/// One frame: who sends it (true: the device) and its MQTT bytes.
type Frame = (bool, Vec<u8>);

fn session(pk: &str, dn: &str, blocks: usize) -> Vec<Frame> {
    let sys = format!("/sys/{pk}/{dn}/thing/");
    let mut f = vec![(true, connect(pk, dn)), (false, vec![0x20, 2, 0, 0])];
    for (pid, (t, qos)) in [
        ("service/property/set", 1u8),
        ("event/property/post_reply", 0),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = (pid as u16 + 1).to_be_bytes().to_vec();
        body.extend(s16(&format!("{sys}{t}")));
        body.push(qos);
        f.push((true, packet(0x82, &body)));
        f.push((false, packet(0x90, &[0, pid as u8 + 1, qos])));
    }
    for i in 0..blocks {
        let id = 1000 + i;
        let pid = (i as u16 % 60000) + 10;
        match i % 4 {
            0 | 1 => {
                let m = "thing.event.property.post";
                f.push((true, publish(&format!("{sys}event/property/post"),
                    &format!(r#"{{"id":"{id}","version":"1.0","params":{{"temperature":{}.5,"humidity":{}}},"method":"{m}"}}"#, 20 + i % 9, 40 + i % 30),
                    Some(pid))));
                f.push((false, packet(0x40, &pid.to_be_bytes())));
                f.push((false, publish(&format!("{sys}event/property/post_reply"),
                    &format!(r#"{{"code":200,"data":{{}},"id":"{id}","message":"success","method":"{m}","version":"1.0"}}"#),
                    None)));
            }
            2 => {
                let m = "thing.service.Calibrate";
                f.push((false, publish(&format!("{sys}service/Calibrate"),
                    &format!(r#"{{"id":"{id}","version":"1.0","params":{{"offset":0.{}}},"method":"{m}"}}"#, i % 10),
                    None)));
                f.push((true, publish(&format!("{sys}service/Calibrate_reply"),
                    &format!(r#"{{"code":200,"data":{{"result":1}},"id":"{id}","message":"success","method":"{m}","version":"1.0"}}"#),
                    None)));
            }
            _ => {
                f.push((true, vec![0xc0, 0]));
                f.push((false, vec![0xd0, 0]));
            }
        }
    }
    f.push((true, vec![0xe0, 0]));
    // The device's FIN: an empty frame (the glue reports it from TCP's flags).
    f.push((true, Vec::new()));
    f
}

/// A sink that keeps nothing: what rendering costs aliiot itself.
#[derive(Default)]
struct Null(usize);

impl Sink for Null {
    fn open(&mut self, s: &str) {
        self.0 += s.len();
    }
    fn field(&mut self, _: aliiot::core::fields::Hf, _: aliiot::core::render::Value<'_>) {
        self.0 += 1;
    }
    fn append(&mut self, t: &str) {
        self.0 += t.len();
    }
    fn push(&mut self, _: aliiot::core::fields::Ett) {}
    fn push_text(&mut self, _: aliiot::core::fields::Ett, l: &str) {
        self.0 += l.len();
    }
    fn pop(&mut self) {}
    fn expert(&mut self, _: aliiot::core::expert::Ei, m: &str) {
        self.0 += m.len();
    }
    fn info(&mut self, t: &str) {
        self.0 += t.len();
    }
}

struct Run {
    dissection: Dissection,
    packets: usize,
}

fn ctx(dev: u64, up: bool, frame: u32) -> FrameCtx {
    let (src, dst) = if up { (dev, 1) } else { (1, dev) };
    FrameCtx {
        frame,
        src,
        dst,
        src_port: if up { 50000 } else { 1883 },
        dst_port: if up { 1883 } else { 50000 },
        over_tls: false,
        ts_ns: frame as i64 * 1_000_000,
    }
}

/// The first pass over `frames` (device, bytes; no bytes: the device's FIN); `shown`: items made
/// for each packet (tshark -V), else only what later packets need (tshark -q -z io,stat,0).
fn first_pass(all: &[(u64, u32, Frame)], secrets: &Secrets, shown: bool) -> Run {
    let mut d = Dissection::default();
    let mut packets = 0;
    let mut sink = Null::default();
    let detail = if shown { Detail::Full } else { Detail::Bare };
    for (n, (dev, _, (up, bytes))) in all.iter().enumerate() {
        let frame = n as u32 + 1;
        let ctx = ctx(*dev, *up, frame);
        if bytes.is_empty() {
            d.tcp_flags(ctx.src, ctx.dst, frame, ctx.ts_ns, FIN | ACK);
            continue;
        }
        d.first_pass(
            bytes,
            ctx,
            &|| false,
            mqtt::V311,
            secrets,
            detail,
            true,
            &mut |cap, conv, rec, _, pdu| {
                if shown {
                    if let Some(c) = cap.conns.get(&conv) {
                        render::render(rec, c, frame, false, pdu.properties, &mut sink);
                    }
                }
                packets += 1;
            },
        );
    }
    d.frame_is_new(u32::MAX);
    black_box(sink.0);
    Run {
        dissection: d,
        packets,
    }
}

/// A later pass: each packet's record restored and described (tshark -2 -V).
fn later_pass(all: &[(u64, u32, Frame)], run: &mut Run, secrets: &Secrets) -> usize {
    let mut sink = Null::default();
    for (n, (_, _, (_, bytes))) in all.iter().enumerate() {
        let frame = n as u32 + 1;
        run.dissection.later_pass(
            bytes,
            frame,
            &mut |_| 0,
            true,
            mqtt::V311,
            secrets,
            Detail::Full,
            &mut |cap, conv, rec, _, pdu| {
                if let Some(c) = cap.conns.get(&conv) {
                    render::render(rec, c, frame, true, pdu.properties, &mut sink);
                }
            },
        );
    }
    sink.0
}

/// The capture of `devices` sessions of `blocks` exchanges each, devices interleaved as in a
/// capture of many concurrent sessions.
fn capture_of(devices: usize, blocks: usize) -> Vec<(u64, u32, Frame)> {
    let sessions: Vec<Vec<Frame>> = (0..devices)
        .map(|d| session("a1Ik2zwEQHf", &format!("th-{d:05}"), blocks))
        .collect();
    let mut all = Vec::new();
    let longest = sessions.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..longest {
        for (d, s) in sessions.iter().enumerate() {
            if let Some(f) = s.get(i) {
                all.push((d as u64 + 100, d as u32 + 1, f.clone()));
            }
        }
    }
    all
}

/// Bytes the first pass keeps (analysis and cache) for a capture: (bytes, packets).
fn kept(devices: usize, blocks: usize, secrets: &Secrets) -> (f64, f64) {
    let all = capture_of(devices, blocks);
    let before = HELD.load(Ordering::Relaxed);
    let run = first_pass(&all, secrets, false);
    let held = HELD.load(Ordering::Relaxed) - before;
    let packets = run.packets as f64;
    drop(run);
    (held as f64, packets)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    // --only=<word>: only the runs whose name has it (for callgrind).
    let only = args
        .iter()
        .find_map(|a| a.strip_prefix("--only="))
        .unwrap_or("")
        .to_string();
    let (devices, blocks, rounds) = if quick { (50, 40, 1) } else { (400, 60, 5) };
    let all = capture_of(devices, blocks);
    let mut secrets = Secrets::default();
    secrets.add_device(
        "a1Ik2zwEQHf",
        "th-00001",
        "3f1d0c9e8b7a6d5c4b3a29180f7e6d01",
    );

    let time = |name: &str, f: &mut dyn FnMut() -> usize| {
        if !name.contains(only.as_str()) {
            return;
        }
        let mut best = f64::MAX;
        let mut per = 0;
        for _ in 0..rounds {
            let t = Instant::now();
            per = black_box(f());
            best = best.min(t.elapsed().as_secs_f64());
        }
        let packets = per.max(1);
        println!(
            "{name:<40} {:>8.0} ns/packet  ({packets} packets, best of {rounds})",
            best * 1e9 / packets as f64
        );
    };
    time("first pass, nothing shown (-q -z)", &mut || {
        first_pass(&all, &secrets, false).packets
    });
    time("first pass, items made (-V)", &mut || {
        first_pass(&all, &secrets, true).packets
    });
    let mut run = first_pass(&all, &secrets, false);
    let packets = run.packets;
    time("later pass, items made (-2 -V)", &mut || {
        black_box(later_pass(&all, &mut run, &secrets));
        packets
    });
    let cache = run.dissection.cache_bytes();
    println!(
        "cache: {cache} bytes for {packets} packets ({:.1} bytes/packet)",
        cache as f64 / packets as f64
    );
    drop(run);
    if !only.is_empty() {
        return;
    }
    // What the first pass keeps, split between packets and finished connections: the same
    // number of sessions with more exchanges each, and more sessions of the same length.
    let (d, b) = if quick { (50, 20) } else { (400, 20) };
    let (m0, p0) = kept(d, b, &secrets);
    let (m1, p1) = kept(d, b * 3, &secrets);
    let (m2, p2) = kept(d * 2, b, &secrets);
    let per_packet = (m1 - m0) / (p1 - p0);
    let per_conn = (m2 - m0 - per_packet * (p2 - p0)) / d as f64;
    println!(
        "kept after the first pass: {per_packet:.1} bytes per MQTT packet, {per_conn:.0} bytes per finished connection"
    );
}
