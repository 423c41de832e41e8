//! Checks of Alink values against a thing model: each finding a typed [`TslIssue`] (its words are
//! and severities are in [`crate::core::expert`]). The rules are those of the TSL reference
//! (§5.2); what the platform's enforcement leaves unconfirmed is a warning or a note there.

use super::super::json::Value;
use super::model::{Access, DataType, NumKind, Range};

/// At most this many findings are kept per message (the rest are counted).
pub const MAX_ISSUES: usize = 64;
/// More properties than this in one post: the platform refuses it (code 6106).
pub const MAX_POST_PROPERTIES: usize = 200;

/// One finding. `id` is the path of the value (`CountDown.Hour`, `Points[2]`).
#[derive(Debug, Clone, PartialEq)]
pub enum TslIssue {
    UnknownProperty {
        id: String,
    },
    UnknownModule {
        module: String,
    },
    /// `got`: the JSON kind sent.
    TypeMismatch {
        id: String,
        expects: &'static str,
        got: &'static str,
    },
    NumberAsString {
        id: String,
    },
    NotInteger {
        id: String,
        value: String,
    },
    AboveMax {
        id: String,
        value: String,
        max: String,
    },
    BelowMin {
        id: String,
        value: String,
        min: String,
    },
    OffStep {
        id: String,
        value: String,
        step: String,
    },
    TextTooLong {
        id: String,
        chars: usize,
        bytes: usize,
        length: u32,
    },
    EnumValue {
        id: String,
        value: String,
        keys: String,
    },
    BoolValue {
        id: String,
        value: String,
    },
    BoolLiteral {
        id: String,
        value: bool,
    },
    DateValue {
        id: String,
    },
    DateNumber {
        id: String,
    },
    StructLacks {
        id: String,
        member: String,
    },
    StructUnknown {
        id: String,
        member: String,
    },
    ArrayTooLong {
        id: String,
        items: usize,
        size: u32,
    },
    ArrayItem {
        id: String,
        index: usize,
        expects: &'static str,
    },
    UnknownEvent {
        id: String,
    },
    UnknownEventOutput {
        event: String,
        output: String,
    },
    EventNotWrapped,
    UnknownService {
        id: String,
    },
    MissingInput {
        service: String,
        input: String,
    },
    UnknownInput {
        service: String,
        input: String,
    },
    UnknownReplyOutput {
        service: String,
        output: String,
    },
    ReadOnly {
        id: String,
    },
    FloatWithoutPoint {
        id: String,
    },
    TooManyProperties {
        count: usize,
    },
    SyncServiceAsync {
        service: String,
    },
    /// More findings than [`MAX_ISSUES`].
    More {
        count: usize,
    },
}

/// Where findings go: bounded.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Issues {
    pub list: Vec<TslIssue>,
    pub dropped: usize,
}

impl Issues {
    pub fn push(&mut self, i: TslIssue) {
        if self.list.len() < MAX_ISSUES {
            self.list.push(i);
        } else {
            self.dropped += 1;
        }
    }

    /// The findings, the count of dropped ones last.
    pub fn finish(mut self) -> Vec<TslIssue> {
        if self.dropped > 0 {
            self.list.push(TslIssue::More {
                count: self.dropped,
            });
        }
        self.list
    }
}

/// The JSON kind of a value, as findings name it.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number { .. } => "number",
        Value::Str(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::Number { text, .. } => text.to_string(),
        Value::Str(s) => format!("\"{s}\""),
        other => other.to_compact(40),
    }
}

