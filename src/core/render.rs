//! Turns a cached [`PduRecord`] into fields, subtrees, expert items and column text, through the
//! [`Sink`] trait. The epan glue implements `Sink` with proto_tree calls; tests implement it with a
//! recorder, so what the user sees is tested without Wireshark.

use super::clientid::TimestampUnit;
use super::expert::Ei;
use super::expert::Finding;
use super::fields::{Ett, Hf};
use super::mqtt::{CONNACK, CONNECT, PUBLISH};
use super::payload::{self, Body, TreeItem};
use super::session::{Conn, PduRecord, TopicView};
use super::sign::SignStatus;
use super::topic::Flow;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Str(&'a str),
    U32(u32),
    I32(i32),
    Bool(bool),
    /// Seconds and nanoseconds since the Unix epoch.
    Time(i64, i32),
    /// A duration in seconds and nanoseconds.
    RelTime(i64, i32),
    F64(f64),
}

pub trait Sink {
    /// Opens aliiot's item for one MQTT packet; `summary` is appended to its label.
    fn open(&mut self, summary: &str);
    /// Adds a field to the current subtree.
    fn field(&mut self, hf: Hf, v: Value<'_>);
    /// Appends text to the label of the last field added.
    fn append(&mut self, text: &str);
    /// A field whose label adds ` (description)` after the value.
    fn field_described(&mut self, hf: Hf, v: Value<'_>, description: &str) {
        self.field(hf, v);
        if self.labels_wanted() {
            self.append(&format!(" ({description})"));
        }
    }
    /// Makes the last field added the parent of the following ones, until [`Sink::pop`].
    fn push(&mut self, ett: Ett);
    /// The topic whose fields follow: a PUBLISH's, or one of a SUBSCRIBE's or UNSUBSCRIBE's
    /// filters (in packet order), as shown. A sink that points fields at their bytes looks for
    /// it in the packet.
    fn topic(&mut self, _text: &str) {}
    /// A walk of the payload's members in document order begins (its properties, a JSON tree):
    /// a sink that points fields at their bytes looks for the names that follow from the
    /// payload's start again, each after the one before. `root` is the member whose value the
    /// walk shows (`params`, `data`), or none for the payload itself: the items of an array
    /// there follow.
    fn rewind(&mut self, _root: Option<&'static str>) {}
    /// Adds a text-only item and makes it the parent of the following ones.
    fn push_text(&mut self, ett: Ett, label: &str);
    fn pop(&mut self);
    /// Adds an expert item on aliiot's item for this packet.
    fn expert(&mut self, ei: Ei, msg: &str);
    /// Appends to the Info column.
    fn info(&mut self, text: &str);
    /// Whether the items are wanted at all: false when nothing shows, filters on or exports
    /// aliiot's fields or expert items (tshark -r without -V, -Y or -e aliiot…), so only the
    /// column text is made.
    fn items_wanted(&self) -> bool {
        true
    }
    /// Whether the Info column is filled in (false under tshark -q, for one).
    fn info_wanted(&self) -> bool {
        true
    }
    /// Whether item labels are shown (false when the tree is only filtered on or exported: then
    /// only field values matter, and no label text is made).
    fn labels_wanted(&self) -> bool {
        true
    }
    /// Whether items made from a PUBLISH's payload are wanted (false when the tree is only
    /// filtered on or exported and none of them is named).
    fn payload_wanted(&self) -> bool {
        true
    }
    /// Whether expert items are wanted (false when the tree is only filtered on or exported and
    /// no expert item is named).
    fn experts_wanted(&self) -> bool {
        true
    }
}

/// The Info column alone, for a dissection that wants no item (tshark without a tree): every
/// text the column gets goes to `F`, and nothing else is made.
pub struct ColumnSink<F: FnMut(&str)>(pub F);

impl<F: FnMut(&str)> Sink for ColumnSink<F> {
    fn open(&mut self, _: &str) {}
    fn field(&mut self, _: Hf, _: Value<'_>) {}
    fn append(&mut self, _: &str) {}
    fn push(&mut self, _: Ett) {}
    fn push_text(&mut self, _: Ett, _: &str) {}
    fn pop(&mut self) {}
    fn expert(&mut self, _: Ei, _: &str) {}
    fn info(&mut self, text: &str) {
        (self.0)(text);
    }
    fn items_wanted(&self) -> bool {
        false
    }
}

/// A label's text, made only when labels are shown.
fn shown_label(sink: &dyn Sink, text: impl FnOnce() -> String) -> String {
    if sink.labels_wanted() {
        text()
    } else {
        String::new()
    }
}

thread_local! {
    /// The label being made. A label is made for every subtree shown (several per packet), and
    /// a String each, grown piece by piece, cost about as much as Wireshark's item itself.
    static LABEL: std::cell::RefCell<String> = std::cell::RefCell::new(String::with_capacity(256));
}

/// Writes a label with `build` into the reused buffer and hands it to `then`; when labels are
/// not shown, `then` gets "" and nothing is written.
fn with_label<R>(
    sink: &mut dyn Sink,
    build: impl FnOnce(&mut String),
    then: impl FnOnce(&mut dyn Sink, &str) -> R,
) -> R {
    if !sink.labels_wanted() {
        return then(sink, "");
    }
    LABEL.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            build(&mut buf);
            then(sink, &buf)
        }
        // Only if a label were made while another is handed over (never): a buffer of its own.
        Err(_) => {
            let mut own = String::new();
            build(&mut own);
            then(sink, &own)
        }
    })
}

