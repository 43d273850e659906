//! No file of `tui/src` depends on itself through others: each file's paths into the crate
//! (`use crate::..`, `use super::..`, `use child::..` and the same paths written inline, as in
//! `crate::keys::BINDINGS`) are resolved to the file of the longest module they name, and the
//! resulting file graph must have no cycle. `mod x;` declarations are not edges (a parent owns
//! its children without importing them); a re-export (`pub use x::Y`) is. Comments and string
//! literals are skipped; `super` inside an inline `mod tests { .. }` means the file itself.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[test]
fn tui_src_has_no_file_level_import_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    read_tree(&root, &root, &mut files);
    assert!(files.len() > 20, "found only {} files", files.len());
    let cycles = cycles(&files);
    assert!(
        cycles.is_empty(),
        "import cycles among tui/src files:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn a_cycle_through_three_files_is_found() {
    let files = [
        ("lib.rs", "mod a; mod b;".to_string()),
        ("a.rs", "use crate::b::Thing;".to_string()),
        ("b/mod.rs", "pub use inner::X;\nmod inner;".to_string()),
        ("b/inner.rs", "fn f() { crate::a::g(); }".to_string()),
    ]
    .map(|(p, s)| (p.to_string(), s));
    let found = cycles(&files);
    assert_eq!(found.len(), 1, "{found:?}");
    for file in ["a.rs", "b/mod.rs", "b/inner.rs"] {
        assert!(found[0].contains(file), "{found:?}");
    }
}

#[test]
fn tests_comments_strings_and_a_one_way_chain_are_not_cycles() {
    let files = [
        ("lib.rs", "mod a; mod b;".to_string()),
        (
            "a/mod.rs",
            "pub use child::Y; // crate::b::z\nmod child;".to_string(),
        ),
        (
            "a/child.rs",
            "use crate::b::Z;\n#[cfg(test)]\nmod tests { use super::*; }".to_string(),
        ),
        (
            "b.rs",
            "const S: &str = \"crate::a::Y\"; /* super::a */ fn f(c: char) { let _ = '\"'; }"
                .to_string(),
        ),
    ]
    .map(|(p, s)| (p.to_string(), s));
    assert_eq!(cycles(&files), Vec::<String>::new());
}

/// Every `.rs` file under `dir` as (path relative to `root`, text); `main.rs` is the binary's
/// own crate and imports the library by name, so it is left out.
fn read_tree(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read tui/src")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            read_tree(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).expect("under root");
            let rel = rel.to_string_lossy().replace('\\', "/");
            if rel != "main.rs" {
                let text = std::fs::read_to_string(&path).expect("read source");
                out.push((rel, text));
            }
        }
    }
}

/// The module path a file defines: `app/mod.rs` and `app.rs` are `["app"]`, `lib.rs` is `[]`.
fn module_of(file: &str) -> Vec<String> {
    let stem = file.trim_end_matches(".rs");
    let mut parts: Vec<String> = stem.split('/').map(str::to_string).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// One description per cycle (strongly connected group of files), with the edges inside it.
fn cycles(files: &[(String, String)]) -> Vec<String> {
    let modules: BTreeMap<Vec<String>, String> = files
        .iter()
        .map(|(file, _)| (module_of(file), file.clone()))
        .collect();
    // file -> (file it uses -> the first path that makes it use it)
    let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (file, text) in files {
        let out = edges.entry(file.clone()).or_default();
        for path in crate_paths(&module_of(file), text) {
            let target = (0..=path.len()).rev().find_map(|n| modules.get(&path[..n]));
            if let Some(target) = target.filter(|t| *t != file) {
                out.entry(target.clone())
                    .or_insert_with(|| format!("crate::{}", path.join("::")));
            }
        }
    }
    strongly_connected(&edges)
        .into_iter()
        .filter(|group| group.len() > 1)
        .map(|group| {
            let inside: Vec<String> = group
                .iter()
                .flat_map(|from| {
                    edges[from]
                        .iter()
                        .filter(|(to, _)| group.contains(*to))
                        .map(move |(to, why)| format!("    {from} -> {to} ({why})"))
                })
                .collect();
            format!(
                "  {} files: {}\n{}",
                group.len(),
                group.iter().cloned().collect::<Vec<_>>().join(", "),
                inside.join("\n")
            )
        })
        .collect()
}

/// Tarjan's algorithm: the strongly connected groups of the graph.
fn strongly_connected(edges: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<BTreeSet<String>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<String, BTreeMap<String, String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        groups: Vec<BTreeSet<String>>,
    }
    fn visit<'a>(w: &mut Walk<'a>, node: &'a str) {
        let i = w.index.len();
        w.index.insert(node, i);
        w.low.insert(node, i);
        w.stack.push(node);
        let edges = w.edges;
        for next in edges.get(node).into_iter().flat_map(|m| m.keys()) {
            let next = next.as_str();
            if !w.index.contains_key(next) {
                visit(w, next);
                let low = w.low[node].min(w.low[next]);
                w.low.insert(node, low);
            } else if w.stack.contains(&next) {
                let low = w.low[node].min(w.index[next]);
                w.low.insert(node, low);
            }
        }
        if w.low[node] == w.index[node] {
            let mut group = BTreeSet::new();
            while let Some(top) = w.stack.pop() {
                group.insert(top.to_string());
                if top == node {
                    break;
                }
            }
            w.groups.push(group);
        }
    }
    let mut w = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        groups: Vec::new(),
    };
    for node in edges.keys() {
        if !w.index.contains_key(node.as_str()) {
            visit(&mut w, node);
        }
    }
    w.groups
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    /// `::`
    Colons,
    Punct(char),
}

