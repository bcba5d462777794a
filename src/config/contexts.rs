//! Named contexts, patctl's own addition (patronictl has none): a file of named ways to reach a
//! cluster, chosen with `--context NAME`, `PATCTL_CONTEXT` or the file's `current` key, in the
//! manner of kubectl's contexts.
//!
//! ```yaml
//! current: prod                 # written by `patctl context use NAME`
//! contexts:
//!   prod:
//!     config_file: /etc/patroni/patroni.yml   # a patroni.yml, patronictl.yaml or a directory
//!   staging:
//!     dcs_url: etcd3://10.0.0.5:2379          # as -d
//!     namespace: /service/
//!     scope: staging                          # the default cluster name
//!     cacert: /etc/patctl/ca.pem              # ctl TLS: cacert, certfile, keyfile
//!     insecure: false                         # as -k
//!     username: admin                         # REST API basic auth
//!     password: secret
//!     request_timeout: 10                     # seconds, as --request-timeout
//! ```
//!
//! The file is `$PATCTL_CONTEXTS`, else `$XDG_CONFIG_HOME/patctl/contexts.yaml`, else
//! `~/.config/patctl/contexts.yaml`. A context feeds the configuration sources patronictl's discovery
//! already has: its `config_file` is `-c`, its `dcs_url` is `-d`, and the rest is laid over the
//! loaded configuration. `-c`/`-d` given on the command line (or by `PATRONICTL_CONFIG_FILE`/
//! `DCS_URL`) replace the context's file or URL; a context that only comes from `current` is then
//! not used at all, so `patctl -c FILE …` means what it means to patronictl.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::{parse_yaml_mapping, scalar_string, Mapping, Settings, Sources};
use crate::error::{Error, Result};
use crate::py::truth::truthy;

/// The keys a context may have.
const KEYS: &[&str] = &[
    "config_file",
    "dcs_url",
    "namespace",
    "scope",
    "cacert",
    "certfile",
    "keyfile",
    "insecure",
    "username",
    "password",
    "password_file",
    "password_command",
    "request_timeout",
];

/// One named context. Its `Debug` never shows the password.
#[derive(Clone, Default, PartialEq)]
pub struct ContextDef {
    /// The context's name.
    pub name: String,
    /// A Patroni/patronictl configuration file or directory (as `-c`).
    pub config_file: Option<PathBuf>,
    /// A DCS URL (as `-d`).
    pub dcs_url: Option<String>,
    /// The DCS namespace.
    pub namespace: Option<String>,
    /// The default cluster name.
    pub scope: Option<String>,
    /// CA bundle for the REST API (`ctl.cacert`).
    pub cacert: Option<PathBuf>,
    /// Client certificate for the REST API (`ctl.certfile`).
    pub certfile: Option<PathBuf>,
    /// Client key for the REST API (`ctl.keyfile`).
    pub keyfile: Option<PathBuf>,
    /// Skip the REST API's certificate checks (as `-k`).
    pub insecure: Option<bool>,
    /// REST API user (`ctl.authentication.username`).
    pub username: Option<String>,
    /// REST API password, or where to get it.
    pub password: Option<PasswordSource>,
    /// Bound on each DCS and REST call.
    pub request_timeout: Option<Duration>,
}

impl std::fmt::Debug for ContextDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContextDef")
            .field("name", &self.name)
            .field("config_file", &self.config_file)
            .field("dcs_url", &self.dcs_url)
            .field("namespace", &self.namespace)
            .field("scope", &self.scope)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// Where a context's password comes from; read only when the context is used.
#[derive(Clone, PartialEq)]
pub enum PasswordSource {
    /// `password:` in the file (which must then be private to its owner).
    Literal(String),
    /// `password_file:`: its first line.
    File(PathBuf),
    /// `password_command:`: the first line of its output (argv, run without a shell).
    Command(Vec<String>),
}

