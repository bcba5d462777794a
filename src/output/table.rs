//! The pretty table, exactly as patronictl's `PatronictlPrettyTable` (prettytable) draws it: `+`, `-`
//! and `|` borders, one space of padding, a rule between every row only when a cell spans several
//! lines, and the title written over the top border from column 1.
//!
//! Drawing is done by comfy-table with a prettytable-shaped preset; the title injection and the
//! empty-table case are done here.

use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};

use crate::py::repr::expandtabs;

/// Rules between every row (prettytable's `ALL`), used when any cell has several lines.
const PRESET_ALL: &str = "||--+-++|-+++++++++";
/// Rules only around the header and the table (prettytable's `FRAME`).
const PRESET_FRAME: &str = "||--+-++|    ++++++";

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Left-aligned (the default).
    Left,
    /// Right-aligned.
    Right,
}

/// The colour of a cell, from its column's name and its text (`None`: plain).
pub type Paint<'a> = &'a dyn Fn(&str, &str) -> Option<&'static str>;

/// Render a table: `title` is injected into the top border (empty for none). Returns the lines
/// joined by `\n`, without a trailing newline.
pub fn render(title: &str, columns: &[String], align: &[Align], rows: &[Vec<String>]) -> String {
    render_painted(title, columns, align, rows, None)
}

/// [`render`], with the cells `paint` names wrapped in colour codes once the layout is done (widths
/// stay those of the plain text, so only escape codes are added).
pub fn render_painted(
    title: &str,
    columns: &[String],
    align: &[Align],
    rows: &[Vec<String>],
    paint: Option<Paint>,
) -> String {
    let multiline = rows.iter().any(|r| r.iter().any(|c| c.contains('\n')));
    let mut table = Table::new();
    table
        .load_preset(if multiline { PRESET_ALL } else { PRESET_FRAME })
        .set_content_arrangement(ContentArrangement::Disabled);
    let alignment = |i: usize| match align.get(i) {
        Some(Align::Right) => CellAlignment::Right,
        _ => CellAlignment::Left,
    };
    table.set_header(
        columns
            .iter()
            .enumerate()
            .map(|(i, c)| Cell::new(c).set_alignment(alignment(i))),
    );
    for row in rows {
        // prettytable expands tabs in every cell (`str.expandtabs()`) before measuring it.
        table.add_row(
            row.iter()
                .enumerate()
                .map(|(i, c)| Cell::new(expandtabs(c)).set_alignment(alignment(i))),
        );
    }
    let mut lines: Vec<String> = table.lines().collect();
    if rows.is_empty() && lines.len() == 4 - 1 {
        // prettytable still draws the rule under the header when there are no rows.
        let rule = lines[lines.len() - 1].clone();
        lines.insert(lines.len() - 1, rule);
    }
    if let Some(paint) = paint {
        paint_cells(&mut lines, columns, rows, multiline, paint);
    }
    if !title.is_empty() {
        if let Some(first) = lines.first_mut() {
            *first = inject_title(first, title);
        }
    }
    lines.join("\n")
}

