//! `query`'s output: patronictl's `print_output(columns, rows, fmt=…, delimiter=…)` over the values
//! psycopg2 would have built.

use super::pyvalue::{self, PyVal};
use serde_json::Value;

use crate::output::members::Format;
use crate::output::print::print_output;

/// patronictl's `print_output(columns, rows, fmt=fmt, delimiter=delimiter)` with no title; an
/// unknown format prints nothing.
pub(super) fn render(
    fmt: &str,
    delimiter: &str,
    columns: Option<&[String]>,
    rows: &[Vec<PyVal>],
) -> String {
    let cols = columns.unwrap_or(&[]);
    match fmt {
        "json" => {
            let objects: Vec<String> = rows
                .iter()
                .map(|r| pyvalue::json_object(cols.iter().map(String::as_str).zip(r)))
                .collect();
            format!("[{}]\n", objects.join(", "))
        }
        "yaml" | "yml" => pyvalue::yaml_rows(cols, rows) + "\n",
        "tsv" => {
            let mut out = String::new();
            if !cols.is_empty() {
                out.push_str(&cols.join(delimiter));
                out.push('\n');
            }
            for r in rows {
                let cells: Vec<String> = r.iter().map(PyVal::py_str).collect();
                out.push_str(&cells.join(delimiter));
                out.push('\n');
            }
            out
        }
        "pretty" | "topology" => {
            // prettytable names the columns `Field 1`, `Field 2`… when it is given none.
            let width = rows.first().map_or(0, Vec::len);
            let names: Vec<String> = if cols.is_empty() {
                (1..=width).map(|i| format!("Field {i}")).collect()
            } else {
                cols.to_vec()
            };
            let cells = rows
                .iter()
                .map(|r| r.iter().map(|v| Value::String(v.py_str())).collect())
                .collect();
            print_output(&names, cells, &[], Format::Pretty, "")
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_formats() {
        let cols = vec!["a".to_string(), "b".to_string()];
        let rows = vec![vec![PyVal::Int("1".into()), PyVal::Str("x".into())]];
        assert_eq!(render("tsv", "\t", Some(&cols), &rows), "a\tb\n1\tx\n");
        assert_eq!(render("tsv", ",", Some(&cols), &rows), "a,b\n1,x\n");
        assert_eq!(
            render("json", "\t", Some(&cols), &rows),
            "[{\"a\": 1, \"b\": \"x\"}]\n"
        );
        assert_eq!(render("json", "\t", None, &rows), "[{}]\n");
        assert_eq!(render("nope", "\t", Some(&cols), &rows), "");
        assert_eq!(
            render("pretty", "\t", Some(&cols), &rows),
            "+---+---+\n| a | b |\n+---+---+\n| 1 | x |\n+---+---+\n"
        );
    }
}
