//! The unified diff `edit-config` shows, as patronictl's `show_diff` prints it: Python's
//! `difflib.unified_diff` of the two YAML texts with empty file names (`--- ` / `+++ `) and 3 lines of
//! context. Off a terminal the plain text is printed; on a terminal it is coloured and sent through a
//! pager (`$PAGER`, else `less`, else `more`), and printed directly when there is no pager (patronictl
//! fails then).
//!
//! The line matching is a port of difflib's `SequenceMatcher` (longest matching block first, with its
//! "popular line" heuristic for texts of 200 lines or more), so hunks are the ones patronictl shows
//! even where a Myers diff would pair lines differently; `similar` groups the operations into hunks
//! and formats the `@@ -a,b +c,d @@` headers, which follow difflib's rules for empty and 1-line ranges.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use similar::udiff::UnifiedHunkHeader;
use similar::{group_diff_ops, DiffOp};

use super::{sanitize, Ui};

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// patronictl's `listify`: trailing newlines dropped, then one line per `\n`-separated piece.
fn listify(text: &str) -> Vec<&str> {
    text.trim_end_matches('\n').split('\n').collect()
}

/// The unified diff of two texts, each line ending in `\n`; empty when they are equal. With `color`,
/// headers are bold, hunk headers cyan, removed lines red and added lines green.
pub fn unified(before: &str, after: &str, color: bool) -> String {
    let a = listify(before);
    let b = listify(after);
    let groups = group_diff_ops(opcodes(&a, &b), 3);
    let mut out = String::new();
    if groups.is_empty() {
        return out;
    }
    let paint = |out: &mut String, code: &str, line: &str| {
        if color {
            out.push_str(code);
            out.push_str(line);
            out.push_str(RESET);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    };
    paint(&mut out, BOLD, "--- ");
    paint(&mut out, BOLD, "+++ ");
    for group in groups {
        paint(&mut out, CYAN, &UnifiedHunkHeader::new(&group).to_string());
        for op in group {
            let (old, new) = (op.old_range(), op.new_range());
            if let DiffOp::Equal { .. } = op {
                for l in &a[old] {
                    out.push(' ');
                    out.push_str(l);
                    out.push('\n');
                }
                continue;
            }
            for l in &a[old] {
                paint(&mut out, RED, &format!("-{l}"));
            }
            for l in &b[new] {
                paint(&mut out, GREEN, &format!("+{l}"));
            }
        }
    }
    out
}

/// difflib's `SequenceMatcher(None, a, b).get_opcodes()`, as `similar` operations.
fn opcodes(a: &[&str], b: &[&str]) -> Vec<DiffOp> {
    let mut ops = Vec::new();
    let (mut i, mut j) = (0, 0);
    for (ai, bj, size) in matching_blocks(a, b) {
        match (i < ai, j < bj) {
            (true, true) => ops.push(DiffOp::Replace {
                old_index: i,
                old_len: ai - i,
                new_index: j,
                new_len: bj - j,
            }),
            (true, false) => ops.push(DiffOp::Delete {
                old_index: i,
                old_len: ai - i,
                new_index: j,
            }),
            (false, true) => ops.push(DiffOp::Insert {
                old_index: i,
                new_index: j,
                new_len: bj - j,
            }),
            (false, false) => {}
        }
        if size > 0 {
            ops.push(DiffOp::Equal {
                old_index: ai,
                new_index: bj,
                len: size,
            });
        }
        i = ai + size;
        j = bj + size;
    }
    ops
}

/// difflib's `SequenceMatcher(None, a, b).ratio()` over characters: 2 × matches / total length.
pub(crate) fn char_ratio(a: &str, b: &str) -> f64 {
    let chars = |s: &str| -> Vec<String> { s.chars().map(String::from).collect() };
    let (a, b) = (chars(a), chars(b));
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let b: Vec<&str> = b.iter().map(String::as_str).collect();
    let matches: usize = matching_blocks(&a, &b).iter().map(|m| m.2).sum();
    match a.len() + b.len() {
        0 => 1.0,
        total => 2.0 * matches as f64 / total as f64,
    }
}

/// difflib's `get_matching_blocks`: non-adjacent `(i, j, size)` triples, ending with `(len a, len b, 0)`.
fn matching_blocks(a: &[&str], b: &[&str]) -> Vec<(usize, usize, usize)> {
    let mut b2j: HashMap<&str, Vec<usize>> = HashMap::new();
    for (j, line) in b.iter().enumerate() {
        b2j.entry(line).or_default().push(j);
    }
    // autojunk: in a text of 200+ lines, lines occurring in more than 1% + 1 of it are not indexed.
    if b.len() >= 200 {
        let ntest = b.len() / 100 + 1;
        let popular: HashSet<&str> = b2j
            .iter()
            .filter(|(_, js)| js.len() > ntest)
            .map(|(l, _)| *l)
            .collect();
        b2j.retain(|l, _| !popular.contains(l));
    }
    let mut blocks = Vec::new();
    let mut queue = vec![(0, a.len(), 0, b.len())];
    while let Some((alo, ahi, blo, bhi)) = queue.pop() {
        let (i, j, k) = longest_match(a, b, &b2j, (alo, ahi, blo, bhi));
        if k > 0 {
            blocks.push((i, j, k));
            if alo < i && blo < j {
                queue.push((alo, i, blo, j));
            }
            if i + k < ahi && j + k < bhi {
                queue.push((i + k, ahi, j + k, bhi));
            }
        }
    }
    blocks.sort_unstable();
    let mut out = Vec::new();
    let (mut i1, mut j1, mut k1) = (0, 0, 0);
    for (i2, j2, k2) in blocks {
        if i1 + k1 == i2 && j1 + k1 == j2 {
            k1 += k2;
        } else {
            if k1 > 0 {
                out.push((i1, j1, k1));
            }
            (i1, j1, k1) = (i2, j2, k2);
        }
    }
    if k1 > 0 {
        out.push((i1, j1, k1));
    }
    out.push((a.len(), b.len(), 0));
    out
}

/// difflib's `find_longest_match` without junk (patronictl passes no `isjunk`): the longest block
/// of equal lines, earliest in `a`, then earliest in `b`, extended over unindexed (popular) lines.
fn longest_match(
    a: &[&str],
    b: &[&str],
    b2j: &HashMap<&str, Vec<usize>>,
    (alo, ahi, blo, bhi): (usize, usize, usize, usize),
) -> (usize, usize, usize) {
    let (mut besti, mut bestj, mut bestsize) = (alo, blo, 0);
    let mut j2len: HashMap<usize, usize> = HashMap::new();
    for (i, line) in a.iter().enumerate().take(ahi).skip(alo) {
        let mut next: HashMap<usize, usize> = HashMap::new();
        for &j in b2j.get(line).map(Vec::as_slice).unwrap_or(&[]) {
            if j < blo {
                continue;
            }
            if j >= bhi {
                break;
            }
            let k = j.checked_sub(1).and_then(|p| j2len.get(&p)).unwrap_or(&0) + 1;
            next.insert(j, k);
            if k > bestsize {
                (besti, bestj, bestsize) = (i + 1 - k, j + 1 - k, k);
            }
        }
        j2len = next;
    }
    while besti > alo && bestj > blo && a[besti - 1] == b[bestj - 1] {
        (besti, bestj, bestsize) = (besti - 1, bestj - 1, bestsize + 1);
    }
    while besti + bestsize < ahi
        && bestj + bestsize < bhi
        && a[besti + bestsize] == b[bestj + bestsize]
    {
        bestsize += 1;
    }
    (besti, bestj, bestsize)
}

/// The first of `name`'s words found as an executable: a path as given, else searched on `PATH`.
pub fn find_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if name.is_empty() {
        return None;
    }
    if name.contains('/') {
        let p = PathBuf::from(name);
        return executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| executable(p))
}

