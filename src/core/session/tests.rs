//! The session's analysis, packet by packet, without Wireshark.

use super::*;
use crate::core::expert::Ei;
use crate::core::mqtt::{CONNACK, CONNECT, PUBLISH, SUBSCRIBE};
use crate::core::secrets::Secrets;
use crate::core::sign::{Algorithm, SignStatus};
use crate::core::topic;

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
    let cid = "a1B2c3D4e5F&lab-sensor-02|securemode=3,signmethod=hmacsha1,timestamp=1733000000000|";
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
    assert_eq!(
        rec.identity.as_ref().unwrap().device_name(),
        "lab-sensor-02"
    );
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
    assert_eq!(conn.connack_frame(), Some(6));
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
        && e.1
            .contains("over 'clientIdxdeviceNamelab-sensor-06productKeya1B2c3D4e5Ftimestamp1'")));
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
        topic: Some(b"home/kitchen/temp"),
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
        topic: Some(b"/sys/a1B2c3D4e5F/dev-9/thing/event/property/post"),
        ..Default::default()
    };
    let rec = conn.analyze(&publish, &ctx(2, true), &Secrets::default());
    let id = rec.identity.unwrap();
    assert_eq!(
        (id.product_key(), id.device_name(), id.source),
        (PK, "dev-9", IdentitySource::Topic)
    );
    assert_eq!(rec.connect_in, None);
}

fn publish<'a>(topic: &'a str, payload: &'a [u8]) -> MqttPdu<'a> {
    MqttPdu {
        msg_type: PUBLISH,
        topic: Some(topic.as_bytes()),
        payload: Some(payload),
        ..Default::default()
    }
}

#[test]
fn ntp_with_a_placeholder_send_time() {
    let mut conn = Conn::default();
    let s = Secrets::default();
    let at = |frame: u32, from_device: bool, ms: i64| FrameCtx {
        ts_ns: ms * 1_000_000,
        ..ctx(frame, from_device)
    };
    let req = publish(
        "/ext/ntp/a1B2c3D4e5F/dev/request",
        br#"{"deviceSendTime":"1234"}"#,
    );
    let rec = conn.analyze(&req, &at(3, true, 1_733_000_000_000), &s);
    assert_eq!(rec.experts.len(), 1);
    assert_eq!(rec.experts[0].0, Ei::NtpPlaceholder);
    let resp = publish(
        "/ext/ntp/a1B2c3D4e5F/dev/response",
        br#"{"deviceSendTime":"1234","serverRecvTime":"1733000002010","serverSendTime":"1733000002030"}"#,
    );
    let rec = conn.analyze(&resp, &at(4, false, 1_733_000_000_040), &s);
    assert_eq!(rec.reply.map(|r| r.request_frame), Some(3));
    assert_eq!(rec.ntp_offset_ms, None);
    // Platform 2020 ms past the capture's middle (…0 020).
    assert_eq!(rec.ntp_capture_offset_ms, Some(2000.0));
    // A real send time: the device's clock offset, as before.
    let req = publish(
        "/ext/ntp/a1B2c3D4e5F/dev/request",
        br#"{"deviceSendTime":"1733000000000"}"#,
    );
    assert!(conn
        .analyze(&req, &at(5, true, 1_733_000_000_000), &s)
        .experts
        .is_empty());
    let resp = publish(
        "/ext/ntp/a1B2c3D4e5F/dev/response",
        br#"{"deviceSendTime":"1733000000000","serverRecvTime":"1733000000510","serverSendTime":"1733000000510"}"#,
    );
    let rec = conn.analyze(&resp, &at(6, false, 1_733_000_000_020), &s);
    assert_eq!(
        (rec.ntp_offset_ms, rec.ntp_capture_offset_ms),
        (Some(500.0), None)
    );
}

#[test]
fn legacy_ota_request_upgrade_and_echo() {
    let mut conn = Conn::default();
    let s = Secrets::default();
    let (pk, dn) = ("a1RIsMLz2BJ", "example1");
    let request_topic = format!("/ota/device/request/{pk}/{dn}");
    let upgrade_topic = format!("/ota/device/upgrade/{pk}/{dn}");
    // An upgrade nobody asked for is not an orphan reply.
    let push = br#"{"code":"1000","data":{"version":"2.0"},"id":1,"message":"success"}"#;
    let rec = conn.analyze(&publish(&upgrade_topic, push), &ctx(2, false), &s);
    assert_eq!((rec.reply, rec.experts.len()), (None, 0));
    // The C SDK subscribes to its own request topic: the broker echoes the request back.
    let sub = MqttPdu {
        msg_type: SUBSCRIBE,
        msgid: Some(1),
        topics: vec![request_topic.as_bytes()],
        ..Default::default()
    };
    conn.analyze(&sub, &ctx(3, true), &s);
    let ask = br#"{"id":"2","params":{"version":"1.0"}}"#;
    let rec = conn.analyze(&publish(&request_topic, ask), &ctx(4, true), &s);
    assert_eq!(rec.request, Some(0));
    let rec = conn.analyze(&publish(&request_topic, ask), &ctx(5, false), &s);
    assert_eq!((rec.echo_of, rec.request, rec.reply), (Some(4), None, None));
    assert_eq!(rec.experts[0].0, Ei::Echo);
    let rec = conn.analyze(&publish(&upgrade_topic, push), &ctx(6, false), &s);
    assert_eq!(rec.reply.map(|r| r.request_frame), Some(4));
    assert_eq!(conn.requests[0].response(), Some(6));
    assert!(!conn.requests[0].expects_reply);
}

