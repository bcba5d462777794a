//! The import rules of the crate, checked by `cargo test` (issue 26, "the model knows no DCS"):
//!
//! 1. **No import cycle between files.** Every file under `src/` (but `main.rs`, the binary's own
//!    crate) is a node; file A depends on file B when A names a path into B with `crate::…`,
//!    `super::…` or `self::…`, in a `use` tree or inline (an expression, a type, an attribute such as
//!    `value_parser = crate::time::wait_seconds`). A path is resolved to the file of its longest
//!    module prefix; when that file is a facade (`lib.rs`, a `mod.rs`, or any file that declares
//!    `mod x;`) whose `pub use` re-exports the next name, the path follows the re-export to the file
//!    that defines it. Not dependencies: a parent's `mod x;` declaration, a facade's own `pub use`
//!    re-exports, a file's paths into its own child modules however spelled (`x::…`, `self::x::…`,
//!    `crate::…::x::…`: a module owns its children, which use it through `super::`; so the crate
//!    root `lib.rs` depends on nothing), bare paths to extern crates, paths into the file itself,
//!    and test code (`#[cfg(test)]` modules, inline or in files of their own: a test may use a fake
//!    or a neighbour). The test fails naming each cycle, its files in order, with the line behind
//!    each step.
//! 2. **The model and the output know no DCS.** No file under `src/model/` or `src/output/` names a
//!    path into `crate::dcs` (or one that resolves into `src/dcs/`): value types live in the model,
//!    key layout stays in the DCS layer. Test code too. The test fails naming the file, line and
//!    path.
//!
//! [`scan`] reads a file; this file builds the graph and states the rules.

mod scan;

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Edges known to close a cycle that another change removes, as (from, to) files; each with why.
/// An edge listed here that no longer exists fails the tests, so that the list only shrinks.
const ALLOWED: &[(&str, &str)] = &[];

/// One source file: its path from the crate root (`src/dcs/mod.rs`) and its text.
pub struct Source {
    /// The path, `/`-separated, from the package root.
    pub path: String,
    /// The file's text.
    pub text: String,
}

/// One dependency: `from` names `written` on `line`, which resolves into file `to`.
#[derive(Debug, Clone)]
struct Edge {
    to: usize,
    line: usize,
    written: String,
}

/// The files and their dependencies.
struct Graph {
    files: Vec<String>,
    edges: Vec<Vec<Edge>>,
    /// Per file, every path it names, made absolute and resolved.
    refs: Vec<Vec<Resolved>>,
}

/// One path a file names: on `line`, as `written`, the absolute `target`, in `file` when it resolves.
#[derive(Debug, Clone)]
struct Resolved {
    line: usize,
    written: String,
    target: Vec<String>,
    file: Option<usize>,
}

/// The module path of a file: `src/lib.rs` → `[]`, `src/a/mod.rs` and `src/a.rs` → `[a]`.
fn module_of(path: &str) -> Vec<String> {
    let rel = path.strip_prefix("src/").unwrap_or(path);
    let rel = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut segs: Vec<String> = rel.split('/').map(String::from).collect();
    if matches!(segs.last().map(String::as_str), Some("mod" | "lib")) {
        segs.pop();
    }
    segs
}

/// A file whose module has children: `lib.rs`, a `mod.rs`, or a file that declares `mod x;`.
fn is_facade(path: &str, scanned: &scan::Scanned) -> bool {
    path.ends_with("/mod.rs") || path == "src/lib.rs" || !scanned.children.is_empty()
}

impl Graph {
    fn build(sources: &[Source]) -> Graph {
        let files: Vec<String> = sources.iter().map(|s| s.path.clone()).collect();
        let by_module: BTreeMap<Vec<String>, usize> = files
            .iter()
            .enumerate()
            .map(|(i, f)| (module_of(f), i))
            .collect();
        let scanned: Vec<scan::Scanned> = sources
            .iter()
            .map(|s| scan::scan(&module_of(&s.path), &s.text))
            .collect();
        let facade: Vec<bool> = files
            .iter()
            .zip(&scanned)
            .map(|(f, s)| is_facade(f, s))
            .collect();
        // A facade's re-exports: name → the absolute path it stands for.
        let reexports: Vec<BTreeMap<String, Vec<String>>> = scanned
            .iter()
            .zip(&facade)
            .map(|(s, &facade)| {
                s.refs
                    .iter()
                    .filter(|r| r.reexport && facade)
                    .filter_map(|r| Some((r.name.clone()?, r.target.clone())))
                    .collect()
            })
            .collect();
        let resolve = |target: &[String]| -> Option<usize> {
            let mut target = target.to_vec();
            for _ in 0..16 {
                let (len, file) = (0..=target.len())
                    .rev()
                    .find_map(|n| by_module.get(&target[..n]).map(|f| (n, *f)))?;
                let next = target.get(len);
                match next.and_then(|n| reexports[file].get(n)) {
                    Some(to) if *to != target => {
                        target = to.iter().chain(&target[len + 1..]).cloned().collect();
                    }
                    _ => return Some(file),
                }
            }
            None
        };
        // Test-only files: declared under `#[cfg(test)]`, or inside such a file's folder.
        let mut test_file = vec![false; files.len()];
        for (i, f) in files.iter().enumerate() {
            let module = module_of(f);
            test_file[i] = (1..=module.len()).any(|n| {
                let (parent, name) = (&module[..n - 1], &module[n - 1]);
                by_module
                    .get(parent)
                    .is_some_and(|&p| scanned[p].test_children.contains(name))
            });
        }
        let mut edges = vec![Vec::new(); files.len()];
        let mut refs = vec![Vec::new(); files.len()];
        for (from, s) in scanned.iter().enumerate() {
            for r in &s.refs {
                let to = resolve(&r.target);
                refs[from].push(Resolved {
                    line: r.line,
                    written: r.written.clone(),
                    target: r.target.clone(),
                    file: to,
                });
                if r.bare_child || (r.reexport && facade[from]) || r.test || test_file[from] {
                    continue;
                }
                // A module's own children, however spelled, are its tree, not a dependency.
                let below = |to: usize| {
                    let (m, t) = (module_of(&files[from]), module_of(&files[to]));
                    t.len() > m.len() && t.starts_with(&m)
                };
                if let Some(to) = to.filter(|&to| to != from && !below(to)) {
                    edges[from].push(Edge {
                        to,
                        line: r.line,
                        written: r.written.clone(),
                    });
                }
            }
        }
        Graph { files, edges, refs }
    }

