//! The DBA's terminal: colour only when wanted (and never changing the text), control characters from
//! the DCS made harmless on a terminal. (patctl invoked as patronictl: `tests/offline/cli_basics.rs`.)

use std::process::Command;
use std::time::Duration;

use crate::common::*;

/// Run a shell command line under a pseudo-terminal (`script` from util-linux); returns its output.
fn on_tty(cmdline: &str, envs: &[(&str, &str)]) -> String {
    let mut cmd = Command::new("script");
    cmd.args(["-qec", cmdline, "/dev/null"])
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("script (util-linux) is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_patctl")
}

#[test]
fn colour_on_a_terminal_only_adds_escape_codes() {
    let Some(_g) = read_lock() else { return };
    wait_healthy(Duration::from_secs(60));
    let cmdline = format!("{} -c {} list", bin(), config());
    for _ in 0..5 {
        let coloured = on_tty(&cmdline, &[]);
        let plain = patronictl(&["list"]).stdout;
        assert!(
            coloured.contains("\x1b["),
            "no colour on a terminal: {coloured}"
        );
        if strip_ansi(&coloured) == plain {
            return;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    panic!("coloured output differs from patronictl's text once escape codes are removed");
}

#[test]
fn no_color_and_never_and_pipes_have_no_escape_codes() {
    let Some(_g) = read_lock() else { return };
    wait_healthy(Duration::from_secs(60));
    let cmdline = format!("{} -c {} list", bin(), config());
    let out = on_tty(&cmdline, &[("NO_COLOR", "1")]);
    assert!(!out.contains('\x1b'), "{out}");
    let out = on_tty(
        &format!("{} -c {} --color never list", bin(), config()),
        &[],
    );
    assert!(!out.contains('\x1b'), "{out}");
    // Piped: no colour unless forced.
    let out = patctl(&["list"]);
    assert!(!out.stdout.contains('\x1b'));
    let forced = patctl_raw(
        &["-c", &config(), "list"],
        None,
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "")],
    );
    assert!(
        forced.stdout.contains("\x1b["),
        "CLICOLOR_FORCE=1 must colour: {}",
        forced.stdout
    );
    let forced = patctl_raw(&["-c", &config(), "--color", "always", "list"], None, &[]);
    let never = patctl_raw(
        &["-c", &config(), "list"],
        None,
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    );
    assert!(
        !never.stdout.contains('\x1b'),
        "NO_COLOR wins over CLICOLOR_FORCE"
    );
    assert!(forced.stdout.contains("\x1b["));
}

#[test]
fn control_characters_from_the_dcs_are_neutralised_on_a_terminal() {
    let Some(_g) = read_lock() else { return };
    let scope = scratch_scope("ctl");
    let base = format!("/service/{scope}");
    etcd_put(
        &format!("{base}/members/evil\x1b]0;pwned\x07"),
        r#"{"conn_url":"postgres://10.0.0.1:5432/postgres","state":"running\u001b[2J"}"#,
    );
    with_prefix_removed(&base, || {
        let tty = on_tty(
            &format!("{} -c {} list {scope}", bin(), config()),
            &[("NO_COLOR", "1")],
        );
        assert!(!tty.contains('\x1b') && !tty.contains('\x07'), "{tty:?}");
        assert!(tty.contains("evil?]0;pwned?"), "{tty}");
        // Piped, the bytes pass through as patronictl passes them (its column widths for strings with
        // escape sequences follow wcwidth's terminal emulation, which patctl does not reproduce).
        let piped = patctl(&["list", &scope]);
        assert!(
            piped.stdout.contains("evil\x1b]0;pwned\x07"),
            "{:?}",
            piped.stdout
        );
    });
}
