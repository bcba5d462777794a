//! The committed `completions/` and `man/` files are exactly what `patctl::generate` renders from the
//! clap tree. `UPDATE_GENERATED=1 cargo test --test offline generated` rewrites them.

use crate::harness::installed;
use std::path::Path;

/// Compare (or with `UPDATE_GENERATED=1` rewrite) the files of `dir` with `files`, exactly.
pub fn check(dir: &str, files: Vec<(String, Vec<u8>)>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let update = std::env::var_os("UPDATE_GENERATED").is_some();
    if update {
        std::fs::create_dir_all(&root).unwrap();
    }
    let mut stale = Vec::new();
    for (name, want) in &files {
        let path = root.join(name);
        if update {
            std::fs::write(&path, want).unwrap();
        } else if std::fs::read(&path).ok().as_ref() != Some(want) {
            stale.push(name.clone());
        }
    }
    // Files that are no longer generated are stale too.
    if let Ok(entries) = std::fs::read_dir(&root) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !files.iter().any(|(n, _)| *n == name) {
                if update {
                    std::fs::remove_file(e.path()).unwrap();
                } else {
                    stale.push(format!("{name} (no longer generated)"));
                }
            }
        }
    }
    assert!(
        stale.is_empty(),
        "{dir}/ is stale: {stale:?}; run `UPDATE_GENERATED=1 cargo test --test offline generated` and commit"
    );
}

#[test]
fn generated_completions_are_current() {
    check("completions", patctl::generate::completions());
}

#[test]
fn generated_man_pages_are_current() {
    let pages = patctl::generate::man_pages();
    assert!(pages.len() >= 20, "one page per command plus patctl.1");
    check("man", pages);
}

#[test]
fn man_pages_name_only_shipped_pages_and_say_where_config_comes_from() {
    let pages = patctl::generate::man_pages();
    let names: Vec<String> = pages
        .iter()
        .map(|(n, _)| n.trim_end_matches(".1").to_string())
        .collect();
    for (name, text) in &pages {
        let text = String::from_utf8_lossy(text);
        // Every `patctl-x(1)` reference names a page we ship (patctl-help(1) once did not exist).
        for (i, _) in text.match_indices("(1)") {
            let word = text[..i]
                .rsplit(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or("");
            let word = word
                .replace("\\fB", "")
                .replace("\\fR", "")
                .replace("\\-", "-");
            if word.starts_with("patctl") {
                assert!(
                    names.contains(&word),
                    "{name} refers to {word}(1), which is not shipped"
                );
            }
        }
        assert!(text.contains(".SH \"EXIT STATUS\""), "{name}");
    }
    let top = String::from_utf8_lossy(&pages.iter().find(|(n, _)| n == "patctl.1").unwrap().1)
        .to_string();
    for section in ["FILES", "ENVIRONMENT", "EXAMPLES"] {
        assert!(top.contains(&format!(".SH \"{section}\"")), "{section}");
    }
    for needle in [
        "PATRONICTL\\_CONFIG\\_FILE",
        "DCS\\_URL",
        "patronictl.yaml",
        "NO\\_COLOR",
    ] {
        let plain = needle.replace("\\_", "_");
        assert!(top.contains(needle) || top.contains(&plain), "{needle}");
    }
}

#[test]
fn man_pages_render_with_man() {
    // `man -l` renders the page (needs the man-db package; sandbox/cluster.sh install brings it).
    if !installed("man") {
        return;
    }
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("man/patctl-switchover.1");
    let out = std::process::Command::new("man")
        .args(["-l", "-P", "cat"])
        .arg(&page)
        .env("MANWIDTH", "100")
        .output()
        .expect("man is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--candidate"), "{text}");
}

#[test]
fn completion_scripts_register_in_shells() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let bash = format!(
        "source {}; complete -p patctl",
        dir.join("patctl.bash").display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &bash])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("patctl"));
    for (shell, file, script) in [
        (
            "zsh",
            "_patctl",
            "autoload -U compinit && compinit -u; source {f}; print -r -- $_comps[patctl]",
        ),
        (
            "fish",
            "patctl.fish",
            "source {f}; complete -c patctl | head -n 1",
        ),
    ] {
        if !installed(shell) {
            continue;
        }
        let script = script.replace("{f}", &dir.join(file).display().to_string());
        let out = std::process::Command::new(shell)
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("patctl"), "{shell}: {stdout}");
    }
}
