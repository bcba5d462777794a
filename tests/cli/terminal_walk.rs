//! A walk through the commands at a real terminal (tmux, `--color auto`, no `NO_COLOR`), as a DBA
//! runs them: every command that colours or draws shows its colours and no stray control
//! characters or `?[` (colour codes turned into text); text from the DCS is tidied before colour
//! is added; the `--wait` progress line fits a 60-column terminal and leaves no stale rows; Ctrl-C
//! ends the live views as it ends patronictl's `list -W` (`Aborted!`, exit 1).

use std::time::Duration;

use crate::common::*;
use crate::tty::Tmux;

const HEALTHY: Duration = Duration::from_secs(90);

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_patctl")
}

/// Run `cmdline` (patctl or patronictl with its arguments) in the terminal after a clear; returns
/// the screen (plain), the screen with its colours, and the exit code.
fn run_at(t: &Tmux, cmdline: &str) -> (String, String, String) {
    t.send("clear", &["Enter"]);
    t.wait_for(|s| s.trim() == "$", "a cleared screen");
    t.send(&format!("{cmdline}; echo rc=$? after"), &["Enter"]);
    let s = t.wait_for(
        |s| !rc_of(s).is_empty() && s.ends_with("\n$"),
        &format!("{cmdline} to end"),
    );
    (s.clone(), t.screen_with_colours(), rc_of(&s))
}

/// The exit code echoed last (`rc=N after`; a wrapped command line shows `rc=$? after`).
fn rc_of(screen: &str) -> String {
    screen
        .lines()
        .rev()
        .filter_map(|l| l.strip_prefix("rc=")?.strip_suffix(" after"))
        .find(|rc| rc.parse::<i32>().is_ok())
        .unwrap_or_default()
        .to_string()
}

/// No control character and no `?[` (an escape code made visible) on the screen.
#[track_caller]
fn assert_clean(what: &str, screen: &str) {
    assert!(
        !screen.contains("?["),
        "{what}: ?[ on the screen:\n{screen}"
    );
    assert!(
        !screen.chars().any(|c| c.is_control() && c != '\n'),
        "{what}: a control character on the screen:\n{screen:?}"
    );
}

#[test]
fn every_command_that_colours_or_draws_is_clean_at_a_terminal() {
    // Alone: `list --all` would show the scratch clusters (with control characters in their names,
    // on purpose) that tests holding the shared lock write next to the sandbox's.
    let Some(_g) = write_lock() else { return };
    if !installed("tmux") {
        return;
    }
    let leader = wait_healthy(HEALTHY);
    let t = Tmux::start_with("walk", &[], 200, 60);
    let patctl = format!("{} -c {}", bin(), config());
    // doctor: coloured verdicts, not `?[32mPASS?[0m`.
    let (s, coloured, rc) = run_at(&t, &format!("{patctl} doctor"));
    assert_clean("doctor", &s);
    assert_eq!(rc, "0", "{s}");
    assert!(s.lines().any(|l| l.starts_with("PASS  ")), "{s}");
    assert!(coloured.contains("\x1b[32mPASS"), "{coloured:?}");
    // The member tables, coloured roles and states.
    for args in ["list", "list -e", "topology", "list --all"] {
        let (s, coloured, rc) = run_at(&t, &format!("{patctl} {args}"));
        assert_clean(args, &s);
        assert_eq!(rc, "0", "{args}: {s}");
        assert!(s.contains(&format!("| {leader} ")), "{args}: {s}");
        assert!(
            coloured.contains("\x1b["),
            "{args}: no colour: {coloured:?}"
        );
    }
    // The rest of what prints tables or text from the cluster.
    let candidate = if leader == "node2" { "node3" } else { "node2" };
    for args in [
        format!("switchover --candidate {candidate} --dry-run"),
        "history".to_string(),
        "show-config".to_string(),
        "version".to_string(),
        "check cluster_has_leader".to_string(),
        "events --wait-timeout 1".to_string(),
    ] {
        let (s, _, _) = run_at(&t, &format!("{patctl} {args}"));
        assert_clean(&args, &s);
    }
    // The pre-flight never shows the leader as a failure under a PASS verdict.
    let (s, _, rc) = run_at(
        &t,
        &format!("{patctl} switchover --candidate {candidate} --dry-run"),
    );
    assert_eq!(rc, "0", "{s}");
    let row = s
        .lines()
        .find(|l| l.starts_with(&format!("| {leader} ")))
        .unwrap_or_default();
    assert!(row.contains("| -      | current leader"), "{s}");
    assert!(!s.contains("is the leader"), "{s}");
}

