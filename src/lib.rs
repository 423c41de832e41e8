//! aliiot: a Wireshark plugin that adds an Alibaba Cloud IoT layer on top of the MQTT dissector.
//!
//! [`core`] holds the protocol knowledge and is plain Rust; `epan` is the thin glue that moves
//! bytes and fields between Wireshark and the core.

pub mod core;
#[cfg(feature = "plugin")]
mod epan;
