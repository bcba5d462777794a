//! Draw `top`'s screen from its [`State`] and the frame's size alone: the state line of the cluster
//! (or of every cluster), the member table (columns dropped as the terminal narrows), the selected
//! member's details when open, the latest events, and a key line. No I/O: tests render into a
//! ratatui test buffer.

use std::time::Instant;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row as TRow, Table, TableState, Wrap};
use ratatui::Frame;

use super::state::{human_bytes, Row, State};
use crate::model::health::{health, Verdict};
use crate::model::Cluster;

/// The table's columns, in order, with the width each needs and the terminal width from which it
/// is shown.
const COLUMNS: [(&str, u16, u16); 10] = [
    ("Cluster", 14, 0),
    ("Member", 12, 0),
    ("Role", 14, 0),
    ("State", 12, 0),
    ("TL", 4, 0),
    ("Receive lag", 22, 0),
    ("Replay lag", 22, 90),
    ("Restart", 7, 110),
    ("Age", 6, 70),
    ("Tags", 24, 135),
];

/// Draw the whole screen.
pub fn draw(f: &mut Frame, state: &State, now: Instant) {
    let area = f.area();
    let header = header_lines(state);
    let count = state.row_count();
    let table_height = (count.min(usize::from(u16::MAX) - 3) as u16 + 3).max(4);
    let min_events = 5u16;
    let room = area.height.saturating_sub(header.len() as u16 + 1);
    let table_height = table_height
        .min(room.saturating_sub(min_events).max(4))
        .min(room);
    let [head, table_area, lower, keys] = Layout::vertical([
        Constraint::Length(header.len() as u16),
        Constraint::Length(table_height),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(header), head);
    // Only the rows that fit are built, scrolled so that the selection shows.
    let visible = usize::from(table_area.height.saturating_sub(2)).max(1);
    let offset = (state.selected + 1).saturating_sub(visible);
    let rows = state.rows_window(now, offset, visible);
    draw_table(f, state, &rows, state.selected - offset, table_area);
    if state.details {
        draw_details(f, state, lower);
    } else {
        draw_events(f, state, lower);
    }
    let help = if state.details {
        " q quit  ↑/↓ select  Enter/Esc close details"
    } else {
        " q quit  ↑/↓ select  Enter details"
    };
    f.render_widget(
        Paragraph::new(help).style(Style::default().add_modifier(Modifier::DIM)),
        keys,
    );
}

/// The state lines: one per cluster (at most a few with `--all`), then the DCS.
fn header_lines(state: &State) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    if state.all {
        let members: usize = state.clusters.values().map(|c| c.members.len()).sum();
        let leaderless = state
            .clusters
            .values()
            .filter(|c| c.leader_name().is_none())
            .count();
        let paused = state.clusters.values().filter(|c| c.is_paused()).count();
        let unhealthy = state
            .clusters
            .values()
            .filter(|c| !health(c).healthy)
            .count();
        out.push(Line::from(format!(
            "{} clusters, {members} members, {leaderless} without a leader, {unhealthy} not healthy, {paused} paused",
            state.clusters.len()
        )));
    } else {
        for (scope, c) in &state.clusters {
            out.push(Line::from(cluster_line(scope, c)));
        }
        if state.clusters.is_empty() {
            out.push(Line::from("no cluster keys in the DCS"));
        }
    }
    let conn = if state.connected {
        "connected"
    } else {
        "DISCONNECTED, retrying"
    };
    let rev = state
        .revision
        .map(|r| format!(", revision {r}"))
        .unwrap_or_default();
    out.push(
        Line::from(format!("{} ({conn}{rev})", state.dcs))
            .style(Style::default().add_modifier(Modifier::DIM)),
    );
    out
}

