//! The import map of `src`: layers import downward only, and `db/` has no
//! import cycle. Run `cargo test --features ssr --test integration layers
//! -- --nocapture` to print the map.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, lowest first; a module may import its own and lower ones.
const LAYERS: [&[&str]; 6] = [
    &["billing", "domain"],
    &["error"],
    &["i18n"],
    &["db"],
    &["server"],
    &["api", "ui"],
];

fn rank(module: &str) -> Option<usize> {
    match module {
        // `ui` is above `api`: its pages call the server functions.
        "ui" => Some(6),
        _ => LAYERS.iter().position(|l| l.contains(&module)),
    }
}

/// The file's code without its comments (a doc comment may name a path).
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The names following `prefix` in `text` (`crate::db::` → `pool`, …).
fn names_after(text: &str, prefix: &str) -> BTreeSet<String> {
    text.match_indices(prefix)
        .filter(|(i, _)| {
            // A whole path segment, not the tail of another identifier.
            !text[..*i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
        })
        .flat_map(|(i, _)| {
            let rest = &text[i + prefix.len()..];
            // `prefix{a, b::c}` names a and b.
            let group = match rest.strip_prefix('{') {
                Some(inner) => inner[..inner.find('}').unwrap_or(inner.len())]
                    .split(',')
                    .collect(),
                None => vec![rest],
            };
            group
                .into_iter()
                .map(|item| {
                    item.trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect::<String>()
                })
                .filter(|name| !name.is_empty() && name != "self")
                .collect::<Vec<_>>()
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn layers_import_downward_and_db_has_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut layers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut db: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel
            .iter()
            .next()
            .unwrap()
            .to_string_lossy()
            .replace(".rs", "");
        let text = code(file);
        let imports = layers.entry(top.clone()).or_default();
        imports.extend(
            names_after(&text, "crate::")
                .into_iter()
                .filter(|m| *m != top),
        );
        if top == "db" && rel.components().count() == 2 {
            let module = rel.file_stem().unwrap().to_string_lossy().to_string();
            if module != "mod" {
                let mut uses = names_after(&text, "super::");
                uses.extend(names_after(&text, "crate::db::"));
                uses.remove(&module);
                db.insert(module, uses);
            }
        }
    }
    println!("import map (module -> what it imports):");
    for (m, uses) in &layers {
        println!(
            "  {m} -> {}",
            uses.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    println!("db/:");
    for (m, uses) in &db {
        println!(
            "  {m} -> {}",
            uses.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    let mut upward = Vec::new();
    for (m, uses) in &layers {
        let Some(from) = rank(m) else { continue };
        for u in uses {
            if rank(u).is_some_and(|to| to > from) {
                upward.push(format!("{m} imports {u}"));
            }
        }
    }
    assert!(upward.is_empty(), "upward imports: {upward:?}");
    // Depth-first search for a cycle among db's files.
    fn visit<'a>(
        m: &'a str,
        db: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| *p == m) {
            let mut cycle: Vec<String> = path[i..].iter().map(|s| s.to_string()).collect();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if !done.insert(m) {
            return None;
        }
        path.push(m);
        for u in db
            .get(m)
            .into_iter()
            .flatten()
            .filter(|u| db.contains_key(*u))
        {
            if let Some(c) = visit(u, db, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for m in db.keys() {
        let cycle = visit(m, &db, &mut Vec::new(), &mut done);
        assert!(
            cycle.is_none(),
            "import cycle in db/: {}",
            cycle.unwrap().join(" -> ")
        );
    }
}