/// The words and punctuation of `text`, without comments, strings and character literals.
fn tokens(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{1F600}') or a lifetime ('a).
            if at(i + 1) == '\\' {
                // Past the quote, the backslash and the escaped character.
                i += 3;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // Raw strings: r"..", r#".."#, br"..".
            let hashes = chars[i..].iter().take_while(|c| **c == '#').count();
            if (word == "r" || word == "br") && at(i + hashes) == '"' {
                i += hashes + 1;
                let close: String = std::iter::once('"')
                    .chain(std::iter::repeat_n('#', hashes))
                    .collect();
                let rest: String = chars[i..].iter().collect();
                i += rest.find(&close).map_or(rest.len(), |n| n + close.len());
                continue;
            }
            out.push(Token::Ident(word));
        } else if c == ':' && at(i + 1) == ':' {
            out.push(Token::Colons);
            i += 2;
        } else {
            if !c.is_whitespace() {
                out.push(Token::Punct(c));
            }
            i += 1;
        }
    }
    out
}

/// Every path of `text` (a file of module `module`) that may name a module of this crate,
/// made absolute (without the leading `crate`).
fn crate_paths(module: &[String], text: &str) -> Vec<Vec<String>> {
    let tokens = tokens(text);
    let mut out = Vec::new();
    // Inline modules open at this point, each with the brace depth inside it.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < tokens.len() {
        let here: Vec<String> = module
            .iter()
            .cloned()
            .chain(inline.iter().map(|(name, _)| name.clone()))
            .collect();
        match &tokens[i] {
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth -= 1;
            }
            Token::Ident(w) if w == "mod" => {
                if let (Some(Token::Ident(name)), Some(Token::Punct('{'))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                {
                    inline.push((name.clone(), depth + 1));
                }
            }
            Token::Ident(w) if w == "use" => {
                let end = tokens[i..]
                    .iter()
                    .position(|t| *t == Token::Punct(';'))
                    .map_or(tokens.len(), |n| i + n);
                let mut tree = Vec::new();
                use_tree(&tokens[i + 1..end], &[], &mut tree);
                out.extend(tree.iter().filter_map(|p| absolute(&here, p)));
                i = end;
                continue;
            }
            // Only a path's start counts: `a::b::c`, not `b::c` inside it.
            Token::Ident(first)
                if tokens.get(i + 1) == Some(&Token::Colons)
                    && (i == 0 || tokens[i - 1] != Token::Colons) =>
            {
                let mut path = vec![first.clone()];
                let mut j = i + 1;
                while let (Some(Token::Colons), Some(Token::Ident(next))) =
                    (tokens.get(j), tokens.get(j + 1))
                {
                    path.push(next.clone());
                    j += 2;
                }
                out.extend(absolute(&here, &path));
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Expands a `use` tree (`a::{b, c::d as e, f::*}`) into its paths, each behind `prefix`.
fn use_tree(tokens: &[Token], prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Ident(w) if w == "as" => i += 1,
            Token::Ident(w) => path.push(w.clone()),
            Token::Punct('{') => {
                let mut depth = 0;
                let mut start = i + 1;
                let mut j = i;
                while j < tokens.len() {
                    match tokens[j] {
                        Token::Punct('{') => depth += 1,
                        Token::Punct('}') => depth -= 1,
                        Token::Punct(',') if depth == 1 => {
                            use_tree(&tokens[start..j], &path, out);
                            start = j + 1;
                        }
                        _ => {}
                    }
                    if depth == 0 {
                        break;
                    }
                    j += 1;
                }
                use_tree(&tokens[start..j.min(tokens.len())], &path, out);
                return;
            }
            _ => {}
        }
        i += 1;
    }
    if path.len() > prefix.len() {
        out.push(path);
    }
}

/// `path` as seen from module `here`, made absolute: `crate::a` is `a`, `super::b` is
/// `here`'s parent then `b`, `self::c` and a bare `c` are `here` then `c`.
fn absolute(here: &[String], path: &[String]) -> Option<Vec<String>> {
    let mut base = here.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first().is_some_and(|s| s == "super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        _ => {}
    }
    base.extend(rest.iter().filter(|s| *s != "self").cloned());
    Some(base)
}