/// `n` in decimal, written into `buf` (core::fmt costs more than the rest of a label).
pub(crate) fn decimal(n: u64, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    let mut v = n;
    loop {
        at -= 1;
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[at..]).unwrap_or_default()
}

fn ms_time(ms: u64) -> Value<'static> {
    Value::Time(
        (ms / 1000).min(i64::MAX as u64) as i64,
        ((ms % 1000) * 1_000_000) as i32,
    )
}

/// Renders one packet. `frame` is the number of the frame being rendered; `conn` is the
/// connection's state now (complete on later passes), used where the record predates knowledge.
/// `final_pass` is true once the whole capture has been seen (a later pass), when a missing reply
/// is known to be missing. `properties` is the packet's own MQTT 5 property list
/// ([`super::session::MqttPdu::properties`]): its user properties are shown from the packet
/// itself, never kept.
pub fn render(
    rec: &PduRecord,
    conn: &Conn,
    frame: u32,
    final_pass: bool,
    properties: Option<&[u8]>,
    sink: &mut dyn Sink,
) {
    let identity = rec.identity.as_ref().or(conn.identity.as_ref());
    let Some(id) = identity else { return };
    if !sink.items_wanted() {
        if sink.info_wanted() {
            render_info(rec, id, sink);
        }
        return;
    }
    let sign = rec.login.as_ref().and_then(|l| l.sign.as_ref());
    // Pieces joined in the label buffer: this runs for every packet shown.
    let what: [&str; 3] = match (rec.msg_type, sign, rec.connack) {
        (CONNECT, Some(s), _) => [", ", s.status.label(), ""],
        (CONNACK, _, Some(c)) => [
            ", login ",
            if c.accepted { "accepted" } else { "refused" },
            "",
        ],
        (PUBLISH, _, _) if !rec.topics.is_empty() => {
            let t = &rec.topics[0];
            [", ", t.class.name, reply_word(t)]
        }
        _ => ["", "", ""],
    };
    with_label(
        sink,
        |b| {
            for p in [", ", id.device_name(), " (", id.product_key(), ")"] {
                b.push_str(p);
            }
            what.iter().for_each(|p| b.push_str(p));
        },
        |sink, summary| sink.open(summary),
    );
    sink.field(Hf::ProductKey, Value::Str(id.product_key()));
    sink.field(Hf::DeviceName, Value::Str(id.device_name()));
    sink.field(Hf::IdentitySource, Value::U32(id.source as u32));
    if let Some(d) = rec.direction {
        sink.field(Hf::Direction, Value::U32(d as u32));
    }
    if let Some(gw) = &rec.gateway {
        sink.field(Hf::GatewayProductKey, Value::Str(gw.product_key()));
        sink.field(Hf::GatewayDeviceName, Value::Str(gw.device_name()));
    }
    if let Some(f) = rec.connect_in {
        sink.field(Hf::ConnectIn, Value::U32(f));
    }
    render_links(rec, conn, frame, final_pass, sink);
    for t in &rec.topics {
        render_topic(t, sink);
    }
    if let Some(ms) = rec.ntp_offset_ms {
        sink.field(Hf::NtpOffset, Value::F64(ms / 1000.0));
        sink.append(" s");
    }
    if let Some(ms) = rec.ntp_capture_offset_ms {
        sink.field(Hf::NtpCaptureOffset, Value::F64(ms / 1000.0));
        sink.append(" s");
    }
    if let Some(f) = rec.echo_of {
        sink.field(Hf::EchoOf, Value::U32(f));
    }
    for l in &rec.sub_logins {
        sink.push_text(
            Ett::Sign,
            &format!(
                "Sub-device {} ({}): {}",
                l.device_name,
                l.product_key,
                l.status.label()
            ),
        );
        sink.field(Hf::SubProductKey, Value::Str(&l.product_key));
        sink.field(Hf::SubDeviceName, Value::Str(&l.device_name));
        sink.field(Hf::SubSignStatus, Value::U32(l.status as u32));
        sink.pop();
    }
    if let Some(id) = &rec.assigned_client_id {
        sink.field(Hf::AssignedClientId, Value::Str(id));
    }
    if let Some((code, meaning)) = rec.v5_reason {
        sink.field(Hf::ReasonCode, Value::U32(code as u32));
        sink.append(&shown_label(sink, || format!(" ({meaning})")));
    }
    if let Some(list) = properties {
        render_user_properties(list, sink);
    }
    if let Some(p) = rec.payload.as_ref().filter(|_| sink.payload_wanted()) {
        for (hf, v) in &p.named {
            sink.field(*hf, Value::Str(v));
        }
        render_body(&p.body, sink);
    }
    if rec.msg_type == CONNECT && conn.connect_frame() == Some(frame) {
        if let Some(f) = conn.connack_frame() {
            sink.field(Hf::ConnackIn, Value::U32(f));
        }
    }
    if let Some(login) = &rec.login {
        render_client_id(login, sink);
        if let Some(s) = &login.sign {
            sink.push_text(
                Ett::Sign,
                &shown_label(sink, || format!("Login sign: {}", s.status.label())),
            );
            sink.field(Hf::SignStatus, Value::U32(s.status as u32));
            if let Some(a) = s.algorithm {
                sink.field(Hf::SignAlgorithm, Value::Str(a.name()));
                if s.algorithm_inferred {
                    sink.append(" (no signmethod: inferred)");
                }
            }
            if s.status != SignStatus::NotASign {
                sink.field(Hf::SignSecretKind, Value::U32(s.secret_kind as u32));
                if let Some(c) = &s.content {
                    sink.field(Hf::SignContent, Value::Str(c));
                }
            }
            sink.pop();
        }
    }
    if let Some(c) = rec.connack {
        sink.push_text(
            Ett::Login,
            &format!("Login {}", if c.accepted { "accepted" } else { "refused" }),
        );
        sink.field(Hf::LoginCode, Value::U32(c.code as u32));
        sink.field(Hf::LoginAccepted, Value::Bool(c.accepted));
        sink.field(Hf::LoginMeaning, Value::Str(c.meaning));
        sink.pop();
    }
    render_flow(rec, conn, frame, final_pass, sink);
    if sink.experts_wanted() {
        for (ei, msg) in &rec.all_experts() {
            sink.expert(*ei, msg);
        }
    }
    if sink.info_wanted() {
        render_info(rec, id, sink);
    }
}

