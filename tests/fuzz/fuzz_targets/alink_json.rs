//! The lenient, bounded JSON parser: `json::parse`, then a walk over the result with every
//! accessor, `to_compact` at several widths and `parse_embedded` on strings.
#![no_main]

use aliiot::core::json::{self, Value, MAX_DEPTH, MAX_NOTES};
use libfuzzer_sys::fuzz_target;

/// Visits every value (explicit stack: the parser allows 64 levels, embedded JSON adds more).
fn walk(root: &Value, embedded_budget: &mut usize) {
    let mut stack: Vec<(&Value, usize)> = vec![(root, 0)];
    while let Some((v, depth)) = stack.pop() {
        assert!(depth <= MAX_DEPTH);
        let _ = v.as_str();
        let _ = v.as_f64();
        let _ = v.as_bool();
        let _ = v.as_u64_lenient();
        assert_eq!(v.is_object(), v.as_object().is_some());
        assert_eq!(v.is_array(), v.as_array().is_some());
        match v {
            Value::Object(members) => {
                for (i, (k, child)) in members.iter().enumerate() {
                    if i < 32 {
                        // `get` finds the first member with the key.
                        let first = members.iter().find(|(k2, _)| k2 == k).map(|(_, v)| v);
                        assert_eq!(
                            v.get(k).map(|x| x as *const Value),
                            first.map(|x| x as *const Value)
                        );
                    }
                    stack.push((child, depth + 1));
                }
                let _ = v.get("id");
                let _ = v.get("params");
            }
            Value::Array(items) => {
                assert!(v.get("id").is_none());
                for child in items {
                    stack.push((child, depth + 1));
                }
            }
            Value::Str(_) if *embedded_budget > 0 => {
                *embedded_budget -= 1;
                if let Some(p) = v.parse_embedded() {
                    assert!(p.value.is_object() || p.value.is_array());
                    walk(&p.value, embedded_budget);
                }
            }
            Value::Number { value, .. } => assert!(!value.is_nan()),
            _ => {}
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let parsed = match json::parse(data) {
        Ok(p) => p,
        Err(e) => {
            assert!(e.offset <= data.len(), "error offset past the input");
            let _ = e.to_string();
            return;
        }
    };
    assert!(parsed.notes.len() <= MAX_NOTES);
    let mut budget = 64;
    walk(&parsed.value, &mut budget);

    for width in [0usize, 1, 2, 10, 80, 200] {
        let s = parsed.value.to_compact(width);
        assert!(
            s.chars().count() <= width,
            "to_compact({width}) gave {} chars",
            s.chars().count()
        );
    }
    // The full compact rendering is strict JSON that reads back as the same value.
    let full = parsed.value.to_compact(usize::MAX);
    match json::parse(full.as_bytes()) {
        Ok(again) => assert_eq!(
            again.value, parsed.value,
            "round trip changed the value: {full}"
        ),
        Err(e) => panic!("compact rendering does not parse again ({e}): {full}"),
    }
});
