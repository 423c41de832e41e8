//! Passes the Wireshark version that wireshark-sys was built against to the plugin and its tests,
//! so the plugin folder (`plugins/<X.Y>/epan`) and the ABI symbols always agree with the headers.

fn main() {
    let version = std::env::var("DEP_WIRESHARK_VERSION").unwrap_or_default();
    let major = std::env::var("DEP_WIRESHARK_VERSION_MAJOR").unwrap_or_default();
    let minor = std::env::var("DEP_WIRESHARK_VERSION_MINOR").unwrap_or_default();
    println!("cargo:rustc-env=ALIIOT_WIRESHARK_VERSION={version}");
    println!("cargo:rustc-env=ALIIOT_WIRESHARK_SERIES={major}.{minor}");
    // plugin_describe() exists from Wireshark 4.4 on; export it only there, so the plugin carries
    // exactly the ABI of the Wireshark it was built for.
    println!("cargo::rustc-check-cfg=cfg(ws_plugin_describe)");
    let (maj, min): (u32, u32) = (major.parse().unwrap_or(0), minor.parse().unwrap_or(0));
    if (maj, min) >= (4, 4) {
        println!("cargo:rustc-cfg=ws_plugin_describe");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
