//! Which device a topic names (protocol reference §4, §10), and whether a topic is Alibaba's.

/// Topics deeper than this are not looked at (bounded work on hostile input).
const MAX_LEVELS: usize = 64;

/// The product key and device name a topic names. `device_name` is `None` for product-wide
/// topics (`/broadcast/{pk}/…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicDevice<'a> {
    pub product_key: &'a str,
    pub device_name: Option<&'a str>,
}

/// The device named by an Alibaba topic, or `None` for topics that name none (or are not
/// Alibaba's). `/ext/rrpc/{id}/{inner}` is unwrapped.
pub fn device_of(topic: &str) -> Option<TopicDevice<'_>> {
    device_at(topic, true)
}

fn device_at(topic: &str, unwrap_rrpc: bool) -> Option<TopicDevice<'_>> {
    let rest = topic.strip_prefix('/')?;
    // Only the first six levels matter; splitn bounds the work on topics with thousands of levels.
    let mut l = [""; 6];
    let mut n = 0;
    for (slot, level) in l.iter_mut().zip(rest.splitn(MAX_LEVELS.min(7), '/')) {
        *slot = level;
        n += 1;
    }
    let l = &l[..n];
    let get = |i: usize| l.get(i).copied().filter(|s| !s.is_empty());
    match (get(0)?, get(1)) {
        ("sys", _) => Some(TopicDevice {
            product_key: get(1)?,
            device_name: Some(get(2)?),
        })
        .filter(|_| l.len() > 3),
        ("ext", Some("session" | "ntp" | "error")) => Some(TopicDevice {
            product_key: get(2)?,
            device_name: Some(get(3)?),
        }),
        ("ext", Some("rrpc")) if unwrap_rrpc => {
            // /ext/rrpc/{id}/{inner topic}
            let inner_start = nth_slash(topic, 3)?;
            device_at(&topic[inner_start..], false)
        }
        ("ota", Some("device")) => Some(TopicDevice {
            product_key: get(3)?,
            device_name: Some(get(4)?),
        }),
        ("shadow", Some("update" | "get")) => Some(TopicDevice {
            product_key: get(2)?,
            device_name: Some(get(3)?),
        }),
        ("broadcast", Some(pk)) => Some(TopicDevice {
            product_key: pk,
            device_name: None,
        }),
        (pk, Some(dn))
            if is_product_key(pk) && matches!(get(2), Some("user" | "update" | "get" | "data")) =>
        {
            Some(TopicDevice {
                product_key: pk,
                device_name: Some(dn),
            })
        }
        _ => None,
    }
}

/// Whether the topic belongs to the Alibaba namespace (so aliiot, not another heuristic, owns
/// its payloads).
pub fn is_alibaba(topic: &str) -> bool {
    if device_of(topic).is_some() {
        return true;
    }
    matches!(topic, "/ext/register" | "/ext/regnwl") || topic.starts_with("/ext/network/probe/")
}

/// Byte index of the `/` with index n (the leading one is index 0).
fn nth_slash(s: &str, n: usize) -> Option<usize> {
    s.match_indices('/').nth(n).map(|(i, _)| i)
}

/// Product keys are 11 alphanumerics on the public instance; accept 6–32 ASCII alphanumerics so
/// other instances' keys work, without claiming ordinary topics such as `/home/kitchen/user/x`.
fn is_product_key(s: &str) -> bool {
    (6..=32).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric())
        && s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes().any(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(pk: &'static str, dn: &'static str) -> Option<TopicDevice<'static>> {
        Some(TopicDevice {
            product_key: pk,
            device_name: Some(dn),
        })
    }

    #[test]
    fn families() {
        assert_eq!(
            device_of("/sys/a1B2c3D4e5F/dev/thing/event/property/post"),
            d("a1B2c3D4e5F", "dev")
        );
        assert_eq!(
            device_of("/a1B2c3D4e5F/lab-sensor-01/user/update"),
            d("a1B2c3D4e5F", "lab-sensor-01")
        );
        assert_eq!(
            device_of("/shadow/get/a1B2c3D4e5F/dev"),
            d("a1B2c3D4e5F", "dev")
        );
        assert_eq!(
            device_of("/ota/device/upgrade/a1B2c3D4e5F/dev"),
            d("a1B2c3D4e5F", "dev")
        );
        assert_eq!(
            device_of("/ext/ntp/a1B2c3D4e5F/dev/request"),
            d("a1B2c3D4e5F", "dev")
        );
        assert_eq!(
            device_of("/ext/error/a1B2c3D4e5F/dev"),
            d("a1B2c3D4e5F", "dev")
        );
        assert_eq!(
            device_of("/ext/session/a1B2c3D4e5F/gw/combine/login"),
            d("a1B2c3D4e5F", "gw")
        );
        assert_eq!(
            device_of("/ext/rrpc/123/a1B2c3D4e5F/dev/user/get"),
            d("a1B2c3D4e5F", "dev")
        );
        assert_eq!(
            device_of("/ext/rrpc/9/sys/a1B2c3D4e5F/dev/thing/service/Get"),
            d("a1B2c3D4e5F", "dev")
        );
        assert_eq!(
            device_of("/broadcast/a1B2c3D4e5F/news"),
            Some(TopicDevice {
                product_key: "a1B2c3D4e5F",
                device_name: None
            })
        );
    }

    #[test]
    fn not_alibaba() {
        for t in [
            "spBv1.0/group/NBIRTH/node",
            "home/kitchen/temp",
            "/home/kitchen/user/x",
            "",
            "/",
            "/sys",
            "/sys/pk",
            "/sys/pk/dn",
        ] {
            assert_eq!(device_of(t), None, "{t}");
            assert!(!is_alibaba(t), "{t}");
        }
        assert!(is_alibaba("/ext/register"));
        assert!(is_alibaba("/ext/regnwl"));
    }

    #[test]
    fn deep_topics_are_bounded() {
        let t = format!("/sys/pk1/dn{}", "/x".repeat(1000));
        assert_eq!(device_of(&t), d("pk1", "dn"));
        let t = "/ext/rrpc/1".repeat(200);
        assert_eq!(device_of(&t), None);
    }
}
