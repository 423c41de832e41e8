//! One connection's state, and how each of its packets moves it: the login, the identity, the
//! gateway's sub-devices, MQTT's flow.

use std::num::NonZeroU32;
use std::rc::Rc;

use super::pairing::{matching, Matching};
use super::*;
use crate::core::clientid::ClientId;
use crate::core::expert::Ei;
use crate::core::expert::{Finding, RefusalHint};
use crate::core::flow::{extent, FlowPacket, FlowState};
use crate::core::json::Value;
use crate::core::mqtt::{CONNACK, CONNECT, PUBLISH, SUBSCRIBE, UNSUBSCRIBE};
use crate::core::payload::{self, Payload};
use crate::core::secrets::Secrets;
use crate::core::sign::{check_login, SignStatus};
use crate::core::topic;
use crate::core::transport::is_broker_port;
use crate::core::tsl::InForce;

/// One MQTT connection (a transport conversation).
#[derive(Debug, Default)]
pub struct Conn {
    pub identity: Option<Rc<Identity>>,
    /// Endpoint key of the device side.
    pub device_endpoint: Option<u64>,
    /// The session's CONNECT and first CONNACK (frames count from 1): see
    /// [`Conn::connect_frame`], [`Conn::connack_frame`].
    pub(crate) connect_frame: Option<NonZeroU32>,
    pub(crate) connack_frame: Option<NonZeroU32>,
    pub sign: Option<SignStatus>,
    /// The CONNECT's client id lacked the `|…|` parameters (the likeliest cause of a refusal).
    pub client_id_without_params: bool,
    /// A gateway: says gw=1 at login, or manages sub-devices (topo, combine, sub/register).
    pub is_gateway: bool,
    /// Every request seen, in order; records refer to them by index.
    pub requests: Vec<Request>,
    /// What pairs requests with replies while the connection is open; dropped when it ends.
    pub(super) matching: Option<Box<Matching>>,
    /// MQTT-level flow: acknowledgements, keep-alive, how the session ended.
    pub flow: FlowState,
    /// SDK language and version from the client id (`lan`, `_v`).
    pub sdk: Option<Box<str>>,
    /// MQTT protocol level from the CONNECT (MQTT's own rule: the last CONNECT that says one).
    pub mqtt_level: Option<u8>,
    pub(super) pending_limit_hit: bool,
    /// The device subscribed to a topic it publishes on: the broker echoes its messages.
    pub(super) echoes: bool,
}