/// The Info column's text for one packet (a packet is one of PUBLISH, CONNECT, CONNACK at most).
fn render_info(rec: &PduRecord, id: &super::session::Identity, sink: &mut dyn Sink) {
    if let (PUBLISH, Some(p), Some(t)) = (rec.msg_type, &rec.payload, rec.topics.first()) {
        publish_info(t, p.code(), sink);
    }
    // Pieces joined, not format!: this runs for every login shown.
    if let Some(login) = &rec.login {
        let sign = login.sign.as_ref().map(|s| s.status.label());
        sink.info(
            &[
                " · ",
                id.device_name(),
                " (",
                id.product_key(),
                ")",
                if sign.is_some() { ", " } else { "" },
                sign.unwrap_or_default(),
            ]
            .concat(),
        );
    }
    if let Some(c) = rec.connack {
        let (verdict, meaning) = if c.accepted {
            ("accepted", "")
        } else {
            ("refused: ", first_clause(c.meaning))
        };
        sink.info(&[" · ", id.device_name(), " login ", verdict, meaning].concat());
    }
}

fn reply_word(t: &TopicView) -> &'static str {
    super::topic::reply_suffix(t.class, t.is_reply)
}

/// `code`: the Alink message's, if any.
fn publish_info(t: &TopicView, code: Option<u64>, sink: &mut dyn Sink) {
    // Made on the stack: this runs for every PUBLISH whose Info column is shown.
    use std::fmt::Write;
    let mut s = super::text::StackText::<96>::default();
    let _ = s.write_str(" · ");
    let _ = s.write_str(t.class.name);
    let _ = s.write_str(reply_word(t));
    if let Some(c) = code {
        let mut digits = [0u8; 20];
        let _ = s.write_str(" ");
        let _ = s.write_str(decimal(c, &mut digits));
    }
    sink.info(s.as_str());
}

fn render_links(rec: &PduRecord, conn: &Conn, frame: u32, final_pass: bool, sink: &mut dyn Sink) {
    if let Some(req) = rec.request.and_then(|i| conn.requests.get(i)) {
        match req.response() {
            Some(f) => sink.field(Hf::ResponseIn, Value::U32(f)),
            None if final_pass && req.expects_reply => expert(sink, Finding::Unanswered),
            None => {}
        }
    }
    if let Some(r) = rec.reply {
        sink.field(Hf::RequestIn, Value::U32(r.request_frame));
        sink.field(Hf::ResponseTime, ns_value(r.delta_ns));
        // An error reply to a request the thing model finds fault with: likely why.
        let code = rec
            .payload
            .as_ref()
            .and_then(payload::Payload::code)
            .filter(|c| *c != 200);
        // The request of that frame this frame answers (a frame can carry several).
        let from = conn.requests.partition_point(|q| q.frame < r.request_frame);
        let request = conn.requests[from..]
            .iter()
            .take_while(|q| q.frame == r.request_frame)
            .find(|q| q.response() == Some(frame))
            .filter(|q| q.tsl_findings > 0);
        if let (Some(code), Some(q)) = (code, request) {
            sink.field(Hf::TslCauseFrame, Value::U32(q.frame));
            let f = Finding::TslExplainsError {
                code,
                frame: q.frame,
                findings: q.tsl_findings,
            };
            expert(sink, f);
        }
    }
}

/// An expert item of something the capture as a whole shows.
fn expert(sink: &mut dyn Sink, f: Finding<'_>) {
    let (ei, text) = f.item();
    sink.expert(ei, &text);
}

fn ns_value(ns: i64) -> Value<'static> {
    let ns = ns.max(0);
    Value::RelTime(ns / 1_000_000_000, (ns % 1_000_000_000) as i32)
}