/// Colour the cells `paint` asks for. The column spans are the `+` of the top border; rows follow
/// the header, one line each, or (multi-line cells) separated by rules.
fn paint_cells(
    lines: &mut [String],
    columns: &[String],
    rows: &[Vec<String>],
    multiline: bool,
    paint: Paint,
) {
    let Some(border) = lines.first() else { return };
    let edges: Vec<usize> = border
        .chars()
        .enumerate()
        .filter(|(_, c)| *c == '+')
        .map(|(i, _)| i)
        .collect();
    let mut next_row = 0;
    for line in lines.iter_mut().skip(3) {
        if line.starts_with('+') {
            // Rules separate rows only when cells span several lines.
            next_row += usize::from(multiline);
            continue;
        }
        let row = next_row;
        next_row += usize::from(!multiline);
        let Some(cells) = rows.get(row) else { break };
        let chars: Vec<char> = line.chars().collect();
        let mut out = String::with_capacity(line.len() + 32);
        let mut at = 0;
        for (col, span) in edges.windows(2).enumerate() {
            let (Some(name), Some(text)) = (columns.get(col), cells.get(col)) else {
                continue;
            };
            let Some(color) = paint(name, text.trim()) else {
                continue;
            };
            let inner = &chars[span[0] + 1..span[1].min(chars.len())];
            let (Some(first), Some(last)) = (
                inner.iter().position(|c| *c != ' '),
                inner.iter().rposition(|c| *c != ' '),
            ) else {
                continue;
            };
            let (from, to) = (span[0] + 1 + first, span[0] + 1 + last + 1);
            out.extend(&chars[at..from]);
            out.push_str(color);
            out.extend(&chars[from..to]);
            out.push_str(super::color::RESET);
            at = to;
        }
        out.extend(&chars[at..]);
        *line = out;
    }
}

/// `PatronictlPrettyTable.__build_header`: `line[0] + title[:len(line)-2] + line[1+len(title):]`.
pub fn inject_title(line: &str, title: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let title: Vec<char> = title.chars().take(chars.len().saturating_sub(2)).collect();
    let mut out = String::new();
    out.push(chars[0]);
    out.extend(title.iter());
    out.extend(chars.iter().skip(1 + title.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn list_table_matches_patronictl() {
        // reference/real-cluster.md, A.1 `list`
        let cols = s(&[
            "Member",
            "Host",
            "Role",
            "State",
            "TL",
            "Receive LSN",
            "Lag",
            "Replay LSN",
            "Lag",
        ]);
        use Align::*;
        let align = [Left, Left, Left, Left, Right, Right, Right, Right, Right];
        let rows = vec![
            s(&[
                "node1",
                "127.0.0.1:5433",
                "Leader",
                "running",
                "1",
                "",
                "",
                "",
                "",
            ]),
            s(&[
                "node2",
                "127.0.0.1:5434",
                "Replica",
                "streaming",
                "1",
                "0/4000060",
                "0",
                "0/4000060",
                "0",
            ]),
        ];
        let want = "\
+ Cluster: demo (7712032472125471084) ----------+----+-------------+-----+------------+-----+
| Member | Host           | Role    | State     | TL | Receive LSN | Lag | Replay LSN | Lag |
+--------+----------------+---------+-----------+----+-------------+-----+------------+-----+
| node1  | 127.0.0.1:5433 | Leader  | running   |  1 |             |     |            |     |
| node2  | 127.0.0.1:5434 | Replica | streaming |  1 |   0/4000060 |   0 |  0/4000060 |   0 |
+--------+----------------+---------+-----------+----+-------------+-----+------------+-----+";
        assert_eq!(
            render(
                " Cluster: demo (7712032472125471084) ",
                &cols,
                &align,
                &rows
            ),
            want
        );
    }

    #[test]
    fn empty_history_table() {
        let cols = s(&["TL", "LSN", "Reason", "Timestamp", "New Leader"]);
        let want = "\
+----+-----+--------+-----------+------------+
| TL | LSN | Reason | Timestamp | New Leader |
+----+-----+--------+-----------+------------+
+----+-----+--------+-----------+------------+";
        assert_eq!(render("", &cols, &[Align::Right, Align::Right], &[]), want);
    }

    #[test]
    fn multiline_cells_rule_every_row() {
        let cols = s(&["Member", "Tags"]);
        let rows = vec![s(&["a", "x: 1\ny: 2"]), s(&["b", ""])];
        let want = "\
+--------+------+
| Member | Tags |
+--------+------+
| a      | x: 1 |
|        | y: 2 |
+--------+------+
| b      |      |
+--------+------+";
        assert_eq!(render("", &cols, &[], &rows), want);
    }

    #[test]
    fn long_title_is_truncated() {
        assert_eq!(inject_title("+----+", " Cluster: x "), "+ Clu+");
    }
}
