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

/// The colour of a member table's cell: roles and states only (the [`super::table::Paint`] of
/// `list` and `topology`).
pub fn member_cell(column: &str, text: &str) -> Option<&'static str> {
    match column {
        "Role" => role_color(text),
        "State" => state_color(text),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::table::{render, render_painted, Align};

    #[test]
    fn colours_roles_and_states_only() {
        let columns: Vec<String> = ["Member", "Role", "State"].map(String::from).to_vec();
        let rows: Vec<Vec<String>> = vec![
            ["n1|x", "Leader", "running"].map(String::from).to_vec(),
            ["n2", "Replica", "stopped"].map(String::from).to_vec(),
        ];
        let align = [Align::Left; 3];
        let plain = render(" Cluster: d (1) ", &columns, &align, &rows);
        let c = render_painted(
            " Cluster: d (1) ",
            &columns,
            &align,
            &rows,
            Some(&member_cell),
        );
        assert!(c.contains(&format!("| {GOOD}Leader{RESET}  |")), "{c}");
        assert!(c.contains(&format!("| {OK}running{RESET} |")), "{c}");
        assert!(c.contains(&format!("| {BAD}stopped{RESET} |")), "{c}");
        assert!(c.contains("| Replica |"));
        let stripped = c
            .replace(GOOD, "")
            .replace(OK, "")
            .replace(BAD, "")
            .replace(RESET, "");
        assert_eq!(stripped, plain);
    }
}
