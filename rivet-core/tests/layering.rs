//! Guards the crate's layering (see "Architecture" in `rivet-core/README.md`): every module of
//! `rivet-core/src` may use the modules of its own layer and of the layers below, never one
//! above. Reads the source, so it needs no server and runs in milliseconds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may name (`crate::…`) modules of its own layer and of
/// the layers before it. Modules in one layer may use each other.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "leaf utilities",
        &[
            "b64",
            "bytes",
            "endpoint_url",
            "identity",
            "key",
            "observable",
        ],
    ),
    ("wire", &["error", "protocol", "queue", "runtime"]),
    ("platform", &["config", "http", "raw", "tls", "transport"]),
    ("gateway urls", &["gateway"]),
    ("client state", &["metadata", "tracker", "shared"]),
    ("rest api", &["rest"]),
    ("addressing", &["addressing"]),
    ("stateless handle", &["handle"]),
    ("raw websocket", &["raw_ws"]),
    ("connection", &["connection"]),
    ("typed layer", &["typed"]),
    ("connection manager", &["manager"]),
    ("client", &["client"]),
];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// `rank[module]`: the index of its layer.
fn ranks() -> BTreeMap<&'static str, usize> {
    let mut ranks = BTreeMap::new();
    for (index, (_, modules)) in LAYERS.iter().enumerate() {
        for module in *modules {
            assert!(
                ranks.insert(*module, index).is_none(),
                "module `{module}` is listed in two layers"
            );
        }
    }
    ranks
}

/// The source without comments (doc links are not dependencies) and string contents.
fn strip_comments_and_strings(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < bytes.len() {
        if source[i..].starts_with("//") {
            i = source[i..].find('\n').map_or(bytes.len(), |n| i + n);
        } else if source[i..].starts_with("/*") {
            let end = source[i + 2..]
                .find("*/")
                .map_or(bytes.len(), |n| i + 2 + n + 2);
            out.extend(source[i..end].chars().filter(|&c| c == '\n'));
            i = end;
        } else if bytes[i] == b'"' && !(i > 0 && bytes[i - 1] == b'\'') {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                if bytes[j] == b'\\' {
                    j += 1;
                }
                j += 1;
            }
            out.push_str("\"\"");
            out.extend(source[i..j.min(bytes.len())].chars().filter(|&c| c == '\n'));
            i = j + 1;
        } else {
            let c = source[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The first segment of every path after `crate::` (each item of a `crate::{a, b::c}` group).
fn crate_paths(code: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let line = code[..at].matches('\n').count() + 1;
        let rest = &code[at + "crate::".len()..];
        let Some(group) = rest.strip_prefix('{') else {
            found.push((line, ident(rest).to_owned()));
            continue;
        };
        let mut depth = 0usize;
        let mut item = String::new();
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    found.push((line, ident(item.trim()).to_owned()));
                    item.clear();
                    continue;
                }
                _ => {}
            }
            item.push(c);
        }
        if !item.trim().is_empty() {
            found.push((line, ident(item.trim()).to_owned()));
        }
    }
    found
}

/// `name` → the module `lib.rs` re-exports it from (`pub use module::{Name, …}`).
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for statement in lib.split(';') {
        let Some(at) = statement.find("pub use ") else {
            continue;
        };
        let path = statement[at + "pub use ".len()..].trim();
        let module = ident(path);
        let items = path[module.len()..].trim_start_matches("::");
        for name in items
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|n| !n.is_empty())
        {
            map.insert(name.to_owned(), module.to_owned());
        }
    }
    map
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {dir:?}: {e}"));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src` belongs to (`connection/driver.rs` → `connection`).
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("under src");
    let first = relative.components().next().expect("a component");
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_owned()
}

/// Every `(from, to) → [file:line]` edge between top-level modules.
fn import_graph() -> BTreeMap<(String, String), BTreeSet<String>> {
    let src = src_dir();
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("read lib.rs");
    let reexports = reexports(&strip_comments_and_strings(&lib));
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let from = module_of(&src, &file);
        if from == "lib" {
            continue;
        }
        let source = std::fs::read_to_string(&file).expect("read source");
        for (line, name) in crate_paths(&strip_comments_and_strings(&source)) {
            // `crate::Error` or `crate::test_transport`: the module lib.rs re-exports it from.
            let to = reexports.get(&name).cloned().unwrap_or(name);
            if to != from {
                graph
                    .entry((from.clone(), to))
                    .or_default()
                    .insert(format!("{}:{line}", relative.display()));
            }
        }
    }
    graph
}

#[test]
fn every_module_is_in_exactly_one_layer() {
    let ranks = ranks();
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|file| module_of(&src, file))
        .filter(|module| module != "lib")
        .collect();
    let unlisted: Vec<_> = modules
        .iter()
        .filter(|m| !ranks.contains_key(m.as_str()))
        .collect();
    assert!(
        unlisted.is_empty(),
        "modules missing from LAYERS in tests/layering.rs (add each to its layer): {unlisted:?}"
    );
    let gone: Vec<_> = ranks.keys().filter(|m| !modules.contains(**m)).collect();
    assert!(
        gone.is_empty(),
        "LAYERS in tests/layering.rs lists modules that no longer exist: {gone:?}"
    );
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let ranks = ranks();
    let graph = import_graph();
    let mut upward = Vec::new();
    for ((from, to), places) in &graph {
        let (Some(&low), Some(&high)) = (ranks.get(from.as_str()), ranks.get(to.as_str())) else {
            continue;
        };
        if high > low {
            upward.push(format!(
                "  {from} ({}) -> {to} ({}) at {}",
                LAYERS[low].0,
                LAYERS[high].0,
                places.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    assert!(
        upward.is_empty(),
        "{} imports go up the layering (move the item down, or the user up):\n{}",
        upward.len(),
        upward.join("\n")
    );
}
