//! The import rules applied to the crate's own sources, and the checker tried on small made-up
//! crates so that it is known to fail when a rule is broken.

use super::*;

fn crate_of(files: &[(&str, &str)]) -> Graph {
    let sources: Vec<Source> = files
        .iter()
        .map(|(p, t)| Source {
            path: p.to_string(),
            text: t.to_string(),
        })
        .collect();
    Graph::build(&sources)
}

fn cycle_texts(g: &Graph) -> Vec<String> {
    g.cycles(&[])
        .iter()
        .map(|c| {
            c.iter()
                .map(|(f, _)| g.files[*f].as_str())
                .collect::<Vec<_>>()
                .join(" -> ")
        })
        .collect()
}

#[test]
fn the_crate_has_no_import_cycle() {
    let g = Graph::build(&crate_sources());
    let cycles: Vec<String> = g.cycles(ALLOWED).iter().map(|c| g.describe(c)).collect();
    assert!(
        cycles.is_empty(),
        "import cycles between files (see src/import_rules/mod.rs for the rule):\n{}",
        cycles.join("\n")
    );
}

#[test]
fn every_allowed_edge_still_exists() {
    let g = Graph::build(&crate_sources());
    let edge = |a: &str, b: &str| {
        let from = g.files.iter().position(|f| f == a)?;
        g.edges[from].iter().find(|e| g.files[e.to] == b)
    };
    let stale: Vec<String> = ALLOWED
        .iter()
        .filter(|(a, b)| edge(a, b).is_none())
        .map(|(a, b)| format!("{a} -> {b}"))
        .collect();
    assert!(
        stale.is_empty(),
        "these allowed edges are gone: drop them from ALLOWED in src/import_rules/mod.rs:\n{}",
        stale.join("\n")
    );
}

#[test]
fn the_model_and_the_output_know_no_dcs() {
    let g = Graph::build(&crate_sources());
    let found = g.dcs_in_model();
    assert!(
        found.is_empty(),
        "src/model and src/output must not name the DCS layer (value types live in src/model):\n{}",
        found.join("\n")
    );
}

#[test]
fn a_cycle_is_found_and_named_in_order() {
    let g = crate_of(&[
        ("src/lib.rs", "mod a; mod b; mod c;"),
        ("src/a.rs", "use crate::b::X;"),
        ("src/b.rs", "pub struct X; fn f() { super::c::g(); }"),
        ("src/c.rs", "pub fn g() { let _: crate::a::T; }"),
    ]);
    assert_eq!(
        cycle_texts(&g),
        ["src/a.rs -> src/b.rs -> src/c.rs -> src/a.rs"]
    );
    let text = g.describe(&g.cycles(&[])[0]);
    assert!(
        text.contains("src/b.rs:1: super::c::g (into src/c.rs)"),
        "{text}"
    );
    // An allowed edge breaks it.
    assert!(g.cycles(&[("src/c.rs", "src/a.rs")]).is_empty());
}

#[test]
fn a_cycle_through_an_attribute_counts_one_through_tests_does_not() {
    let g = crate_of(&[
        ("src/lib.rs", "mod a; mod b;"),
        (
            "src/a.rs",
            "#[arg(value_parser = crate::b::parse)] struct A;",
        ),
        ("src/b.rs", "pub fn parse() { let _: crate::a::A; }"),
    ]);
    assert_eq!(cycle_texts(&g), ["src/a.rs -> src/b.rs -> src/a.rs"]);
    let g = crate_of(&[
        ("src/lib.rs", "mod a; mod b;"),
        ("src/a.rs", "use crate::b::B; #[cfg(test)] mod tests;"),
        (
            "src/a/tests.rs",
            "use crate::b::fake; mod more { use crate::a::A; }",
        ),
        (
            "src/b.rs",
            "pub struct B; #[cfg(test)]\npub(crate) mod tests { use crate::a::A; }",
        ),
    ]);
    assert!(cycle_texts(&g).is_empty());
}

#[test]
fn facades_declarations_and_children_are_no_dependencies() {
    let g = crate_of(&[
        ("src/lib.rs", "pub mod d; pub mod m;"),
        // The facade declares and re-exports its children and uses them by bare paths.
        (
            "src/d/mod.rs",
            "mod e; mod s; pub use e::E; pub use s::{S, T as U}; \
             pub use crate::m::V; fn f() { e::go(); self::e::go(); crate::d::s::T::new(); }",
        ),
        // Children use their parent and each other through it.
        ("src/d/e.rs", "use super::{S, V}; pub struct E;"),
        (
            "src/d/s.rs",
            "pub struct S; pub struct T; mod tests { use super::*; }",
        ),
        ("src/m.rs", "pub struct V;"),
    ]);
    assert!(cycle_texts(&g).is_empty());
    // `super::S` follows the facade's re-export to the file that defines S; `super::V` to m.rs.
    let e = g.files.iter().position(|f| f == "src/d/e.rs").unwrap();
    let to: Vec<&str> = g.edges[e].iter().map(|x| g.files[x.to].as_str()).collect();
    assert_eq!(to, ["src/d/s.rs", "src/m.rs"]);
    // The facade's paths into its own children, however spelled, are no edges.
    let d = g.files.iter().position(|f| f == "src/d/mod.rs").unwrap();
    assert!(g.edges[d].is_empty(), "{:?}", g.edges[d]);
}

#[test]
fn a_cycle_through_a_module_brought_in_by_use_is_found() {
    let g = crate_of(&[
        ("src/lib.rs", "pub mod cli; pub mod commands;"),
        (
            "src/cli.rs",
            "use crate::commands;\nenum C { L(commands::list::Args) }",
        ),
        ("src/commands/mod.rs", "pub mod list;"),
        (
            "src/commands/list.rs",
            "#[arg(value_parser = crate::cli::secs)] pub struct Args;",
        ),
    ]);
    assert_eq!(
        cycle_texts(&g),
        ["src/cli.rs -> src/commands/list.rs -> src/cli.rs"]
    );
    let text = g.describe(&g.cycles(&[])[0]);
    assert!(
        text.contains("src/cli.rs:2: commands::list::Args"),
        "{text}"
    );
}

#[test]
fn a_cycle_through_a_facade_reexport_is_found() {
    let g = crate_of(&[
        ("src/lib.rs", "pub mod d;"),
        ("src/d/mod.rs", "mod a; mod b; pub use a::A; pub use b::B;"),
        ("src/d/a.rs", "pub struct A(super::B);"),
        ("src/d/b.rs", "pub struct B; fn f(_: crate::d::A) {}"),
    ]);
    assert_eq!(cycle_texts(&g), ["src/d/a.rs -> src/d/b.rs -> src/d/a.rs"]);
}

#[test]
fn a_dcs_path_in_the_model_is_named() {
    let g = crate_of(&[
        ("src/lib.rs", "pub mod dcs; pub mod model; pub mod output;"),
        ("src/dcs/mod.rs", "pub use crate::model::Version;"),
        (
            "src/model/mod.rs",
            "pub struct Version;\nuse crate::dcs::Layout;",
        ),
        (
            "src/output/x.rs",
            "fn f() {\n    let _ = super::super::dcs::Version::new(1);\n}",
        ),
    ]);
    assert_eq!(
        g.dcs_in_model(),
        [
            "src/model/mod.rs:2: crate::dcs::Layout",
            "src/output/x.rs:2: super::super::dcs::Version::new",
        ]
    );
}
