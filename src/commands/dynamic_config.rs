//! `show-config` and `edit-config`, mirroring patronictl's config round trip: the DCS `config` key
//! shown as PyYAML `safe_dump` text, changed through `--replace`, `--apply`, `-s`/`-p` or an editor,
//! the change shown as a unified diff, confirmed, and written straight to the DCS with
//! compare-and-swap on the key's revision (never through the REST API).
//!
//! Beyond patronictl: `$EDITOR` may carry arguments, a missing pager never fails, YAML errors and
//! non-mapping documents are reported instead of crashing (or writing `null`), invalid Patroni
//! values and PostgreSQL parameters (by type, unit and range for the cluster's major) are refused
//! unless `--skip-checks` (`--force` only skips the prompt), a note on stderr says which changed
//! parameters need a restart, `--apply -` without `--force` exits 2, a lost compare-and-swap exits
//! 4, and `-o json|yaml` reports the change (kind `ConfigEdit`).

mod checks;
mod paths;
mod pg_params;
mod report;
mod server;

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Command;

use clap::Args;
use serde_json::{Map, Value};

use crate::config::patch_config;
use crate::context::Context;
use crate::dcs::{self, Expect};
use crate::error::{Error, Result};
use crate::model::Cluster;
use crate::output::diff;
use crate::py::truth::py_eq;
use crate::py::{json, yaml_dump, yaml_load};

/// `show-config [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct ShowConfigArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
}

/// `edit-config [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct EditConfigArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Do not show changes
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Set specific configuration value. Can be specified multiple times
    #[arg(short = 's', long = "set", value_name = "TEXT")]
    pub kvpairs: Vec<String>,
    /// Set specific PostgreSQL parameter value. Shorthand for -s postgresql.parameters. Can be specified multiple times
    #[arg(short = 'p', long = "pg", value_name = "TEXT")]
    pub pgkvpairs: Vec<String>,
    /// Apply configuration from file. Use - for stdin.
    #[arg(long = "apply", value_name = "TEXT")]
    pub apply_filename: Option<String>,
    /// Apply configuration from file, replacing existing configuration. Use - for stdin.
    #[arg(long = "replace", value_name = "TEXT")]
    pub replace_filename: Option<String>,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
    /// Write values that patctl's checks refuse (Patroni settings, PostgreSQL parameters by type,
    /// unit and range for the cluster's major); --force only skips the prompt
    #[arg(long = "skip-checks")]
    pub skip_checks: bool,
}

/// The text patronictl's `format_config_for_editing` gives: PyYAML block style, sorted keys.
fn format_config(data: &Map<String, Value>) -> String {
    yaml_dump::dump(&Value::Object(data.clone()))
}

/// Read the cluster named by the arguments, `--group` defaulting to `citus.group`.
async fn read_cluster(
    ctx: &mut Context<'_>,
    name: Option<String>,
    group: Option<i64>,
) -> Result<(String, Option<i64>, Cluster)> {
    let name = ctx.cluster_name(name)?;
    let group = ctx.default_group(group);
    let cluster = ctx.cluster(&name, group).await?;
    Ok((name, group, cluster))
}

/// Run `show-config`: the config as YAML plus click's newline; nothing when there is no config key.
pub async fn cmd_show_config(ctx: &mut Context<'_>, args: ShowConfigArgs) -> Result<()> {
    let (name, group, cluster) = read_cluster(ctx, args.cluster_name, args.group).await?;
    if let Some(config) = &cluster.config {
        ctx.ui.line(&format_config(&config.data));
    }
    let config = cluster.config.as_ref();
    ctx.ui.emit(serde_json::json!({
        "cluster": name,
        "group": group,
        "config": config.map(|c| Value::Object(c.data.clone())),
        "valid": config.map(|c| c.valid),
    }));
    Ok(())
}

