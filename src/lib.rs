//! Quarry: stock, catalogue and quoting for businesses that sell by weight,
//! volume, length or piece, in one binary.
//!
//! The layers, from the inside out: [`domain`] (pure rules), [`store`] (redb,
//! the truth), [`search`] (tantivy, derived), [`app`] (use cases), [`auth`]
//! (secrets), [`http`] (the API and UI), and [`cli`]/[`config`] around them.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod control;
pub mod demo;
pub mod domain;
pub mod http;
pub mod search;
pub mod store;

#[cfg(test)]
mod layers {
    use std::path::{Path, PathBuf};

    /// Every `.rs` file under `dir`.
    fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The core depends on nothing of the HTTP layer: `http/` → `app/` →
    /// `domain/`, `store/`, `search/`, never the other way, and the
    /// configuration is read without it. A `use crate::http` or `axum` in
    /// one of them fails here.
    #[test]
    fn the_core_and_the_configuration_never_use_the_http_layer() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![src.join("config.rs")];
        for layer in ["domain", "store", "search", "app", "auth"] {
            sources(&src.join(layer), &mut files);
        }
        assert!(files.len() > 40, "{} files", files.len());
        let mut offences = Vec::new();
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                if code.contains("crate::http") || code.contains("axum") {
                    offences.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
        assert!(offences.is_empty(), "{}", offences.join("\n"));
    }
}
