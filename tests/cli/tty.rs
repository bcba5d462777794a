//! Prompts on a real terminal, driven with real keystrokes through tmux, next to patronictl on the same
//! screen size: whole lines are read (`yes⏎` is one answer, nothing reaches the shell), the screen
//! shows what patronictl's shows, Ctrl-C and Ctrl-D abort with `Aborted!` and exit 1 and leave the
//! terminal as it was. Also: a closed stdout never cuts a change short.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;

/// A tmux server of our own (its own socket) running one bash with a plain prompt (also used by
/// `top.rs`); killed on drop.
pub(crate) struct Tmux {
    socket: String,
}

impl Tmux {
    pub(crate) fn start(tag: &str) -> Tmux {
        Tmux::start_with(tag, &["NO_COLOR=1"], 200, 60)
    }

    /// A terminal of `columns` × `rows` whose shell has `envs` (`NAME=value`) besides PATH, TERM
    /// and PS1 (no `NO_COLOR=1`: colour as a DBA's terminal has it).
    pub(crate) fn start_with(tag: &str, envs: &[&str], columns: u16, rows: u16) -> Tmux {
        let socket = format!("patctl-test-{tag}-{}", std::process::id());
        let t = Tmux { socket };
        let (x, y) = (columns.to_string(), rows.to_string());
        let out = t
            .cmd()
            .args(["new-session", "-d", "-s", "t", "-x", &x, "-y", &y])
            .args([
                "env",
                "-i",
                "PATH=/usr/local/bin:/usr/bin:/bin",
                "TERM=xterm",
            ])
            .args(envs)
            .args(["PS1=$ ", "bash", "--norc", "--noprofile"])
            .output()
            .expect("tmux is installed (sandbox/cluster.sh install)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        t.wait_for(|s| s.trim() == "$", "the shell prompt");
        t
    }

    pub(crate) fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket, "-f", "/dev/null"]);
        c
    }

    /// Type `keys` literally, then the named keys (`Enter`, `C-c`, `C-d`).
    pub(crate) fn send(&self, keys: &str, named: &[&str]) {
        if !keys.is_empty() {
            let ok = self
                .cmd()
                .args(["send-keys", "-t", "t", "-l", keys])
                .status();
            assert!(ok.unwrap().success());
        }
        for k in named {
            let ok = self.cmd().args(["send-keys", "-t", "t", k]).status();
            assert!(ok.unwrap().success());
        }
    }

    pub(crate) fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "t", "-S", "-200"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
        lines.join("\n").trim_end().to_string()
    }

    /// The screen with its colours, as tmux re-encodes them (`\x1b[32m…\x1b[39m`).
    pub(crate) fn screen_with_colours(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-e", "-p", "-t", "t", "-S", "-200"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    }

    /// The pid of the command the pane's shell runs now (its only child).
    pub(crate) fn foreground_child(&self) -> i32 {
        let out = self
            .cmd()
            .args(["display-message", "-p", "-t", "t", "#{pane_pid}"])
            .output()
            .unwrap();
        let shell = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let children =
            std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap();
        let pids: Vec<i32> = children
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect();
        assert_eq!(pids.len(), 1, "the shell runs {children:?}");
        pids[0]
    }

    pub(crate) fn cursor_visible(&self) -> bool {
        let out = self
            .cmd()
            .args(["display-message", "-p", "-t", "t", "#{cursor_flag}"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    #[track_caller]
    pub(crate) fn wait_for(&self, done: impl Fn(&str) -> bool, what: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if done(&s) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Run a command line, wait for `prompt` on the last line, answer with the keys, then wait for
    /// the shell prompt again and return the screen from the command line on, plus `$?`.
    fn answer(&self, cmdline: &str, prompt: &str, keys: &[(&str, &[&str])]) -> (String, String) {
        self.send("clear", &["Enter"]);
        self.wait_for(|s| s.trim() == "$", "a cleared screen");
        self.send(cmdline, &["Enter"]);
        for (i, (typed, named)) in keys.iter().enumerate() {
            // The (i+1)th prompt, with nothing typed after it yet: keys sent before it would be
            // echoed ahead of the program's own output.
            self.wait_for(
                |s| {
                    s.matches(prompt).count() > i
                        && s.lines()
                            .last()
                            .is_some_and(|l| l.trim_end().ends_with(prompt))
                },
                prompt,
            );
            self.send(typed, named);
        }
        self.wait_for(|s| s.ends_with("\n$"), "the shell prompt after the command");
        self.send(
            "echo rc=$? after; stty -a | grep -o ' -*echo ' | head -1",
            &["Enter"],
        );
        let s = self.wait_for(|s| s.contains("\nrc=") && s.ends_with("\n$"), "rc");
        let rc = s
            .lines()
            .find_map(|l| l.strip_prefix("rc=")?.strip_suffix(" after"))
            .unwrap_or_default()
            .to_string();
        (s, rc)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

/// The screen without the member table (its LSN columns move between the two runs).
fn without_table(screen: &str) -> String {
    let lines: Vec<&str> = screen
        .lines()
        .filter(|l| !l.starts_with('+') && !l.starts_with('|'))
        .collect();
    lines.join("\n")
}

/// The screen without patctl's pre-flight block (on stderr, before the confirmation: from its
/// `Pre-flight (…)` line up to the question), so the rest can be compared with patronictl's.
fn without_preflight(screen: &str) -> String {
    let mut out = Vec::new();
    let mut skipping = false;
    for line in screen.lines() {
        if line.starts_with("Pre-flight (") {
            skipping = true;
        } else if line.starts_with("Are you sure") {
            skipping = false;
        }
        if !skipping {
            out.push(line);
        }
    }
    out.join("\n")
}

fn bins() -> [String; 2] {
    [env!("CARGO_BIN_EXE_patctl").to_string(), patronictl_bin()]
}

#[test]
fn confirmation_reads_a_whole_line_as_patronictl() {
    let Some(_g) = read_lock() else { return };
    wait_healthy(Duration::from_secs(60));
    let t = Tmux::start("confirm");
    type Keys<'a> = &'a [(&'a str, &'a [&'a str])];
    let cases: [(Keys, &str); 4] = [
        (&[("yes", &["Enter"])], "0"),
        (&[("y", &["Enter"])], "0"),
        (&[("", &["Enter"])], "1"),
        // Not an answer: asked again, then "no".
        (&[("maybe", &["Enter"]), ("no", &["Enter"])], "1"),
    ];
    for (keys, rc) in cases {
        let typed = keys[0].0;
        let mut screens = Vec::new();
        for bin in bins() {
            let cmdline = format!("{bin} -c {} reload demo node3", config());
            let (screen, code) = t.answer(&cmdline, "[y/N]:", keys);
            assert_eq!(code, rc, "{bin} answered {typed:?}:\n{screen}");
            assert!(!screen.contains("command not found"), "{screen}");
            assert!(screen.contains(" echo "), "echo left off:\n{screen}");
            let shown = without_table(&screen).replace(&bin, "BIN");
            screens.push(shown.replace("\n$ \n", "\n"));
        }
        assert_eq!(
            screens[0], screens[1],
            "answer {typed:?}: patctl vs patronictl"
        );
    }
}

#[test]
fn ctrl_c_and_ctrl_d_abort_and_leave_the_terminal_as_it_was() {
    let Some(_g) = read_lock() else { return };
    wait_healthy(Duration::from_secs(60));
    let t = Tmux::start("abort");
    for key in ["C-c", "C-d"] {
        let mut screens = Vec::new();
        for bin in bins() {
            let cmdline = format!("{bin} -c {} reload demo node3", config());
            let (screen, code) = t.answer(&cmdline, "[y/N]:", &[("", &[key])]);
            assert_eq!(code, "1", "{bin} {key}:\n{screen}");
            assert!(screen.contains("]: ^CAborted!") || key == "C-d", "{screen}");
            assert!(screen.contains("]: Aborted!") || key == "C-c", "{screen}");
            assert!(t.cursor_visible(), "{bin} left the cursor hidden");
            assert!(screen.contains(" echo "), "echo left off:\n{screen}");
            screens.push(without_table(&screen).replace(&bin, "BIN"));
        }
        assert_eq!(screens[0], screens[1], "{key}: patctl vs patronictl");
    }
}

#[test]
fn switchover_prompts_on_a_terminal_look_like_patronictls() {
    let Some(_g) = read_lock() else { return };
    let leader = wait_healthy(Duration::from_secs(60));
    let candidate = ["node1", "node2", "node3"]
        .into_iter()
        .find(|n| *n != leader)
        .unwrap();
    let before = etcd_get("/service/demo/failover");
    let t = Tmux::start("switchover");
    for _ in 0..3 {
        let mut screens = Vec::new();
        for bin in bins() {
            let cmdline = format!("{bin} -c {} switchover", config());
            let keys: [(&str, &[&str]); 4] = [
                ("", &["Enter"]),
                (candidate, &["Enter"]),
                ("", &["Enter"]),
                ("n", &["Enter"]),
            ];
            // Each step waits for its own prompt: Primary, Candidate, When, the confirmation.
            t.send("clear", &["Enter"]);
            t.wait_for(|s| s.trim() == "$", "a cleared screen");
            t.send(&cmdline, &["Enter"]);
            for (prompt, (typed, named)) in ["]:", "[]:", "[now]:", "[y/N]:"].iter().zip(keys) {
                t.wait_for(
                    |s| s.lines().last().is_some_and(|l| l.ends_with(prompt)),
                    prompt,
                );
                std::thread::sleep(Duration::from_millis(200));
                t.send(typed, named);
            }
            let s = t.wait_for(|s| s.ends_with("\n$"), "the shell prompt");
            assert!(s.contains("Error: Aborting switchover"), "{s}");
            assert!(s.contains(&format!("Primary [{leader}]:\n")), "{s}");
            assert!(s.contains(&format!("[]: {candidate}\n")), "{s}");
            if bin == bins()[0] {
                // patctl shows the pre-flight before asking (issue 14); the rest is patronictl's.
                assert!(s.contains("Pre-flight (PASS):"), "{s}");
            }
            screens.push(without_table(&without_preflight(&s)).replace(&bin, "BIN"));
        }
        // The example time in the "When" prompt is the next hour's minute: retry across a minute change.
        if screens[0] == screens[1] {
            assert_eq!(
                etcd_get("/service/demo/failover"),
                before,
                "declining writes nothing"
            );
            return;
        }
    }
    panic!("switchover prompts differ from patronictl's on a terminal (three tries)");
}

#[test]
fn a_piped_password_is_read_as_patronictl_reads_it() {
    let Some(_g) = read_lock() else { return };
    wait_healthy(Duration::from_secs(60));
    let args = ["query", "demo", "--password", "-c", "SELECT 1"];
    let ours = patctl_stdin(&args, "wrong-password\n");
    let theirs = patronictl_stdin(&args, "wrong-password\n");
    assert!(
        ours.stderr
            .contains("Warning: Password input may be echoed.\nPassword: "),
        "{}",
        ours.stderr
    );
    let strip = |s: &str| {
        s.split_once('\t')
            .map(|(_, r)| r.to_string())
            .unwrap_or_default()
    };
    assert!(
        ours.stdout.contains("password authentication failed"),
        "{}",
        ours.stdout
    );
    assert_eq!(strip(&ours.stdout), strip(&theirs.stdout));
    // Nothing piped: the prompt is aborted as patronictl's.
    let ours = patctl_stdin(&args, "");
    assert_eq!(ours.code, 1);
    assert!(
        ours.stderr.ends_with("Password: Aborted!\n"),
        "{:?}",
        ours.stderr
    );
}

/// The postmaster start time of every node, from its REST API.
fn start_times() -> Vec<String> {
    (1..=3)
        .map(|i| {
            rest_get(api_port(i), "patroni")
                .and_then(|v| v["postmaster_start_time"].as_str().map(str::to_string))
                .unwrap_or_default()
        })
        .collect()
}

/// `patctl -c <sandbox config> ARGS | head -c 1` under `pipefail`: patctl's stdout closes after the
/// first byte; the exit status is patctl's.
fn patctl_into_closed_pipe(args: &str) -> std::process::Output {
    Command::new("bash")
        .args(["-o", "pipefail", "-c"])
        .arg(format!(
            "{} -c {} {args} | head -c 1 >/dev/null",
            env!("CARGO_BIN_EXE_patctl"),
            config()
        ))
        .output()
        .unwrap()
}

#[test]
fn a_closed_stdout_never_cuts_a_restart_or_switchover_short() {
    let Some(_g) = write_lock() else { return };
    wait_healthy(Duration::from_secs(60));
    let before = start_times();
    let out = patctl_into_closed_pipe("restart demo --force");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = start_times();
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        assert!(
            !a.is_empty() && a != b,
            "node{} not restarted: {b} -> {a}",
            i + 1
        );
    }
    let leader = wait_healthy(Duration::from_secs(60));
    let candidate = ["node1", "node2", "node3"]
        .into_iter()
        .find(|n| *n != leader)
        .unwrap();
    let out = patctl_into_closed_pipe(&format!("switchover demo --candidate {candidate} --force"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(wait_healthy(Duration::from_secs(60)), candidate);
}

#[test]
fn a_closed_stdout_never_cuts_a_reload_or_edit_config_short() {
    let Some(_g) = write_lock() else { return };
    wait_healthy(Duration::from_secs(60));
    let run = patctl_into_closed_pipe;
    let out = run("reload demo --force");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // edit-config prints a diff first; the write must happen after the pipe closed.
    let value = format!("{}", 100 + std::process::id() % 100);
    let out = run(&format!(
        "edit-config demo --force -s postgresql.parameters.work_mem={value}kB"
    ));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = etcd_get("/service/demo/config").unwrap_or_default();
    assert!(
        config.contains(&format!("\"work_mem\":\"{value}kB\"")),
        "{config}"
    );
    let out = run("edit-config demo --force -s postgresql.parameters.work_mem=null");
    assert_eq!(out.status.code(), Some(0));
}