/// `demo: leader node1 (TL 3) | healthy | paused | switchover scheduled at … | sync: node3`; the
/// health verdict is [`crate::model::health`]'s, with its problems (`UNHEALTHY: node2 not
/// streaming`) or what it cannot tell (`health UNKNOWN: …`).
pub fn cluster_line(scope: &str, c: &Cluster) -> String {
    let mut parts = vec![match c.leader_name() {
        Some(l) => {
            let tl = crate::commands::events::diff::timeline(c)
                .map(|t| format!(" (TL {t})"))
                .unwrap_or_default();
            format!("{scope}: leader {l}{tl}")
        }
        None => format!("{scope}: NO LEADER"),
    }];
    let h = health(c);
    parts.push(match h.verdict {
        Verdict::Healthy => "healthy".into(),
        Verdict::Unhealthy => format!("UNHEALTHY: {}", h.problems.join("; ")),
        Verdict::Unknown => format!("health UNKNOWN: {}", h.unknown.join("; ")),
    });
    if c.is_paused() {
        parts.push("PAUSED".into());
    }
    if c.is_standby_cluster() {
        parts.push("standby cluster".into());
    }
    if let Some(f) = &c.failover {
        let who = format!(
            "{} -> {}",
            f.leader.as_deref().unwrap_or("?"),
            f.candidate.as_deref().unwrap_or("any")
        );
        parts.push(match &f.scheduled_at {
            Some(at) => format!("switchover {who} scheduled at {at}"),
            None => format!("switchover {who} requested"),
        });
    }
    if c.is_synchronous_mode() {
        let mode = if c.is_quorum_commit_mode() {
            "quorum"
        } else {
            "sync"
        };
        let standbys = c
            .sync
            .as_ref()
            .map(|s| s.sync_standby.join(","))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "none".into());
        parts.push(format!("{mode}: {standbys}"));
    }
    let scheduled_restarts = c
        .members
        .iter()
        .filter(|m| m.data.contains_key("scheduled_restart"))
        .count();
    if scheduled_restarts > 0 {
        parts.push(format!("{scheduled_restarts} restart(s) scheduled"));
    }
    parts.join(" | ")
}

fn shown(state: &State, width: u16) -> Vec<usize> {
    (0..COLUMNS.len())
        .filter(|&i| (i != 0 || state.all) && width >= COLUMNS[i].2)
        .collect()
}

fn cell(r: &Row, i: usize) -> String {
    let lag = |l: Option<i64>| l.map(human_bytes).unwrap_or_default();
    match i {
        0 => r.cluster.clone(),
        1 => r.member.clone(),
        2 => r.role.clone(),
        3 => r.state.clone(),
        4 => r.timeline.map(|t| t.to_string()).unwrap_or_default(),
        5 => lag(r.receive_lag),
        6 => lag(r.replay_lag),
        7 => if r.pending_restart { "*" } else { "" }.to_string(),
        8 => r
            .age_seconds
            .map(|a| format!("{a:.0}s"))
            .unwrap_or_default(),
        _ => r.tags.clone(),
    }
}

fn draw_table(f: &mut Frame, state: &State, rows: &[Row], selected: usize, area: Rect) {
    let cols = shown(state, area.width);
    let header = TRow::new(cols.iter().map(|&i| Cell::from(COLUMNS[i].0)))
        .style(Style::default().add_modifier(Modifier::BOLD));
    let body = rows
        .iter()
        .map(|r| TRow::new(cols.iter().map(|&i| Cell::from(cell(r, i)))));
    let widths: Vec<Constraint> = cols
        .iter()
        .map(|&i| {
            if i == COLUMNS.len() - 1 {
                Constraint::Min(COLUMNS[i].1)
            } else {
                Constraint::Length(COLUMNS[i].1)
            }
        })
        .collect();
    let table = Table::new(body, widths)
        .header(header)
        .block(Block::default().borders(Borders::TOP).title(" Members "))
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
        .highlight_symbol("> ");
    let mut ts = TableState::default().with_selected((!rows.is_empty()).then_some(selected));
    f.render_stateful_widget(table, area, &mut ts);
}

