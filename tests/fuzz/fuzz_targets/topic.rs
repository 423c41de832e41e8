//! Topic semantics: `classify`, `is_alibaba`, `device_of`, `is_product_key`, and for a classified
//! topic `reply_suffix` / `message_flow` and the owned view the session keeps.
#![no_main]

use aliiot::core::session::TopicView;
use aliiot::core::topic::{self, Flow};
use libfuzzer_sys::fuzz_target;

/// Whether `part` is a sub-slice of `whole` (the classifier only ever borrows from the topic).
fn borrowed_from(part: &str, whole: &str) -> bool {
    let (p, w) = (part.as_ptr() as usize, whole.as_ptr() as usize);
    p >= w && p + part.len() <= w + whole.len()
}

fuzz_target!(|data: &[u8]| {
    let t = String::from_utf8_lossy(data);
    let info = topic::classify(&t);
    assert_eq!(topic::is_alibaba(&t), info.is_some());
    let dev = topic::device_of(&t);
    match (&info, &dev) {
        (Some(i), Some(d)) => {
            assert_eq!(i.product_key, Some(d.product_key));
            assert_eq!(i.device_name, d.device_name);
        }
        (Some(i), None) => assert!(i.product_key.is_none()),
        (None, Some(_)) => panic!("device_of without classify"),
        (None, None) => {}
    }
    for level in t.split('/').take(64) {
        if topic::is_product_key(level) {
            assert!((6..=32).contains(&level.len()));
        }
    }
    if let Some(i) = info {
        assert!(t.starts_with('/'));
        for s in [i.identifier, i.product_key, i.device_name, i.rrpc_id]
            .into_iter()
            .flatten()
        {
            assert!(borrowed_from(s, &t));
        }
        let _ = topic::reply_suffix(i.class, i.is_reply);
        let flow = topic::message_flow(i.class, i.is_reply);
        assert_eq!(flow, i.flow());
        if i.class.flow == Flow::Either {
            assert_eq!(flow, Flow::Either);
        }
        assert!(topic::ALL.contains(&i.class));
        let view = TopicView::new(&t, &i);
        assert_eq!(view.flow(), flow);
        assert_eq!(view.product_key(), i.product_key);
        assert_eq!(view.device_name(), i.device_name);
        assert_eq!(view.identifier(), i.identifier);
        assert_eq!(view.rrpc_id(), i.rrpc_id);
    }
});