/// MQTT-level flow: acknowledgements, retransmissions, subscriptions, keep-alive, and, at the
/// session's CONNECT and last packet, how it went.
fn render_flow(rec: &PduRecord, conn: &Conn, frame: u32, final_pass: bool, sink: &mut dyn Sink) {
    let f = &rec.flow;
    let flow = &conn.flow;
    if let Some(ex) = f.exchange.and_then(|i| flow.exchanges.get(i)) {
        if f.dup_of.is_none() {
            match ex.ack() {
                Some(a) => sink.field(Hf::AckIn, Value::U32(a)),
                None if final_pass && flow.ended() && ex.kind == super::flow::PUBLISH => {
                    expert(sink, Finding::Unacked)
                }
                None => {}
            }
        }
    }
    if let Some((to, ns)) = f.ack_to {
        sink.field(Hf::AckTo, Value::U32(to));
        sink.field(Hf::AckTime, ns_value(ns));
    }
    if let Some(first) = f.dup_of {
        sink.field(Hf::DupOf, Value::U32(first));
        expert(sink, Finding::DupPublish(first));
    }
    for (filter, code) in &f.sub_results {
        sink.push_text(
            Ett::Topic,
            &format!(
                "{filter}: {}",
                if *code >= 0x80 { "refused" } else { "granted" }
            ),
        );
        sink.field(Hf::SubFilter, Value::Str(filter));
        sink.field(Hf::SubResult, Value::U32(*code as u32));
        sink.pop();
    }
    if let Some(gap) = f.keepalive_gap_ns {
        sink.field(Hf::KeepAliveGap, ns_value(gap));
    }
    if final_pass && flow.likely_lost(frame) {
        expert(sink, Finding::LikelyLost);
    }
    let is_connect = rec.msg_type == CONNECT && conn.connect_frame() == Some(frame);
    let is_last = final_pass && flow.last_frame == frame;
    if is_connect {
        for other in flow.overlaps() {
            sink.field(Hf::SessionOther, Value::U32(other));
            expert(sink, Finding::DuplicateSession(other));
        }
    }
    if !(final_pass && (is_connect || is_last)) {
        return;
    }
    let end = flow.end();
    sink.push_text(
        Ett::Login,
        &format!("Session: {}", super::fields::END_VALUES[end as usize - 1].1),
    );
    sink.field(Hf::SessionDuration, ns_value(flow.duration_ns()));
    sink.field(Hf::SessionUp, Value::U32(flow.msgs_up));
    sink.field(Hf::SessionDown, Value::U32(flow.msgs_down));
    let answered = conn
        .requests
        .iter()
        .filter(|r| r.response().is_some())
        .count() as u32;
    let unanswered = conn
        .requests
        .iter()
        .filter(|r| r.response().is_none() && r.expects_reply)
        .count() as u32;
    sink.field(Hf::SessionAnswered, Value::U32(answered));
    sink.field(Hf::SessionUnanswered, Value::U32(unanswered));
    sink.field(Hf::SessionErrors, Value::U32(flow.alink_errors));
    sink.field(Hf::SessionEnd, Value::U32(end as u32));
    sink.pop();
    if is_last {
        match end {
            super::flow::End::Reset | super::flow::End::Fin => {
                expert(sink, Finding::AbruptEnd(end == super::flow::End::Reset))
            }
            super::flow::End::CaptureEnded => expert(sink, Finding::OpenAtEnd),
            _ => {}
        }
    }
}

fn render_topic(t: &TopicView, sink: &mut dyn Sink) {
    sink.topic(t.text());
    with_label(
        sink,
        |b| {
            b.push_str("Topic: ");
            b.push_str(t.class.name);
            if let Some(i) = t.identifier() {
                b.push(' ');
                b.push_str(i);
            }
            if t.is_reply {
                b.push_str(" (reply)");
            }
        },
        |sink, label| sink.push_text(Ett::Topic, label),
    );
    sink.field_described(
        Hf::TopicClass,
        Value::Str(t.class.name),
        t.class.description,
    );
    if let Some(i) = t.identifier() {
        sink.field(Hf::TopicIdentifier, Value::Str(i));
    }
    sink.field(Hf::TopicIsReply, Value::Bool(t.is_reply));
    let flow = match t.flow() {
        Flow::Up => 1,
        Flow::Down => 2,
        Flow::Either => 3,
    };
    sink.field(Hf::TopicFlow, Value::U32(flow));
    if let Some(pk) = t.product_key() {
        sink.field(Hf::TopicProductKey, Value::Str(pk));
    }
    if let Some(dn) = t.device_name() {
        sink.field(Hf::TopicDeviceName, Value::Str(dn));
    }
    if let Some(r) = t.rrpc_id() {
        sink.field(Hf::TopicRrpcId, Value::Str(r));
    }
    sink.pop();
}

/// An MQTT 5 packet's user properties, each a subtree with its key and value: at most as many
/// as a JSON tree's items (the platform reads 20; more is an expert item).
fn render_user_properties(list: &[u8], sink: &mut dyn Sink) {
    for (k, v) in super::mqtt::user_properties(list).take(payload::MAX_TREE_ITEMS) {
        let (k, v) = (super::lossy(k), super::lossy(v));
        sink.push_text(
            Ett::UserProperty,
            &shown_label(sink, || format!("User property: {k} = {v}")),
        );
        sink.field(Hf::UserPropertyKey, Value::Str(&k));
        sink.field(Hf::UserPropertyValue, Value::Str(&v));
        sink.pop();
    }
}

