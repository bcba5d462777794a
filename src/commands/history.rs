//! `history`, mirroring patronictl's `history`: the `history` key as a table (TL and LSN right-aligned,
//! short lines padded), or JSON/YAML/TSV.

use clap::Args;
use serde_json::{json, Value};

use crate::context::Context;
use crate::error::Result;
use crate::output::machine::rfc3339_of;
use crate::output::members::Format;
use crate::output::print::print_output;

/// `history [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Output format
    #[arg(short = 'f', long = "format", value_enum, default_value = "pretty")]
    pub fmt: Format,
}

const COLUMNS: [&str; 5] = ["TL", "LSN", "Reason", "Timestamp", "New Leader"];

/// Render the history lines as patronictl prints them.
pub fn render(lines: &[Vec<Value>], fmt: Format) -> String {
    let rows: Vec<Vec<Value>> = lines
        .iter()
        .map(|l| {
            let mut row = l.clone();
            while row.len() < COLUMNS.len() {
                row.push(Value::String(String::new()));
            }
            row
        })
        .collect();
    let columns: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
    let fmt = if fmt == Format::Yml {
        Format::Yaml
    } else {
        fmt
    };
    print_output(&columns, rows, &["TL", "LSN"], fmt, "")
}

/// Run `history`.
pub async fn cmd_history(ctx: &mut Context<'_>, args: HistoryArgs) -> Result<()> {
    let name = ctx.cluster_name(args.cluster_name)?;
    let group = ctx.default_group(args.group);
    let cluster = ctx.cluster(&name, group).await?;
    ctx.ui.out(&render(&cluster.history, args.fmt));
    ctx.ui.emit(json!({
        "cluster": name,
        "group": group,
        "entries": cluster.history.iter().map(|l| entry(l)).collect::<Vec<_>>(),
    }));
    Ok(())
}

/// One `history` line (`[timeline, lsn, reason, timestamp, new_leader]`, the last two missing in
/// old lines) for machine output: the LSN in bytes, the time in RFC 3339, and the line as stored.
fn entry(line: &[Value]) -> Value {
    let int = |i: usize| line.get(i).and_then(crate::model::parse_int);
    let text = |i: usize| line.get(i).and_then(Value::as_str).map(String::from);
    json!({
        "timeline": int(0),
        "lsn": int(1),
        "reason": text(2),
        "timestamp": text(3).map_or(Value::Null, |t| rfc3339_of(&t)),
        "newLeader": text(4),
        "raw": line,
    })
}