/// Checks a value against its data type; `id` is its path for the findings.
pub fn check_value(dt: &DataType, v: &Value, id: &str, out: &mut Issues) {
    match dt {
        DataType::Number(k, r) => check_number(*k, r, v, id, out),
        DataType::Text(length) => match v {
            Value::Str(s) => {
                let chars = s.chars().count();
                if let Some(len) = length.filter(|l| chars > *l as usize) {
                    out.push(TslIssue::TextTooLong {
                        id: id.into(),
                        chars,
                        bytes: s.len(),
                        length: len,
                    });
                }
            }
            _ => mismatch(dt, v, id, out),
        },
        DataType::Date => match v {
            Value::Str(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {}
            Value::Str(_) => out.push(TslIssue::DateValue { id: id.into() }),
            Value::Number { value, .. } if value.fract() == 0.0 && *value >= 0.0 => {
                out.push(TslIssue::DateNumber { id: id.into() })
            }
            Value::Number { .. } => out.push(TslIssue::DateValue { id: id.into() }),
            _ => mismatch(dt, v, id, out),
        },
        DataType::Bool(_) => match v {
            Value::Number { value, .. } if *value == 0.0 || *value == 1.0 => {
                if value.fract() != 0.0 {
                    out.push(TslIssue::BoolValue {
                        id: id.into(),
                        value: text_of(v),
                    });
                }
            }
            Value::Number { .. } => out.push(TslIssue::BoolValue {
                id: id.into(),
                value: text_of(v),
            }),
            Value::Bool(b) => out.push(TslIssue::BoolLiteral {
                id: id.into(),
                value: *b,
            }),
            Value::Str(s) if matches!(s.trim(), "0" | "1") => {
                out.push(TslIssue::NumberAsString { id: id.into() })
            }
            _ => mismatch(dt, v, id, out),
        },
        DataType::Enum(values) => {
            let n = match v {
                Value::Number { value, .. } => Some(*value),
                Value::Str(s) => match s.trim().parse::<f64>() {
                    Ok(n) => {
                        out.push(TslIssue::NumberAsString { id: id.into() });
                        Some(n)
                    }
                    Err(_) => None,
                },
                _ => None,
            };
            match n {
                None => mismatch(dt, v, id, out),
                Some(n) if n.fract() != 0.0 => out.push(TslIssue::NotInteger {
                    id: id.into(),
                    value: text_of(v),
                }),
                Some(n) if !values.iter().any(|(k, _)| *k as f64 == n) => {
                    let mut keys: String = values
                        .iter()
                        .take(16)
                        .map(|(k, _)| k.to_string())
                        .collect::<Vec<_>>()
                        .join(",");
                    if values.len() > 16 {
                        keys.push_str(",…");
                    }
                    out.push(TslIssue::EnumValue {
                        id: id.into(),
                        value: text_of(v),
                        keys,
                    })
                }
                Some(_) => {}
            }
        }
        DataType::Struct(members) => match v {
            Value::Object(m) => {
                for (k, mv) in m {
                    match super::model::param(members, k) {
                        Some(p) => check_value(&p.data_type, mv, &format!("{id}.{k}"), out),
                        None => out.push(TslIssue::StructUnknown {
                            id: id.into(),
                            member: k.to_string(),
                        }),
                    }
                }
                for p in members {
                    if !m.iter().any(|(k, _)| **k == *p.identifier) {
                        out.push(TslIssue::StructLacks {
                            id: id.into(),
                            member: p.identifier.to_string(),
                        });
                    }
                }
            }
            _ => mismatch(dt, v, id, out),
        },
        DataType::Array(size, item) => match v {
            Value::Array(items) => {
                if let Some(size) = size.filter(|s| items.len() > *s as usize) {
                    out.push(TslIssue::ArrayTooLong {
                        id: id.into(),
                        items: items.len(),
                        size,
                    });
                }
                for (i, it) in items.iter().enumerate() {
                    // Each item's own kind first: one finding per wrong item, not one per member.
                    let fits = match (&**item, it) {
                        (DataType::Number(..), Value::Number { .. }) => true,
                        (DataType::Text(_), Value::Str(_)) => true,
                        (DataType::Struct(_), Value::Object(_)) => true,
                        (DataType::Number(..) | DataType::Text(_) | DataType::Struct(_), _) => {
                            false
                        }
                        _ => true,
                    };
                    if fits {
                        check_value(item, it, &format!("{id}[{i}]"), out);
                    } else {
                        out.push(TslIssue::ArrayItem {
                            id: id.into(),
                            index: i,
                            expects: item.name(),
                        });
                    }
                }
            }
            _ => mismatch(dt, v, id, out),
        },
    }
}

fn mismatch(dt: &DataType, v: &Value, id: &str, out: &mut Issues) {
    out.push(TslIssue::TypeMismatch {
        id: id.into(),
        expects: dt.name(),
        got: kind(v),
    });
}

fn check_number(k: NumKind, r: &Range, v: &Value, id: &str, out: &mut Issues) {
    let (value, text) = match v {
        Value::Number { value, text } => (*value, *text),
        Value::Str(s) => match s.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => {
                out.push(TslIssue::NumberAsString { id: id.into() });
                (n, s.trim())
            }
            _ => {
                return out.push(TslIssue::TypeMismatch {
                    id: id.into(),
                    expects: k_name(k),
                    got: "string",
                })
            }
        },
        _ => {
            return out.push(TslIssue::TypeMismatch {
                id: id.into(),
                expects: k_name(k),
                got: kind(v),
            })
        }
    };
    let integral_text = !text.contains(['.', 'e', 'E']);
    match k {
        NumKind::Int if value.fract() != 0.0 => out.push(TslIssue::NotInteger {
            id: id.into(),
            value: text.into(),
        }),
        NumKind::Float | NumKind::Double if integral_text && matches!(v, Value::Number { .. }) => {
            out.push(TslIssue::FloatWithoutPoint { id: id.into() })
        }
        _ => {}
    }
    if let Some(max) = r.max.as_ref().filter(|m| value > m.value) {
        out.push(TslIssue::AboveMax {
            id: id.into(),
            value: text.into(),
            max: max.text.to_string(),
        });
    } else if let Some(min) = r.min.as_ref().filter(|m| value < m.value) {
        out.push(TslIssue::BelowMin {
            id: id.into(),
            value: text.into(),
            min: min.text.to_string(),
        });
    } else if let Some(step) = &r.step {
        let base = r.min.as_ref().map_or(0.0, |m| m.value);
        let n = (value - base) / step.value;
        // Decimal steps are not exact in binary: a relative tolerance.
        if (n - n.round()).abs() > 1e-6 * n.abs().max(1.0) {
            out.push(TslIssue::OffStep {
                id: id.into(),
                value: text.into(),
                step: step.text.to_string(),
            });
        }
    }
}

fn k_name(k: NumKind) -> &'static str {
    match k {
        NumKind::Int => "int",
        NumKind::Float => "float",
        NumKind::Double => "double",
    }
}

/// A property write: the property must be writable.
pub fn check_writable(access: Access, id: &str, out: &mut Issues) {
    if access == Access::ReadOnly {
        out.push(TslIssue::ReadOnly { id: id.into() });
    }
}
