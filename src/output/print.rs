//! patronictl's `print_output`: the rows of any command (`list`, `history`, `query`) as JSON or YAML
//! arrays, TSV, or the pretty table with its title, in the [`Format`] of `-f/--format`.

use serde_json::{Map, Value};

use super::table::{self, Align};
use crate::py::repr::{py_str, py_strip};
use crate::py::truth::truthy;
use crate::py::{json, yaml_dump};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The bordered table.
    Pretty,
    /// Tab-separated values with a header line.
    Tsv,
    /// One JSON array per cluster.
    Json,
    /// One YAML document per cluster.
    Yaml,
    /// Same as yaml.
    Yml,
    /// The table ordered as a replication tree (used by `topology`).
    #[value(skip)]
    Topology,
}

impl Format {
    pub(super) fn is_table(self) -> bool {
        matches!(self, Format::Pretty | Format::Topology)
    }
}

/// patronictl's `print_output`: JSON/YAML arrays (empty values dropped when there is a title), TSV,
/// or the pretty table with the title. Returns the text including the final newline.
/// `right` names the right-aligned columns of the pretty table.
pub fn print_output(
    columns: &[String],
    rows: Vec<Vec<Value>>,
    right: &[&str],
    fmt: Format,
    title: &str,
) -> String {
    print_output_painted(columns, rows, right, fmt, title, None)
}

/// [`print_output`] with coloured cells in the pretty table.
pub(crate) fn print_output_painted(
    columns: &[String],
    mut rows: Vec<Vec<Value>>,
    right: &[&str],
    fmt: Format,
    title: &str,
    paint: Option<table::Paint>,
) -> String {
    match fmt {
        Format::Json | Format::Yaml | Format::Yml => {
            let elements: Vec<Value> = rows
                .into_iter()
                .map(|r| {
                    let mut obj = Map::new();
                    for (k, v) in columns.iter().zip(r) {
                        if title.is_empty() || !py_str(&v).is_empty() {
                            obj.insert(k.clone(), v);
                        }
                    }
                    Value::Object(obj)
                })
                .collect();
            let list = Value::Array(elements);
            if fmt == Format::Json {
                json::dumps(&list) + "\n"
            } else {
                yaml_dump::dump(&list) + "\n"
            }
        }
        Format::Pretty | Format::Tsv | Format::Topology => {
            let list_cluster =
                !title.is_empty() && columns.first().map(String::as_str) == Some("Cluster");
            let mut columns = columns.to_vec();
            if list_cluster {
                if let Some(i) = columns.iter().position(|c| c == "Tags") {
                    for r in rows.iter_mut() {
                        if truthy(&r[i]) {
                            let text = if fmt == Format::Pretty {
                                yaml_dump::dump(&r[i])
                            } else {
                                yaml_dump::dump_flow(&r[i])
                            };
                            r[i] = Value::String(py_strip(&text).to_string());
                        }
                    }
                }
                if fmt != Format::Tsv {
                    let skip = if title.contains(" (group: ") { 2 } else { 1 };
                    columns.drain(..skip.min(columns.len()));
                    for r in rows.iter_mut() {
                        r.drain(..skip.min(r.len()));
                    }
                }
            }
            let text_rows: Vec<Vec<String>> = rows
                .iter()
                .map(|r| r.iter().map(py_str).collect())
                .collect();
            if fmt == Format::Tsv {
                let mut out = String::new();
                if !columns.is_empty() {
                    out.push_str(&columns.join("\t"));
                    out.push('\n');
                }
                for r in text_rows {
                    out.push_str(&r.join("\t"));
                    out.push('\n');
                }
                out
            } else {
                let align: Vec<Align> = columns
                    .iter()
                    .map(|c| {
                        if right.contains(&c.as_str()) {
                            Align::Right
                        } else {
                            Align::Left
                        }
                    })
                    .collect();
                table::render_painted(title, &columns, &align, &text_rows, paint) + "\n"
            }
        }
    }
}
