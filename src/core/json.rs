//! A small, lenient, bounded JSON parser for Alink payloads (MQTT PUBLISH bodies off the wire).
//!
//! Payloads are untrusted and may be hostile or truncated, so the parser never panics, stops
//! descending at [`MAX_DEPTH`] levels (recursion is bounded by it, so the stack cannot overflow)
//! and gives up after [`MAX_NODES`] values. Everything is RFC 8259 JSON, plus a few leniencies
//! that real devices need, each recorded as a note in [`Parsed::notes`]:
//!
//! - trailing commas in objects and arrays (`{"a":1,}`, `[1,2,]`);
//! - a leading UTF-8 byte order mark;
//! - invalid UTF-8 inside strings (replaced with U+FFFD);
//! - raw control characters inside strings (kept as they are);
//! - lone UTF-16 surrogates in `\u` escapes (replaced with U+FFFD);
//! - data after the top-level value (ignored).
//!
//! Numbers keep the text they were written with (`"23.60"` stays `23.60`) next to their `f64`
//! value, and objects keep their members in document order, duplicates included.

use std::borrow::Cow;
use std::fmt;

/// Deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 64;

/// Most values (of any kind, containers included) accepted in one document.
pub const MAX_NODES: usize = 100_000;

/// Most notes kept in [`Parsed::notes`]; when more leniencies apply, the last note says how many
/// were left out.
pub const MAX_NOTES: usize = 16;

const BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

/// A JSON value read from a document: its text is borrowed from the document wherever it is
/// written there as it reads (no escape, valid UTF-8), so reading allocates little more than its
/// arrays and objects.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    /// The number as written (e.g. "23.60", "-1e3") and its value as f64.
    Number {
        text: &'a str,
        value: f64,
    },
    Str(Cow<'a, str>),
    Array(Vec<Value<'a>>),
    /// Members in document order; duplicate keys are kept.
    Object(Vec<(Cow<'a, str>, Value<'a>)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    /// Byte offset in the input where parsing failed.
    pub offset: usize,
    /// Short human-readable reason, e.g. "unexpected end of input", "expected ':'", "nesting
    /// deeper than 64 levels", "more than 100000 values".
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

impl std::error::Error for Error {}

#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<'a> {
    pub value: Value<'a>,
    /// One short note per leniency applied, e.g. "trailing comma at byte 41", "invalid UTF-8 in
    /// a string at byte 7", "data after the JSON value at byte 90". Bounded: at most 16 notes are
    /// kept.
    pub notes: Vec<String>,
}

/// Parses one JSON document. See the module documentation for the leniencies and limits.
pub fn parse(input: &[u8]) -> Result<Parsed<'_>, Error> {
    let mut p = Parser {
        input,
        // Checked once here: then a string read is a slice of it, not checked again.
        text: std::str::from_utf8(input).ok(),
        pos: 0,
        nodes: 0,
        notes: Vec::new(),
        omitted: 0,
    };
    let value = p.document()?;
    Ok(Parsed {
        value,
        notes: p.finish_notes(),
    })
}

struct Parser<'a> {
    input: &'a [u8],
    /// `input` as text, when it is all valid UTF-8 (nearly always).
    text: Option<&'a str>,
    pos: usize,
    nodes: usize,
    notes: Vec<String>,
    /// Notes that did not fit in `notes`.
    omitted: usize,
}

