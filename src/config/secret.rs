//! Secrets in configuration files: a file holding a password must not be readable by group or others
//! (refused, as ssh refuses such a private key), and a password may instead be read from a file
//! (`password_file:`) or from a command's first line of output (`password_command:`, run without a
//! shell), wherever the configuration takes a password (REST basic auth, the etcd user).
//!
//! patronictl has neither rule: it reads `password:` only and never looks at file modes. Errors here
//! name the file or the setting, never the password or what the command printed.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use super::{scalar_string, Mapping};
use crate::error::{Error, Result};

/// Keys whose value is a secret.
fn is_secret_key(k: &str) -> bool {
    k == "password" || k.ends_with("_password") || k == "sslpassword" || k == "auth"
}

/// Whether a parsed configuration holds a password (any `password`, `*_password`, `ctl.auth` value,
/// at any depth, or credentials in a URL).
pub fn holds_secret(m: &Mapping) -> bool {
    m.iter().any(|(k, v)| match v {
        Value::Object(sub) => holds_secret(sub),
        Value::Array(items) => items.iter().any(|i| match i {
            Value::Object(sub) => holds_secret(sub),
            _ => false,
        }),
        Value::Null => false,
        v if is_secret_key(k) => scalar_string(v).is_some_and(|s| !s.is_empty()),
        Value::String(s) if k == "url" || k == "proxy" || k == "dcs_url" => url_has_password(s),
        _ => false,
    })
}

fn url_has_password(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

/// Refuse `path` when group or others may read it (`what` says what it holds).
pub fn require_private(path: &Path, what: &str) -> Result<()> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    if meta.is_file() && meta.permissions().mode() & 0o044 != 0 {
        return Err(Error::usage(format!(
            "{} holds {what} and is readable by group or others: chmod 600 {}",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

/// The password of a settings mapping: `password:`, else the first line of `password_file:`, else
/// the first line of what `password_command:` prints. `what` names the section in messages
/// (`ctl.authentication`, `etcd3`, `context 'prod'`).
pub fn password(m: &Mapping, what: &str) -> Result<Option<String>> {
    if let Some(p) = m.get("password").and_then(scalar_string) {
        return Ok(Some(p));
    }
    if let Some(f) = m.get("password_file").and_then(scalar_string) {
        return read_password_file(Path::new(&f), what).map(Some);
    }
    match m.get("password_command") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => {
            let argv: Option<Vec<String>> = items.iter().map(scalar_string).collect();
            let argv = argv.ok_or_else(|| bad_command(what, "must be a list of strings"))?;
            run_password_command(&argv, what).map(Some)
        }
        Some(v) => {
            let line = scalar_string(v).ok_or_else(|| bad_command(what, "must be a string"))?;
            let argv =
                shell_words::split(&line).map_err(|_| bad_command(what, "unbalanced quotes"))?;
            run_password_command(&argv, what).map(Some)
        }
    }
}

fn bad_command(what: &str, why: &str) -> Error {
    Error::usage(format!("{what}: password_command {why}"))
}

/// The first line of a password file, which must not be readable by group or others.
pub fn read_password_file(path: &Path, what: &str) -> Result<String> {
    require_private(path, "a password")?;
    let text = std::fs::read(path).map_err(|e| {
        let why = e.to_string();
        let why = why.split(" (os error").next().unwrap_or(&why).to_string();
        Error::usage(format!(
            "{what}: cannot read password_file {}: {why}",
            path.display()
        ))
        .with_source(e)
    })?;
    Ok(first_line(&text))
}

/// Run `argv` (no shell; stdin and stderr are the user's, so a command may prompt) and keep the first
/// line of its output.
pub fn run_password_command(argv: &[String], what: &str) -> Result<String> {
    let (prog, args) = argv
        .split_first()
        .ok_or_else(|| bad_command(what, "is empty"))?;
    let out = Command::new(prog)
        .args(args)
        .stdin(Stdio::inherit())
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped())
        .output()
        .map_err(|e| {
            let why = e.to_string();
            let why = why.split(" (os error").next().unwrap_or(&why).to_string();
            Error::usage(format!("{what}: cannot run password_command {prog}: {why}"))
                .with_source(e)
        })?;
    if !out.status.success() {
        return Err(Error::usage(format!(
            "{what}: password_command {prog} failed ({})",
            out.status
        )));
    }
    Ok(first_line(&out.stdout))
}

fn first_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.lines().next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(yaml: &str) -> Mapping {
        super::super::parse_yaml_mapping(yaml, "t").unwrap()
    }

    #[test]
    fn finds_passwords_anywhere() {
        assert!(holds_secret(&map(
            "ctl: {authentication: {username: a, password: b}}"
        )));
        assert!(holds_secret(&map("etcd3: {url: 'https://u:p@h:1'}")));
        assert!(holds_secret(&map("contexts: {p: {password: x}}")));
        assert!(!holds_secret(&map(
            "etcd3: {url: 'https://h:1', username: u}"
        )));
        assert!(!holds_secret(&map(
            "ctl: {authentication: {password_file: /f}}"
        )));
    }

    #[test]
    fn password_sources_and_modes() {
        let dir = std::env::temp_dir().join(format!("patctl-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("pw");
        std::fs::write(&f, "Sekrit-1\nsecond\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let m = map(&format!("password_file: {}", f.display()));
        let e = password(&m, "ctl.authentication").unwrap_err().message;
        assert_eq!(
            e,
            format!(
                "{0} holds a password and is readable by group or others: chmod 600 {0}",
                f.display()
            )
        );
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(password(&m, "x").unwrap().as_deref(), Some("Sekrit-1"));
        let m = map("password_command: printf 'Sekrit-2\\nmore'");
        assert_eq!(password(&m, "x").unwrap().as_deref(), Some("Sekrit-2"));
        let m = map("password_command: [sh, -c, 'echo Sekrit-3; exit 3']");
        let e = password(&m, "etcd3").unwrap_err().message;
        assert!(e.starts_with("etcd3: password_command sh failed"), "{e}");
        assert!(!e.contains("Sekrit"));
        let m = map("password_command: 'echo $HOME'");
        assert_eq!(password(&m, "x").unwrap().as_deref(), Some("$HOME"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
