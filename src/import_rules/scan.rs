//! Reads one source file for the import rules ([`super`]): comments and literals blanked out, the
//! rest cut into tokens, and from those the file's `mod x;` declarations, its `use` trees and its
//! inline `crate::…`/`super::…` paths, each with the module it appears in (inline `mod x { … }`
//! blocks included, so a test module's `super::` is the file itself), and the inline paths that go
//! through a name a `use` bound.

/// One token of code: an identifier or keyword, `::`, or a single other character.
#[derive(Debug, Clone, PartialEq)]
struct Token {
    text: String,
    line: usize,
}

/// A path the file names, made absolute where it starts with `crate`, `super` or `self`.
#[derive(Debug, Clone, PartialEq)]
pub struct PathRef {
    /// The line it is on (1-based).
    pub line: usize,
    /// The module path it points into, from the crate root (`["dcs", "Version"]`).
    pub target: Vec<String>,
    /// How it was written (`crate::dcs::Version`), for messages.
    pub written: String,
    /// Whether it comes from a `pub use` (a re-export).
    pub reexport: bool,
    /// The name a `pub use` exports it as (its last segment, or its `as` name).
    pub name: Option<String>,
    /// Whether it starts with a child module declared in this file (`pub use child::X` in a facade)
    /// rather than `crate`, `super` or `self`.
    pub bare_child: bool,
    /// Whether it is inside a `#[cfg(test)]` module.
    pub test: bool,
}

/// What one file holds for the import rules.
#[derive(Debug, Default)]
pub struct Scanned {
    /// The modules declared with `mod x;` at the file's top level (files of their own).
    pub children: Vec<String>,
    /// Those of [`Scanned::children`] declared under `#[cfg(test)]`.
    pub test_children: Vec<String>,
    /// Every `crate::`/`super::`/`self::` path, in use trees and inline, every inline path that
    /// starts with a name such a `use` bound (`commands::list::run` after `use crate::commands;`),
    /// plus the facade's `pub use child::…` re-exports.
    pub refs: Vec<PathRef>,
}

/// Scan `source`, a file whose module path from the crate root is `module`.
pub fn scan(module: &[String], source: &str) -> Scanned {
    let toks = tokens(&blank(source));
    let mut out = Scanned::default();
    let mut depth = 0usize;
    // Inline `mod x { … }` blocks: (name, depth outside the block, whether under `#[cfg(test)]`).
    let mut inline: Vec<(String, usize, bool)> = Vec::new();
    // Names bound by `use` (module path, name) → the absolute path, and the bare paths (`x::y`) seen,
    // resolved at the end through those names (`use crate::commands;` … `commands::list::run`).
    let mut bound: Vec<(Vec<String>, String, Vec<String>)> = Vec::new();
    let mut bare: Vec<(Vec<String>, Vec<String>, usize, bool)> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i].text.as_str();
        let next = |k: usize| toks.get(i + k).map(|t| t.text.as_str()).unwrap_or("");
        match t {
            "{" => depth += 1,
            "}" => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d, _)| *d == depth) {
                    inline.pop();
                }
            }
            "mod" if is_ident(next(1)) => {
                let test = cfg_test(&toks, i);
                if next(2) == ";" && inline.is_empty() {
                    out.children.push(next(1).to_string());
                    if test {
                        out.test_children.push(next(1).to_string());
                    }
                } else if next(2) == "{" {
                    let test = test || inline.iter().any(|(_, _, t)| *t);
                    inline.push((next(1).to_string(), depth, test));
                }
                i += 2;
                continue;
            }
            "use" => {
                let here = current(module, &inline);
                let reexport = is_pub(&toks, i);
                let line = toks[i].line;
                let mut j = i + 1;
                let mut leaves = Vec::new();
                use_tree(&toks, &mut j, Vec::new(), &mut leaves);
                for (segs, name) in leaves {
                    let bare_child = segs
                        .first()
                        .is_some_and(|s| inline.is_empty() && out.children.contains(s));
                    let target = if bare_child {
                        Some(here.iter().cloned().chain(segs.iter().cloned()).collect())
                    } else {
                        absolute(&here, &segs)
                    };
                    if let Some(target) = target {
                        if let Some(n) = &name {
                            bound.push((here.clone(), n.clone(), target.clone()));
                        }
                        out.refs.push(PathRef {
                            line,
                            target,
                            written: segs.join("::"),
                            reexport,
                            name,
                            bare_child,
                            test: inline.iter().any(|(_, _, t)| *t),
                        });
                    }
                }
                while j < toks.len() && toks[j].text != ";" {
                    j += 1;
                }
                i = j + 1;
                continue;
            }
            "crate" | "super" | "self" if next(1) == "::" => {
                let line = toks[i].line;
                let mut segs = vec![t.to_string()];
                let mut j = i + 1;
                while toks.get(j).is_some_and(|t| t.text == "::")
                    && toks.get(j + 1).is_some_and(|t| is_ident(&t.text))
                {
                    segs.push(toks[j + 1].text.clone());
                    j += 2;
                }
                if let Some(target) = absolute(&current(module, &inline), &segs) {
                    out.refs.push(PathRef {
                        line,
                        target,
                        written: segs.join("::"),
                        reexport: false,
                        name: None,
                        bare_child: false,
                        test: inline.iter().any(|(_, _, t)| *t),
                    });
                }
                i = j;
                continue;
            }
            s if is_ident(s)
                && next(1) == "::"
                && is_ident(next(2))
                && (i == 0 || toks[i - 1].text != "::") =>
            {
                let mut segs = vec![s.to_string()];
                let mut j = i + 1;
                while toks.get(j).is_some_and(|t| t.text == "::")
                    && toks.get(j + 1).is_some_and(|t| is_ident(&t.text))
                {
                    segs.push(toks[j + 1].text.clone());
                    j += 2;
                }
                let test = inline.iter().any(|(_, _, t)| *t);
                bare.push((current(module, &inline), segs, toks[i].line, test));
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    for (here, segs, line, test) in bare {
        let Some((_, _, to)) = bound.iter().find(|(m, n, _)| *m == here && *n == segs[0]) else {
            continue;
        };
        out.refs.push(PathRef {
            line,
            target: to.iter().chain(&segs[1..]).cloned().collect(),
            written: segs.join("::"),
            reexport: false,
            name: None,
            bare_child: false,
            test,
        });
    }
    out
}