impl<'a> Parser<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn err_at(&self, offset: usize, message: impl Into<String>) -> Error {
        Error {
            offset,
            message: message.into(),
        }
    }

    fn eof(&self) -> Error {
        self.err_at(self.input.len(), "unexpected end of input")
    }

    /// An error for the byte at the current position (or end of input), with `what` describing
    /// what was expected there.
    fn expected(&self, what: &str) -> Error {
        match self.peek() {
            None => self.eof(),
            Some(_) => self.err_at(self.pos, format!("expected {what}")),
        }
    }

    /// Records a note; the text is only built when it will be kept.
    fn note(&mut self, text: impl FnOnce() -> String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(text());
        } else {
            self.omitted += 1;
        }
    }

    /// The document: one value, with what may stand around it.
    fn document(&mut self) -> Result<Value<'a>, Error> {
        if self.input.starts_with(BOM) {
            self.pos = BOM.len();
            self.note(|| "UTF-8 byte order mark at byte 0 skipped".to_string());
        }
        self.skip_ws();
        if self.peek().is_none() {
            return Err(self.err_at(self.pos, "empty input"));
        }
        let value = self.value(0)?;
        self.skip_ws();
        if self.peek().is_some() {
            let at = self.pos;
            self.note(|| format!("data after the JSON value at byte {at}"));
        }
        Ok(value)
    }

    fn finish_notes(mut self) -> Vec<String> {
        if self.omitted > 0 {
            self.notes.truncate(MAX_NOTES - 1);
            let more = self.omitted + 1;
            self.notes.push(format!("{more} more notes not shown"));
        }
        self.notes
    }

    /// Parses the value at the current position; `depth` is the number of containers around it.
    fn value(&mut self, depth: usize) -> Result<Value<'a>, Error> {
        self.skip_ws();
        let start = self.pos;
        let Some(b) = self.peek() else {
            return Err(self.eof());
        };
        if self.nodes >= MAX_NODES {
            return Err(self.err_at(start, format!("more than {MAX_NODES} values")));
        }
        self.nodes += 1;
        match b {
            b'{' | b'[' => {
                if depth >= MAX_DEPTH {
                    return Err(
                        self.err_at(start, format!("nesting deeper than {MAX_DEPTH} levels"))
                    );
                }
                if b == b'{' {
                    self.object(depth + 1)
                } else {
                    self.array(depth + 1)
                }
            }
            b'"' => self.string().map(Value::Str),
            b't' => self.literal(b"true", Value::Bool(true)),
            b'f' => self.literal(b"false", Value::Bool(false)),
            b'n' => self.literal(b"null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(self.err_at(start, unexpected(b))),
        }
    }

    fn literal(&mut self, word: &'static [u8], value: Value<'a>) -> Result<Value<'a>, Error> {
        let start = self.pos;
        let rest = self.input.get(start..).unwrap_or_default();
        if rest.starts_with(word) {
            self.pos += word.len();
            if matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || b == b'_') {
                return Err(self.err_at(start, "invalid literal"));
            }
            return Ok(value);
        }
        if rest.len() < word.len() && word.starts_with(rest) {
            return Err(self.eof());
        }
        Err(self.err_at(start, "invalid literal"))
    }

    fn digits(&mut self) -> usize {
        let from = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - from
    }

    fn number(&mut self) -> Result<Value<'a>, Error> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.err_at(start, "number with a leading zero"));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.expected("a digit")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.expected("a digit after '.'"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.expected("a digit in the exponent"));
            }
        }
        // Only ASCII digits, signs, '.', 'e' and 'E' were consumed.
        let input: &'a [u8] = self.input;
        let text = match self.text {
            Some(t) => t.get(start..self.pos),
            None => input
                .get(start..self.pos)
                .and_then(|t| std::str::from_utf8(t).ok()),
        }
        .unwrap_or_default();
        let value: f64 = match text.parse() {
            Ok(v) => v,
            Err(_) => return Err(self.err_at(start, "not a number")),
        };
        if !value.is_finite() {
            self.note(|| format!("number out of range at byte {start}"));
        }
        Ok(Value::Number { text, value })
    }

    fn array(&mut self, depth: usize) -> Result<Value<'a>, Error> {
        self.pos += 1; // '['
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(Vec::new()));
        }
        // Room for a typical array at once, not grown item by item.
        let mut items = Vec::with_capacity(4);
        loop {
            items.push(self.value(depth)?);
            if self.after_member(b']', "',' or ']'")? {
                return Ok(Value::Array(items));
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value<'a>, Error> {
        self.pos += 1; // '{'
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(Vec::new()));
        }
        // Room for a typical Alink message's members at once, not grown member by member.
        let mut members = Vec::with_capacity(8);
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.expected("a string key"));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.expected("':'"));
            }
            self.pos += 1;
            let value = self.value(depth)?;
            members.push((key, value));
            if self.after_member(b'}', "',' or '}'")? {
                return Ok(Value::Object(members));
            }
        }
    }

    /// After a member of an array or object: consumes `,` or the closing byte. Returns true when
    /// the container is closed, also after a trailing comma (accepted, with a note).
    fn after_member(&mut self, close: u8, expected: &str) -> Result<bool, Error> {
        self.skip_ws();
        match self.peek() {
            Some(b',') => {
                let comma = self.pos;
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some(close) {
                    self.pos += 1;
                    self.note(|| format!("trailing comma at byte {comma}"));
                    return Ok(true);
                }
                Ok(false)
            }
            Some(b) if b == close => {
                self.pos += 1;
                Ok(true)
            }
            _ => Err(self.expected(expected)),
        }
    }

    /// Parses a string; the current byte is the opening quote. Borrowed from the input when it
    /// is written as it reads (no escape, valid UTF-8), else decoded into a new string.
    fn string(&mut self) -> Result<Cow<'a, str>, Error> {
        self.pos += 1; // '"'
        let input: &'a [u8] = self.input;
        // Only once an escape is met: until then the string is one run of the input.
        let mut out: Option<String> = None;
        let mut noted_control = false;
        loop {
            // A run of raw bytes up to the next quote or backslash. Both are ASCII, so a valid
            // multi-byte UTF-8 sequence never straddles two runs.
            let run_start = self.pos;
            // Plain bytes a word at a time; the loop below looks at the one that stopped it.
            while let Some(w) = input.get(self.pos..self.pos + 8) {
                let stops = super::swar::json_string_stops(w);
                if stops != 0 {
                    self.pos += (stops.trailing_zeros() / 8) as usize;
                    break;
                }
                self.pos += 8;
            }
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' {
                    break;
                }
                if b < 0x20 && !noted_control {
                    noted_control = true;
                    let at = self.pos;
                    self.note(|| {
                        format!("raw control character 0x{b:02X} in a string at byte {at}")
                    });
                }
                self.pos += 1;
            }
            let run = input.get(run_start..self.pos).unwrap_or_default();
            // The run ends before an ASCII byte (or at the end): a char boundary of valid text.
            let checked = match self.text.and_then(|t| t.get(run_start..self.pos)) {
                Some(s) => Ok(s),
                None => std::str::from_utf8(run),
            };
            let text = match checked {
                Ok(s) => Cow::Borrowed(s),
                Err(e) => {
                    let at = run_start + e.valid_up_to();
                    self.note(|| format!("invalid UTF-8 in a string at byte {at}"));
                    String::from_utf8_lossy(run)
                }
            };
            match (self.peek(), &mut out, text) {
                (None, _, _) => return Err(self.eof()),
                // The whole string, as written.
                (Some(b'"'), None, Cow::Borrowed(s)) => {
                    self.pos += 1;
                    return Ok(Cow::Borrowed(s));
                }
                (Some(b'"'), out, text) => {
                    self.pos += 1;
                    let mut s = out.take().unwrap_or_default();
                    s.push_str(&text);
                    return Ok(Cow::Owned(s));
                }
                (_, out, text) => {
                    let s = out.get_or_insert_with(String::new);
                    s.push_str(&text);
                    self.escape(s)?;
                }
            }
        }
    }

    /// Decodes one escape; the current byte is the backslash.
    fn escape(&mut self, out: &mut String) -> Result<(), Error> {
        let start = self.pos;
        self.pos += 1; // '\'
        let Some(b) = self.peek() else {
            return Err(self.eof());
        };
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => self.unicode_escape(start)?,
            _ => return Err(self.err_at(start, "invalid escape")),
        };
        out.push(c);
        Ok(())
    }

    /// The character of a `\uXXXX` escape (and, for a high surrogate, of the low surrogate
    /// escape right after it); `start` is the offset of the backslash, the position is after `u`.
    fn unicode_escape(&mut self, start: usize) -> Result<char, Error> {
        let unit = self.hex4()?;
        if (0xD800..0xDC00).contains(&unit) {
            let resume = self.pos;
            if self.input.get(self.pos..self.pos + 2) == Some(b"\\u") {
                self.pos += 2;
                if let Ok(low) = self.hex4() {
                    if (0xDC00..0xE000).contains(&low) {
                        let cp = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                        return Ok(char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER));
                    }
                }
            }
            // Not followed by a low surrogate: whatever follows is decoded on its own.
            self.pos = resume;
        }
        match char::from_u32(unit) {
            Some(c) => Ok(c),
            None => {
                self.note(|| format!("lone surrogate \\u{unit:04X} at byte {start}"));
                Ok(char::REPLACEMENT_CHARACTER)
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let mut unit = 0u32;
        for _ in 0..4 {
            let Some(b) = self.peek() else {
                return Err(self.eof());
            };
            let Some(d) = char::from(b).to_digit(16) else {
                return Err(self.err_at(self.pos, "invalid \\u escape"));
            };
            unit = unit * 16 + d;
            self.pos += 1;
        }
        Ok(unit)
    }
}

