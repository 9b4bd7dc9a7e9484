//! Embeds the built site (`target/site`: WASM, JS, CSS, favicon, and the
//! `.br` / `.gz` cargo-leptos precompresses beside them) into the server
//! binary, so that the release binary runs from any directory alone.
//! Only for the server built by cargo-leptos (which sets
//! `LEPTOS_SITE_ROOT`); a plain `cargo build` embeds nothing and the
//! server reads the site folder at start instead.

use std::fmt::Write;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=LEPTOS_SITE_ROOT");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let server = std::env::var_os("CARGO_FEATURE_SSR").is_some()
        && std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() != Ok("wasm32");
    let root = std::env::var_os("LEPTOS_SITE_ROOT").map(PathBuf::from);
    let mut code = String::from("&[\n");
    if let (true, Some(root)) = (server, root) {
        println!("cargo:rerun-if-changed={}", root.display());
        let mut files = Vec::new();
        walk(&root, &mut files);
        files.sort();
        for file in files {
            let name = file.to_string_lossy();
            // Compressed copies go with their file; TypeScript declarations
            // are for other builds, not browsers.
            if name.ends_with(".br") || name.ends_with(".gz") || name.ends_with(".ts") {
                continue;
            }
            let url = format!(
                "/{}",
                file.strip_prefix(&root)
                    .expect("under the root")
                    .to_string_lossy()
                    .replace('\\', "/")
            );
            let abs = std::fs::canonicalize(&file).expect("a file just listed");
            let beside = |ext: &str| {
                let p = PathBuf::from(format!("{}.{ext}", abs.display()));
                match p.exists() {
                    true => format!("Some(include_bytes!({:?}))", p.display().to_string()),
                    false => "None".to_string(),
                }
            };
            writeln!(
                code,
                "    ({url:?}, include_bytes!({:?}), {}, {}),",
                abs.display().to_string(),
                beside("br"),
                beside("gz")
            )
            .expect("writing to a String");
        }
    }
    code.push_str("]\n");
    std::fs::write(out.join("embedded_site.rs"), code).expect("OUT_DIR is writable");
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files);
        } else {
            files.push(path);
        }
    }
}