/// The module path at this point of the file: the file's own, then the inline modules around.
fn current(module: &[String], inline: &[(String, usize, bool)]) -> Vec<String> {
    module
        .iter()
        .cloned()
        .chain(inline.iter().map(|(n, _, _)| n.clone()))
        .collect()
}

/// `segs` made absolute from module `here`; `None` for a path that does not start with `crate`,
/// `super` or `self` (an extern crate, a child module, a name in scope) or climbs above the root.
fn absolute(here: &[String], segs: &[String]) -> Option<Vec<String>> {
    let (mut base, rest) = match segs.first()?.as_str() {
        "crate" => (Vec::new(), &segs[1..]),
        "self" => (here.to_vec(), &segs[1..]),
        "super" => {
            let mut m = here.to_vec();
            let ups = segs.iter().take_while(|s| *s == "super").count();
            for _ in 0..ups {
                m.pop()?;
            }
            (m, &segs[ups..])
        }
        _ => return None,
    };
    base.extend(rest.iter().cloned());
    Some(base)
}

/// Whether the `mod` at `i` is under `#[cfg(test)]` (after any `pub`/`pub(…)`).
fn cfg_test(toks: &[Token], mut i: usize) -> bool {
    if i > 0 && toks[i - 1].text == ")" {
        while i > 0 && toks[i - 1].text != "(" {
            i -= 1;
        }
        i = i.saturating_sub(1);
    }
    if i > 0 && toks[i - 1].text == "pub" {
        i -= 1;
    }
    let attr = ["#", "[", "cfg", "(", "test", ")", "]"];
    i >= attr.len()
        && toks[i - attr.len()..i]
            .iter()
            .map(|t| t.text.as_str())
            .eq(attr)
}

/// Whether the `use` at `i` is `pub` or `pub(…)`.
fn is_pub(toks: &[Token], i: usize) -> bool {
    let before = |k: usize| i.checked_sub(k).map(|p| toks[p].text.as_str());
    if before(1) == Some("pub") {
        return true;
    }
    if before(1) == Some(")") {
        let mut p = i - 1;
        while p > 0 && toks[p].text != "(" {
            p -= 1;
        }
        return p > 0 && toks[p - 1].text == "pub";
    }
    false
}

/// Parse one use tree at `*j` under `prefix`, pushing each leaf path with the name it binds.
fn use_tree(
    toks: &[Token],
    j: &mut usize,
    prefix: Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    let at = |k: usize| toks.get(k).map(|t| t.text.as_str()).unwrap_or(";");
    let mut path = prefix;
    if at(*j) == "::" {
        *j += 1;
    }
    loop {
        match at(*j) {
            "{" => {
                *j += 1;
                while !matches!(at(*j), "}" | ";") {
                    use_tree(toks, j, path.clone(), out);
                    if at(*j) == "," {
                        *j += 1;
                    }
                }
                *j += 1;
                return;
            }
            "*" => {
                *j += 1;
                out.push((path, None));
                return;
            }
            s if is_ident(s) => {
                path.push(s.to_string());
                *j += 1;
                if at(*j) == "::" {
                    *j += 1;
                    continue;
                }
                if path.last().is_some_and(|l| l == "self") && path.len() > 1 {
                    path.pop();
                }
                let mut name = path.last().cloned();
                if at(*j) == "as" {
                    name = Some(at(*j + 1).to_string());
                    *j += 2;
                }
                out.push((path, name));
                return;
            }
            _ => return,
        }
    }
}