impl PasswordSource {
    /// The password (`what` names the context in messages).
    pub fn resolve(&self, what: &str) -> Result<String> {
        match self {
            PasswordSource::Literal(p) => Ok(p.clone()),
            PasswordSource::File(f) => super::secret::read_password_file(f, what),
            PasswordSource::Command(argv) => super::secret::run_password_command(argv, what),
        }
    }
}

/// The contexts file as read.
#[derive(Debug, Clone, Default)]
pub struct ContextFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// The `current` key.
    pub current: Option<String>,
    /// The contexts, sorted by name.
    pub contexts: Vec<ContextDef>,
}

/// How the context in use was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChosenBy {
    /// `--context NAME`.
    Flag,
    /// `PATCTL_CONTEXT`.
    Env,
    /// The file's `current` key.
    Current,
}

impl ChosenBy {
    /// As shown by `context list` and in machine output.
    pub fn as_str(self) -> &'static str {
        match self {
            ChosenBy::Flag => "flag",
            ChosenBy::Env => "env",
            ChosenBy::Current => "current",
        }
    }
}

/// The contexts file's path: `PATCTL_CONTEXTS`, else `$XDG_CONFIG_HOME/patctl/contexts.yaml`,
/// else `~/.config/patctl/contexts.yaml`.
pub fn path(env: &BTreeMap<String, String>) -> PathBuf {
    if let Some(p) = env.get("PATCTL_CONTEXTS").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let base = env
        .get("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| env.get("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from(".config"));
    base.join("patctl").join("contexts.yaml")
}

/// Read the contexts file at `path`; `None` when there is none.
pub fn read(path: &Path) -> Result<Option<ContextFile>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let file = parse(&text, path)?;
            let literal = |c: &ContextDef| matches!(c.password, Some(PasswordSource::Literal(_)));
            if file.contexts.iter().any(literal) {
                super::secret::require_private(path, "a password")?;
            }
            Ok(Some(file))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::usage(format!(
            "cannot read the contexts file {}: {e}",
            path.display()
        ))),
    }
}

/// Parse a contexts file (`path` names it in errors).
pub fn parse(text: &str, path: &Path) -> Result<ContextFile> {
    let source = path.display().to_string();
    let doc = parse_yaml_mapping(text, &source)?;
    let bad = |what: String| Error::usage(format!("{source}: {what}"));
    for key in doc.keys() {
        if key != "current" && key != "contexts" {
            return Err(bad(format!(
                "unknown key '{key}' (the file has 'current' and 'contexts')"
            )));
        }
    }
    let current = match doc.get("current") {
        None | Some(Value::Null) => None,
        Some(v) => Some(scalar_string(v).ok_or_else(|| bad("'current' must be a name".into()))?),
    };
    let mut contexts = Vec::new();
    match doc.get("contexts") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (name, body) in m {
                contexts.push(parse_context(name, body).map_err(&bad)?);
            }
        }
        Some(_) => return Err(bad("'contexts' must be a mapping of names".into())),
    }
    contexts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(ContextFile {
        path: path.to_path_buf(),
        current,
        contexts,
    })
}

fn parse_context(name: &str, body: &Value) -> std::result::Result<ContextDef, String> {
    let empty = serde_json::Map::new();
    let m = match body {
        Value::Object(m) => m,
        Value::Null => &empty,
        _ => return Err(format!("context '{name}' must be a mapping")),
    };
    for key in m.keys() {
        if !KEYS.contains(&key.as_str()) {
            return Err(format!(
                "context '{name}': unknown key '{key}' (known: {})",
                KEYS.join(", ")
            ));
        }
    }
    let text = |k: &str| -> std::result::Result<Option<String>, String> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => scalar_string(v)
                .map(Some)
                .ok_or_else(|| format!("context '{name}': '{k}' must be a string")),
        }
    };
    let timeout = match m.get("request_timeout") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let s = scalar_string(v).unwrap_or_default();
            Some(
                crate::time::request_seconds(&s)
                    .map_err(|e| format!("context '{name}': request_timeout: {e}"))?,
            )
        }
    };
    Ok(ContextDef {
        name: name.to_string(),
        config_file: text("config_file")?.map(PathBuf::from),
        dcs_url: text("dcs_url")?,
        namespace: text("namespace")?,
        scope: text("scope")?,
        cacert: text("cacert")?.map(PathBuf::from),
        certfile: text("certfile")?.map(PathBuf::from),
        keyfile: text("keyfile")?.map(PathBuf::from),
        insecure: m.get("insecure").filter(|v| !v.is_null()).map(truthy),
        username: text("username")?,
        password: password_source(name, m)?,
        request_timeout: timeout,
    })
}