/// The sub-device entries of a topo/add (`params: [..]`), combine/login (`params: {..}`) or
/// combine/batch_login (`params: {signMethod, deviceList: [..]}`) request, signs checked.
fn sub_logins(v: &Value, secrets: &Secrets) -> Vec<SubLogin> {
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
            let (status, _) = crate::core::sign::check_subdevice(
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

fn text<'a>(
    bytes: &'a [u8],
    what: &'static str,
    experts: &mut Vec<(Ei, String)>,
) -> std::borrow::Cow<'a, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.into(),
        Err(_) => {
            experts.push(Finding::NotUtf8(what).item());
            String::from_utf8_lossy(bytes)
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
        && (cid.securemode.is_some() || cid.signmethod().is_some() || cid.auth_type().is_some())
    {
        return true;
    }
    username.and_then(split_username).is_some_and(|(_, pk)| {
        (6..=32).contains(&pk.len()) && pk.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

// What every connection keeps until the capture is closed (boxed in `Conns`).
const _: () = assert!(std::mem::size_of::<Conn>() == 200);

impl Conn {
    /// The frame of the session's CONNECT.
    pub fn connect_frame(&self) -> Option<u32> {
        self.connect_frame.map(NonZeroU32::get)
    }

    /// The frame of the session's first CONNACK.
    pub fn connack_frame(&self) -> Option<u32> {
        self.connack_frame.map(NonZeroU32::get)
    }

    /// Where the state this connection's next packet reads lives, besides the connection itself:
    /// its identity, its pairing and acknowledgement state, the ends of its request and exchange
    /// lists, each as an address and a size in bytes (null: none). Addresses only, nothing is
    /// read through them: the dissector asks the caches for them while MQTT dissects the frame,
    /// since between two packets of a connection a capture goes through hundreds of others'
    /// and they are no longer cached.
    pub fn state_addresses(&self) -> [(*const u8, usize); 5] {
        let [live, exchanges] = self.flow.state_addresses();
        [
            extent(self.identity.as_deref()),
            extent(self.matching.as_deref()),
            live,
            exchanges,
            (self.requests.as_ptr_range().end.cast(), 1),
        ]
    }

    fn direction(&mut self, msg_type: u8, ctx: &FrameCtx) -> Option<Direction> {
        if self.device_endpoint.is_none() {
            // Packets only a client sends tell which side the device is.
            use crate::core::mqtt::{PINGREQ, PINGRESP, SUBACK, UNSUBACK};
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

    pub(super) fn release_matching(&mut self) {
        self.matching = None;
        self.requests.shrink_to_fit();
        self.flow.release_matching();
    }

    /// What only later passes read of an ended connection (its requests and acknowledgements,
    /// for the links shown on them) is freed when nothing will be shown again: a one-pass read
    /// keeps the open connections' state only, which on a long capture also keeps the heap that
    /// every packet's allocations share compact.
    pub(super) fn release_links(&mut self) {
        self.requests = Vec::new();
        self.flow.exchanges = Vec::new();
    }

    /// Analyses one packet of this connection (first pass only).
    pub fn analyze(&mut self, pdu: &MqttPdu<'_>, ctx: &FrameCtx, secrets: &Secrets) -> PduRecord {
        let mut rec = PduRecord::default();
        self.analyze_with(pdu, ctx, secrets, Detail::Full, InForce::NONE, &mut rec);
        rec
    }

    /// [`Self::analyze`] into `rec` (a default record, filled in place: no copy of it is made),
    /// reading a PUBLISH's payload in full only for [`Detail::Full`] or when a thing model checks
    /// it (`models`: those in force).
    pub fn analyze_with(
        &mut self,
        pdu: &MqttPdu<'_>,
        ctx: &FrameCtx,
        secrets: &Secrets,
        detail: Detail,
        models: InForce<'_>,
        rec: &mut PduRecord,
    ) {
        rec.msg_type = pdu.msg_type;
        rec.assigned_client_id = pdu
            .assigned_client_id
            .map(|b| String::from_utf8_lossy(b).into_owned());
        if pdu.msg_type == CONNECT {
            // A CONNECT starts a new session; the device is its sender.
            self.device_endpoint = Some(ctx.src);
            self.connect_frame = NonZeroU32::new(ctx.frame);
            self.connack_frame = None;
            self.flow.version = pdu.version.unwrap_or(4);
            self.flow.keepalive = pdu.keepalive;
            self.analyze_connect(pdu, ctx, secrets, rec);
        } else if self.identity.is_none() {
            self.identity_from_topics(pdu);
        }
        rec.direction = self.direction(pdu.msg_type, ctx);
        if pdu.msg_type == CONNACK {
            if self.connack_frame.is_none() {
                self.connack_frame = NonZeroU32::new(ctx.frame);
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
            rec.connect_in = self.connect_frame();
        }
        rec.identity = self.identity.clone();
        if detail == Detail::Column {
            // Only the Info column is made, and nothing is kept: the session's flow, pairing and
            // findings would never be read.
            if pdu.msg_type == PUBLISH {
                let (topics, payload) = describe_publish(pdu.topic, pdu.payload, detail, models);
                rec.topics = topics;
                rec.payload = payload;
            }
            return;
        }
        if !detail.lean() {
            // The MQTT flow (acknowledgements, keep-alive, session summary) only items read.
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
        }
        rec.v5_reason = crate::core::mqtt5::check(pdu.msg_type, &pdu.v5, &mut rec.experts);
        match pdu.msg_type {
            PUBLISH => {
                self.analyze_publish(pdu, ctx, secrets, detail, models, rec);
            }
            SUBSCRIBE | UNSUBSCRIBE => {
                (rec.filters, rec.topics) = describe_filters(pdu);
                // A device that subscribes to a topic it publishes on gets its own messages back
                // (the C SDK subscribes to its OTA request topic and to thing/service/+, which
                // its service replies match).
                if pdu.msg_type == SUBSCRIBE {
                    self.echoes |= rec
                        .topics
                        .iter()
                        .any(|t| t.wildcard || t.flow() == topic::Flow::Up);
                }
            }
            _ => {}
        }
        // What later passes show must be what the first pass showed.
        debug_assert!(
            detail != Detail::Full
                || format!(
                    "{:?}",
                    rec.clone().into_cached().restore_with(
                        pdu,
                        None,
                        secrets,
                        Detail::Full,
                        models
                    )
                ) == format!("{rec:?}"),
            "a cached record restores to the record it came from: {rec:?}"
        );
    }

    fn analyze_publish(
        &mut self,
        pdu: &MqttPdu<'_>,
        ctx: &FrameCtx,
        secrets: &Secrets,
        detail: Detail,
        models: InForce<'_>,
        rec: &mut PduRecord,
    ) {
        let Some(topic_bytes) = pdu.topic else {
            return;
        };
        let topic_text = crate::core::lossy(topic_bytes);
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
                && !login.is(pk, dn)
                && !c.names_gateway_session()
            {
                if self.is_gateway {
                    rec.gateway = Some(login.clone());
                    rec.identity = Some(Rc::new(Identity::new(pk, dn, IdentitySource::Topic)));
                } else if !t.wildcard {
                    let foreign = Finding::ForeignTopic {
                        product_key: pk,
                        device_name: dn,
                        login_product_key: login.product_key(),
                        login_device_name: login.device_name(),
                    };
                    rec.experts.push(foreign.item());
                }
            }
        }
        let model = (t.class.tsl != topic::TslRole::None)
            .then(|| t.product_key.and_then(|pk| models.get(pk)))
            .flatten();
        let payload = pdu.payload.and_then(|b| detail.read_payload(&t, b, models));
        // A request its product's model checks but that is not shown now: checked only if an
        // error reply comes (so the reply can point at what was refused), from a copy kept
        // until its reply.
        let unchecked = pdu
            .payload
            .filter(|_| model.is_some() && detail != Detail::Full && !t.is_reply)
            .map(|b| (&*topic_text, b));
        let lean = detail.lean();
        if self.echoes && t.flow() == topic::Flow::Up && !lean {
            rec.echo_of = self.echo(rec.direction, &topic_text, pdu.payload, ctx.frame);
            if let Some(f) = rec.echo_of {
                rec.experts.push(Finding::Echo(f).item());
            }
        }
        if let Some(p) = &payload {
            // The payload's own expert items are made from the payload when it is shown; this
            // is where they stand among the packet's.
            rec.payload_experts_at = Some(rec.experts.len().min(u8::MAX as usize) as u8);
            // An echo is neither a request nor a reply.
            if rec.echo_of.is_none() && !lean {
                let mqtt5 = (pdu.response_topic, pdu.correlation, &*topic_text);
                self.match_request(&t, p, ctx, mqtt5, (unchecked, models), rec);
            }
        }
        if !t.is_reply && c.logs_sub_devices_in() {
            if let Some(v) = pdu.payload.and_then(|b| crate::core::json::parse(b).ok()) {
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
        if !lean && payload.as_ref().is_some_and(Payload::alink_error) {
            self.flow.alink_errors += 1;
        }
        // Kept for a later pass's Info column; a lean pass keeps nothing for later passes (and
        // with Items has not read the payload).
        if !lean {
            rec.publish_info = Some(PublishInfo {
                class: c,
                is_reply: t.is_reply,
                wildcard: t.wildcard,
                payload_code: payload.as_ref().map(Payload::code),
            });
        }
        if detail != Detail::Bare {
            rec.topics.push(TopicView::new(&topic_text, &t));
            rec.payload = payload;
        }
    }

    fn identity_from_topics(&mut self, pdu: &MqttPdu<'_>) {
        for t in pdu.topic.iter().chain(&pdu.topics) {
            let Ok(t) = std::str::from_utf8(t) else {
                continue;
            };
            if let Some(topic::TopicDevice {
                product_key,
                device_name: Some(dn),
            }) = topic::device_of(t)
            {
                self.identity = Some(Rc::new(Identity::new(
                    product_key,
                    dn,
                    IdentitySource::Topic,
                )));
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
        let view = describe_connect(pdu, secrets, ctx.over_tls);
        // They lead the record's experts: a CONNECT has none before them.
        if let Ok(n) = u8::try_from(view.experts.len()) {
            rec.connect_experts = Some((n, ctx.over_tls));
        }
        rec.experts.extend(view.experts);
        if pdu.client_id.is_none() {
            // MQTT could not read the client id (truncated or malformed CONNECT): nothing to say.
            return;
        }
        let Some(login) = view.login else {
            // Not an Alibaba device's login.
            self.identity = None;
            self.sign = None;
            return;
        };
        self.client_id_without_params = !login.client_id.has_params;
        self.identity = view
            .identity
            .map(|(pk, dn)| Rc::new(Identity::new(&pk, &dn, IdentitySource::Login)));
        self.sign = login.sign.as_ref().map(|c| c.status);
        let cid = &login.client_id;
        self.sdk = match (cid.sdk_language(), cid.sdk_version()) {
            (Some(l), Some(v)) => Some(format!("{l} {v}").into_boxed_str()),
            (Some(x), None) | (None, Some(x)) => Some(x.into()),
            (None, None) => None,
        };
        rec.login = Some(Box::new(login));
    }
}

/// What a CONNECT says of itself: its login (the client id, and the sign checked against
/// `secrets` when it has a user name and password), the device it names, and the expert items
/// that follow from its bytes (`over_tls`: whether TLS carried it). No login without a client id
/// or when it is not an Alibaba device's. Pure: the same on every pass, so the cache keeps none
/// of it.
pub struct ConnectView {
    pub login: Option<Login>,
    /// (product key, device name) from the user name.
    pub identity: Option<(String, String)>,
    pub experts: Vec<(Ei, String)>,
}

pub fn describe_connect(pdu: &MqttPdu<'_>, secrets: &Secrets, over_tls: bool) -> ConnectView {
    let mut experts = Vec::new();
    if pdu.will && pdu.version.unwrap_or(4) == 4 {
        experts.push(Finding::Will.item());
    }
    let Some(cid_bytes) = pdu.client_id else {
        return ConnectView {
            login: None,
            identity: None,
            experts,
        };
    };
    let mut utf8 = Vec::new();
    let cid_text = text(cid_bytes, "Client id", &mut utf8);
    let cid = ClientId::parse(&cid_text);
    let username = pdu.username.map(|u| text(u, "User name", &mut utf8));
    if !is_alibaba_login(&cid, username.as_deref()) {
        return ConnectView {
            login: None,
            identity: None,
            experts,
        };
    }
    experts.append(&mut utf8);
    for issue in &cid.issues {
        experts.push(Finding::ClientId(issue).item());
    }
    if let Some(k) = pdu.keepalive {
        if !cid.is_dynamic_registration() && !(30..=1200).contains(&k) {
            experts.push(Finding::KeepAlive(k).item());
        }
    }
    let identity = username.as_deref().and_then(split_username);
    match (&username, identity) {
        (Some(u), None) if !cid.uses_token() => experts.push(Finding::UserNameFormat(u).item()),
        (None, _) => experts.push(Finding::NoUserName.item()),
        _ => {}
    }
    let mut sign = None;
    if let (Some((dn, pk)), Some(pw)) = (identity, pdu.password) {
        let check = check_login(&cid, pk, dn, pw, secrets);
        if check.password_not_hex && check.status != SignStatus::NotASign {
            experts.push(Finding::PasswordNotHex.item());
        }
        match check.status {
            SignStatus::Verified => experts.push(Finding::SignVerified(&check).item()),
            SignStatus::Mismatch => {
                let mismatch = Finding::SignMismatch {
                    check: &check,
                    device_name: dn,
                    product_key: pk,
                };
                experts.push(mismatch.item());
            }
            _ => {}
        }
        sign = Some(check);
    } else if pdu.password.is_none() && identity.is_some() {
        experts.push(Finding::NoPassword.item());
    }
    if pdu.password.is_some() && !over_tls {
        let declared = cid
            .securemode
            .filter(|m| crate::core::clientid::securemode_declares_tls(*m));
        experts.push(Finding::Cleartext(declared).item());
    }
    ConnectView {
        identity: identity.map(|(dn, pk)| (pk.to_string(), dn.to_string())),
        login: Some(Login {
            client_id: cid,
            sign,
        }),
        experts,
    }
}