/// The Link SDK 4.x MQTT 5 demo sets a Response Topic (the post's own topic) and Correlation Data
/// "12345" on every property post, the repeated topic given by alias; the platform answers on
/// `_reply` by id. Both posts pair with their replies.
#[test]
fn mqtt5_properties_do_not_hide_alink_pairing() {
    let mut conn = Conn::default();
    let s = Secrets::default();
    let post = "/sys/a1B2c3D4e5F/dev/thing/event/property/post";
    let reply = "/sys/a1B2c3D4e5F/dev/thing/event/property/post_reply";
    let req = |id: &'static [u8]| MqttPdu {
        response_topic: Some(post.as_bytes()),
        correlation: Some(b"12345"),
        ..publish(post, id)
    };
    assert_eq!(
        conn.analyze(&req(br#"{"id":"1","params":{}}"#), &ctx(3, true), &s)
            .request,
        Some(0)
    );
    assert_eq!(
        conn.analyze(&req(br#"{"id":"2","params":{}}"#), &ctx(4, true), &s)
            .request,
        Some(1)
    );
    let r1 = conn.analyze(
        &publish(reply, br#"{"id":"1","code":200}"#),
        &ctx(5, false),
        &s,
    );
    let r2 = conn.analyze(
        &publish(reply, br#"{"id":"2","code":200}"#),
        &ctx(6, false),
        &s,
    );
    assert_eq!(
        (
            r1.reply.map(|r| r.request_frame),
            r2.reply.map(|r| r.request_frame)
        ),
        (Some(3), Some(4))
    );
    // On a topic the platform does not pair, MQTT 5 request/response pairs as MQTT says.
    let user = "/a1B2c3D4e5F/dev/user/get";
    let ask = MqttPdu {
        response_topic: Some(b"/a1B2c3D4e5F/dev/user/answer"),
        correlation: Some(b"c-1"),
        ..publish(user, b"ping")
    };
    assert_eq!(conn.analyze(&ask, &ctx(7, true), &s).request, Some(2));
    let answer = MqttPdu {
        correlation: Some(b"c-1"),
        ..publish("/a1B2c3D4e5F/dev/user/answer", b"pong")
    };
    let rec = conn.analyze(&answer, &ctx(8, false), &s);
    assert_eq!(rec.reply.map(|r| r.request_frame), Some(7));
}

#[test]
fn job_update_pairs_with_its_reply() {
    let mut conn = Conn::default();
    let publish = |topic: &'static str, payload: &'static str| MqttPdu {
        msg_type: PUBLISH,
        topic: Some(topic.as_bytes()),
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
        topic: Some(topic),
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

#[test]
fn topics_hold_one_inline_then_many() {
    use crate::core::session::record::Topics;
    let view = |s: &str| TopicView::new(s, &topic::classify(s).unwrap());
    let mut t = Topics::default();
    assert!(t.is_empty());
    t.push(view("/sys/pk/dn/thing/event/property/post"));
    assert!(matches!(t, Topics::One(_)));
    t.push(view("/sys/pk/dn/thing/service/property/set"));
    t.push(view("/ota/device/upgrade/pk/dn"));
    assert!(matches!(t, Topics::Many(_)));
    let classes: Vec<_> = (&t).into_iter().map(|v| v.class.name).collect();
    assert_eq!(classes.len(), 3);
    assert_eq!(t[1].product_key(), Some("pk"));
    assert_eq!(Topics::from(Vec::new()), Topics::None);
}

/// A connection reset after a QoS 1 property post: the request and its acknowledgement exchange
/// stay for later passes' links, and are freed when nothing will be shown again.
#[test]
fn an_ended_connection_keeps_links_only_if_revisited() {
    let s = Secrets::default();
    let mut cap = Capture::default();
    for (conv, revisited) in [(1, true), (2, false)] {
        let post = MqttPdu {
            qos: 1,
            msgid: Some(7),
            ..publish(
                "/sys/a1B2c3D4e5F/dev/thing/event/property/post",
                br#"{"id":"1","params":{"t":1}}"#,
            )
        };
        let rec = cap.analyze(conv, &post, &ctx(3, true), &s);
        assert_eq!(rec.request, Some(0));
        let conn = &cap.conns[&conv];
        assert_eq!((conn.requests.len(), conn.flow.exchanges.len()), (1, 1));
        cap.tcp_end(conv, 4, 0, true, revisited);
        let conn = &cap.conns[&conv];
        let kept = usize::from(revisited);
        assert_eq!(
            (conn.requests.len(), conn.flow.exchanges.len()),
            (kept, kept),
            "revisited: {revisited}"
        );
        assert!(conn.flow.ended());
    }
}