/// `password`, `password_file` or `password_command` (a string split as a shell would, or a list),
/// at most one of them.
fn password_source(name: &str, m: &Mapping) -> std::result::Result<Option<PasswordSource>, String> {
    let given: Vec<&str> = ["password", "password_file", "password_command"]
        .into_iter()
        .filter(|k| m.get(*k).is_some_and(|v| !v.is_null()))
        .collect();
    let bad = |what: &str| format!("context '{name}': {what}");
    let (key, v) = match given.as_slice() {
        [] => return Ok(None),
        [k] => (*k, &m[*k]),
        _ => return Err(bad(&format!("give only one of {}", given.join(", ")))),
    };
    let text = || scalar_string(v).ok_or_else(|| bad(&format!("'{key}' must be a string")));
    Ok(Some(match key {
        "password" => PasswordSource::Literal(text()?),
        "password_file" => PasswordSource::File(PathBuf::from(text()?)),
        _ => PasswordSource::Command(match v {
            Value::Array(items) => items
                .iter()
                .map(scalar_string)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad("'password_command' must be a list of strings"))?,
            v => shell_words::split(&scalar_string(v).unwrap_or_default())
                .map_err(|_| bad("'password_command' has unbalanced quotes"))?,
        }),
    }))
}

impl ContextFile {
    /// The context named `name`.
    pub fn get(&self, name: &str) -> Option<&ContextDef> {
        self.contexts.iter().find(|c| c.name == name)
    }

    /// The names, for messages.
    pub fn names(&self) -> String {
        let names: Vec<&str> = self.contexts.iter().map(|c| c.name.as_str()).collect();
        if names.is_empty() {
            "none defined".to_string()
        } else {
            names.join(", ")
        }
    }

    /// `name` as a context of this file, or the one-line error (exit 2).
    pub fn require(&self, name: &str) -> Result<&ContextDef> {
        self.get(name).ok_or_else(|| {
            Error::usage(format!(
                "no context '{name}' in {} (contexts: {})",
                self.path.display(),
                self.names()
            ))
        })
    }
}

/// Which context is in use: `--context`, else `PATCTL_CONTEXT`, else the file's `current`; with
/// how it was chosen. `None` when none is (no file, or no `current`).
pub fn choose<'f>(
    file: Option<&'f ContextFile>,
    path: &Path,
    flag: Option<&str>,
    env: Option<&str>,
) -> Result<Option<(&'f ContextDef, ChosenBy)>> {
    let wanted = match (flag, env.filter(|e| !e.is_empty())) {
        (Some(f), _) => Some((f.to_string(), ChosenBy::Flag)),
        (None, Some(e)) => Some((e.to_string(), ChosenBy::Env)),
        (None, None) => file
            .and_then(|f| f.current.clone())
            .map(|c| (c, ChosenBy::Current)),
    };
    let Some((name, by)) = wanted else {
        return Ok(None);
    };
    let Some(file) = file else {
        let how = if by == ChosenBy::Flag {
            "--context"
        } else {
            "PATCTL_CONTEXT"
        };
        return Err(Error::usage(format!(
            "no context '{name}': there is no contexts file at {} ({how} needs one; PATCTL_CONTEXTS names another)",
            path.display()
        )));
    };
    Ok(Some((file.require(&name)?, by)))
}

