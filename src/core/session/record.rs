//! What the analysis of one MQTT packet says: owned data only, so it can be kept for later
//! passes, and the pure descriptions made again from a packet's bytes when it is shown.

use std::cell::Cell;
use std::num::NonZeroU32;
use std::rc::Rc;

use super::MAX_FILTERS;
use crate::core::clientid::ClientId;
use crate::core::expert::Ei;
use crate::core::expert::Finding;
use crate::core::flow::FlowRecord;
use crate::core::payload::{self, Payload};
use crate::core::sign::{SignCheck, SignStatus};
use crate::core::topic::{self, Class, TopicInfo};

/// The parts of one MQTT packet aliiot reads ([`crate::core::mqtt::parse`]), borrowed from its bytes.
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
    /// PUBLISH topic (None when empty: an MQTT 5 alias stands for it).
    pub topic: Option<&'a [u8]>,
    /// SUBSCRIBE/UNSUBSCRIBE topic filters.
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
    pub v5: crate::core::mqtt5::V5,
    /// MQTT 5 request/response: Response Topic and Correlation Data properties.
    pub response_topic: Option<&'a [u8]>,
    pub correlation: Option<&'a [u8]>,
    /// CONNACK Assigned Client Identifier (MQTT 5; the Link SDK's "assigned client id" mode).
    pub assigned_client_id: Option<&'a [u8]>,
    /// The packet's own MQTT 5 property list, after its length (not a CONNECT's will
    /// properties).
    pub properties: Option<&'a [u8]>,
    /// The MQTT 5 reason code's byte (PUBACK family, DISCONNECT, AUTH).
    pub reason: Option<&'a [u8]>,
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
    /// The Info column only, on a pass that keeps nothing for later passes and shows no item or
    /// statistic: what only items would read (pairing, flow and session findings, echoes, models
    /// learned from the capture) is not built, on this packet or for later ones. One-pass tshark
    /// asks the same of every frame, so no later packet is shown with more.
    Column,
    /// [`Detail::Summary`] for items that need no session state (a filter or export on the
    /// product key, the topic, the login…), on a pass that keeps nothing for later passes and
    /// with no expert item wanted: pairing, flow and session findings, echoes and models learned
    /// from the capture are not built, as for [`Detail::Column`]. No field made from the payload
    /// is wanted either (that asks for [`Detail::Full`]), so a payload is read for the Info
    /// column's code only.
    Fields,
    /// [`Detail::Fields`] with no Info column made (tshark -T fields, -q -Y): the payload is not
    /// read at all.
    Items,
    /// Its summary (Info column, statistics): the topic, and the payload's Alink facts.
    Summary,
    /// Everything: the packet is shown.
    Full,
}

impl Detail {
    /// Whether what only items of the session would read (pairing, flow and session findings,
    /// echoes, models learned from the capture, devices logged in twice) is left unbuilt.
    pub fn lean(self) -> bool {
        matches!(self, Detail::Column | Detail::Fields | Detail::Items)
    }

