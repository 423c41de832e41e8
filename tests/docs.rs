//! docs/fields.md is generated from `tshark -G fields` with the plugin loaded, and must be current:
//! `make docs` (ALIIOT_BLESS=1 cargo test --release --test docs) rewrites it.

mod common;

use common::harness;

fn render(fields: &str) -> String {
    let mut out = String::from(
        "# aliiot fields\n\n\
         Generated from `tshark -G fields` with the plugin loaded (`make docs`); do not edit by hand.\n\
         Expert items are listed as fields too: their name is the display filter that finds them.\n\n\
         | field | type | name | description |\n|---|---|---|---|\n",
    );
    for line in fields.lines() {
        let c: Vec<&str> = line.split('\t').collect();
        match c.as_slice() {
            ["F", name, abbrev, ftype, proto, _display, _bitmask, blurb, ..]
                if *proto == "aliiot" =>
            {
                out.push_str(&format!(
                    "| `{abbrev}` | {ftype} | {name} | {} |\n",
                    blurb.replace('|', "\\|")
                ));
            }
            ["F", name, abbrev, ftype, proto, ..] if *proto == "aliiot" => {
                out.push_str(&format!("| `{abbrev}` | {ftype} | {name} | |\n"));
            }
            _ => {}
        }
    }
    out
}

#[test]
fn fields_doc_is_current() {
    let h = harness();
    let doc = render(&h.tshark(&["-G", "fields"]));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/fields.md");
    if std::env::var_os("ALIIOT_BLESS").is_some() {
        std::fs::write(&path, &doc).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == doc,
        "docs/fields.md is not current: run `make docs`"
    );
}

/// The "Alibaba Cloud IoT" profile (make install-profile): its columns show device, product, topic
/// class, Alink method, code and reply time; its coloring rules and buttons load without a warning.
#[test]
fn profile_columns_and_colors() {
    let h = harness();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("packaging/profile/Alibaba Cloud IoT");
    let dst = h.home.join(".config/wireshark/profiles/Alibaba Cloud IoT");
    std::fs::create_dir_all(&dst).unwrap();
    for f in ["preferences", "colorfilters", "dfilter_buttons"] {
        std::fs::copy(src.join(f), dst.join(f)).unwrap();
    }
    common::make_world_readable(&h.home);
    let path = h.capture("02-alibabacloud-sdk-thing-model.pcapng");
    let out = h.tshark(&[
        "-n",
        "-C",
        "Alibaba Cloud IoT",
        "--color",
        "-r",
        &path,
        "-Y",
        "frame.number == 18",
    ]);
    assert!(
        out.contains("MQTT lab-sensor-02 a1B2c3D4e5F thing.event.post thing.event.lowBattery.post 460 0.042122000 Publish Message"),
        "{out}"
    );
}