/// A command line from an environment variable (`EDITOR`, `PAGER`): the whole value when it names an
/// existing file (patronictl runs `$EDITOR` as one program, spaces and all), else its words split as
/// a POSIX shell would (quotes kept together). `None` when empty or its quotes do not balance.
pub fn command_words(value: &str) -> Option<Vec<String>> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if std::path::Path::new(value).is_file() {
        return Some(vec![value.to_string()]);
    }
    shell_words::split(value).ok().filter(|w| !w.is_empty())
}

/// The pager command patronictl's `show_diff` would pick: `$PAGER` (its words, the program on
/// `PATH`), else `less` (with git's `-FRSX` unless `LESS` is set, as ydiff does), else `more`.
fn pager_command() -> Option<Vec<String>> {
    if let Some(words) = std::env::var("PAGER").ok().and_then(|p| command_words(&p)) {
        if find_program(&words[0]).is_some() {
            return Some(words);
        }
    }
    if find_program("less").is_some() {
        let mut cmd = vec!["less".to_string()];
        if std::env::var_os("LESS").is_none_or(|v| v.is_empty()) {
            cmd.push("-FRSX".into());
        }
        return Some(cmd);
    }
    find_program("more").map(|_| vec!["more".to_string()])
}

/// Show a diff: on a terminal coloured (unless colour is off) through the pager, printed directly
/// when no pager can run; elsewhere as plain text, byte for byte what patronictl prints.
pub fn show(ui: &Ui, before: &str, after: &str) {
    if !ui.is_tty() {
        ui.out(&unified(before, after, ui.color()));
        return;
    }
    let text = unified(&sanitize(before), &sanitize(after), ui.color());
    if let Some(cmd) = pager_command() {
        if page(&cmd, &text) {
            return;
        }
    }
    ui.out_raw(&text);
}

