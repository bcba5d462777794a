//! Dynamic completion as bash asks for it: the committed `completions/patctl.bash` sourced, the
//! words set, the built `patctl` first on PATH. Shared by `tests/cli/completion.rs` (on the sandbox)
//! and `tests/offline/completion.rs`.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// Complete the last word of `words` with the committed bash registration; returns the candidates.
pub fn complete_bash(words: &[&str]) -> Vec<String> {
    complete_bash_env(words, &[])
}

/// [`complete_bash`] with extra environment.
pub fn complete_bash_env(words: &[&str], envs: &[(&str, &str)]) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/patctl.bash");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_patctl"))
        .parent()
        .unwrap()
        .to_path_buf();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source {}; COMP_WORDS=({}); COMP_CWORD={}; COMP_TYPE=9; _clap_complete_patctl patctl '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.len() - 1,
        words.last().unwrap()
    );
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-c", &program])
        .env("PATH", path)
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}
