//! Secrets on the sandbox: a contexts file or configuration holding a password must be private to its
//! owner (refused otherwise, with the `chmod` that fixes it); `password_file:` and `password_command:`
//! give the REST API password; and no output of the main commands (`-o json`, `context show`,
//! `doctor`, a failed authentication) carries a secret of the sandbox. patronictl has none of these
//! rules, so it is no oracle here.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::common::*;

/// Passwords this test puts in files (none of them is right for the sandbox).
const WRONG_REST: &str = "Wr0ng-Rest-Secret-25";
const CTX_SECRET: &str = "Ctx-Literal-Secret-25";

/// The sandbox's own secrets as they could leak: its replication and rewind passwords (in the
/// patroni.yml every command reads) and the REST credentials in clear or as a basic-auth header.
const SANDBOX_SECRETS: &[&str] = &["rep-pass", "rewind-pass", "admin:admin", "YWRtaW46YWRtaW4"];

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        // One per test: the tests run side by side in one process.
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("secrets-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }

    /// Write `name` with `mode`; its path.
    fn file(&self, name: &str, text: &str, mode: u32) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p.to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn no_secret_in(outs: &[(String, Out)], secrets: &[&str]) {
    for (what, out) in outs {
        for s in secrets {
            assert!(
                !out.stdout.contains(s) && !out.stderr.contains(s),
                "{what}: the secret {s:?} is in the output:\n{}\n{}",
                out.stdout,
                out.stderr
            );
        }
    }
}

fn ctx_run(file: &str, args: &[&str]) -> Out {
    patctl_raw(
        args,
        None,
        &[("PATCTL_CONTEXTS", file), ("PATCTL_CONTEXT", "")],
    )
}

#[test]
fn shared_files_with_passwords_are_refused() {
    let Some(_g) = read_lock() else { return };
    let dir = Scratch::new();
    let text = format!(
        "current: sb\ncontexts:\n  sb:\n    config_file: {}\n    username: admin\n    password: {CTX_SECRET}\n",
        config()
    );
    let shared = dir.file("contexts.yaml", &text, 0o644);
    let out = ctx_run(&shared, &["list"]);
    out.code(2);
    assert_eq!(
        out.stderr,
        format!("Error: {shared} holds a password and is readable by group or others: chmod 600 {shared}\n")
    );
    assert!(out.stdout.is_empty());
    // A patronictl configuration too (a copy of the sandbox's, readable by group).
    let cfg = std::fs::read_to_string(config()).unwrap();
    let group = dir.file("patroni.yml", &cfg, 0o640);
    let out = patctl_raw(&["-c", &group, "list"], None, &[]);
    out.code(2);
    assert_eq!(
        out.stderr,
        format!("Error: {group} holds a password and is readable by group or others: chmod 600 {group}\n")
    );
    // The fix the message names works.
    std::fs::set_permissions(&group, std::fs::Permissions::from_mode(0o600)).unwrap();
    patctl_raw(&["-c", &group, "list"], None, &[]).code(0);
    // A file without a password may be shared.
    let plain = dir.file(
        "plain.yaml",
        &format!("contexts:\n  sb: {{config_file: {}}}\n", config()),
        0o644,
    );
    ctx_run(&plain, &["--context", "sb", "list"]).code(0);
}

#[test]
fn password_command_and_file_give_the_rest_password() {
    let Some(_g) = write_lock() else { return };
    wait_healthy(std::time::Duration::from_secs(60));
    let dir = Scratch::new();
    let pwfile = dir.file("rest-password", "admin\n", 0o600);
    let text = format!(
        "contexts:\n  cmd:\n    config_file: {cfg}\n    username: admin\n    password_command: [printf, 'admin\\nignored']\n  \
         file:\n    config_file: {cfg}\n    username: admin\n    password_file: {pwfile}\n  \
         failing:\n    config_file: {cfg}\n    username: admin\n    password_command: [sh, -c, 'echo {WRONG_REST}; exit 4']\n",
        cfg = config()
    );
    // Only commands and files: nothing secret in the contexts file itself, which may then be shared.
    let file = dir.file("contexts.yaml", &text, 0o644);
    let reload = |ctx: &str| {
        ctx_run(
            &file,
            &["--context", ctx, "reload", "demo", "node1", "--force"],
        )
    };
    let out = reload("cmd");
    out.code(0);
    assert!(
        out.stdout
            .contains("Reload request received for member node1"),
        "{}",
        out.stdout
    );
    reload("file").code(0);
    let out = reload("failing");
    out.code(2);
    assert!(
        out.stderr
            .starts_with("Error: context 'failing': password_command sh failed"),
        "{}",
        out.stderr
    );
    no_secret_in(&[("failing password_command".into(), out)], &[WRONG_REST]);
    // The PostgreSQL password of `query` (ctl.query), from a command, against the sandbox's md5 auth.
    let sandbox_cfg = std::fs::read_to_string(config()).unwrap();
    let query_cfg = |cmd: &str| {
        let name = format!("query-{}.yml", cmd.len());
        dir.file(
            &name,
            &format!("{sandbox_cfg}ctl:\n  query:\n    password_command: {cmd}\n"),
            0o600,
        )
    };
    let sql = [
        "query", "demo", "-U", "postgres", "-d", "postgres", "-c", "SELECT 1",
    ];
    let good = query_cfg("printf postgres");
    let out = patctl_raw(
        &[&["-c", good.as_str()][..], &sql].concat(),
        None,
        &[("PGPASSWORD", "")],
    );
    out.code(0);
    let bad = query_cfg(&format!("printf {WRONG_REST}"));
    let out = patctl_raw(
        &[&["-c", bad.as_str()][..], &sql].concat(),
        None,
        &[("PGPASSWORD", "")],
    );
    assert!(
        out.stdout.contains("password authentication failed"),
        "{}",
        out.stdout
    );
    no_secret_in(
        &[("query with a wrong password".into(), out)],
        &[WRONG_REST],
    );
    // A password file readable by others is refused like a configuration file.
    std::fs::set_permissions(&pwfile, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = reload("file");
    out.code(2);
    assert!(out.stderr.contains("chmod 600"), "{}", out.stderr);
}

#[test]
fn no_output_carries_a_secret() {
    let Some(_g) = read_lock() else { return };
    wait_healthy(std::time::Duration::from_secs(60));
    let dir = Scratch::new();
    let cfg = config();
    let ctx_text = format!(
        "current: sb\ncontexts:\n  sb:\n    config_file: {cfg}\n    username: admin\n    password: {CTX_SECRET}\n"
    );
    let ctx = dir.file("contexts.yaml", &ctx_text, 0o600);
    // The sandbox's configuration with a wrong REST password (the REST API refuses it: 401).
    let sandbox_cfg = std::fs::read_to_string(&cfg).unwrap();
    assert!(sandbox_cfg.contains("    password: admin\n"));
    let wrong = dir.file(
        "wrong.yml",
        &format!("{sandbox_cfg}ctl:\n  authentication:\n    username: admin\n    password: {WRONG_REST}\n"),
        0o600,
    );
    let mut outs = Vec::new();
    let mut run = |what: &str, out: Out| outs.push((what.to_string(), out));
    for args in [
        &["list", "-o", "json"][..],
        &["topology", "-o", "json"],
        &["history", "-o", "json"],
        &["show-config", "-o", "json"],
        &["version", "-o", "json"],
        &["dsn", "demo", "-o", "json"],
        &["doctor"],
        &["doctor", "-o", "json"],
    ] {
        run(&args.join(" "), patctl(args));
    }
    for args in [
        &["context", "show"][..],
        &["context", "show", "-o", "json"],
        &["context", "list", "-o", "json"],
    ] {
        let out = ctx_run(&ctx, args);
        out.code(0);
        run(&args.join(" "), out);
    }
    // Failing authentication, in text and JSON.
    for extra in [&[][..], &["-o", "json"]] {
        let mut args = vec!["-c", wrong.as_str(), "reload", "demo", "node1", "--force"];
        args.extend_from_slice(extra);
        let out = patctl_raw(&args, None, &[]);
        assert_ne!(
            out.code, 0,
            "a wrong REST password must fail: {}",
            out.stdout
        );
        run("reload with a wrong password", out);
    }
    let mut secrets = SANDBOX_SECRETS.to_vec();
    secrets.extend([WRONG_REST, CTX_SECRET]);
    no_secret_in(&outs, &secrets);
    assert!(Path::new(&ctx).exists());
}
