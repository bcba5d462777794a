//! `context list|use|show`: patctl's named contexts (patronictl has none; see
//! [`crate::config::contexts`] for the file and how a context is chosen). These commands read and
//! write only the contexts file: no cluster configuration is loaded, nothing is asked of a DCS.

use std::collections::BTreeMap;

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::config::contexts::{self, ChosenBy, ContextDef, ContextFile};
use crate::error::{Error, Result};
use crate::output::table::{self, Align};
use crate::output::Ui;
use crate::py::yaml_dump;

/// `context …`
#[derive(Debug, Args)]
pub struct ContextArgs {
    /// What to do with the contexts.
    #[command(subcommand)]
    pub action: ContextAction,
}

/// The `context` subcommands.
#[derive(Debug, Subcommand)]
pub enum ContextAction {
    /// List the contexts of the contexts file and which one is in use
    List,
    /// Make NAME the current context (the file's `current` key, rewritten in place)
    Use {
        /// The context's name
        name: String,
    },
    /// Show a context's settings, the password hidden (default: the context in use)
    Show {
        /// The context's name
        name: Option<String>,
    },
}

/// Run `context …`; `flag` is `--context`, `env` the environment (`PATCTL_CONTEXT`,
/// `PATCTL_CONTEXTS`, `XDG_CONFIG_HOME`, `HOME`).
pub fn cmd_context(
    ui: &Ui,
    args: &ContextArgs,
    flag: Option<&str>,
    env: &BTreeMap<String, String>,
) -> Result<()> {
    let path = contexts::path(env);
    let file = contexts::read(&path)?;
    let in_use = || {
        contexts::choose(
            file.as_ref(),
            &path,
            flag,
            env.get("PATCTL_CONTEXT").map(String::as_str),
        )
    };
    match &args.action {
        ContextAction::List => {
            let chosen = in_use()?.map(|(c, by)| (c.name.clone(), by));
            let file = file.unwrap_or_else(|| ContextFile {
                path: path.clone(),
                ..ContextFile::default()
            });
            if file.contexts.is_empty() {
                ui.line(&format!("No contexts in {}", path.display()));
            } else {
                ui.line(&list_table(&file, chosen.as_ref().map(|(n, _)| n.as_str())));
            }
            ui.emit(list_data(&file, chosen.as_ref()));
            Ok(())
        }
        ContextAction::Use { name } => {
            let Some(file) = &file else {
                return Err(Error::usage(format!(
                    "there is no contexts file at {} (PATCTL_CONTEXTS names another)",
                    path.display()
                )));
            };
            file.require(name)?;
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Error::failure(format!("cannot read {}: {e}", path.display())))?;
            contexts::write_current(&path, &text, name)?;
            ui.line(&format!("Switched to context \"{name}\"."));
            ui.emit(json!({
                "file": path.display().to_string(),
                "previous": file.current,
                "current": name,
            }));
            Ok(())
        }
        ContextAction::Show { name } => {
            let c = match (name, &file) {
                (Some(n), Some(f)) => f.require(n)?,
                (Some(n), None) => {
                    return Err(Error::usage(format!(
                        "no context '{n}': there is no contexts file at {}",
                        path.display()
                    )))
                }
                (None, _) => {
                    in_use()?
                        .ok_or_else(|| {
                            Error::usage(format!(
                                "no context is in use (no --context, PATCTL_CONTEXT or 'current' in {}): name one",
                                path.display()
                            ))
                        })?
                        .0
                }
            };
            ui.out(&yaml_dump::dump(&shown(c)));
            ui.emit(context_data(c, None));
            Ok(())
        }
    }
}