impl ContextDef {
    /// The configuration sources with this context: its file and URL unless `-c`/`-d` were given,
    /// its timeout unless one was given, `-k` or its `insecure`.
    pub fn sources(&self, given: &Sources, timeout_given: bool) -> Sources {
        let explicit = given.config_file.is_some() || given.dcs_url.is_some();
        Sources {
            config_file: if explicit {
                given.config_file.clone()
            } else {
                self.config_file.clone()
            },
            dcs_url: if explicit {
                given.dcs_url.clone()
            } else {
                self.dcs_url.clone()
            },
            insecure: given.insecure || self.insecure.unwrap_or(false),
            timeout: match self.request_timeout {
                Some(t) if !timeout_given => t,
                _ => given.timeout,
            },
        }
    }

    /// Lay the context's namespace, scope, REST TLS and auth over the loaded configuration (reading
    /// the password from its file or command now).
    pub fn apply(&self, settings: &mut Settings) -> Result<()> {
        if let Some(ns) = &self.namespace {
            settings.namespace = ns.clone();
        }
        if let Some(scope) = &self.scope {
            settings.scope = Some(scope.clone());
        }
        let rest = &mut settings.rest;
        if let Some(p) = &self.cacert {
            rest.cacert = Some(p.clone());
        }
        if let Some(p) = &self.certfile {
            rest.certfile = Some(p.clone());
        }
        if let Some(p) = &self.keyfile {
            rest.keyfile = Some(p.clone());
        }
        if let (Some(u), Some(p)) = (&self.username, &self.password) {
            let p = p.resolve(&format!("context '{}'", self.name))?;
            rest.auth = Some((u.clone(), p));
        }
        Ok(())
    }

    /// Where the context points: its config file, else its DCS URL.
    pub fn target(&self) -> String {
        match (&self.config_file, &self.dcs_url) {
            (Some(f), Some(u)) => format!("{} ({u})", f.display()),
            (Some(f), None) => f.display().to_string(),
            (None, Some(u)) => u.clone(),
            (None, None) => String::new(),
        }
    }
}

/// The configuration sources and the context to lay over the loaded settings, for the command
/// line's `given` sources: the rule of the module docs.
pub fn resolve(
    given: &Sources,
    timeout_given: bool,
    flag: Option<&str>,
    env: &BTreeMap<String, String>,
) -> Result<(Sources, Option<ContextDef>)> {
    let chosen_env = env.get("PATCTL_CONTEXT").map(String::as_str);
    let explicit = given.config_file.is_some() || given.dcs_url.is_some();
    let path = path(env);
    // Reading the file costs nothing when nobody asks for a context and -c/-d are given.
    if flag.is_none() && chosen_env.is_none_or(str::is_empty) && explicit {
        return Ok((given.clone(), None));
    }
    let file = read(&path)?;
    match choose(file.as_ref(), &path, flag, chosen_env)? {
        Some((_, ChosenBy::Current)) if explicit => Ok((given.clone(), None)),
        Some((c, _)) => Ok((c.sources(given, timeout_given), Some(c.clone()))),
        None => Ok((given.clone(), None)),
    }
}

/// Set the file's `current` to `name`, keeping the rest of the text (comments included); written to
/// a temporary file beside it and renamed over it, so a reader never sees half a file.
pub fn write_current(path: &Path, text: &str, name: &str) -> Result<()> {
    let value = if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        && !name.starts_with(['-', '.'])
    {
        name.to_string()
    } else {
        crate::py::json::dumps(&Value::String(name.to_string()))
    };
    let line = format!("current: {value}");
    let mut replaced = false;
    let mut out: Vec<String> = text
        .lines()
        .map(|l| {
            if !replaced && l.starts_with("current:") {
                replaced = true;
                line.clone()
            } else {
                l.to_string()
            }
        })
        .collect();
    if !replaced {
        out.insert(0, line);
    }
    let mut new_text = out.join("\n");
    new_text.push('\n');
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let fail = |e: std::io::Error| {
        let _ = std::fs::remove_file(&tmp);
        Error::failure(format!("cannot write {}: {e}", path.display())).with_source(e)
    };
    let mut f = std::fs::File::create(&tmp).map_err(fail)?;
    // The file may hold passwords: keep its mode (0600 for a new one would be the caller's).
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    f.write_all(new_text.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

#[cfg(test)]
mod tests;
