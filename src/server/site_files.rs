//! The site's static files (WASM, JS, CSS, favicon), served from memory:
//! embedded in the binary when cargo-leptos built it (`build.rs`), else
//! read from the site folder at start. Each is sent precompressed when
//! the browser accepts it (brotli, then gzip); files with a content hash
//! in their name are cached for a year, `immutable`.

use std::collections::HashMap;
use std::path::Path;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

/// `(URL path, bytes, brotli, gzip)`, written by `build.rs`.
type Embedded = (
    &'static str,
    &'static [u8],
    Option<&'static [u8]>,
    Option<&'static [u8]>,
);

static EMBEDDED: &[Embedded] = include!(concat!(env!("OUT_DIR"), "/embedded_site.rs"));

#[derive(Clone, Debug)]
struct File {
    raw: Bytes,
    br: Option<Bytes>,
    gz: Option<Bytes>,
    content_type: &'static str,
    immutable: bool,
}

/// Where the pages load the client from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assets {
    pub js: String,
    pub wasm: String,
    pub css: String,
}

#[derive(Clone, Debug)]
pub struct SiteFiles {
    files: HashMap<String, File>,
    embedded: bool,
    /// Found once at load: every page names them.
    assets: Assets,
}

impl SiteFiles {
    /// The embedded site, or the files under `root` when none is embedded
    /// (a plain `cargo build`); empty when neither exists (the tests).
    pub fn load(root: &Path) -> SiteFiles {
        if !EMBEDDED.is_empty() {
            let files = EMBEDDED
                .iter()
                .map(|(path, raw, br, gz)| {
                    let file = File {
                        raw: Bytes::from_static(raw),
                        br: br.map(Bytes::from_static),
                        gz: gz.map(Bytes::from_static),
                        content_type: content_type(path),
                        immutable: hashed(path),
                    };
                    (path.to_string(), file)
                })
                .collect();
            return SiteFiles::new(files, true);
        }
        let mut files = HashMap::new();
        read_dir(root, root, &mut files);
        SiteFiles::new(files, false)
    }

    fn new(files: HashMap<String, File>, embedded: bool) -> SiteFiles {
        let assets = find_assets(&files);
        SiteFiles {
            files,
            embedded,
            assets,
        }
    }

    pub fn is_embedded(&self) -> bool {
        self.embedded
    }

    /// The client's files by their (hashed) names.
    pub fn assets(&self) -> Assets {
        self.assets.clone()
    }

    /// The file at `path`, in the best encoding `request` accepts.
    pub fn respond(&self, path: &str, request: &HeaderMap) -> Option<Response> {
        let file = self.files.get(path)?;
        let accepts = |coding: &str| accepts(request, coding);
        let (body, encoding) = match (&file.br, &file.gz) {
            (Some(br), _) if accepts("br") => (br.clone(), Some("br")),
            (_, Some(gz)) if accepts("gzip") => (gz.clone(), Some("gzip")),
            _ => (file.raw.clone(), None),
        };
        let cache = if file.immutable {
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=3600"
        };
        let mut response = Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, file.content_type)
            .header(header::CACHE_CONTROL, cache)
            .header(header::VARY, "Accept-Encoding");
        if let Some(e) = encoding {
            response = response.header(header::CONTENT_ENCODING, HeaderValue::from_static(e));
        }
        response.body(Body::from(body)).ok()
    }
}

/// The client's files among `files`: `billing-center` then the hash (if
/// any) and the extension; the unhashed name when absent.
fn find_assets(files: &HashMap<String, File>) -> Assets {
    let find = |ext: &str| {
        let mut names: Vec<&String> = files
            .keys()
            .filter(|p| p.starts_with("/pkg/billing-center") && p.ends_with(ext))
            .collect();
        names.sort();
        names
            .first()
            .map(|s| s.to_string())
            .unwrap_or_else(|| format!("/pkg/billing-center{ext}"))
    };
    Assets {
        js: find(".js"),
        wasm: find(".wasm"),
        css: find(".css"),
    }
}

/// Whether `Accept-Encoding` takes `coding` (with a q above 0).
fn accepts(request: &HeaderMap, coding: &str) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let q = parts
                .find_map(|p| p.strip_prefix("q="))
                .and_then(|q| q.parse::<rust_decimal::Decimal>().ok())
                .unwrap_or(rust_decimal::Decimal::ONE);
            name.eq_ignore_ascii_case(coding) && q > rust_decimal::Decimal::ZERO
        })
}

/// `billing-center.<22 characters of base64url md5>.ext`, as cargo-leptos
/// names hashed files.
fn hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() >= 3
        && parts[parts.len() - 2].len() == 22
        && parts[parts.len() - 2]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "wasm" => "application/wasm",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn read_dir(root: &Path, dir: &Path, files: &mut HashMap<String, File>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.flatten().map(|e| e.path()) {
        if path.is_dir() {
            read_dir(root, &path, files);
            continue;
        }
        let name = path.to_string_lossy().to_string();
        if name.ends_with(".br") || name.ends_with(".gz") || name.ends_with(".ts") {
            continue;
        }
        let Ok(raw) = std::fs::read(&path) else {
            continue;
        };
        let beside = |ext: &str| std::fs::read(format!("{name}.{ext}")).ok().map(Bytes::from);
        let url = format!(
            "/{}",
            path.strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/")
        );
        let file = File {
            raw: Bytes::from(raw),
            br: beside("br"),
            gz: beside("gz"),
            content_type: content_type(&url),
            immutable: hashed(&url),
        };
        files.insert(url, file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(accept).unwrap(),
        );
        h
    }

    #[test]
    fn the_best_accepted_encoding_is_sent_and_hashed_names_are_immutable() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        let wasm = pkg.join("billing-center.AAAAAAAAAAAAAAAAAAAAAA.wasm");
        std::fs::write(&wasm, b"raw").unwrap();
        std::fs::write(format!("{}.br", wasm.display()), b"brotli").unwrap();
        std::fs::write(format!("{}.gz", wasm.display()), b"gzip").unwrap();
        std::fs::write(dir.path().join("favicon.svg"), b"<svg/>").unwrap();
        let mut files = HashMap::new();
        read_dir(dir.path(), dir.path(), &mut files);
        let site = SiteFiles::new(files, false);
        let path = "/pkg/billing-center.AAAAAAAAAAAAAAAAAAAAAA.wasm";
        assert_eq!(site.assets().wasm, path);
        let encoding = |accept: &str| {
            let r = site.respond(path, &headers(accept)).unwrap();
            r.headers()
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap().to_string())
        };
        assert_eq!(encoding("gzip, deflate, br, zstd").as_deref(), Some("br"));
        assert_eq!(encoding("gzip, br;q=0").as_deref(), Some("gzip"));
        assert_eq!(encoding("identity").as_deref(), None);
        let r = site.respond(path, &headers("br")).unwrap();
        assert_eq!(
            r.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/wasm");
        let r = site.respond("/favicon.svg", &headers("br")).unwrap();
        assert_eq!(r.headers()[header::CACHE_CONTROL], "public, max-age=3600");
        assert!(site.respond("/pkg/other.js", &HeaderMap::new()).is_none());
    }
}
