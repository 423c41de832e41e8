//! Generates bindings for the Wireshark found by pkg-config and compiles the C shim against the
//! same headers, so one source tree builds for every supported Wireshark series.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=shim/shim.c");
    println!("cargo:rerun-if-changed=shim/shim.h");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");

    let ws = pkg_config::Config::new()
        .atleast_version("4.0")
        .probe("wireshark")
        .unwrap_or_else(|e| {
            panic!(
                "wireshark development files not found by pkg-config ({e}); install wireshark-dev"
            )
        });
    let mut parts = ws.version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    // Exposed to dependents as DEP_WIRESHARK_VERSION / _MAJOR / _MINOR.
    println!("cargo:version={}", ws.version);
    println!("cargo:version_major={major}");
    println!("cargo:version_minor={minor}");
    let plugindir = pkg_config::get_variable("wireshark", "plugindir").unwrap_or_default();
    println!("cargo:plugindir={plugindir}");

    let mut cc = cc::Build::new();
    cc.file("shim/shim.c")
        .warnings(true)
        .flag_if_supported("-Wno-unused-parameter");
    for p in &ws.include_paths {
        cc.include(p);
    }
    cc.compile("aliiot_shim");

    let mut b = bindgen::Builder::default()
        .header("shim/shim.h")
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .allowlist_function("shim_.*")
        .allowlist_function("proto_register_plugin")
        .allowlist_function("proto_register_protocol")
        .allowlist_function("proto_register_field_array")
        .allowlist_function("proto_register_subtree_array")
        .allowlist_function("expert_register_protocol")
        .allowlist_function("expert_register_field_array")
        .allowlist_function("register_init_routine")
        .allowlist_function("register_cleanup_routine")
        .allowlist_type("hf_register_info")
        .allowlist_type("ei_register_info")
        .allowlist_type("expert_field")
        .allowlist_type("value_string")
        .allowlist_type("proto_plugin")
        .allowlist_type("shim_secret")
        .allowlist_type("shim_ws_piece")
        .allowlist_type("shim_hooks")
        .allowlist_var("WIRESHARK_VERSION_.*")
        .allowlist_var("PI_.*")
        .allowlist_type("ftenum")
        .allowlist_type("field_display_e")
        .allowlist_type("hf_ref_type")
        .allowlist_type("ft_framenum_type")
        .opaque_type("tvbuff")
        .opaque_type("_packet_info")
        .opaque_type("_proto_node")
        .opaque_type("field_info")
        .opaque_type("dissector_handle")
        .opaque_type("epan_column_info")
        .opaque_type("wmem_allocator_t")
        .opaque_type("_wmem_allocator_t")
        .blocklist_type("_?GPtrArray")
        .layout_tests(false)
        .derive_debug(false)
        .prepend_enum_name(true)
        .default_enum_style(bindgen::EnumVariation::Consts);
    for p in &ws.include_paths {
        b = b.clang_arg(format!("-I{}", p.display()));
    }
    let bindings = b
        .generate()
        .expect("bindgen failed on the Wireshark headers");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("bindings.rs");
    bindings.write_to_file(&out).expect("cannot write bindings");
}