fn render_tree(label: &str, root: Option<&'static str>, items: &[TreeItem], sink: &mut dyn Sink) {
    if items.is_empty() {
        return;
    }
    sink.rewind(root);
    sink.push_text(Ett::Json, label);
    let mut depth = 0u8;
    for it in items {
        while depth > it.depth {
            sink.pop();
            depth -= 1;
        }
        with_label(
            sink,
            |b| {
                for p in [&*it.key, ": ", &it.value] {
                    b.push_str(p);
                }
            },
            |sink, label| sink.push_text(Ett::Json, label),
        );
        sink.field(Hf::JsonKey, Value::Str(&it.key));
        sink.field(Hf::JsonValue, Value::Str(&it.value));
        if it.container {
            depth += 1;
        } else {
            sink.pop();
        }
    }
    while depth > 0 {
        sink.pop();
        depth -= 1;
    }
    sink.pop();
}

fn render_alink(a: &payload::Alink, sink: &mut dyn Sink) {
    with_label(
        sink,
        |b| {
            let mut digits = [0u8; 20];
            let parts: [&str; 4] = match (&a.id, &a.method, a.code) {
                (Some(id), _, Some(c)) => {
                    ["Alink reply: id ", id, ", code ", decimal(c, &mut digits)]
                }
                (Some(id), Some(m), None) => ["Alink: id ", id, ", ", m],
                (Some(id), None, None) => ["Alink: id ", id, "", ""],
                _ => ["Alink", "", "", ""],
            };
            parts.iter().for_each(|p| b.push_str(p));
        },
        |sink, label| sink.push_text(Ett::Alink, label),
    );
    if let Some(v) = &a.id {
        sink.field(Hf::AlinkId, Value::Str(v));
    }
    if let Some(v) = &a.id_suffix {
        sink.field(Hf::AlinkIdSuffix, Value::Str(v));
    }
    if let Some(v) = &a.version {
        sink.field(Hf::AlinkVersion, Value::Str(v));
    }
    if let Some(v) = &a.method {
        sink.field(Hf::AlinkMethod, Value::Str(v));
    }
    if let Some(v) = a.ack {
        sink.field(Hf::AlinkAck, Value::U32(v.min(u32::MAX as u64) as u32));
    }
    if let Some(c) = a.code {
        let v = Value::U32(c.min(u32::MAX as u64) as u32);
        match payload::code_meaning(c) {
            Some(m) => sink.field_described(Hf::AlinkCode, v, m),
            None => sink.field(Hf::AlinkCode, v),
        }
    }
    if let Some(v) = &a.message {
        sink.field(Hf::AlinkMessage, Value::Str(v));
    }
    if let Some(step) = a.ota_step {
        sink.field(Hf::OtaStep, Value::I32(step));
        match super::fields::OTA_STEP_VALUES
            .iter()
            .find(|(v, _)| *v == step)
        {
            Some((_, m)) => sink.append(&shown_label(sink, || format!(" ({m})"))),
            None if step >= 0 => sink.append(" %"),
            None => sink.append(" (failed)"),
        }
    }
    if let Some(t) = a.event_time {
        sink.field(Hf::EventTime, ms_time(t));
    }
    if let Some(d) = &a.tsl {
        sink.field(Hf::TslSource, Value::Str(&d.model.source.describe()));
        for i in &d.issues {
            tsl_finding(sink, i);
        }
    }
    if !a.properties.is_empty() {
        with_label(
            sink,
            |b| {
                let mut digits = [0u8; 20];
                for p in [
                    a.args.label(),
                    " (",
                    decimal(a.properties.len() as u64, &mut digits),
                    ")",
                ] {
                    b.push_str(p);
                }
            },
            |sink, label| sink.push_text(Ett::Property, label),
        );
        sink.rewind(Some("params"));
        for p in &a.properties {
            render_property(p, sink);
        }
        sink.pop();
    }
    render_tree("Params", Some("params"), &a.params, sink);
    render_tree("Data", Some("data"), &a.data, sink);
    sink.pop();
}

/// A property (or event output, service argument, struct member, array item) with what the
/// thing model says of it.
fn render_property(p: &payload::Property, sink: &mut dyn Sink) {
    let def = p.tsl.as_ref().and_then(|t| t.def.as_ref());
    with_label(
        sink,
        |b| {
            let parts: [&str; 5] = match def {
                Some(d) if *d.display_name != *p.name => {
                    [&d.display_name, " (", &p.name, ") = ", &p.value]
                }
                _ => [&p.name, " = ", &p.value, "", ""],
            };
            parts.iter().for_each(|s| b.push_str(s));
            if let Some(d) = def {
                if let Some(u) = &d.unit {
                    b.push(' ');
                    b.push_str(u);
                }
                if let Some(n) = &d.value_name {
                    for s in [" (", n, ")"] {
                        b.push_str(s);
                    }
                }
            }
            if let Some(n) = p.tsl.as_ref().map(|t| t.issues.len()).filter(|n| *n > 0) {
                let mut digits = [0u8; 20];
                for s in [" [", decimal(n as u64, &mut digits), " TSL finding"] {
                    b.push_str(s);
                }
                b.push_str(if n == 1 { "]" } else { "s]" });
            }
        },
        |sink, label| sink.push_text(Ett::Property, label),
    );
    sink.field(Hf::PropertyName, Value::Str(&p.name));
    sink.field(Hf::PropertyValue, Value::Str(&p.value));
    if let Some(n) = def.and_then(|d| d.value_name.as_ref()) {
        sink.append(&shown_label(sink, || format!(" ({n})")));
    }
    if let Some(n) = p.value_num {
        sink.field(Hf::PropertyValueNum, Value::F64(n));
    }
    if let Some(t) = p.time {
        sink.field(Hf::PropertyTime, ms_time(t));
    }
    if let Some(t) = &p.tsl {
        if let Some(d) = &t.def {
            sink.field(Hf::PropertyDisplayName, Value::Str(&d.display_name));
            sink.field(Hf::PropertyDataType, Value::Str(d.data_type));
            if let Some(u) = &d.unit {
                sink.field(Hf::PropertyUnit, Value::Str(u));
            }
            if let Some(u) = &d.unit_name {
                sink.field(Hf::PropertyUnitName, Value::Str(u));
            }
            if let Some(n) = &d.value_name {
                sink.field(Hf::PropertyValueName, Value::Str(n));
            }
        }
        for i in &t.issues {
            tsl_finding(sink, i);
        }
        for m in &t.members {
            render_property(m, sink);
        }
    }
    sink.pop();
}