/// The `context list` table: the one in use marked `*`.
pub fn list_table(file: &ContextFile, in_use: Option<&str>) -> String {
    let columns: Vec<String> = [
        "Current",
        "Name",
        "Config file or DCS URL",
        "Namespace",
        "Scope",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows: Vec<Vec<String>> = file
        .contexts
        .iter()
        .map(|c| {
            vec![
                if Some(c.name.as_str()) == in_use {
                    "*"
                } else {
                    ""
                }
                .to_string(),
                c.name.clone(),
                c.target(),
                c.namespace.clone().unwrap_or_default(),
                c.scope.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table::render("", &columns, &[Align::Left; 5], &rows)
}

/// A context as `context show` prints it: the keys of the file, the password as `<hidden>`.
fn shown(c: &ContextDef) -> Value {
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            m.insert(k.to_string(), Value::String(v));
        }
    };
    put("name", Some(c.name.clone()));
    put(
        "config_file",
        c.config_file.as_ref().map(|p| p.display().to_string()),
    );
    put("dcs_url", c.dcs_url.clone());
    put("namespace", c.namespace.clone());
    put("scope", c.scope.clone());
    put("cacert", c.cacert.as_ref().map(|p| p.display().to_string()));
    put(
        "certfile",
        c.certfile.as_ref().map(|p| p.display().to_string()),
    );
    put(
        "keyfile",
        c.keyfile.as_ref().map(|p| p.display().to_string()),
    );
    put("username", c.username.clone());
    put(
        "password",
        c.password.as_ref().map(|_| "<hidden>".to_string()),
    );
    if let Some(i) = c.insecure {
        m.insert("insecure".into(), Value::Bool(i));
    }
    if let Some(t) = c.request_timeout {
        m.insert("request_timeout".into(), json!(t.as_secs_f64()));
    }
    Value::Object(m)
}

/// One context in machine output (kinds `Context` and `ContextList`); `current` only in a list.
pub fn context_data(c: &ContextDef, current: Option<bool>) -> Value {
    let path = |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.display().to_string());
    let mut v = json!({
        "name": c.name,
        "configFile": path(&c.config_file),
        "dcsUrl": c.dcs_url,
        "namespace": c.namespace,
        "scope": c.scope,
        "cacert": path(&c.cacert),
        "certfile": path(&c.certfile),
        "keyfile": path(&c.keyfile),
        "insecure": c.insecure,
        "username": c.username,
        "hasPassword": c.password.is_some(),
        "requestTimeoutSeconds": c.request_timeout.map(|t| t.as_secs_f64()),
    });
    if let Some(cur) = current {
        v["current"] = Value::Bool(cur);
    }
    v
}

/// The `data` of `context list -o json` (kind `ContextList`).
pub fn list_data(file: &ContextFile, in_use: Option<&(String, ChosenBy)>) -> Value {
    json!({
        "file": file.path.display().to_string(),
        "current": in_use.map(|(n, _)| n),
        "chosenBy": in_use.map(|(_, by)| by.as_str()),
        "contexts": file
            .contexts
            .iter()
            .map(|c| context_data(c, Some(in_use.is_some_and(|(n, _)| *n == c.name))))
            .collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn table_and_data() {
        let f = contexts::parse(
            "current: a\ncontexts:\n  a: {config_file: /etc/p.yml}\n  b: {dcs_url: 'etcd3://h:2379', namespace: /ns/, password: x}\n",
            Path::new("/c.yaml"),
        )
        .unwrap();
        let t = list_table(&f, Some("b"));
        let lines: Vec<&str> = t.lines().collect();
        assert!(
            lines[1].contains("| Current | Name | Config file or DCS URL |"),
            "{t}"
        );
        assert!(
            lines[3].starts_with("|         | a    | /etc/p.yml "),
            "{t}"
        );
        assert!(
            lines[4].starts_with("| *       | b    | etcd3://h:2379 "),
            "{t}"
        );
        let d = list_data(&f, Some(&("b".to_string(), ChosenBy::Flag)));
        assert_eq!(d["current"], "b");
        assert_eq!(d["chosenBy"], "flag");
        assert_eq!(d["contexts"][1]["current"], true);
        assert_eq!(d["contexts"][1]["hasPassword"], true);
        assert!(!d.to_string().contains("\"x\""), "no password: {d}");
        let shown = yaml_dump::dump(&shown(f.get("b").unwrap()));
        assert!(shown.contains("password: <hidden>\n"), "{shown}");
    }
}
