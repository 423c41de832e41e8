//! Raw bindings to the parts of Wireshark's epan API that aliiot uses.
//!
//! Generated at build time by bindgen over the headers pkg-config finds, restricted by an allowlist.
//! Everything whose C shape differs between Wireshark series (boolean callback types, `field_info`
//! layout, `packet_info` bitfields, UAT macros, exception handling) goes through `shim/shim.c`,
//! whose functions are prefixed `shim_` and take only plain C types.
#![allow(
    non_upper_case_globals,
    non_camel_case_types,
    non_snake_case,
    dead_code
)]
#![allow(clippy::all)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
