//! `top` in a real terminal (tmux, as `tty.rs` drives it) on the sandbox: during a real switchover
//! the screen shows the new leader and the event; a resize drops columns; keys select a member and
//! show its key; `q` (exit 0) and Ctrl-C (`Aborted!`, exit 1, as every live view) leave the
//! terminal as it was (no alternate screen, cursor shown, echo and line mode on).

use std::time::Duration;

use crate::common::*;
use crate::tty::Tmux;

const HEALTHY: Duration = Duration::from_secs(90);

/// Start `patctl top ARGS` in the terminal, after a clear, and wait for its first screen.
fn start_top(t: &Tmux, args: &str, ready: &str) {
    t.send("clear", &["Enter"]);
    t.wait_for(|s| s.trim() == "$", "a cleared screen");
    let cmdline = format!(
        "{} -c {} top {args}; echo rc=$? after",
        env!("CARGO_BIN_EXE_patctl"),
        config()
    );
    t.send(&cmdline, &["Enter"]);
    t.wait_for(|s| s.contains(ready), ready);
}

/// After top left: its exit code (`rc`), and the terminal as it was.
#[track_caller]
fn assert_left_clean(t: &Tmux, rc: i32) {
    let s = t.wait_for(|s| s.contains("rc=") && s.ends_with("\n$"), "top to end");
    assert!(s.contains(&format!("rc={rc} after")), "{s}");
    if rc == 1 {
        // Ctrl-C ends top as it ends every live view: patronictl's watch answer.
        assert!(s.contains("\nAborted!\nrc=1 after"), "{s}");
    }
    assert!(
        !s.contains("Members") && !s.contains("Events"),
        "the view stayed on screen:\n{s}"
    );
    assert!(s.starts_with("$ "), "the command line is gone:\n{s}");
    assert!(t.cursor_visible(), "the cursor stayed hidden");
    t.send(
        "clear; stty -a | grep -o -e ' -*icanon ' -e ' -*echo '",
        &["Enter"],
    );
    let s = t.wait_for(|s| s.contains("icanon") && s.ends_with("\n$"), "stty");
    let lines: Vec<&str> = s.lines().map(str::trim).collect();
    assert!(
        lines.contains(&"icanon") && lines.contains(&"echo"),
        "raw mode left on:\n{s}"
    );
}

#[test]
fn top_follows_a_switchover_resizes_and_leaves_the_terminal_clean() {
    let Some(_g) = write_lock() else { return };
    if !installed("tmux") {
        return;
    }
    let leader = wait_healthy(HEALTHY);
    let candidate = if leader == "node1" { "node2" } else { "node1" };
    let t = Tmux::start("top");
    start_top(&t, "", &format!("demo: leader {leader}"));
    let s = t.screen();
    assert!(s.contains("Receive lag") && s.contains("Replay lag"), "{s}");
    assert!(s.contains("node3"), "{s}");
    patctl(&["switchover", "--candidate", candidate, "--force", "--wait"]).code(0);
    let s = t.wait_for(
        |s| {
            s.contains(&format!("demo: leader {candidate}"))
                && (s.contains(&format!("demo leader-change: none -> {candidate}"))
                    || s.contains(&format!("demo leader-change: {leader} -> {candidate}")))
        },
        "the new leader and its event",
    );
    assert!(s.contains("failover-set"), "{s}");
    // Narrower: the replay lag and tags columns go, the receive lag stays.
    let ok = t
        .cmd()
        .args(["resize-window", "-t", "t", "-x", "80", "-y", "30"])
        .status()
        .unwrap();
    assert!(ok.success());
    t.wait_for(
        |s| !s.contains("Replay lag") && s.contains("Receive lag"),
        "the narrow layout",
    );
    // Select the second row and open its details (the member key, pretty-printed).
    t.send("", &["Down", "Enter"]);
    t.wait_for(
        |s| s.contains("demo / ") && s.contains("\"conn_url\""),
        "details",
    );
    t.send("", &["Escape"]);
    t.wait_for(|s| s.contains("Events"), "the events pane again");
    t.send("q", &[]);
    assert_left_clean(&t, 0);
    // Ctrl-C leaves the same way, as every live view does: `Aborted!`, exit 1.
    start_top(&t, "--all", "clusters,");
    t.send("", &["C-c"]);
    assert_left_clean(&t, 1);
    // So do SIGTERM and SIGHUP sent from elsewhere (a process manager, a closed ssh session).
    for sig in [libc::SIGTERM, libc::SIGHUP] {
        start_top(&t, "--all", "clusters,");
        let pid = t.foreground_child();
        // SAFETY: kill(2) on the pid of the patctl this test started in its own terminal.
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
        assert_left_clean(&t, 0);
    }
    assert_eq!(wait_healthy(HEALTHY), candidate);
}

#[test]
fn top_refuses_without_a_terminal_and_in_machine_mode() {
    let Some(_g) = read_lock() else { return };
    let out = patctl(&["top"]);
    out.code(2);
    assert!(
        out.stderr.contains("top needs a terminal"),
        "{}",
        out.stderr
    );
    let out = patctl(&["top", "-o", "json"]);
    out.code(2);
    assert!(out.stderr.contains("no machine output"), "{}", out.stderr);
}