/// "unexpected character 'x'" for printable ASCII, "unexpected byte 0xNN" otherwise.
fn unexpected(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("unexpected character '{}'", char::from(b))
    } else {
        format!("unexpected byte 0x{b:02X}")
    }
}

impl<'a> Value<'a> {
    /// The first member with that key, for objects only.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value of a number (numbers only).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number { value, .. } => Some(*value),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value<'a>]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[(Cow<'a, str>, Value<'a>)]> {
        match self {
            Value::Object(members) => Some(members),
            _ => None,
        }
    }

    /// Integer value of a number, or of a string of ASCII digits (Alink sends ids and codes both
    /// ways: "code":200 and "code":"200").
    ///
    /// Numbers written as plain digits are read exactly from their text (ids beyond 2^53 keep
    /// every digit); other numbers count when their value is a non-negative whole number that
    /// fits (`2e2`, `200.0`).
    pub fn as_u64_lenient(&self) -> Option<u64> {
        match self {
            Value::Number { text, value } => {
                if is_ascii_digits(text) {
                    text.parse().ok()
                } else if value.is_finite()
                    && *value >= 0.0
                    && value.fract() == 0.0
                    && *value < 18_446_744_073_709_551_616.0
                {
                    Some(*value as u64)
                } else {
                    None
                }
            }
            Value::Str(s) if is_ascii_digits(s) => s.parse().ok(),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    pub fn is_array(&self) -> bool {
        matches!(self, Value::Array(_))
    }

    /// A compact one-line JSON rendering for display, truncated to at most `max_chars`
    /// characters with a trailing '…' when cut.
    ///
    /// The work is bounded by `max_chars`, not by the size of the value, and the rendering walks
    /// the value with an explicit stack, so arbitrarily deep values are fine.
    pub fn to_compact(&self, max_chars: usize) -> String {
        enum Frame<'v, 'a> {
            Array(std::slice::Iter<'v, Value<'a>>, bool),
            Object(std::slice::Iter<'v, (Cow<'a, str>, Value<'a>)>, bool),
        }

        let mut w = Compact {
            out: String::new(),
            chars: 0,
            cap: max_chars.saturating_add(1),
        };
        let mut stack: Vec<Frame<'_, 'a>> = Vec::new();
        let mut next = Some(self);
        while !w.full() {
            if let Some(v) = next.take() {
                match v {
                    Value::Null => w.push_str("null"),
                    Value::Bool(b) => w.push_str(if *b { "true" } else { "false" }),
                    Value::Number { text, .. } => w.push_str(text),
                    Value::Str(s) => w.push_json_str(s),
                    Value::Array(items) => {
                        w.push('[');
                        stack.push(Frame::Array(items.iter(), true));
                    }
                    Value::Object(members) => {
                        w.push('{');
                        stack.push(Frame::Object(members.iter(), true));
                    }
                }
                continue;
            }
            let Some(top) = stack.last_mut() else {
                break;
            };
            match top {
                Frame::Array(items, first) => match items.next() {
                    Some(item) => {
                        if !*first {
                            w.push(',');
                        }
                        *first = false;
                        next = Some(item);
                    }
                    None => {
                        w.push(']');
                        stack.pop();
                    }
                },
                Frame::Object(members, first) => match members.next() {
                    Some((key, value)) => {
                        if !*first {
                            w.push(',');
                        }
                        *first = false;
                        w.push_json_str(key);
                        w.push(':');
                        next = Some(value);
                    }
                    None => {
                        w.push('}');
                        stack.pop();
                    }
                },
            }
        }
        w.finish(max_chars)
    }

    /// For a string whose content is itself a JSON object or array (double-encoded params such
    /// as "params":"{\"a\":1}"): parse it. None for anything else, including strings that do
    /// not parse.
    pub fn parse_embedded(&self) -> Option<Parsed<'_>> {
        let s = self.as_str()?;
        let first = s
            .trim_start_matches(['\u{feff}', ' ', '\t', '\n', '\r'])
            .as_bytes()
            .first()
            .copied();
        if !matches!(first, Some(b'{' | b'[')) {
            return None;
        }
        parse(s.as_bytes()).ok()
    }
}

fn is_ascii_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Output for [`Value::to_compact`]: keeps at most `cap` characters and then ignores the rest.
struct Compact {
    out: String,
    chars: usize,
    cap: usize,
}

impl Compact {
    fn full(&self) -> bool {
        self.chars >= self.cap
    }

    fn push(&mut self, c: char) {
        if self.chars < self.cap {
            self.out.push(c);
            self.chars += 1;
        }
    }

    fn push_str(&mut self, s: &str) {
        for c in s.chars() {
            if self.full() {
                return;
            }
            self.push(c);
        }
    }

    fn push_json_str(&mut self, s: &str) {
        self.push('"');
        for c in s.chars() {
            if self.full() {
                return;
            }
            match c {
                '"' => self.push_str("\\\""),
                '\\' => self.push_str("\\\\"),
                '\n' => self.push_str("\\n"),
                '\r' => self.push_str("\\r"),
                '\t' => self.push_str("\\t"),
                c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                    self.push_str(&format!("\\u{:04x}", u32::from(c)))
                }
                c => self.push(c),
            }
        }
        self.push('"');
    }

    fn finish(self, max_chars: usize) -> String {
        if self.chars <= max_chars {
            return self.out;
        }
        if max_chars == 0 {
            return String::new();
        }
        let mut cut: String = self.out.chars().take(max_chars - 1).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn ok(s: &str) -> Parsed<'_> {
        match parse(s.as_bytes()) {
            Ok(p) => p,
            Err(e) => panic!("{s:?} failed: {e}"),
        }
    }

    fn err(input: &[u8]) -> Error {
        match parse(input) {
            Ok(p) => panic!("{:?} parsed: {:?}", String::from_utf8_lossy(input), p.value),
            Err(e) => e,
        }
    }

    fn num_text<'a>(v: Option<&Value<'a>>) -> Option<&'a str> {
        match v {
            Some(Value::Number { text, .. }) => Some(*text),
            _ => None,
        }
    }

    const REQUEST: &str = r#"{"id":"123","version":"1.0","sys":{"ack":0},"params":{"Power":{"value":"on","time":1524448722000},"WF":{"value":23.6,"time":1524448722000}},"method":"thing.event.property.post"}"#;

    #[test]
    fn alink_property_post_request() {
        let p = ok(REQUEST);
        assert!(p.notes.is_empty());
        let v = &p.value;
        assert!(v.is_object());
        assert_eq!(v.get("id").and_then(Value::as_str), Some("123"));
        assert_eq!(v.get("id").and_then(Value::as_u64_lenient), Some(123));
        assert_eq!(v.get("version").and_then(Value::as_str), Some("1.0"));
        assert_eq!(
            v.get("method").and_then(Value::as_str),
            Some("thing.event.property.post")
        );
        let ack = v.get("sys").and_then(|s| s.get("ack"));
        assert_eq!(ack.and_then(Value::as_u64_lenient), Some(0));
        let params = v.get("params").expect("params");
        assert_eq!(params.as_object().map(<[_]>::len), Some(2));
        let power = params.get("Power").expect("Power");
        assert_eq!(power.get("value").and_then(Value::as_str), Some("on"));
        assert_eq!(
            power.get("time").and_then(Value::as_u64_lenient),
            Some(1_524_448_722_000)
        );
        let wf = params.get("WF").and_then(|w| w.get("value"));
        assert_eq!(num_text(wf), Some("23.6"));
        assert_eq!(wf.and_then(Value::as_f64), Some(23.6));
        assert_eq!(v.get("missing"), None);
        assert_eq!(wf.and_then(|w| w.get("value")), None);
        // The compact rendering of a compact document is the document itself.
        assert_eq!(v.to_compact(10_000), REQUEST);
    }

    #[test]
    fn number_text_is_kept() {
        let p = ok(r#"[23.60, -1e3, 0, -0, 1E+2, 0.5e-1, 18446744073709551615]"#);
        let items = p.value.as_array().expect("array");
        let texts: Vec<_> = items.iter().map(|i| num_text(Some(i))).collect();
        assert_eq!(
            texts,
            [
                Some("23.60"),
                Some("-1e3"),
                Some("0"),
                Some("-0"),
                Some("1E+2"),
                Some("0.5e-1"),
                Some("18446744073709551615")
            ]
        );
        assert_eq!(items.first().and_then(Value::as_f64), Some(23.6));
        assert_eq!(items.get(1).and_then(Value::as_f64), Some(-1000.0));
        assert_eq!(items.get(6).and_then(Value::as_u64_lenient), Some(u64::MAX));
    }

    #[test]
    fn reply_code_as_string_and_number() {
        let s = ok(r#"{"code":"200","data":{},"id":"123","message":"success","version":"1.0"}"#);
        let n = ok(r#"{"code":200,"data":{},"id":"123","message":"success","version":"1.0"}"#);
        assert_eq!(
            s.value.get("code").and_then(Value::as_u64_lenient),
            Some(200)
        );
        assert_eq!(
            n.value.get("code").and_then(Value::as_u64_lenient),
            Some(200)
        );
        assert_eq!(s.value.get("code").and_then(Value::as_f64), None);
        assert_eq!(n.value.get("code").and_then(Value::as_str), None);
        assert_eq!(
            n.value.get("message").and_then(Value::as_str),
            Some("success")
        );
        assert_eq!(n.value.get("data"), Some(&Value::Object(vec![])));
    }

    #[test]
    fn as_u64_lenient_edges() {
        let v =
            ok(r#"[" 200","","-1","2e2","200.5",-1,-0.5,1e30,"99999999999999999999",true,null]"#)
                .value;
        let items = v.as_array().expect("array");
        assert_eq!(items.len(), 11);
        for item in items {
            assert_eq!(item.as_u64_lenient(), None, "{item:?}");
        }
        let nums = ok("[2e2,200.0,200.5,-0]").value;
        let got: Vec<_> = nums
            .as_array()
            .expect("array")
            .iter()
            .map(Value::as_u64_lenient)
            .collect();
        assert_eq!(got, [Some(200), Some(200), None, Some(0)]);
        assert_eq!(Value::Str("0042".into()).as_u64_lenient(), Some(42));
    }

    #[test]
    fn id_with_pipes_and_topic() {
        let p = ok(
            r#"{"id":"1|exp-topic|/sys/pk/dn/thing/event/property/post_reply","code":200,"data":{}}"#,
        );
        let id = p.value.get("id").and_then(Value::as_str);
        assert_eq!(
            id,
            Some("1|exp-topic|/sys/pk/dn/thing/event/property/post_reply")
        );
        // Not all digits: no integer id.
        assert_eq!(p.value.get("id").and_then(Value::as_u64_lenient), None);
    }

    #[test]
    fn trailing_commas() {
        let src = r#"{"fileInfo":{"streamId":1,"fileId":2,},}"#;
        let p = ok(src);
        let fi = p.value.get("fileInfo").expect("fileInfo");
        assert_eq!(fi.get("streamId").and_then(Value::as_u64_lenient), Some(1));
        assert_eq!(fi.get("fileId").and_then(Value::as_u64_lenient), Some(2));
        assert_eq!(
            p.notes,
            ["trailing comma at byte 36", "trailing comma at byte 38"]
        );
        let a = ok("[1, 2 ,\n]");
        assert_eq!(a.value.as_array().map(<[_]>::len), Some(2));
        assert_eq!(a.notes, ["trailing comma at byte 6"]);
        // Only one trailing comma, and never a leading one.
        assert_eq!(err(b"[1,,]").offset, 3);
        assert_eq!(err(b"[,]").offset, 1);
        assert_eq!(err(b"{,}").message, "expected a string key");
    }

    #[test]
    fn double_encoded_params() {
        let p = ok(r#"{"id":"7","params":"{\"a\":1,\"b\":[true,null]}","s":"plain","n":"[oops"}"#);
        let params = p.value.get("params").expect("params");
        assert!(params.as_str().is_some());
        let inner = params.parse_embedded().expect("embedded");
        assert_eq!(
            inner.value.get("a").and_then(Value::as_u64_lenient),
            Some(1)
        );
        assert_eq!(
            inner.value.get("b"),
            Some(&Value::Array(vec![Value::Bool(true), Value::Null]))
        );
        assert_eq!(p.value.get("s").and_then(Value::parse_embedded), None);
        assert_eq!(p.value.get("n").and_then(Value::parse_embedded), None);
        assert_eq!(p.value.get("id").and_then(Value::parse_embedded), None);
        assert_eq!(p.value.parse_embedded(), None);
        let text = Value::Str(" [1,2]".into());
        let arr = text.parse_embedded().expect("array");
        assert!(arr.value.is_array());
    }

    #[test]
    fn escapes_and_surrogate_pairs() {
        let p = ok(r#""a\"b\\c\/d\be\ff\ng\rh\ti\u0041\u00e9\u4e2d\ud83d\ude00\uD834\uDD1E""#);
        assert_eq!(
            p.value.as_str(),
            Some("a\"b\\c/d\u{8}e\u{c}f\ng\rh\tiAé中😀𝄞")
        );
        assert!(p.notes.is_empty());
        assert_eq!(
            p.value.to_compact(100),
            r#""a\"b\\c/d\u0008e\u000cf\ng\rh\tiAé中😀𝄞""#
        );
        assert_eq!(err(br#""\x""#).message, "invalid escape");
        assert_eq!(err(br#""\x""#).offset, 1);
        let e = err(br#""\u12G4""#);
        assert_eq!((e.offset, e.message.as_str()), (5, "invalid \\u escape"));
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let p = ok(r#"["\ud83dx", "\ude00", "\ud83d\u0041", "\ud83d\ud83d\ude00"]"#);
        let strs: Vec<_> = p
            .value
            .as_array()
            .expect("array")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(strs, ["\u{fffd}x", "\u{fffd}", "\u{fffd}A", "\u{fffd}😀"]);
        assert_eq!(
            p.notes,
            [
                "lone surrogate \\uD83D at byte 2",
                "lone surrogate \\uDE00 at byte 13",
                "lone surrogate \\uD83D at byte 23",
                "lone surrogate \\uD83D at byte 39",
            ]
        );
        // A high surrogate at the very end of a truncated document is still an error.
        assert_eq!(err(br#""\ud83d\ude"#).message, "unexpected end of input");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let p = parse(b"{\"k\":\"ab\xffcd\",\"\xc3\":1}").expect("parses");
        assert_eq!(
            p.value.get("k").and_then(Value::as_str),
            Some("ab\u{fffd}cd")
        );
        assert_eq!(
            p.value.get("\u{fffd}").and_then(Value::as_u64_lenient),
            Some(1)
        );
        assert_eq!(
            p.notes,
            [
                "invalid UTF-8 in a string at byte 8",
                "invalid UTF-8 in a string at byte 14"
            ]
        );
        // Valid multi-byte text next to escapes is untouched.
        let q = parse("\"é\\n中\"".as_bytes()).expect("parses");
        assert_eq!(q.value.as_str(), Some("é\n中"));
        assert!(q.notes.is_empty());
    }

    #[test]
    fn raw_control_characters_are_kept() {
        let p = ok("{\"a\":\"x\ty\nz\",\"b\":\"\u{1}\"}");
        assert_eq!(p.value.get("a").and_then(Value::as_str), Some("x\ty\nz"));
        assert_eq!(p.value.get("b").and_then(Value::as_str), Some("\u{1}"));
        assert_eq!(
            p.notes,
            [
                "raw control character 0x09 in a string at byte 7",
                "raw control character 0x01 in a string at byte 18"
            ]
        );
    }

    #[test]
    fn bom_whitespace_and_trailing_data() {
        let p = parse(b"\xef\xbb\xbf \r\n\t{\"a\":1} \n").expect("parses");
        assert_eq!(p.value.get("a").and_then(Value::as_u64_lenient), Some(1));
        assert_eq!(p.notes, ["UTF-8 byte order mark at byte 0 skipped"]);
        let q = ok("{\"a\":1}\n{\"b\":2}");
        assert_eq!(q.value.get("b"), None);
        assert_eq!(q.notes, ["data after the JSON value at byte 8"]);
        let r = parse(b"[1]\0\0\0").expect("parses");
        assert_eq!(r.notes, ["data after the JSON value at byte 3"]);
    }

    #[test]
    fn duplicate_keys_are_kept_in_order() {
        let p = ok(r#"{"a":1,"b":2,"a":3}"#);
        let keys: Vec<_> = p
            .value
            .as_object()
            .expect("object")
            .iter()
            .map(|(k, _)| &**k)
            .collect();
        assert_eq!(keys, ["a", "b", "a"]);
        assert_eq!(p.value.get("a").and_then(Value::as_u64_lenient), Some(1));
    }

    #[test]
    fn truncated_input_reports_the_end() {
        let src = br#"{"id":"1","par"#;
        let e = err(src);
        assert_eq!(e.offset, src.len());
        assert_eq!(e.offset, 14);
        assert_eq!(e.message, "unexpected end of input");
        for (s, off) in [
            (&b"{"[..], 1),
            (b"{\"id\"", 5),
            (b"{\"id\":", 6),
            (b"{\"id\":12", 8),
            (b"[tru", 4),
            (b"[1.", 3),
            (b"-", 1),
            (b"\"\\u12", 5),
            (b"\"abc\\", 5),
        ] {
            let e = err(s);
            assert_eq!(
                (e.offset, e.message.as_str()),
                (off, "unexpected end of input"),
                "{:?}",
                String::from_utf8_lossy(s)
            );
        }
    }

    #[test]
    fn malformed_documents_are_errors() {
        let cases: &[(&[u8], usize, &str)] = &[
            (b"", 0, "empty input"),
            (b" \r\n\t ", 5, "empty input"),
            (b"\xef\xbb\xbf", 3, "empty input"),
            (br#"{"a" 1}"#, 5, "expected ':'"),
            (br#"{"a":1 "b":2}"#, 7, "expected ',' or '}'"),
            (br#"[1 2]"#, 3, "expected ',' or ']'"),
            (br#"{a:1}"#, 1, "expected a string key"),
            (br#"[tru]"#, 1, "invalid literal"),
            (br#"[nul1]"#, 1, "invalid literal"),
            (br#"[truex]"#, 1, "invalid literal"),
            (br#"[True]"#, 1, "unexpected character 'T'"),
            (br#"[NaN]"#, 1, "unexpected character 'N'"),
            (br#"[+1]"#, 1, "unexpected character '+'"),
            (br#"[.5]"#, 1, "unexpected character '.'"),
            (br#"[-]"#, 2, "expected a digit"),
            (br#"[-x]"#, 2, "expected a digit"),
            (br#"[01]"#, 1, "number with a leading zero"),
            (br#"[1.]"#, 3, "expected a digit after '.'"),
            (br#"[1.e5]"#, 3, "expected a digit after '.'"),
            (br#"[1e]"#, 3, "expected a digit in the exponent"),
            (br#"[1e+]"#, 4, "expected a digit in the exponent"),
            (b"[\x00]", 1, "unexpected byte 0x00"),
            (b"'a'", 0, "unexpected character '''"),
        ];
        for &(input, offset, message) in cases {
            let e = err(input);
            assert_eq!(
                (e.offset, e.message.as_str()),
                (offset, message),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn depth_limit() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let doc = nested(MAX_DEPTH);
        let p = ok(&doc);
        assert!(p.value.is_array());
        let e = err(nested(MAX_DEPTH + 1).as_bytes());
        assert_eq!(e.offset, MAX_DEPTH);
        assert_eq!(e.message, "nesting deeper than 64 levels");
        let e = err(nested(100).as_bytes());
        assert_eq!(e.message, "nesting deeper than 64 levels");
        let objs = format!("{}1{}", r#"{"a":"#.repeat(100), "}".repeat(100));
        assert_eq!(
            err(objs.as_bytes()).message,
            "nesting deeper than 64 levels"
        );
    }

    #[test]
    fn megabyte_of_open_brackets_fails_fast() {
        let input = vec![b'['; 1 << 20];
        let t = Instant::now();
        let e = err(&input);
        assert_eq!(e.message, "nesting deeper than 64 levels");
        assert_eq!(e.offset, MAX_DEPTH);
        assert!(t.elapsed() < Duration::from_millis(100));
        let braces = r#"{"a":"#.repeat(200_000);
        assert_eq!(
            err(braces.as_bytes()).message,
            "nesting deeper than 64 levels"
        );
    }

    #[test]
    fn ten_thousand_properties() {
        let mut src = String::from("{");
        for i in 0..10_000 {
            if i > 0 {
                src.push(',');
            }
            src.push_str(&format!(
                r#""prop_{i:05}":{{"value":"{}","time":1524448722000}}"#,
                "x".repeat(60)
            ));
        }
        src.push('}');
        assert!(src.len() >= 1_000_000, "{}", src.len());
        let t = Instant::now();
        let p = ok(&src);
        let elapsed = t.elapsed();
        let members = p.value.as_object().expect("object");
        assert_eq!(members.len(), 10_000);
        assert_eq!(members.last().map(|(k, _)| &**k), Some("prop_09999"));
        assert!(p.notes.is_empty());
        if !cfg!(debug_assertions) {
            assert!(elapsed < Duration::from_millis(100), "{elapsed:?}");
        }
    }

    #[test]
    fn node_limit() {
        let array = |n: usize| format!("[{}]", vec!["0"; n].join(","));
        // The array itself is one value.
        let doc = array(MAX_NODES - 1);
        let p = ok(&doc);
        assert_eq!(p.value.as_array().map(<[_]>::len), Some(MAX_NODES - 1));
        let src = array(MAX_NODES);
        let e = err(src.as_bytes());
        assert_eq!(e.message, "more than 100000 values");
        assert_eq!(e.offset, src.len() - 2);
    }

    #[test]
    fn notes_are_bounded() {
        let src = format!("[{}]", vec!["[1,]"; 40].join(","));
        let p = ok(&src);
        assert_eq!(p.notes.len(), MAX_NOTES);
        assert_eq!(
            p.notes.first().map(String::as_str),
            Some("trailing comma at byte 3")
        );
        assert_eq!(
            p.notes.last().map(String::as_str),
            Some("25 more notes not shown")
        );
        let exactly = format!("[{}]", vec!["[1,]"; MAX_NOTES].join(","));
        let q = ok(&exactly);
        assert_eq!(q.notes.len(), MAX_NOTES);
        assert!(q.notes.iter().all(|n| n.starts_with("trailing comma")));
    }

    #[test]
    fn to_compact_truncation() {
        let v =
            ok(r#" { "a" : [ 1 , 2.50 , "x\"y" ] , "b" : { } , "c" : null , "d" : false } "#).value;
        let full = r#"{"a":[1,2.50,"x\"y"],"b":{},"c":null,"d":false}"#;
        assert_eq!(v.to_compact(1000), full);
        assert_eq!(v.to_compact(full.chars().count()), full);
        let cut = v.to_compact(10);
        assert_eq!(cut, r#"{"a":[1,2…"#);
        assert_eq!(cut.chars().count(), 10);
        assert_eq!(v.to_compact(1), "…");
        assert_eq!(v.to_compact(0), "");
        assert_eq!(Value::Null.to_compact(4), "null");
        assert_eq!(Value::Null.to_compact(3), "nu…");
        // Characters, not bytes.
        let s = Value::Str("中文中文中文".into());
        assert_eq!(s.to_compact(5), "\"中文中…");
        // Bounded work and no recursion on a huge, deep value built by hand.
        let mut deep = Value::Array(vec![]);
        for _ in 0..100_000 {
            deep = Value::Array(vec![deep]);
        }
        assert_eq!(deep.to_compact(6), "[[[[[…");
        // Dropping is recursive in Rust; unwind the value by hand.
        while let Value::Array(mut items) = deep {
            deep = items.pop().unwrap_or(Value::Null);
        }
    }

    #[test]
    fn every_prefix_of_a_document_is_handled() {
        let doc = "\u{feff}{\"id\":\"1|exp\",\"params\":{\"t\":-1.5e-3,\"s\":\"é\\u00e9\\ud83d\\ude00\\n\",\
                   \"a\":[true,false,null,{},[],0],\"e\":\"{\\\"x\\\":1}\",},\"code\":\"200\"}";
        let bytes = doc.as_bytes();
        assert!(parse(bytes).is_ok());
        for end in 0..bytes.len() {
            let prefix = bytes.get(..end).unwrap_or_default();
            match parse(prefix) {
                Ok(p) => panic!("prefix of {end} bytes parsed: {:?}", p.value),
                Err(e) => assert!(e.offset <= end, "prefix {end}: {e}"),
            }
            // Every single-byte corruption as well.
            for b in [b'"', b'\\', b'{', b']', b',', 0xff, b'0'] {
                let mut copy = bytes.to_vec();
                if let Some(slot) = copy.get_mut(end) {
                    *slot = b;
                }
                if let Ok(p) = parse(&copy) {
                    let _ = p.value.to_compact(50);
                }
            }
        }
    }
}

/// A member value as [`scan_object`] found it, borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Raw<'a> {
    Null,
    Bool(bool),
    /// As written.
    Number(&'a str),
    /// A string without escapes, its content.
    Str(&'a str),
    /// An object's bytes, braces included (scan it again with [`scan_object`]).
    Object(&'a [u8]),
    Array,
    /// A string with escapes (unescaping is [`parse`]'s job).
    Escaped,
}

impl Raw<'_> {
    /// [`Value::as_u64_lenient`] of the same value.
    pub fn as_u64_lenient(&self) -> Option<u64> {
        match self {
            Raw::Number(t) if is_ascii_digits(t) => t.parse().ok(),
            Raw::Number(t) => {
                let v: f64 = t.parse().ok()?;
                (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 18_446_744_073_709_551_616.0)
                    .then_some(v as u64)
            }
            Raw::Str(s) if is_ascii_digits(s) => s.parse().ok(),
            _ => None,
        }
    }
}

/// [`scan_object`] for `N` keys: their values in the keys' order, or None when the scan cannot
/// answer (the parser must).
pub fn scan<'a, const N: usize>(input: &'a [u8], keys: [&str; N]) -> Option<[Option<Raw<'a>>; N]> {
    let mut out = [None; N];
    scan_object(input, &keys, &mut out).then_some(out)
}

/// The first member named `keys[i]` of the JSON object `input`, into `out[i]`, without building
/// the document: an allocation-free scan for the few members the first pass needs. Strict: it
/// answers only for RFC 8259 JSON that [`parse`] reads exactly alike (no byte order mark, no
/// trailing data or commas, valid UTF-8, at most 32 levels, no escapes in a wanted string), and
/// returns false otherwise, when the caller parses the document instead.
pub fn scan_object<'a>(input: &'a [u8], keys: &[&str], out: &mut [Option<Raw<'a>>]) -> bool {
    // UTF-8 checked once for the whole input (an ASCII run is a few instructions a word): every
    // string and number is then a slice of `text` between ASCII delimiters.
    let Ok(text) = std::str::from_utf8(input) else {
        return false;
    };
    let mut s = Scan {
        b: input,
        text,
        at: 0,
        nodes: 0,
    };
    s.ws();
    if s.peek() != Some(b'{') {
        return false;
    }
    let ok = s.object(0, keys, out).is_some();
    s.ws();
    ok && s.at == input.len()
}

/// Bytes that end a run of plain string content: the quote, the backslash, control characters
/// (not allowed unescaped) and non-ASCII bytes (checked as UTF-8 afterwards).
const STRING_STOP: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = (i < 0x20 || i >= 0x80 || i == b'"' as usize || i == b'\\' as usize) as u8;
        i += 1;
    }
    t
};

struct Scan<'a> {
    b: &'a [u8],
    /// `b`, valid UTF-8.
    text: &'a str,
    at: usize,
    nodes: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.at).copied()
    }
    #[inline]
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }
    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.at += 1)
    }
    /// A string: where its raw content (escapes as written) lies, and whether it has escapes.
    #[inline]
    fn string_at(&mut self) -> Option<(usize, usize, bool)> {
        let b = self.b;
        if b.get(self.at) != Some(&b'"') {
            return None;
        }
        let start = self.at + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            // Plain bytes a word at a time, then byte by byte; the table marks the ones that
            // stop the run.
            while let Some(w) = b.get(i..i + 8) {
                let stops = super::swar::json_string_stops(w);
                if stops != 0 {
                    i += (stops.trailing_zeros() / 8) as usize;
                    break;
                }
                i += 8;
            }
            while STRING_STOP[*b.get(i)? as usize] == 0 {
                i += 1;
            }
            match b[i] {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    match *b.get(i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                        b'u' => {
                            let hex = b.get(i + 2..i + 6)?;
                            // Surrogates are parse's leniency: leave them to it.
                            if !hex.iter().all(u8::is_ascii_hexdigit)
                                || matches!(hex[0], b'd' | b'D')
                            {
                                return None;
                            }
                            i += 6;
                        }
                        _ => return None,
                    }
                }
                // Non-ASCII: the input is valid UTF-8 (checked once in scan_object).
                0x80.. => i += 1,
                _ => return None,
            }
        }
        self.at = i + 1;
        Some((start, i, escaped))
    }
    /// A string's raw content and whether it has escapes.
    fn string(&mut self) -> Option<(&'a str, bool)> {
        let (start, end, escaped) = self.string_at()?;
        // Between two quotes: on character boundaries.
        Some((self.text.get(start..end)?, escaped))
    }
    /// Skips digits; how many.
    fn digits(&mut self) -> usize {
        let d = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        self.at - d
    }
    fn number(&mut self) -> Option<&'a str> {
        let start = self.at;
        let _ = self.eat(b'-');
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.eat(b'.').is_some() && self.digits() == 0 {
            return None;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        self.text.get(start..self.at)
    }
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        (self.b.get(self.at..self.at + word.len())? == word).then(|| self.at += word.len())
    }
    /// Counts a value against the limits.
    #[inline]
    fn node(&mut self, depth: usize) -> Option<()> {
        self.nodes += 1;
        (depth <= 32 && self.nodes <= 10_000).then_some(())
    }
    /// A wanted member's value: what the caller needs of it.
    fn value(&mut self, depth: usize) -> Option<Raw<'a>> {
        self.node(depth)?;
        Some(match self.peek()? {
            b'{' => {
                let start = self.at;
                self.object(depth + 1, &[], &mut [])?;
                Raw::Object(&self.b[start..self.at])
            }
            b'[' => {
                self.array(depth)?;
                Raw::Array
            }
            b'"' => {
                let (raw, escaped) = self.string()?;
                if escaped {
                    Raw::Escaped
                } else {
                    Raw::Str(raw)
                }
            }
            b't' => {
                self.literal(b"true")?;
                Raw::Bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                Raw::Bool(false)
            }
            b'n' => {
                self.literal(b"null")?;
                Raw::Null
            }
            _ => Raw::Number(self.number()?),
        })
    }
    /// Any other value: only checked.
    fn skip(&mut self, depth: usize) -> Option<()> {
        self.node(depth)?;
        match self.peek()? {
            b'{' => self.object(depth + 1, &[], &mut []),
            b'[' => self.array(depth),
            b'"' => self.string_at().map(|_| ()),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(|_| ()),
        }
    }
    fn array(&mut self, depth: usize) -> Option<()> {
        self.at += 1;
        self.ws();
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            self.ws();
            self.skip(depth + 1)?;
            self.ws();
            if self.eat(b',').is_some() {
                continue;
            }
            return self.eat(b']');
        }
    }
    fn object(&mut self, depth: usize, keys: &[&str], out: &mut [Option<Raw<'a>>]) -> Option<()> {
        self.eat(b'{')?;
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            self.ws();
            let (start, end, escaped) = self.string_at()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            if escaped && !keys.is_empty() {
                // The name may decode to a wanted key: unescaping is parse's job.
                return None;
            }
            let wanted = if keys.is_empty() {
                None
            } else {
                let key = &self.b[start..end];
                // Length and first byte first: most members are not wanted.
                keys.iter().position(|k| {
                    k.len() == key.len()
                        && k.as_bytes().first() == key.first()
                        && k.as_bytes() == key
                })
            };
            match wanted {
                Some(i) => {
                    let v = self.value(depth)?;
                    if out[i].is_none() {
                        if v == Raw::Escaped {
                            return None;
                        }
                        out[i] = Some(v);
                    }
                }
                None => self.skip(depth)?,
            }
            self.ws();
            if self.eat(b',').is_some() {
                continue;
            }
            self.eat(b'}')?;
            return Some(());
        }
    }
}

#[cfg(test)]
mod scan_tests {
    use super::*;

    fn scan<'a>(s: &'a str, keys: &[&str]) -> Option<Vec<Option<Raw<'a>>>> {
        let mut out = vec![None; keys.len()];
        scan_object(s.as_bytes(), keys, &mut out).then_some(out)
    }

    #[test]
    fn members_as_parse_reads_them() {
        let doc = r#" {"id":"12|x","params":{"a":[1,{"id":"inner"}],"b":"\u00e9"},"code":200,"sys":{"ack":0},"version":1.0,"id":"dup"} "#;
        let got = scan(doc, &["id", "code", "sys", "version", "method"]).unwrap();
        assert_eq!(got[0], Some(Raw::Str("12|x")));
        assert_eq!(got[1], Some(Raw::Number("200")));
        assert_eq!(got[3], Some(Raw::Number("1.0")));
        assert_eq!(got[4], None);
        let Some(Raw::Object(sys)) = got[2] else {
            panic!()
        };
        let mut ack = [None];
        assert!(scan_object(sys, &["ack"], &mut ack));
        assert_eq!(ack[0].and_then(|r| r.as_u64_lenient()), Some(0));
        // The same document through parse: the same answers.
        let v = parse(doc.as_bytes()).unwrap().value;
        assert_eq!(v.get("id").and_then(Value::as_str), Some("12|x"));
        assert_eq!(v.get("code").and_then(Value::as_u64_lenient), Some(200));
    }

    #[test]
    fn anything_parse_would_bend_is_left_to_it() {
        for doc in [
            r#"{"a":1,}"#,
            "\u{feff}{\"a\":1}",
            r#"{"a":1} x"#,
            r#"{"id":"a\"b"}"#,
            r#"{"a":"\ud800"}"#,
            "{\"a\":\"\t\"}",
            r#"[1]"#,
            r#"{"a":01}"#,
            r#"{"a":1"#,
            r#"{"\u0069d":"7"}"#,
            r#"{"x":1,"i\u0064":"7"}"#,
        ] {
            assert!(scan(doc, &["id"]).is_none(), "{doc}");
        }
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(40), "]".repeat(40));
        assert!(scan(&deep, &["id"]).is_none());
        let mut bad = br#"{"a":"x"}"#.to_vec();
        bad[6] = 0xff;
        assert!(!scan_object(&bad, &[], &mut []));
        // Bad UTF-8 is refused wherever it stands, and multi-byte text is read as it is.
        for bad in [
            &b"{\"a\":\"x\xc3\"}"[..],   // a sequence cut by the closing quote
            b"{\"\xe2\x82\":1}",         // in a key
            b"{\"a\":\"\xc0\xaf\"}",     // overlong
            b"{\"a\":\"\xed\xa0\x80\"}", // a surrogate
            b"{\"a\":1}\xc2\xa0",        // after the value
            b"{\"a\":\xc3\xa9}",         // as a value
        ] {
            assert!(!scan_object(bad, &["a"], &mut [None]), "{bad:?}");
            assert!(parse(bad).map_or(true, |p| !p.notes.is_empty()), "{bad:?}");
        }
        let good = "{\"a\":\"é€𝄞x\",\"é\":\"ü\"}";
        let got = scan(good, &["a", "é"]).unwrap();
        assert_eq!(got, [Some(Raw::Str("é€𝄞x")), Some(Raw::Str("ü"))]);
    }
}
