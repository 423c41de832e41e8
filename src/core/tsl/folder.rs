//! The TSL folder: every `*.json` file in it, one per product (found by `profile.productKey`,
//! whatever the file's name) plus custom-module files (`functionBlockId`). Read again only when
//! the folder or one of its files changed, so re-opening a capture costs a directory listing.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::load::{self, MAX_FILE_BYTES};
use super::model::{Models, ProductModel, Source};

/// What was read, and how the folder looked then.
#[derive(Debug, Default)]
pub struct Folder {
    dir: PathBuf,
    /// Each file's path, length and modification time.
    seen: Vec<(PathBuf, u64, Option<SystemTime>)>,
    pub models: Models,
}

impl Folder {
    /// Reads `dir` again if it or a file in it changed since the last call. Returns the messages
    /// (one per bad file, or an unreadable folder) when it read it, `None` when nothing changed.
    pub fn refresh(&mut self, dir: &str) -> Option<Vec<String>> {
        if dir.is_empty() {
            let changed = !self.models.is_empty() || !self.seen.is_empty();
            *self = Folder::default();
            return changed.then(Vec::new);
        }
        let dir = PathBuf::from(dir);
        let listing = match list(&dir) {
            Ok(l) => l,
            Err(e) => {
                let was = std::mem::take(self);
                self.dir = dir.clone();
                let first = was.dir != dir || !was.models.is_empty() || !was.seen.is_empty();
                // Said once per folder, not on every capture opened.
                return first
                    .then(|| vec![format!("cannot read the TSL folder {}: {e}", dir.display())]);
            }
        };
        if dir == self.dir && listing == self.seen {
            return None;
        }
        let (models, messages) = read(&listing);
        *self = Folder {
            dir,
            seen: listing,
            models,
        };
        Some(messages)
    }
}

fn list(dir: &Path) -> std::io::Result<Vec<(PathBuf, u64, Option<SystemTime>)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let is_json = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let Ok(meta) = entry.metadata() else { continue };
        if is_json && meta.is_file() {
            out.push((path, meta.len(), meta.modified().ok()));
        }
    }
    out.sort();
    Ok(out)
}

/// Reads the files (in name order): the models, and one message per file that could not be used.
fn read(files: &[(PathBuf, u64, Option<SystemTime>)]) -> (Models, Vec<String>) {
    let mut messages = Vec::new();
    let mut products: Vec<ProductModel> = Vec::new();
    let mut modules = Vec::new();
    for (path, len, _) in files {
        let shown = path.display().to_string();
        if *len > MAX_FILE_BYTES {
            messages.push(format!(
                "{shown}: not read: {:.1} MB, more than a thing model can be ({} MB at most)",
                *len as f64 / 1e6,
                MAX_FILE_BYTES >> 20
            ));
            continue;
        }
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                messages.push(format!("{shown}: cannot read: {e}"));
                continue;
            }
        };
        let file = match load::parse(&bytes) {
            Ok(f) => f,
            Err(e) => {
                messages.push(format!("{shown}: {e}"));
                continue;
            }
        };
        if file.module.id.is_some() {
            modules.push((shown, file));
            continue;
        }
        if let Some(other) = products.iter().find(|p| p.product_key == file.product_key) {
            let Source::File(first) = &other.source else {
                continue;
            };
            messages.push(format!(
                "{shown}: not used: {first} is already the model of product {}",
                file.product_key
            ));
            continue;
        }
        products.push(file.into_product(Source::File(shown.into())));
    }
    // Custom modules join their product's model (or make one of their own).
    for (shown, file) in modules {
        match products
            .iter_mut()
            .find(|p| p.product_key == file.product_key)
        {
            Some(p) => p.add_module(file.module),
            None => products.push(file.into_product(Source::File(shown.into()))),
        }
    }
    let mut models = Models::default();
    for p in products {
        models.insert(p);
    }
    (models, messages)
}