fn is_ident(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Split code into tokens, keeping line numbers.
fn tokens(code: &[char]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < code.len() {
        let c = code[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < code.len() && (code[i].is_alphanumeric() || code[i] == '_') {
                i += 1;
            }
            let text: String = code[start..i].iter().collect();
            // A number (`1u32`) is no identifier.
            let text = if c.is_ascii_digit() {
                "0".to_string()
            } else {
                text
            };
            out.push(Token { text, line });
        } else if c == ':' && code.get(i + 1) == Some(&':') {
            out.push(Token {
                text: "::".into(),
                line,
            });
            i += 2;
        } else {
            out.push(Token {
                text: c.to_string(),
                line,
            });
            i += 1;
        }
    }
    out
}

/// The source with comments, string and char literals replaced by spaces (newlines kept), so that
/// no path in a doc comment or a message counts.
fn blank(source: &str) -> Vec<char> {
    let src: Vec<char> = source.chars().collect();
    let mut out = src.clone();
    let clear = |out: &mut Vec<char>, from: usize, to: usize| {
        for c in out.iter_mut().take(to.min(src.len())).skip(from) {
            if *c != '\n' {
                *c = ' ';
            }
        }
    };
    let ident = |k: usize| src[k].is_alphanumeric() || src[k] == '_';
    let mut i = 0;
    while i < src.len() {
        let c = src[i];
        let at = |k: usize| src.get(k).copied().unwrap_or('\0');
        if c == '/' && at(i + 1) == '/' {
            let end = (i..src.len())
                .find(|&k| src[k] == '\n')
                .unwrap_or(src.len());
            clear(&mut out, i, end);
            i = end;
        } else if c == '/' && at(i + 1) == '*' {
            let (mut k, mut nest) = (i + 2, 1);
            while k < src.len() && nest > 0 {
                if src[k] == '/' && at(k + 1) == '*' {
                    nest += 1;
                    k += 2;
                } else if src[k] == '*' && at(k + 1) == '/' {
                    nest -= 1;
                    k += 2;
                } else {
                    k += 1;
                }
            }
            clear(&mut out, i, k);
            i = k;
        } else if c == 'r' && (i == 0 || !ident(i - 1)) && matches!(at(i + 1), '"' | '#') {
            // A raw string r"…" / r#"…"# (a raw identifier r#x has no quote after the hashes).
            let hashes = (i + 1..src.len()).take_while(|&k| src[k] == '#').count();
            if at(i + 1 + hashes) != '"' {
                i += 1;
                continue;
            }
            let mut k = i + 2 + hashes;
            while k < src.len() && !(src[k] == '"' && (1..=hashes).all(|h| at(k + h) == '#')) {
                k += 1;
            }
            let end = k + 1 + hashes;
            clear(&mut out, i, end);
            i = end;
        } else if c == '"' {
            let mut k = i + 1;
            while k < src.len() && src[k] != '"' {
                k += if src[k] == '\\' { 2 } else { 1 };
            }
            clear(&mut out, i, k + 1);
            i = k + 1;
        } else if c == '\'' && (at(i + 1) == '\\' || at(i + 2) == '\'') {
            // A char literal; a lifetime ('a) has no closing quote right after its first char.
            let mut k = i + 1;
            while k < src.len() && src[k] != '\'' {
                k += if src[k] == '\\' { 2 } else { 1 };
            }
            clear(&mut out, i, k + 1);
            i = k + 1;
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Vec<String> {
        s.split("::")
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    }

    #[test]
    fn comments_strings_and_lifetimes() {
        let src = "// use crate::a;\n/* crate::b /* crate::c */ */ fn f<'a>(x: &'a str) { \
                   let _ = \"crate::d\"; let _ = r#\"crate::e\"#; let _ = '\\''; crate::f::g(); }";
        let s = scan(&m("x"), src);
        let t: Vec<_> = s.refs.iter().map(|r| r.written.clone()).collect();
        assert_eq!(t, ["crate::f::g"]);
        assert_eq!(s.refs[0].line, 2);
    }

    #[test]
    fn use_trees_inline_modules_and_reexports() {
        let src = "mod kid;\npub use kid::{A as B, self};\nuse super::{x::{Y, Z}, *};\n\
                   #[cfg(test)]\nmod tests { use super::*; }\npub(crate) use crate::q::R;";
        let s = scan(&m("a::b"), src);
        assert_eq!(s.children, ["kid"]);
        assert!(s.test_children.is_empty());
        let tests: Vec<_> = s.refs.iter().map(|r| r.test).collect();
        assert_eq!(tests, [false, false, false, false, false, true, false]);
        let got: Vec<_> = s
            .refs
            .iter()
            .map(|r| (r.target.join("::"), r.reexport, r.name.clone()))
            .collect();
        let want = [
            ("a::b::kid::A", true, Some("B")),
            ("a::b::kid", true, Some("kid")),
            ("a::x::Y", false, Some("Y")),
            ("a::x::Z", false, Some("Z")),
            ("a", false, None),
            ("a::b", false, None),
            ("q::R", true, Some("R")),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|(t, p, n)| (t.to_string(), *p, n.map(String::from)))
            .collect();
        assert_eq!(got, want);
    }
}