/// Run `edit-config`.
pub async fn cmd_edit_config(ctx: &mut Context<'_>, args: EditConfigArgs) -> Result<()> {
    let (name, group, mut cluster) =
        read_cluster(ctx, args.cluster_name.clone(), args.group).await?;
    let Some(config) = cluster.config.take() else {
        return Err(Error::failure(format!(
            "The config key does not exist in the cluster {name}"
        )));
    };
    let current = config.data;
    let before = format_config(&current);
    let (after, changed) = compute_change(&args, &name, &before, &current)?;
    let changes = report::changes(&current, &changed);

    if py_eq(
        &Value::Object(current.clone()),
        &Value::Object(changed.clone()),
    ) {
        if !args.quiet {
            ctx.ui.line("Not changed");
        }
        ctx.ui.emit(report::data(&name, &changes, None, false));
        return Ok(());
    }
    // The cluster's major only matters (and members are only asked) when a parameter changed.
    let effects = if checks::changed_params(&current, &changed).is_empty() {
        None
    } else {
        let (major, exact, warnings) = server::cluster_major(ctx, &cluster).await;
        for w in warnings {
            ctx.ui.warning(&w);
        }
        Some(checks::param_effects(&current, &changed, major, exact))
    };
    ctx.ui
        .set_partial(report::data(&name, &changes, effects.as_ref(), false));
    if !args.quiet {
        diff::show(ctx.ui, &before, &after);
        // On stderr: stdout stays patronictl's.
        for line in effects.iter().flat_map(checks::ParamEffects::lines) {
            ctx.ui.err_line(&line);
        }
    }
    if !args.skip_checks {
        check_values(ctx, &current, &changed, effects.as_ref())?;
    }
    let stdin_used = args.apply_filename.as_deref() == Some("-")
        || args.replace_filename.as_deref() == Some("-");
    if stdin_used && !args.force {
        // patronictl's line (it then exits 0); the exit code says nothing was written.
        ctx.ui.line("Use --force option to apply changes");
        return Err(Error::usage(
            "nothing written: changes read from standard input are applied only with --force",
        ));
    }
    if !args.force && !ctx.ui.confirm("Apply these changes?")? {
        return Ok(());
    }
    let value = json::dumps_compact(&Value::Object(changed));
    let expect = Expect::At(config.version);
    match ctx
        .dcs()
        .await?
        .set_config(&name, group, &value, expect)
        .await
    {
        // patronictl's message, which scripts may look for.
        Err(e) if dcs::is_conflict(&e) => {
            return Err(Error::conflict(
                "Config modification aborted due to concurrent changes",
            ))
        }
        r => r?,
    }
    ctx.ui.line("Configuration changed");
    ctx.ui
        .emit(report::data(&name, &changes, effects.as_ref(), true));
    Ok(())
}

/// Refuse values Patroni would reject, ignore or clamp (PostgreSQL parameters checked against
/// `major` when one changed); otherwise warn about timings it would adjust.
fn check_values(
    ctx: &Context<'_>,
    current: &Map<String, Value>,
    changed: &Map<String, Value>,
    effects: Option<&checks::ParamEffects>,
) -> Result<()> {
    let mut errors = checks::invalid_values(current, changed);
    if let Some(fx) = effects {
        errors.extend(checks::invalid_params(current, changed, fx.major, fx.exact));
    }
    if !errors.is_empty() {
        return Err(Error::failure(format!(
            "{}; nothing written (use --skip-checks to write it anyway)",
            errors.join("; ")
        )));
    }
    for w in checks::timing_warnings(current, changed) {
        ctx.ui.warning(&w);
    }
    Ok(())
}

/// Build the new config as patronictl does: `--replace`, then `--apply`, then `-s`/`-p`, else the
/// editor. Returns the text to diff against and the new data.
fn compute_change(
    args: &EditConfigArgs,
    name: &str,
    before: &str,
    current: &Map<String, Value>,
) -> Result<(String, Map<String, Value>)> {
    let mut changed = current.clone();
    let mut touched = false;
    if let Some(f) = &args.replace_filename {
        changed = Map::new();
        patch_config(&mut changed, &load_file(f)?);
        touched = true;
    }
    if let Some(f) = &args.apply_filename {
        patch_config(&mut changed, &load_file(f)?);
        touched = true;
    }
    if !args.kvpairs.is_empty() || !args.pgkvpairs.is_empty() {
        let pg = args
            .pgkvpairs
            .iter()
            .map(|v| format!("postgresql.parameters.{}", v.trim_start()));
        for pair in args.kvpairs.iter().cloned().chain(pg) {
            apply_pair(&mut changed, &pair)?;
        }
        touched = true;
    }
    if touched {
        return Ok((format_config(&changed), changed));
    }
    let after = invoke_editor(before, name)?;
    let data = as_mapping(
        yaml_load::load(&after).map_err(|e| {
            Error::failure(format!(
                "The edited configuration is not valid YAML: {e}; nothing written"
            ))
        })?,
        "The edited configuration",
    )?;
    Ok((after, data))
}