fn draw_events(f: &mut Frame, state: &State, area: Rect) {
    let room = area.height.saturating_sub(1) as usize;
    let lines: Vec<Line> = state
        .events
        .iter()
        .skip(state.events.len().saturating_sub(room))
        .map(|(at, e)| Line::from(format!("{} {}", at.format("%H:%M:%S"), e.describe())))
        .collect();
    let block = Block::default().borders(Borders::TOP).title(" Events ");
    f.render_widget(Paragraph::new(lines).block(block), area);
}

fn draw_details(f: &mut Frame, state: &State, area: Rect) {
    let (title, text) = match state.selected_member() {
        Some((scope, _, m)) => (
            format!(" {scope} / {} ", m.name),
            serde_json::to_string_pretty(&serde_json::Value::Object(m.data.clone()))
                .unwrap_or_default(),
        ),
        None => (" Details ".to_string(), "no member selected".to_string()),
    };
    let block = Block::default().borders(Borders::TOP).title(title);
    f.render_widget(
        Paragraph::new(text).block(block).wrap(Wrap { trim: false }),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::top::state::Key;
    use crate::dcs::Update;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    fn demo(leader: &str) -> Cluster {
        let keys = [
            ("config", r#"{"pause":true}"#),
            ("leader", leader),
            (
                "members/node1",
                r#"{"role":"primary","state":"running","timeline":2,"xlog_location":5000}"#,
            ),
            (
                "members/node2",
                r#"{"role":"replica","state":"streaming","timeline":2,"receive_lsn":3000,"replay_lsn":3000,"tags":{"nosync":true}}"#,
            ),
        ];
        crate::model::fixtures::cluster(&keys)
    }

    fn screen(state: &State, w: u16, h: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| draw(f, state, Instant::now())).unwrap();
        let buf = t.backend().buffer().clone();
        let mut out = String::new();
        for y in 0..h {
            for x in 0..w {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    #[test]
    fn wide_and_narrow_screens() {
        let mut s = State::new(
            [("demo".to_string(), demo("node1"))].into(),
            false,
            "etcd v3 at http://x:1".into(),
            Some(7),
        );
        s.apply(Update::Changed {
            revision: Some(8),
            clusters: [("demo".to_string(), Some(demo("node2")))].into(),
        });
        let wide = screen(&s, 160, 20);
        // The fixture's leader says `streaming` and its keys have no lease: not healthy.
        assert!(
            wide.contains("demo: leader node2 (TL 2) | UNHEALTHY: leader node2 streaming;"),
            "{wide}"
        );
        assert!(wide.contains("| PAUSED"), "{wide}");
        assert!(
            wide.contains("etcd v3 at http://x:1 (connected, revision 8)"),
            "{wide}"
        );
        assert!(
            wide.contains("Replay lag") && wide.contains("Tags"),
            "{wide}"
        );
        assert!(wide.contains("leader-change: node1 -> node2"), "{wide}");
        assert!(wide.contains(r#"{"nosync":true}"#), "{wide}");
        let narrow = screen(&s, 60, 20);
        assert!(
            !narrow.contains("Replay lag") && !narrow.contains("Tags"),
            "{narrow}"
        );
        assert!(narrow.contains("Receive lag"), "{narrow}");
        s.key(Key::Down, 5);
        s.key(Key::Details, 5);
        let details = screen(&s, 80, 24);
        assert!(details.contains("demo / node1"), "{details}");
        assert!(details.contains("\"xlog_location\": 5000"), "{details}");
        // A tiny terminal still draws without panicking.
        screen(&s, 10, 3);
    }

    #[test]
    fn many_clusters_scroll_to_the_selection() {
        let clusters = (0..100)
            .map(|i| (format!("c{i:03}"), demo("node1")))
            .collect();
        let mut s = State::new(clusters, true, "memory".into(), None);
        let first = screen(&s, 120, 30);
        assert!(first.contains("100 clusters, 200 members"), "{first}");
        assert!(first.contains("> c000"), "{first}");
        s.key(Key::Last, 10);
        let last = screen(&s, 120, 30);
        assert!(last.contains("> c099"), "{last}");
        assert!(!last.contains("c000"), "{last}");
    }
}