#[test]
fn text_from_the_dcs_is_tidied_before_colour_is_added() {
    let Some(_g) = read_lock() else { return };
    if !installed("tmux") {
        return;
    }
    let scope = scratch_scope("walkctl");
    let base = format!("/service/{scope}");
    etcd_put(&format!("{base}/leader"), "evil\x1b[2J");
    etcd_put(
        &format!("{base}/members/evil\x1b[2J"),
        r#"{"conn_url":"postgres://10.0.0.1:5432/postgres","api_url":"http://127.0.0.1:1/patroni","state":"running","role":"primary","tags":{"note":"x\u001b[31my"}}"#,
    );
    with_prefix_removed(&base, || {
        let t = Tmux::start_with("walkdcs", &[], 200, 60);
        let (s, coloured, _) = run_at(&t, &format!("{} -c {} list -e {scope}", bin(), config()));
        // The DCS's escape codes are shown as text, patctl's own colours still work.
        assert!(s.contains("evil?[2J"), "{s}");
        assert!(!coloured.contains("\x1b[2J"), "{coloured:?}");
        assert!(coloured.contains("\x1b["), "no colour: {coloured:?}");
        assert!(!s.chars().any(|c| c.is_control() && c != '\n'), "{s:?}");
    });
}

#[test]
fn the_wait_progress_line_fits_a_60_column_terminal() {
    let Some(_g) = write_lock() else { return };
    if !installed("tmux") {
        return;
    }
    let leader = wait_healthy(HEALTHY);
    let candidate = if leader == "node1" { "node2" } else { "node1" };
    let t = Tmux::start_with("walkwait", &[], 60, 40);
    let (s, _, rc) = run_at(
        &t,
        &format!(
            "{} -c {} switchover --candidate {candidate} --force --wait",
            bin(),
            config()
        ),
    );
    finally(
        || {
            assert_eq!(rc, "0", "{s}");
            // The status line was redrawn in place: erased at the end, no wrapped rows left.
            assert!(!s.contains("Waiting for"), "stale progress rows:\n{s}");
            assert_clean("switchover --wait", &s);
        },
        || {
            // Give the leadership back (the suite shares this cluster).
            let _ = patctl(&["switchover", "--candidate", &leader, "--force", "--wait"]);
        },
    );
    assert_eq!(wait_healthy(HEALTHY), leader);
}

#[test]
fn ctrl_c_ends_the_live_views_as_patronictl_ends_list_w() {
    let Some(_g) = read_lock() else { return };
    if !installed("tmux") {
        return;
    }
    wait_healthy(HEALTHY);
    let t = Tmux::start("walkint");
    let mut seen = Vec::new();
    for (tool, args, ready) in [
        (patronictl_bin(), "list -W", "+----"),
        (bin().to_string(), "list -W", "+----"),
        (bin().to_string(), "topology -W", "+----"),
        (bin().to_string(), "events", "Watching cluster"),
    ] {
        t.send("clear", &["Enter"]);
        t.wait_for(|s| s.trim() == "$", "a cleared screen");
        t.send(
            &format!("{tool} -c {} {args}; echo rc=$? after", config()),
            &["Enter"],
        );
        t.wait_for(|s| s.contains(ready), ready);
        t.send("", &["C-c"]);
        let s = t.wait_for(|s| !rc_of(s).is_empty() && s.ends_with("\n$"), "the end");
        // click: `^C` echoed by the terminal, a newline and `Aborted!` on stderr, exit 1.
        let tail: Vec<&str> = s.lines().rev().take(3).collect();
        seen.push((args, tail[1..].join("|"), rc_of(&s)));
    }
    let theirs = seen[0].clone();
    assert_eq!(
        (theirs.1.as_str(), theirs.2.as_str()),
        ("rc=1 after|Aborted!", "1")
    );
    for ours in &seen[1..] {
        assert_eq!((&ours.1, &ours.2), (&theirs.1, &theirs.2), "{}", ours.0);
    }
}

/// `events` piped (its stream of one-line envelopes) ends on SIGINT as on Ctrl-C at a terminal:
/// `Aborted!`, exit 1, and the stream just stops (no failure envelope after the last line).
#[test]
fn sigint_ends_the_events_stream_without_a_failure_envelope() {
    use std::io::{BufRead, BufReader, Read};
    let Some(_g) = read_lock() else { return };
    let scope = scratch_scope("walkev");
    let base = format!("/service/{scope}");
    with_prefix_removed(&base, || {
        let mut child = std::process::Command::new(bin())
            .args(["-c", &config(), "events", &scope])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        // The watch is open once a change written now shows up as a line.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = std::thread::spawn({
            let (base, stop) = (base.clone(), stop.clone());
            move || {
                for i in 0..100 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    etcd_put(
                        &format!("{base}/config"),
                        &format!(r#"{{"ttl":{}}}"#, 30 + i),
                    );
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        });
        stdout.read_line(&mut first).unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        writer.join().unwrap();
        assert!(first.starts_with('{'), "{first}");
        // SAFETY: kill(2) on the child this test spawned.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
        let status = child.wait().unwrap();
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).unwrap();
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(status.code(), Some(1), "{stderr}");
        assert!(stderr.ends_with("\nAborted!\n"), "{stderr:?}");
        assert!(
            rest.lines().all(|l| !l.contains("\"error\"")),
            "a failure envelope: {rest}"
        );
    });
}