    /// What of a PUBLISH's payload `b` this much detail reads: all of it, its Alink facts, only
    /// the code the Info column shows, or nothing ([`Detail::Items`]).
    pub fn read_payload(
        self,
        t: &TopicInfo<'_>,
        b: &[u8],
        models: crate::core::tsl::InForce<'_>,
    ) -> Option<Payload> {
        Some(match self {
            Detail::Full => payload::analyze(t, b, models),
            Detail::Column | Detail::Fields => payload::code_facts(t, b),
            Detail::Items => return None,
            Detail::Bare | Detail::Summary => payload::facts(t, b),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentitySource {
    Login = 1,
    Topic = 2,
}

/// Whose a packet is: a product key and device name. A capture holds one per connection, and
/// every PDU of the connection clones it and compares it with its topic, so it is one allocation
/// with the text inline when the text fits: an 11-character product key and a device name of up
/// to 32 characters, the longest the C SDK accepts (`IOTX_DEVICE_NAME_LEN`). The text in a second
/// allocation was a cache miss on every PDU.
pub struct Identity {
    /// The product key followed by the device name (UTF-8: made from two `&str`).
    text: Text,
    /// Where the device name begins in `text`.
    split: u32,
    pub source: IdentitySource,
    /// The frame cache's number for this identity, plus one (0: none yet), so storing a record
    /// does not look its identity up in a table ([`crate::core::cache`]).
    cache_no: Cell<u32>,
}

const INLINE: usize = 46;
// 80 bytes with its reference counts, in one allocation (before: 40, and the text's own).
const _: () = assert!(std::mem::size_of::<Identity>() == 64);

#[derive(Clone)]
enum Text {
    Inline(u8, [u8; INLINE]),
    Heap(Box<[u8]>),
}

impl Identity {
    pub fn new(product_key: &str, device_name: &str, source: IdentitySource) -> Identity {
        let (pk, dn) = (product_key.as_bytes(), device_name.as_bytes());
        let len = pk.len() + dn.len();
        let text = match u8::try_from(len) {
            Ok(n) if len <= INLINE => {
                let mut b = [0; INLINE];
                b[..pk.len()].copy_from_slice(pk);
                b[pk.len()..len].copy_from_slice(dn);
                Text::Inline(n, b)
            }
            _ => Text::Heap([pk, dn].concat().into_boxed_slice()),
        };
        // A name longer than 4 GiB cannot come from one MQTT packet.
        let split = u32::try_from(pk.len()).unwrap_or(u32::MAX);
        Identity {
            text,
            split,
            source,
            cache_no: Cell::new(0),
        }
    }

    fn bytes(&self) -> &[u8] {
        match &self.text {
            Text::Inline(n, b) => b.get(..*n as usize).unwrap_or_default(),
            Text::Heap(b) => b,
        }
    }

    fn halves(&self) -> (&[u8], &[u8]) {
        let b = self.bytes();
        b.split_at_checked(self.split as usize).unwrap_or((b, &[]))
    }

    pub fn product_key(&self) -> &str {
        std::str::from_utf8(self.halves().0).unwrap_or("")
    }

    pub fn device_name(&self) -> &str {
        std::str::from_utf8(self.halves().1).unwrap_or("")
    }

    /// Whether this is `product_key` and `device_name` (compared as bytes: no text is made).
    pub fn is(&self, product_key: &str, device_name: &str) -> bool {
        self.halves() == (product_key.as_bytes(), device_name.as_bytes())
    }

    /// The frame cache's number for this identity, once it has one.
    pub(crate) fn cache_no(&self) -> Option<u32> {
        self.cache_no.get().checked_sub(1)
    }

    pub(crate) fn set_cache_no(&self, n: u32) {
        self.cache_no.set(n.saturating_add(1));
    }
}

impl Clone for Identity {
    /// A copy is a new identity to the frame cache.
    fn clone(&self) -> Self {
        Identity {
            text: self.text.clone(),
            split: self.split,
            source: self.source,
            cache_no: Cell::new(0),
        }
    }
}

impl PartialEq for Identity {
    fn eq(&self, o: &Self) -> bool {
        self.source == o.source && self.halves() == o.halves()
    }
}

impl Eq for Identity {}

impl std::hash::Hash for Identity {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.halves().hash(h);
        self.source.hash(h);
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("product_key", &self.product_key())
            .field("device_name", &self.device_name())
            .field("source", &self.source)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    DeviceToCloud = 1,
    CloudToDevice = 2,
}

/// A request and, once seen, its reply. A connection keeps one per request for as long as the
/// capture is open (later passes show the links), so it is kept to 12 bytes: the request's time,
/// needed only until its reply, stays with the pairing state ([`super::pairing`]).
#[derive(Debug, Clone)]
pub struct Request {
    pub frame: u32,
    /// The reply's frame (frames count from 1).
    response: Option<NonZeroU32>,
    /// False for `sys.ack: 0` (no reply wanted).
    pub expects_reply: bool,
    /// How many thing-model findings the request had (at most 255).
    pub tsl_findings: u8,
}

// What a finished connection keeps per request (see above).
const _: () = assert!(std::mem::size_of::<Request>() == 12);

impl Request {
    pub fn new(frame: u32, expects_reply: bool, tsl_findings: u8) -> Request {
        Request {
            frame,
            response: None,
            expects_reply,
            tsl_findings,
        }
    }
    /// The frame of its reply, once seen.
    pub fn response(&self) -> Option<u32> {
        self.response.map(NonZeroU32::get)
    }
    pub fn answered(&mut self, frame: u32) {
        self.response = NonZeroU32::new(frame);
    }
}

/// What a reply answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyLink {
    pub request_frame: u32,
    pub delta_ns: i64,
}

/// A classified topic, owned: its text (one allocation) and the parts as ranges of it.
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
    /// Only the class of `t`, for the Info column ([`Detail::Column`]): no text and no parts,
    /// nothing allocated.
    pub fn class_only(t: &TopicInfo<'_>) -> TopicView {
        TopicView::of_class(t.class, t.is_reply, t.wildcard)
    }

    /// A topic known by its class alone (see [`TopicView::class_only`]).
    pub fn of_class(class: Class, is_reply: bool, wildcard: bool) -> TopicView {
        TopicView {
            class,
            is_reply,
            wildcard,
            text: Box::default(),
            identifier: None,
            product_key: None,
            device_name: None,
            rrpc_id: None,
        }
    }

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

    /// The topic or filter as shown (empty when only its class is kept).
    pub fn text(&self) -> &str {
        &self.text
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

/// Classified topics: a PUBLISH's one, without an allocation, or a SUBSCRIBE's filters. Reads
/// as a slice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Topics {
    #[default]
    None,
    One(TopicView),
    Many(Vec<TopicView>),
}

impl Topics {
    pub fn push(&mut self, t: TopicView) {
        *self = match std::mem::take(self) {
            Topics::None => Topics::One(t),
            Topics::One(first) => Topics::Many(vec![first, t]),
            Topics::Many(mut v) => {
                v.push(t);
                Topics::Many(v)
            }
        };
    }
}

impl std::ops::Deref for Topics {
    type Target = [TopicView];
    fn deref(&self) -> &[TopicView] {
        match self {
            Topics::None => &[],
            Topics::One(t) => std::slice::from_ref(t),
            Topics::Many(v) => v,
        }
    }
}

impl<'a> IntoIterator for &'a Topics {
    type Item = &'a TopicView;
    type IntoIter = std::slice::Iter<'a, TopicView>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl From<Vec<TopicView>> for Topics {
    fn from(v: Vec<TopicView>) -> Topics {
        match v.len() {
            0 => Topics::None,
            _ => Topics::Many(v),
        }
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
    pub topics: Topics,
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
    /// NTP without a usable device time: how far the platform's clock is ahead of the
    /// capture's, in ms.
    pub ntp_capture_offset_ms: Option<f64>,
    /// The device's own PUBLISH this one repeats (the broker's echo of it).
    pub echo_of: Option<u32>,
    pub flow: FlowRecord,
    /// MQTT 5 PUBACK/DISCONNECT reason code and its meaning.
    pub v5_reason: Option<(u8, &'static str)>,
    pub assigned_client_id: Option<String>,
    /// Where the payload's expert items stand among [`Self::experts`] (they are made from the
    /// payload when shown, not kept).
    pub payload_experts_at: Option<u8>,
    /// A CONNECT: how many of [`Self::experts`], first, follow from its bytes alone
    /// ([`super::describe_connect`]; made again when shown, not kept), and whether TLS carried it.
    pub connect_experts: Option<(u8, bool)>,
    /// A PUBLISH with an Alibaba topic: what its Info column shows, kept so that a later pass
    /// showing only the Info column need not read the packet again.
    pub publish_info: Option<PublishInfo>,
}

/// What the Info column shows of a PUBLISH: its topic's class, and its payload's Alink code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishInfo {
    pub class: Class,
    pub is_reply: bool,
    pub wildcard: bool,
    /// `None`: no payload; `Some(code)`: the payload and its Alink code, if any.
    pub payload_code: Option<Option<u64>>,
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

/// A SUBSCRIBE's or UNSUBSCRIBE's filters as sent (at most [`MAX_FILTERS`]), and the Alibaba
/// ones classified. Pure: read again from the packet on every pass, not kept.
pub(crate) fn describe_filters(pdu: &MqttPdu<'_>) -> (Vec<Box<str>>, Topics) {
    let filters: Vec<Box<str>> = pdu
        .topics
        .iter()
        .take(MAX_FILTERS)
        .map(|f| crate::core::lossy(f).into())
        .collect();
    let topics = classify_filters(filters.iter().map(|f| &**f));
    (filters, topics.into())
}

/// The classified SUBSCRIBE/UNSUBSCRIBE filters (the Alibaba ones).
fn classify_filters<'a>(filters: impl Iterator<Item = &'a str>) -> Vec<TopicView> {
    filters
        .filter_map(|f| topic::classify(f).map(|t| TopicView::new(f, &t)))
        .collect()
}

/// What a PUBLISH says of itself: its classified topic and its payload as `detail` reads it
/// ([`Detail::read_payload`]). Pure: the same on every pass.
pub(crate) fn describe_publish(
    topic: Option<&[u8]>,
    payload: Option<&[u8]>,
    detail: Detail,
    models: crate::core::tsl::InForce<'_>,
) -> (Topics, Option<Payload>) {
    let Some(topic_bytes) = topic else {
        return (Topics::None, None);
    };
    let text = crate::core::lossy(topic_bytes);
    let Some(t) = topic::classify(&text) else {
        return (Topics::None, None);
    };
    let payload = payload.and_then(|b| detail.read_payload(&t, b, models));
    let view = if detail == Detail::Column {
        TopicView::class_only(&t)
    } else {
        TopicView::new(&text, &t)
    };
    (Topics::One(view), payload)
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

/// What a CONNACK code means for an Alibaba device.
pub fn connack(code: u8, v5: bool) -> Connack {
    Connack {
        code,
        accepted: code == 0,
        meaning: crate::core::expert::connack_meaning(code, v5),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names the SDKs accept fit inline; longer (hostile) ones are kept too, and both read
    /// back, compare and hash alike.
    #[test]
    // The cache number, the one mutable part, is left out of Hash and Eq.
    #[allow(clippy::mutable_key_type)]
    fn identity_text_inline_or_not() {
        let long = "d".repeat(300);
        for (pk, dn) in [
            ("a1B2c3D4e5F", "th-00001"),
            ("a1B2c3D4e5F", "0123456789abcdef0123456789abcdef"),
            ("a1B2c3D4e5F", long.as_str()),
            ("", ""),
            ("pk\u{fc}", "\u{1F600}"),
        ] {
            let id = Identity::new(pk, dn, IdentitySource::Login);
            assert_eq!((id.product_key(), id.device_name()), (pk, dn));
            assert!(id.is(pk, dn));
            assert!(!id.is(dn, pk) || pk == dn);
            assert!(!id.is(pk, "x"));
            assert_eq!(id, id.clone());
            assert_ne!(id, Identity::new(pk, dn, IdentitySource::Topic));
            let set: std::collections::HashSet<_> = [id.clone(), id.clone()].into();
            assert_eq!(set.len(), 1);
        }
        assert!(matches!(
            Identity::new(
                "a1B2c3D4e5F",
                "0123456789abcdef0123456789abcdef",
                IdentitySource::Login
            )
            .text,
            Text::Inline(..)
        ));
        // The split is the product key's length, not a search: "ab"+"c" is not "a"+"bc".
        assert!(!Identity::new("ab", "c", IdentitySource::Login).is("a", "bc"));
        let id = Identity::new("a", "b", IdentitySource::Login);
        assert_eq!(id.cache_no(), None);
        id.set_cache_no(0);
        assert_eq!(id.cache_no(), Some(0));
        assert_eq!(
            id.clone().cache_no(),
            None,
            "a copy is a new identity to a cache"
        );
    }
}