fn page(cmd: &[String], text: &str) -> bool {
    let Ok(mut child) = Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdin(Stdio::piped())
        .spawn()
    else {
        return false;
    };
    if let Some(mut stdin) = child.stdin.take() {
        // The pager may quit before reading everything (`q`): a broken pipe is fine.
        let _ = stdin.write_all(text.as_bytes());
    }
    let _ = child.wait();
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected texts produced by Python 3.11 `difflib.unified_diff(listify(a), listify(b))` exactly as
    // patronictl 4.1.5's `show_diff` prints them off a terminal.
    #[test]
    fn command_words_keep_quotes_together() {
        assert_eq!(
            command_words(r#"code --wait "--title=a b""#).unwrap(),
            vec!["code", "--wait", "--title=a b"]
        );
        assert_eq!(
            command_words("'/opt/my editor/ed' -s").unwrap(),
            vec!["/opt/my editor/ed", "-s"]
        );
        assert!(command_words("  ").is_none());
        assert!(command_words("vi 'unbalanced").is_none());
    }

    #[test]
    fn change_in_the_middle() {
        let a = "loop_wait: 10\nmaximum_lag_on_failover: 1048576\npostgresql:\n  parameters:\n    max_connections: 100\n  use_pg_rewind: true\nretry_timeout: 10\nttl: 30\n";
        let b = "loop_wait: 5\nmaximum_lag_on_failover: 1048576\npostgresql:\n  parameters:\n    max_connections: 200\n  use_pg_rewind: true\nretry_timeout: 10\nttl: 30\n";
        assert_eq!(
            unified(a, b, false),
            "--- \n+++ \n@@ -1,8 +1,8 @@\n-loop_wait: 10\n+loop_wait: 5\n maximum_lag_on_failover: 1048576\n postgresql:\n   parameters:\n-    max_connections: 100\n+    max_connections: 200\n   use_pg_rewind: true\n retry_timeout: 10\n ttl: 30\n"
        );
        assert_eq!(unified(a, a, false), "");
    }

    #[test]
    fn difflib_special_cases() {
        let many = |changed: &[usize]| -> String {
            (0..20)
                .map(|i| format!("k{i:02}: {}\n", if changed.contains(&i) { 99 } else { i }))
                .collect()
        };
        for (a, b, want) in [
            (
                "a: 1\nb: 2\nc: 3\nd: 4\n".to_string(),
                "a: 1\nb: 2\nc: 3\nd: 4\ne: 5\n".to_string(),
                "--- \n+++ \n@@ -2,3 +2,4 @@\n b: 2\n c: 3\n d: 4\n+e: 5\n",
            ),
            (
                many(&[]),
                many(&[1, 15]),
                "--- \n+++ \n@@ -1,5 +1,5 @@\n k00: 0\n-k01: 1\n+k01: 99\n k02: 2\n k03: 3\n k04: 4\n@@ -13,7 +13,7 @@\n k12: 12\n k13: 13\n k14: 14\n-k15: 15\n+k15: 99\n k16: 16\n k17: 17\n k18: 18\n",
            ),
            ("a: 1\n".into(), "b: 2".into(), "--- \n+++ \n@@ -1 +1 @@\n-a: 1\n+b: 2\n"),
            (
                "a: 1\nb: 2\nc: 3\nd: 4\ne: 5\n".into(),
                "b: 2\nc: 3\nd: 4\ne: 5\n".into(),
                "--- \n+++ \n@@ -1,4 +1,3 @@\n-a: 1\n b: 2\n c: 3\n d: 4\n",
            ),
            ("a\n".into(), "a\nb\n\n\n".into(), "--- \n+++ \n@@ -1 +1,2 @@\n a\n+b\n"),
            // SequenceMatcher's pairing, not Myers': the longest block first.
            (
                "- x\n- y\n- x\n- y\n".into(),
                "- y\n- x\n- y\n- x\n".into(),
                "--- \n+++ \n@@ -1,4 +1,4 @@\n+- y\n - x\n - y\n - x\n-- y\n",
            ),
        ] {
            assert_eq!(unified(&a, &b, false), want, "{a:?} -> {b:?}");
        }
    }

    #[test]
    fn colours_only_changes() {
        let d = unified("a: 1\nb: 2\n", "a: 1\nb: 3\n", true);
        assert!(
            d.contains("\x1b[31m-b: 2\x1b[0m\n\x1b[32m+b: 3\x1b[0m\n"),
            "{d:?}"
        );
        assert!(d.contains("\n a: 1\n"));
    }
}
