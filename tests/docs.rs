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