/// A thing-model finding: its field and its expert item, in the same words.
fn tsl_finding(sink: &mut dyn Sink, i: &super::tsl::check::TslIssue) {
    let (ei, text) = Finding::Tsl(i).item();
    sink.field(Hf::TslViolation, Value::Str(&text));
    sink.expert(ei, &text);
}

fn render_body(body: &Body, sink: &mut dyn Sink) {
    match body {
        // Read for the Info column only, where no payload item is wanted.
        Body::Empty | Body::AlinkCode(_) => {}
        Body::Alink(a) => render_alink(a, sink),
        Body::File(f) => {
            sink.push_text(
                Ett::Alink,
                &shown_label(sink, || format!("File chunk: {} bytes", f.chunk_len)),
            );
            sink.field(Hf::FileHeaderLength, Value::U32(f.header_len as u32));
            sink.field(Hf::FileChunkLength, Value::U32(f.chunk_len as u32));
            sink.field(Hf::FileCrc, Value::U32(f.crc_stored as u32));
            sink.field(Hf::FileCrcGood, Value::Bool(f.crc_stored == f.crc_computed));
            sink.pop();
            render_alink(&f.header, sink);
        }
        Body::Json(items) => render_tree("JSON payload", None, items, sink),
        Body::Text(t) => {
            sink.field(Hf::PayloadLength, Value::U32(t.len() as u32));
            sink.field(Hf::PayloadText, Value::Str(t));
        }
        Body::Binary { len, hex } => {
            sink.field(Hf::PayloadLength, Value::U32(*len as u32));
            sink.field(Hf::PayloadHex, Value::Str(hex));
        }
    }
}

fn first_clause(s: &str) -> &str {
    s.split([':', '(']).next().unwrap_or(s).trim()
}

fn render_client_id(login: &super::session::Login, sink: &mut dyn Sink) {
    let c = &login.client_id;
    sink.push_text(Ett::ClientId, "Client id");
    sink.field(Hf::ClientIdPrefix, Value::Str(c.prefix()));
    if let Some(m) = c.securemode {
        sink.field(Hf::SecureMode, Value::I32(m));
    }
    if let Some(m) = c.signmethod() {
        sink.field(Hf::SignMethod, Value::Str(m));
    }
    if let Some(t) = c.timestamp {
        let (s, ns) = t.to_unix();
        sink.field(Hf::Timestamp, Value::Time(s, ns));
        sink.append(match t.unit {
            TimestampUnit::Milliseconds => " (ms)",
            TimestampUnit::Seconds => " (s)",
            TimestampUnit::FixedSdk => " (fixed SDK value)",
        });
        sink.field(Hf::TimestampUnit, Value::U32(t.unit as u32));
    }
    if let Some(v) = c.sdk_version() {
        sink.field(Hf::SdkVersion, Value::Str(v));
    }
    if let Some(v) = c.sdk_language() {
        sink.field(Hf::SdkLanguage, Value::Str(v));
    }
    if let Some(e) = c.ext {
        sink.field(Hf::Ext, Value::U32(e));
        sink.push(Ett::Param);
        sink.field(Hf::ExtRrpc, Value::U32(e));
        sink.field(Hf::ExtNotify, Value::U32(e));
        sink.pop();
    }
    if let Some(g) = c.gw {
        sink.field(Hf::Gateway, Value::U32(g));
    }
    if let Some(v) = c.auth_type() {
        sink.field(Hf::AuthType, Value::Str(v));
    }
    if let Some(v) = c.random() {
        sink.field(Hf::Random, Value::Str(v));
    }
    if let Some(v) = c.instance_id() {
        sink.field(Hf::InstanceId, Value::Str(v));
    }
    for p in c.other_params() {
        sink.push_text(
            Ett::Param,
            &shown_label(sink, || format!("{}={}", p.key, p.value)),
        );
        sink.field(Hf::ParamKey, Value::Str(p.key));
        sink.field(Hf::ParamValue, Value::Str(p.value));
        sink.pop();
    }
    sink.pop();
}

