//! Per-connection state and per-packet analysis: who the device is, how its login went, which
//! reply answers which request.
//!
//! - `record`: what the analysis of one packet says ([`PduRecord`] and its parts)
//! - `conn`: one connection's state ([`Conn`]) and how each packet moves it
//! - `pairing`: requests and their replies, by the catalogue's pairing of each topic family
//!
//! The glue feeds every MQTT packet of a capture, in frame order, on the first pass only; the
//! records produced here are cached per frame ([`super::cache`]) and re-rendered on every later
//! pass.

use std::collections::HashMap;
use std::rc::Rc;

use super::expert::Finding;
use super::mqtt::CONNECT;
use super::secrets::Secrets;
use super::tsl::Tsl;

mod conn;
mod pairing;
mod record;
#[cfg(test)]
mod tests;

pub use conn::{describe_connect, split_username, Conn, ConnectView};
pub use record::*;

/// Open requests kept per connection; beyond this new requests are not tracked (bounded memory
/// on hostile or very long captures).
pub const MAX_PENDING: usize = 10_000;
/// Subscription filters analysed per SUBSCRIBE/UNSUBSCRIBE.
pub const MAX_FILTERS: usize = 64;

/// Every connection's state by its number. [`super::transport::Connections`] numbers connections
/// from 1 in order of first appearance, so the open ones sit together at the end: indexing touches
/// a few hot cache lines, where a hash table's probe on every packet missed the caches twice once
/// a capture had seen thousands of connections.
#[derive(Debug, Default)]
pub struct Conns(Vec<Option<Box<Conn>>>);

impl Conns {
    pub fn get(&self, conv: &u32) -> Option<&Conn> {
        self.0.get(*conv as usize)?.as_deref()
    }

    pub fn get_mut(&mut self, conv: &u32) -> Option<&mut Conn> {
        self.0.get_mut(*conv as usize)?.as_deref_mut()
    }

    /// Connection `conv`'s state, made when it is first seen.
    pub fn or_default(&mut self, conv: u32) -> &mut Conn {
        let i = conv as usize;
        if i >= self.0.len() {
            self.0.resize_with(i + 1, || None);
        }
        self.0[i].get_or_insert_with(Box::default)
    }

    pub fn values(&self) -> impl Iterator<Item = &Conn> {
        self.0.iter().filter_map(|c| c.as_deref())
    }
}

impl std::ops::Index<&u32> for Conns {
    type Output = Conn;
    fn index(&self, conv: &u32) -> &Conn {
        self.get(conv).expect("no such connection")
    }
}

/// Every connection of a capture, and the devices seen on them (to spot one device logged in on
/// two connections at once).
#[derive(Debug, Default)]
pub struct Capture {
    pub conns: Conns,
    devices: HashMap<Rc<Identity>, Vec<u32>>,
    /// The thing models: the TSL folder's (set by the glue) and those the capture carries.
    pub tsl: Tsl,
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
        let mut rec = PduRecord::default();
        self.analyze_with(conv, pdu, ctx, secrets, Detail::Full, &mut rec);
        rec
    }

    /// [`Self::analyze`]; `detail` says whether the record is shown now (else a PUBLISH's payload is
    /// read only for what the connection's state needs: its record is described again from the
    /// packet when shown, as on every later pass), into `rec` (a default record, filled in place).
    pub fn analyze_with(
        &mut self,
        conv: u32,
        pdu: &MqttPdu<'_>,
        ctx: &FrameCtx,
        secrets: &Secrets,
        detail: Detail,
        rec: &mut PduRecord,
    ) {
        let conn = self.conns.or_default(conv);
        conn.analyze_with(pdu, ctx, secrets, detail, self.tsl.at(ctx.frame), rec);
        if detail.lean() {
            // Models learned from the capture and devices logged in twice show only in items.
            return;
        }
        if pdu.msg_type == super::mqtt::PUBLISH {
            self.learn_model(rec, pdu, ctx.frame);
        } else if pdu.msg_type == CONNECT {
            if let Some(id) = self
                .conns
                .get(&conv)
                .and_then(|c| c.identity.clone())
                .filter(|i| i.source == IdentitySource::Login)
            {
                let mine = self
                    .conns
                    .get(&conv)
                    .and_then(Conn::connect_frame)
                    .unwrap_or(ctx.frame);
                let others = self.devices.entry(id).or_default();
                for &other in others.iter().filter(|c| **c != conv) {
                    let Some(o) = self.conns.get_mut(&other) else {
                        continue;
                    };
                    if o.flow.ended_before(ctx.frame) {
                        continue;
                    }
                    if let Some(theirs) = o.connect_frame() {
                        o.flow.add_overlap(mine);
                        if let Some(c) = self.conns.get_mut(&conv) {
                            c.flow.add_overlap(theirs);
                        }
                    }
                }
                if !others.contains(&conv) && others.len() < 1024 {
                    others.push(conv);
                }
            }
        }
    }

    /// A `thing/dsltemplate/get_reply` carries its product's thing model: in force from the next
    /// frame on, where no TSL file gives one.
    fn learn_model(&mut self, rec: &mut PduRecord, pdu: &MqttPdu<'_>, frame: u32) {
        let Some(t) = rec.topics.first() else { return };
        if t.class.tsl != super::topic::TslRole::Template || !t.is_reply {
            return;
        }
        let Some(pk) = t.product_key() else { return };
        if self.tsl.files.get(pk).is_some() {
            return;
        }
        let Some(data) = pdu.payload.and_then(super::tsl::template_data) else {
            return;
        };
        match super::tsl::load::parse(&data) {
            Ok(file) if &*file.product_key == pk => {
                let model = file.into_product(super::tsl::Source::Capture(frame));
                self.tsl.learned.add(frame, model);
                rec.experts.push(Finding::TslLearned(pk).item());
            }
            Ok(file) => {
                let other = Finding::TslTemplateOther {
                    topic: pk,
                    model: &file.product_key,
                };
                rec.experts.push(other.item());
            }
            Err(e) => rec.experts.push(Finding::TslTemplateBad(&e).item()),
        }
    }

    /// A TCP FIN or RST on connection `conv` (first pass). `revisited`: frames may be shown
    /// again later ([`super::dissect::Revisits`]).
    pub fn tcp_end(&mut self, conv: u32, frame: u32, ts_ns: i64, reset: bool, revisited: bool) {
        if let Some(c) = self.conns.get_mut(&conv) {
            c.flow.on_tcp_end(frame, ts_ns, reset);
            // After a reset, or a FIN that follows the DISCONNECT, no MQTT can follow: what only
            // pairing needs is freed, so a capture of many short sessions holds matching state
            // for the open ones only.
            if reset || c.flow.disconnect {
                c.release_matching();
                if !revisited {
                    c.release_links();
                }
                // An ended connection overlaps no later login of its device.
                if let Some(id) = c
                    .identity
                    .as_ref()
                    .filter(|i| i.source == IdentitySource::Login)
                {
                    if let Some(convs) = self.devices.get_mut(id) {
                        convs.retain(|&other| other != conv);
                        if convs.is_empty() {
                            self.devices.remove(id);
                        }
                    }
                }
            }
        }
    }
}