    /// Each cycle (one per strongly connected set of files), as its files in order, first again at
    /// the end; the `allowed` edges left out.
    fn cycles(&self, allowed: &[(&str, &str)]) -> Vec<Vec<(usize, Option<Edge>)>> {
        let n = self.files.len();
        let keep = |from: usize, e: &Edge| {
            !allowed
                .iter()
                .any(|(a, b)| self.files[from] == *a && self.files[e.to] == *b)
        };
        let adj: Vec<Vec<Edge>> = (0..n)
            .map(|f| {
                self.edges[f]
                    .iter()
                    .filter(|e| keep(f, e))
                    .cloned()
                    .collect()
            })
            .collect();
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for start in 0..n {
            if seen.contains(&start) {
                continue;
            }
            // The shortest way back to `start`, breadth first.
            let mut prev: BTreeMap<usize, (usize, Edge)> = BTreeMap::new();
            let mut queue = VecDeque::from([start]);
            let mut closing = None;
            while let Some(f) = queue.pop_front() {
                for e in &adj[f] {
                    if e.to == start {
                        closing = Some((f, e.clone()));
                        break;
                    }
                    if let Entry::Vacant(v) = prev.entry(e.to) {
                        v.insert((f, e.clone()));
                        queue.push_back(e.to);
                    }
                }
                if closing.is_some() {
                    break;
                }
            }
            let Some((mut f, last)) = closing else {
                continue;
            };
            let mut path = vec![(start, Some(last))];
            while f != start {
                let (p, e) = prev[&f].clone();
                path.push((f, Some(e)));
                f = p;
            }
            path.push((start, None));
            path.reverse();
            // Steps are (file, edge that leaves it); shift so each file carries its outgoing edge.
            let files: Vec<usize> = path.iter().map(|(f, _)| *f).collect();
            let mut steps: Vec<(usize, Option<Edge>)> = Vec::new();
            for (k, f) in files.iter().enumerate() {
                let edge = files
                    .get(k + 1)
                    .and_then(|to| adj[*f].iter().find(|e| e.to == *to).cloned());
                steps.push((*f, edge));
            }
            seen.extend(files.iter().copied());
            out.push(steps);
        }
        out
    }

    /// Every path from a file under `src/model/` or `src/output/` into the DCS layer, as messages.
    fn dcs_in_model(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (from, refs) in self.refs.iter().enumerate() {
            let file = &self.files[from];
            if !(file.starts_with("src/model/") || file.starts_with("src/output/")) {
                continue;
            }
            for r in refs {
                let into_dcs = r.target.first().is_some_and(|s| s == "dcs")
                    || r.file
                        .is_some_and(|t| self.files[t].starts_with("src/dcs/"));
                if into_dcs {
                    out.push(format!("{file}:{}: {}", r.line, r.written));
                }
            }
        }
        out
    }

    fn describe(&self, cycle: &[(usize, Option<Edge>)]) -> String {
        let names: Vec<&str> = cycle.iter().map(|(f, _)| self.files[*f].as_str()).collect();
        let mut s = names.join(" -> ");
        for (f, e) in cycle {
            if let Some(e) = e {
                s.push_str(&format!(
                    "\n    {}:{}: {} (into {})",
                    self.files[*f], e.line, e.written, self.files[e.to]
                ));
            }
        }
        s
    }
}

/// Every `.rs` file under `src/` but `src/main.rs`, sorted by path.
fn crate_sources() -> Vec<Source> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read src/").flatten() {
            let p = entry.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    walk(&root.join("src"), &mut paths);
    let mut sources: Vec<Source> = paths
        .into_iter()
        .filter_map(|p| {
            let rel = p
                .strip_prefix(root)
                .ok()?
                .to_string_lossy()
                .replace('\\', "/");
            (rel != "src/main.rs").then(|| Source {
                text: std::fs::read_to_string(&p).expect("read a source file"),
                path: rel,
            })
        })
        .collect();
    sources.sort_by(|a, b| a.path.cmp(&b.path));
    sources
}

mod tests;