/// Whether the record is shown at all (the glue skips opening a tree for the rest).
pub fn visible(rec: &PduRecord, conn: &Conn) -> bool {
    rec.identity.is_some() || conn.identity.is_some()
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::core::fields::FIELDS;
    use crate::core::secrets::Secrets;
    use crate::core::session::{FrameCtx, MqttPdu};

    /// Records what would be shown, one line per item, indented by depth.
    #[derive(Default)]
    pub struct Recorder {
        pub lines: Vec<String>,
        pub info: String,
        depth: usize,
    }

    impl Sink for Recorder {
        fn open(&mut self, summary: &str) {
            self.lines.push(format!("aliiot{summary}"));
            self.depth = 1;
        }
        fn field(&mut self, hf: Hf, v: Value<'_>) {
            let v = match v {
                Value::Str(s) => s.to_string(),
                Value::U32(n) => n.to_string(),
                Value::I32(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Time(s, ns) | Value::RelTime(s, ns) => format!("{s}.{ns:09}"),
                Value::F64(v) => v.to_string(),
            };
            self.lines.push(format!(
                "{}{}={}",
                "  ".repeat(self.depth),
                FIELDS[hf as usize].abbrev,
                v
            ));
        }
        fn append(&mut self, text: &str) {
            if let Some(l) = self.lines.last_mut() {
                l.push_str(text);
            }
        }
        fn push(&mut self, _: Ett) {
            self.depth += 1;
        }
        fn push_text(&mut self, _: Ett, label: &str) {
            self.lines
                .push(format!("{}{}", "  ".repeat(self.depth), label));
            self.depth += 1;
        }
        fn pop(&mut self) {
            self.depth -= 1;
        }
        fn expert(&mut self, ei: Ei, msg: &str) {
            self.lines
                .push(format!("{}expert {:?}: {msg}", "  ".repeat(self.depth), ei));
        }
        fn info(&mut self, text: &str) {
            self.info.push_str(text);
        }
    }

    #[test]
    fn column_detail_gives_the_info_summary_gives() {
        use crate::core::mqtt::{CONNACK, CONNECT, PUBLISH};
        use crate::core::session::{Capture, Detail, PduRecord};
        let publish = |topic: &'static str, payload: &'static [u8]| MqttPdu {
            msg_type: PUBLISH,
            topic: Some(topic.as_bytes()),
            payload: Some(payload),
            ..Default::default()
        };
        let post = "/sys/a1B2c3D4e5F/dev/thing/event/property/post";
        let reply = "/sys/a1B2c3D4e5F/dev/thing/event/property/post_reply";
        let packets: [(bool, MqttPdu<'_>); 8] = [
            (
                true,
                MqttPdu {
                    msg_type: CONNECT,
                    client_id: Some(b"a1B2c3D4e5F.dev|securemode=3,signmethod=hmacsha1|"),
                    username: Some(b"dev&a1B2c3D4e5F"),
                    password: Some(b"00"),
                    ..Default::default()
                },
            ),
            (
                false,
                MqttPdu {
                    msg_type: CONNACK,
                    connack_code: Some(0),
                    ..Default::default()
                },
            ),
            (
                true,
                publish(
                    post,
                    br#"{"id":"7","params":{"a":1},"method":"thing.event.property.post"}"#,
                ),
            ),
            (
                false,
                publish(
                    reply,
                    br#"{"code":460,"id":"7","message":"request parameter error"}"#,
                ),
            ),
            // An escaped member the scan leaves to the parser, a code as a string.
            (
                false,
                publish(reply, br#"{"id":"8","message":"caf\u00e9","code":"200"}"#),
            ),
            // Malformed inside data: no Alink facts, so no code shown.
            (
                false,
                publish(reply, br#"{"id":"9","data":{"a":1 "b":2},"code":200}"#),
            ),
            (true, publish(post, b"not json")),
            (false, publish("/user/get", b"{}")),
        ];
        // Every packet analysed with `detail`, in order.
        let analysed = |detail: Detail| {
            let mut cap = Capture::default();
            let mut recs = Vec::new();
            for (n, (from_device, pdu)) in packets.iter().enumerate() {
                let (src, dst) = if *from_device { (1, 2) } else { (2, 1) };
                let ctx = FrameCtx {
                    frame: n as u32 + 1,
                    src,
                    dst,
                    ..Default::default()
                };
                let mut rec = PduRecord::default();
                cap.analyze_with(7, pdu, &ctx, &Secrets::default(), detail, &mut rec);
                recs.push(rec);
            }
            (cap, recs)
        };
        let info = |rec: &PduRecord, cap: &Capture, frame: usize| {
            let mut info = String::new();
            let mut sink = ColumnSink(|t: &str| info.push_str(t));
            render(
                rec,
                &cap.conns[&7],
                frame as u32 + 1,
                false,
                None,
                &mut sink,
            );
            info
        };
        let run = |detail: Detail| {
            let (cap, recs) = analysed(detail);
            let infos: Vec<String> = recs
                .iter()
                .enumerate()
                .map(|(n, r)| info(r, &cap, n))
                .collect();
            (infos, cap.conns[&7].requests.len())
        };
        let (summary, pending) = run(Detail::Summary);
        let (column, none) = run(Detail::Column);
        assert_eq!(column, summary);
        // A later pass showing the Info column alone, from what a first pass kept: the PUBLISH
        // from its kept class and code, without the packet; the rest as from the packet.
        let later = |first: Detail| {
            use crate::core::cache::{FrameCache, Slot};
            let (cap, recs) = analysed(first);
            let mut cache = FrameCache::default();
            for (n, rec) in recs.into_iter().enumerate() {
                let record = rec.into_cached();
                let slot = Slot {
                    conv: 7,
                    alias_topic: None,
                    record,
                };
                cache.store(n as u32 + 1, &[slot], false);
            }
            let mut infos = Vec::new();
            for (n, (_, pdu)) in packets.iter().enumerate() {
                let slot = cache.of(n as u32 + 1).remove(0);
                let kept = slot.record.restore_column();
                let from_packet = pdu.msg_type != PUBLISH || pdu.topic == Some(b"/user/get");
                assert_eq!(kept.is_none(), from_packet, "packet {n}");
                let rec = kept.unwrap_or_else(|| {
                    let s = Secrets::default();
                    let models = crate::core::tsl::InForce::NONE;
                    slot.record
                        .restore_with(pdu, None, &s, Detail::Column, models)
                });
                infos.push(info(&rec, &cap, n));
            }
            infos
        };
        for first in [Detail::Bare, Detail::Summary, Detail::Full] {
            assert_eq!(later(first), summary, "first pass {first:?}");
        }
        assert_eq!(
            summary[..6],
            [
                " · dev (a1B2c3D4e5F), no secret known",
                " · dev login accepted",
                " · thing.event.property.post",
                " · thing.event.property.post reply 460",
                " · thing.event.property.post reply 200",
                " · thing.event.property.post reply",
            ]
        );
        // What only items would read is not built.
        assert_eq!((pending, none), (1, 0));
    }

    /// A packet's MQTT 5 user properties are shown from its own bytes, after what the record
    /// holds; a value that is not UTF-8 as Wireshark shows it.
    #[test]
    fn user_properties_from_the_packet() {
        let mut conn = Conn::default();
        let pdu = MqttPdu {
            msg_type: CONNECT,
            client_id: Some(b"a1B2c3D4e5F.dev|securemode=3,signmethod=hmacsha1|"),
            username: Some(b"dev&a1B2c3D4e5F"),
            ..Default::default()
        };
        let rec = conn.analyze(&pdu, &FrameCtx::default(), &Secrets::default());
        let list = b"\x26\x00\x03sdk\x00\x01c\x21\x00\x14\x26\x00\x01k\x00\x02\xffv";
        let mut r = Recorder::default();
        render(&rec, &conn, 1, false, Some(list), &mut r);
        let at = r
            .lines
            .iter()
            .position(|l| l.contains("User property"))
            .unwrap();
        assert_eq!(
            r.lines[at..at + 6],
            [
                "  User property: sdk = c",
                "    aliiot.mqtt5.user_property.key=sdk",
                "    aliiot.mqtt5.user_property.value=c",
                "  User property: k = \u{fffd}v",
                "    aliiot.mqtt5.user_property.key=k",
                "    aliiot.mqtt5.user_property.value=\u{fffd}v",
            ]
        );
        // Without items (the Info column only), nothing of them.
        let mut info = String::new();
        render(
            &rec,
            &conn,
            1,
            false,
            Some(list),
            &mut ColumnSink(|t: &str| info.push_str(t)),
        );
        assert!(!info.contains("sdk"), "{info}");
    }

    #[test]
    fn connect_tree() {
        let mut conn = Conn::default();
        let pdu = MqttPdu {
            msg_type: CONNECT,
            keepalive: Some(60),
            client_id: Some(b"a1B2c3D4e5F.dev|timestamp=2524608000000,_ss=1,securemode=2,signmethod=hmacsha256,ext=3|"),
            username: Some(b"dev&a1B2c3D4e5F"),
            password: Some(b"00"),
            ..Default::default()
        };
        let ctx = FrameCtx {
            frame: 4,
            src: 1,
            dst: 2,
            over_tls: true,
            ..Default::default()
        };
        let rec = conn.analyze(&pdu, &ctx, &Secrets::default());
        conn.connack_frame = std::num::NonZeroU32::new(6);
        let mut r = Recorder::default();
        render(&rec, &conn, 4, false, None, &mut r);
        assert_eq!(
            r.lines,
            [
                "aliiot, dev (a1B2c3D4e5F), no secret known",
                "  aliiot.product_key=a1B2c3D4e5F",
                "  aliiot.device_name=dev",
                "  aliiot.identity_source=1",
                "  aliiot.direction=1",
                "  aliiot.connack_in=6",
                "  Client id",
                "    aliiot.clientid.prefix=a1B2c3D4e5F.dev",
                "    aliiot.clientid.securemode=2",
                "    aliiot.clientid.signmethod=hmacsha256",
                "    aliiot.clientid.timestamp=2524608000.000000000 (fixed SDK value)",
                "    aliiot.clientid.timestamp_unit=3",
                "    aliiot.clientid.ext=3",
                "      aliiot.clientid.ext.rrpc=3",
                "      aliiot.clientid.ext.notify=3",
                "    _ss=1",
                "      aliiot.clientid.param.key=_ss",
                "      aliiot.clientid.param.value=1",
                "  Login sign: no secret known",
                "    aliiot.sign.status=3",
                "    aliiot.sign.algorithm=HMAC-SHA256",
                "    aliiot.sign.secret_kind=1",
                "    aliiot.sign.content=clientIda1B2c3D4e5F.devdeviceNamedevproductKeya1B2c3D4e5Ftimestamp2524608000000",
            ]
        );
        assert_eq!(r.info, " · dev (a1B2c3D4e5F), no secret known");
    }
}