/// One `-s KEY=VALUE`: the value is YAML, null or empty deletes the key.
fn apply_pair(changed: &mut Map<String, Value>, pair: &str) -> Result<()> {
    let Some((key, value)) = pair.split_once('=') else {
        return Err(Error::failure(format!("Invalid parameter setting {pair}")));
    };
    let value = yaml_load::load(value).map_err(|e| {
        Error::failure(format!(
            "Invalid value for {}: {value:?} is not valid YAML ({e})",
            key.trim()
        ))
    })?;
    paths::set_path(changed, key, &value);
    Ok(())
}

/// A document that must be a mapping (an empty one, or a list, would replace the whole config).
fn as_mapping(v: Value, what: &str) -> Result<Map<String, Value>> {
    match v {
        Value::Object(m) => Ok(m),
        Value::Null => Err(Error::failure(format!("{what} is empty; nothing written"))),
        _ => Err(Error::failure(format!(
            "{what} is not a YAML mapping; nothing written"
        ))),
    }
}

/// The YAML mapping in a file, or stdin for `-`.
fn load_file(name: &str) -> Result<Map<String, Value>> {
    let mut text = String::new();
    let (what, read) = if name == "-" {
        (
            "standard input".to_string(),
            std::io::stdin().read_to_string(&mut text),
        )
    } else {
        (
            name.to_string(),
            File::open(name).and_then(|mut f| f.read_to_string(&mut text)),
        )
    };
    read.map_err(|e| Error::usage(format!("Cannot read {what}: {e}")).with_source(e))?;
    let v = yaml_load::load(&text)
        .map_err(|e| Error::failure(format!("{what} is not valid YAML: {e}; nothing written")))?;
    as_mapping(v, &what)
}

/// A temporary file removed when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Create `<dir>/<cluster>-config-XXXXXXXX.yaml` (mode 0600, never an existing file) with `contents`.
fn temp_file(cluster: &str, contents: &str) -> Result<TempFile> {
    use std::os::unix::fs::OpenOptionsExt;
    let safe = cluster.replace('/', "_");
    let dir = std::env::temp_dir();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
        ^ u128::from(std::process::id()) << 64;
    for attempt in 0u128..100 {
        let tag = format!(
            "{:08x}",
            (seed.wrapping_mul(6364136223846793005) + attempt) as u32
        );
        let path = dir.join(format!("{safe}-config-{tag}.yaml"));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(mut f) => {
                let tmp = TempFile(path);
                f.write_all(contents.as_bytes()).map_err(|e| {
                    Error::failure(format!("Cannot write {}: {e}", tmp.0.display()))
                })?;
                return Ok(tmp);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(Error::failure(format!(
                    "Cannot create a temporary file in {}: {e}",
                    dir.display()
                )))
            }
        }
    }
    Err(Error::failure(format!(
        "Cannot create a temporary file in {}",
        dir.display()
    )))
}

/// The editor command: `$EDITOR` (a program, or a command line with shell quoting), else `editor` or
/// `vi` from `PATH`.
fn editor_command() -> Result<Vec<String>> {
    if let Ok(value) = std::env::var("EDITOR") {
        if !value.trim().is_empty() {
            return diff::command_words(&value).ok_or_else(|| {
                Error::usage(format!(
                    "EDITOR={value:?} cannot be split into words: a quote is not closed"
                ))
            });
        }
    }
    ["editor", "vi"]
        .iter()
        .find_map(|e| diff::find_program(e))
        .map(|p| vec![p.to_string_lossy().into_owned()])
        .ok_or_else(|| {
            Error::failure("EDITOR environment variable is not set. editor or vi are not available")
        })
}

/// patronictl's `invoke_editor`: edit `before` in a temporary file and return the saved text.
fn invoke_editor(before: &str, cluster: &str) -> Result<String> {
    let cmd = editor_command()?;
    let tmp = temp_file(cluster, before)?;
    let status = Command::new(&cmd[0])
        .args(&cmd[1..])
        .arg(&tmp.0)
        .status()
        .map_err(|e| Error::failure(format!("Cannot run the editor {:?}: {e}", cmd[0])))?;
    if !status.success() {
        use std::os::unix::process::ExitStatusExt;
        let code = status
            .code()
            .or_else(|| status.signal().map(|s| -s))
            .unwrap_or(-1);
        return Err(Error::failure(format!(
            "Editor exited with return code {code}"
        )));
    }
    std::fs::read_to_string(&tmp.0)
        .map_err(|e| Error::failure(format!("Cannot read {}: {e}", tmp.0.display())))
}
