//! Colour, only where it helps and only when asked for (`--color`, `NO_COLOR`, `CLICOLOR_FORCE`, a
//! terminal): roles and states in the member table, PASS/FAIL, diff lines. patronictl colours nothing
//! but its diff; with colour off patctl's output is byte-identical to patronictl's.

/// Bold green.
pub const GOOD: &str = "\x1b[1;32m";
/// Green.
pub const OK: &str = "\x1b[32m";
/// Yellow.
pub const WARN: &str = "\x1b[33m";
/// Bold red.
pub const BAD: &str = "\x1b[1;31m";
/// Cyan.
pub const INFO: &str = "\x1b[36m";
/// Reset.
pub const RESET: &str = "\x1b[0m";

/// Wrap `text` in a colour.
pub fn paint(color: &str, text: &str) -> String {
    format!("{color}{text}{RESET}")
}

fn role_color(role: &str) -> Option<&'static str> {
    match role {
        "Leader" | "Standby Leader" => Some(GOOD),
        "Sync Standby" | "Quorum Standby" => Some(INFO),
        _ => None,
    }
}

fn state_color(state: &str) -> Option<&'static str> {
    match state {
        "running" | "streaming" => Some(OK),
        "stopped"
        | "crashed"
        | "start failed"
        | "stop failed"
        | "restart failed"
        | "initdb failed"
        | "custom bootstrap failed"
        | "unknown" => Some(BAD),
        "" => None,
        _ => Some(WARN),
    }
}

/// Colour the Role and State cells of a rendered member table (pretty or topology). Cell widths are
/// unchanged: only escape codes are added around the cell text.
pub fn members_table(text: &str) -> String {
    let mut role_col = None;
    let mut state_col = None;
    let mut out = String::with_capacity(text.len() + 256);
    for line in text.split_inclusive('\n') {
        if !line.starts_with('|') {
            out.push_str(line);
            continue;
        }
        let cells: Vec<&str> = line.trim_end_matches('\n').split('|').collect();
        if role_col.is_none() {
            role_col = cells.iter().position(|c| c.trim() == "Role");
            state_col = cells.iter().position(|c| c.trim() == "State");
            out.push_str(line);
            continue;
        }
        let painted: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let word = cell.trim();
                let color = if Some(i) == role_col {
                    role_color(word)
                } else if Some(i) == state_col {
                    state_color(word)
                } else {
                    None
                };
                match color {
                    Some(c) if !word.is_empty() => cell.replacen(word, &paint(c, word), 1),
                    _ => cell.to_string(),
                }
            })
            .collect();
        out.push_str(&painted.join("|"));
        if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_roles_and_states_only() {
        let table = "+ Cluster: d (1) +---------+\n| Member | Role   | State   |\n+--------+--------+---------+\n| n1     | Leader | running |\n| n2     | Replica | stopped |\n+--------+--------+---------+\n";
        let c = members_table(table);
        assert!(c.contains(&format!("| {GOOD}Leader{RESET} |")));
        assert!(c.contains(&format!("| {OK}running{RESET} |")));
        assert!(c.contains(&format!("| {BAD}stopped{RESET} |")));
        assert!(c.contains("| Replica |"));
        let stripped = c
            .replace(GOOD, "")
            .replace(OK, "")
            .replace(BAD, "")
            .replace(RESET, "");
        assert_eq!(stripped, table);
    }
}
