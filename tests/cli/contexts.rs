//! Named contexts (`--context`, `PATCTL_CONTEXT`, `context list|use|show`) on the sandbox: a command
//! run through a context prints what patronictl prints with that context's config file.

use std::path::PathBuf;

use serde_json::Value;

use crate::common::*;

/// A contexts file in a scratch directory of its own, removed when dropped.
struct ContextsFile {
    dir: PathBuf,
    path: String,
}

impl ContextsFile {
    fn new(text: &str) -> ContextsFile {
        let dir = std::env::temp_dir().join(format!(
            "patctl-contexts-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("contexts.yaml");
        std::fs::write(&path, text).unwrap();
        ContextsFile {
            path: path.to_string_lossy().into_owned(),
            dir,
        }
    }

    /// `patctl ARGS` (no -c) with this file as PATCTL_CONTEXTS and `envs`.
    fn patctl(&self, args: &[&str], envs: &[(&str, &str)]) -> Out {
        // An inherited PATCTL_CONTEXT is cleared (empty means unset); `envs` come after it.
        let mut all = vec![
            ("PATCTL_CONTEXTS", self.path.as_str()),
            ("PATCTL_CONTEXT", ""),
        ];
        all.extend_from_slice(envs);
        patctl_raw(args, None, &all)
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.path).unwrap()
    }
}

impl Drop for ContextsFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn list_through_a_context_is_patronictls_list() {
    let Some(_g) = read_lock() else { return };
    wait_healthy(std::time::Duration::from_secs(60));
    let cfg = config();
    let file = ContextsFile::new(&format!(
        "# clusters\ncontexts:\n  sandbox:\n    config_file: {cfg}\n  elsewhere:\n    dcs_url: etcd3://127.0.0.1:1\n    scope: demo\n"
    ));
    let theirs = patronictl(&["list"]);
    theirs.code(0);

    // --context NAME, then PATCTL_CONTEXT, then `current` (written by `context use`).
    let ours = file.patctl(&["--context", "sandbox", "list"], &[]);
    assert_eq!(
        (ours.stdout.as_str(), ours.code),
        (theirs.stdout.as_str(), 0),
        "{}",
        ours.stderr
    );
    let ours = file.patctl(&["list"], &[("PATCTL_CONTEXT", "sandbox")]);
    assert_eq!(ours.stdout, theirs.stdout, "{}", ours.stderr);
    let used = file.patctl(&["context", "use", "sandbox"], &[]);
    used.code(0);
    assert_eq!(used.stdout, "Switched to context \"sandbox\".\n");
    assert!(
        file.text().starts_with("current: sandbox\n# clusters\n"),
        "{}",
        file.text()
    );
    let ours = file.patctl(&["list"], &[]);
    assert_eq!(ours.stdout, theirs.stdout, "{}", ours.stderr);

    // The flag wins over `current`; -c wins over a context that only `current` chose.
    let out = file.patctl(
        &["--context", "elsewhere", "--request-timeout", "1", "list"],
        &[],
    );
    out.code(3);
    let ours = file.patctl(&["-c", &cfg, "list"], &[]);
    assert_eq!(ours.stdout, theirs.stdout);

    // `context list`: a table and the machine form.
    let listed = file.patctl(&["context", "list"], &[]);
    listed.code(0);
    assert!(
        listed.stdout.contains("| *       | sandbox   | "),
        "{}",
        listed.stdout
    );
    let json = file.patctl(
        &["-o", "json", "context", "list"],
        &[("PATCTL_CONTEXT", "elsewhere")],
    );
    json.code(0);
    crate::schema::assert_valid("ContextList", &crate::schema::parse_json(&json.stdout));
    let env: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(env["kind"], "ContextList");
    assert_eq!(env["data"]["current"], "elsewhere");
    assert_eq!(env["data"]["chosenBy"], "env");
    assert_eq!(env["data"]["contexts"][1]["configFile"], cfg.as_str());

    // An unknown context: one line, exit 2, nothing run.
    for out in [
        file.patctl(&["--context", "nope", "list"], &[]),
        file.patctl(&["list"], &[("PATCTL_CONTEXT", "nope")]),
        file.patctl(&["context", "use", "nope"], &[]),
    ] {
        out.code(2);
        assert_eq!(
            out.stderr,
            format!(
                "Error: no context 'nope' in {} (contexts: elsewhere, sandbox)\n",
                file.path
            )
        );
    }
    assert!(file.text().starts_with("current: sandbox\n"));
}
