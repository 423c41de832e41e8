//! The pure core: everything Alibaba-specific, in plain Rust with no FFI types, tested directly.
//!
//! - [`clientid`]: the `prefix|k=v,…|` client id grammar
//! - [`sign`]: HMAC login sign checks
//! - [`secrets`]: the secrets the user entered
//! - [`topic`]: which device a topic names
//! - [`json`]: a lenient, bounded JSON parser for Alink payloads
//! - [`flow`]: MQTT-level session flow (acks, keep-alive, how a session ended)
//! - [`session`]: per-connection state and per-packet analysis (its record model, a connection's
//!   transitions, request/reply pairing)
//! - [`expert`]: every finding as a typed value, and the one place its wording is made
//! - [`dissect`]: a capture's packets frame by frame: connection, protocol level, topic aliases,
//!   first-pass analysis and later-pass restore
//! - [`cache`]: what is kept of each packet between passes, packed
//! - [`transport`]: TLS or plain MQTT on an MQTT port, MQTT inside TLS on 443
//! - [`wsstream`]: MQTT packets cut back out of WebSocket messages
//! - [`locate`]: where a field read from the packet lies in its bytes
//! - [`mqtt`]: MQTT packets cut from the bytes MQTT consumed, and read
//! - [`mqtt5`]: MQTT 5 reason codes and the platform's limits
//! - [`fields`]: every field, subtree and expert item, as data
//! - [`render`]: turns analysis into fields through the [`render::Sink`] trait
//! - [`swar`]: eight bytes at a time, for the scanners' runs of plain bytes
//! - [`text`]: short text without a heap allocation (inline strings, a stack writer)
//! - [`tsl`]: the thing model: TSL files read, Alink values described and checked against them

pub mod cache;
pub mod clientid;
pub mod dissect;
pub mod expert;
pub mod fields;
pub mod flow;
pub mod fxhash;
pub mod json;
pub mod locate;
pub mod mqtt;
pub mod mqtt5;
pub mod payload;
pub mod render;
pub mod secrets;
pub mod session;
pub mod sign;
pub mod stats;
pub mod swar;
pub mod text;
pub mod topic;
pub mod transport;
pub mod tsl;
pub mod wsstream;

/// Text of bytes as [`String::from_utf8_lossy`] gives it, checked first the fast way (a word at a
/// time while ASCII): the lossy decoder walks byte by byte even when nothing needs replacing.
pub(crate) fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}
