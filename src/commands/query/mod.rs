//! `dsn` and `query`, mirroring patronictl's `get_any_member`, `get_cursor` and `query_member`.
//!
//! The member is the first one of the wanted role in DCS order (the leader by default); `query`
//! connects to its PostgreSQL with the host and port of its `conn_url`, the `-U`/`-d`/password
//! options, `application_name` "Patroni ctl" and a 5 s connect timeout, checks
//! `pg_is_in_recovery()` for the roles where patronictl does, runs the SQL in autocommit and prints
//! the last result set through `print_output` (tsv by default). Failures are printed as a row
//! `[timestamp, 'ERROR, SQLSTATE: …']` exactly as patronictl prints them; unlike patronictl, the
//! exit code then says that the query did not run (1, or 3 when the server was unreachable, 2
//! when the SSL settings are unusable).
//!
//! Beside this file: [`connect`] (the connection with libpq's defaults, pgpass and environment),
//! [`ssl`] (libpq's `sslmode` rules), [`sql`] (the last statement, blank and `COPY` queries),
//! [`pyvalue`] (psycopg2's typecasters and Python's `str()`/`repr()` of the values) and [`render`].

mod connect;
mod pyvalue;
mod render;
mod sql;
pub mod ssl;

use std::time::Duration;

use clap::Args;
use serde_json::Value;
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::commands::{get_all_members, Role, Watch};
use crate::context::Context;
use crate::error::{Error, Exit, Result};
use crate::model::{Cluster, Member};
use crate::py::repr::py_str;
use connect::connect;
use pyvalue::PyVal;
use render::render;
use sql::{copy_refusal, is_blank_query, last_statement};

/// patronictl's `connect_timeout` for `query`.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// `dsn [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct DsnArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Give a dsn of any member with this role
    #[arg(short = 'r', long, value_enum)]
    pub role: Option<Role>,
    /// Generate a dsn for this member
    #[arg(short = 'm', long, value_name = "TEXT")]
    pub member: Option<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
}

/// `query [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Output format (pretty, tsv, json, yaml)
    #[arg(long = "format", default_value = "tsv", value_name = "TEXT")]
    pub fmt: String,
    /// Execute the SQL commands from this file
    #[arg(short = 'f', long = "file", value_name = "FILENAME")]
    pub p_file: Option<String>,
    /// force password prompt
    #[arg(long)]
    pub password: bool,
    /// database user name
    #[arg(short = 'U', long, value_name = "TEXT")]
    pub username: Option<String>,
    /// Auto update the screen every 2 seconds
    #[arg(short = 'W')]
    pub w: bool,
    /// Auto update the screen every X seconds
    #[arg(short = 'w', long = "watch", value_name = "FLOAT")]
    pub watch: Option<f64>,
    /// The role of the query
    #[arg(short = 'r', long, value_enum)]
    pub role: Option<Role>,
    /// Query a specific member
    #[arg(short = 'm', long, value_name = "TEXT")]
    pub member: Option<String>,
    /// The column delimiter
    #[arg(
        long,
        default_value = "\t",
        value_name = "TEXT",
        allow_hyphen_values = true
    )]
    pub delimiter: String,
    /// The SQL commands to execute
    #[arg(
        short = 'c',
        long = "command",
        value_name = "TEXT",
        allow_hyphen_values = true
    )]
    pub command: Option<String>,
    /// database name to connect to
    #[arg(short = 'd', long, value_name = "TEXT")]
    pub dbname: Option<String>,
}

/// patronictl's `get_any_member`: the first member with `role` (the leader by default), or the
/// member named `member`.
pub fn get_any_member<'a>(
    cluster: &'a Cluster,
    group: Option<i64>,
    role: Option<Role>,
    member: Option<&str>,
) -> Result<Option<&'a Member>> {
    let role = match (member, role) {
        (Some(_), Some(_)) => {
            return Err(Error::failure(
                "--role and --member are mutually exclusive options",
            ))
        }
        (Some(_), None) => Role::Any,
        (None, r) => r.unwrap_or(Role::Leader),
    };
    Ok(get_all_members(cluster, group, role)
        .into_iter()
        .find(|m| member.is_none_or(|n| m.name == n)))
}

/// Patroni's `Member.conn_kwargs()`: `host`, `port` and `dbname` from the member's `conn_kwargs`
/// (plus anything else it holds) or parsed from `conn_url`; `None` when it has neither.
pub fn conn_kwargs(m: &Member) -> Option<Vec<(String, Value)>> {
    let mut out: Vec<(String, Value)> = ["host", "port", "dbname"]
        .iter()
        .map(|k| (k.to_string(), Value::Null))
        .collect();
    let mut set = |k: &str, v: Value| match out.iter_mut().find(|(ek, _)| ek == k) {
        Some(slot) => slot.1 = v,
        None => out.push((k.to_string(), v)),
    };
    match m.data.get("conn_kwargs") {
        Some(Value::Object(kw)) if !kw.is_empty() => {
            for (k, v) in kw {
                set(k, v.clone());
            }
        }
        _ => {
            let (host, port, dbname) =
                urlparse(m.str_field("conn_url").filter(|u| !u.is_empty())?)?;
            set("host", host.map_or(Value::Null, Value::String));
            set("port", Value::from(port.unwrap_or(5432)));
            set("dbname", Value::String(dbname));
        }
    }
    Some(out)
}

/// Python's `urlparse(url)`: (`hostname`, `port`, `path[1:]`).
fn urlparse(url: &str) -> Option<(Option<String>, Option<u16>, String)> {
    let after = url.split_once("://").map_or(url, |(_, a)| a);
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (netloc, rest) = after.split_at(end);
    let path = rest.split(['?', '#']).next().unwrap_or("");
    let hostinfo = netloc.rsplit_once('@').map_or(netloc, |(_, h)| h);
    let (host, port) = match hostinfo.split_once('[') {
        Some((_, bracketed)) => {
            let (h, p) = bracketed.split_once(']').unwrap_or((bracketed, ""));
            (h, p.split_once(':').map_or("", |(_, p)| p))
        }
        None => hostinfo.split_once(':').unwrap_or((hostinfo, "")),
    };
    let port = if port.is_empty() {
        None
    } else {
        Some(port.parse().ok()?)
    };
    let host = (!host.is_empty()).then(|| host.to_lowercase());
    Some((host, port, path.get(1..).unwrap_or("").to_string()))
}

/// Run `dsn`.
pub async fn cmd_dsn(ctx: &mut Context<'_>, args: DsnArgs) -> Result<()> {
    let name = ctx.cluster_name(args.cluster_name)?;
    let cluster = ctx.cluster(&name, args.group).await?;
    let m = get_any_member(&cluster, args.group, args.role, args.member.as_deref())?
        .ok_or_else(|| Error::failure("Can not find a suitable member"))?;
    let kw = conn_kwargs(m).ok_or_else(|| {
        Error::failure(format!(
            "Member {} has no connection URL in the DCS",
            m.name
        ))
    })?;
    let get = |k: &str| {
        kw.iter()
            .find(|(ek, _)| ek == k)
            .map_or_else(|| "None".to_string(), |(_, v)| py_str(v))
    };
    let dsn = format!("host={} port={}", get("host"), get("port"));
    ctx.ui.line(&dsn);
    let mut params = serde_json::Map::new();
    for (k, v) in &kw {
        params.insert(k.clone(), v.clone());
    }
    ctx.ui.emit(serde_json::json!({
        "cluster": name,
        "group": args.group,
        "member": m.name,
        "dsn": dsn,
        "params": params,
    }));
    Ok(())
}

/// The first row of `sql` as text, on `member`'s PostgreSQL: the connection `query` makes (user
/// `user`, else libpq's environment: `PGUSER`, `PGPASSWORD`, `~/.pgpass`), bounded by the connect
/// timeout. `site` reads its LSNs with it.
pub async fn read_row(
    member: &Member,
    user: Option<&str>,
    sql: &str,
) -> Result<Vec<Option<String>>> {
    read_row_as(member, user, None, sql).await
}

/// [`read_row`] with a password as well (the switchover pre-flight's fallback on the
/// configuration's `postgresql.authentication.superuser`).
pub async fn read_row_as(
    member: &Member,
    user: Option<&str>,
    password: Option<&str>,
    sql: &str,
) -> Result<Vec<Option<String>>> {
    let params = ConnectParams {
        user: user.map(String::from),
        password: password.map(String::from),
        ..ConnectParams::default()
    };
    let fail = |f: Failed| {
        Error::with_exit(
            f.exit,
            format!("{}: {}", member.name, f.message.trim().replace('\n', " ")),
        )
    };
    let client = connect(member, &params).await.map_err(fail)?;
    let msgs = tokio::time::timeout(CONNECT_TIMEOUT, client.simple_query(sql))
        .await
        .map_err(|_| Error::unreachable(format!("{}: the query timed out", member.name)))?
        .map_err(|e| fail(statement_error(&e)))?;
    msgs.iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(String::from)).collect())
            }
            _ => None,
        })
        .ok_or_else(|| Error::failure(format!("{}: no row returned", member.name)))
}

/// The connection parameters given on the command line (patronictl's `connect_parameters`).
#[derive(Debug, Clone, Default)]
pub(super) struct ConnectParams {
    pub(super) user: Option<String>,
    pub(super) password: Option<String>,
    pub(super) dbname: Option<String>,
}

/// What one round of `query` produced: the member asked, the rows to print and, when it failed,
/// the exit code and why.
struct Outcome {
    member: Option<String>,
    columns: Option<Vec<String>>,
    rows: Vec<Vec<PyVal>>,
    failed: Option<(Exit, String)>,
}

impl Outcome {
    /// patronictl's error row `[timestamp(0), message]`.
    fn error(message: String, exit: Exit) -> Outcome {
        Outcome {
            member: None,
            columns: None,
            rows: vec![vec![
                PyVal::Str(crate::time::timestamp(0)),
                PyVal::Str(message.clone()),
            ]],
            failed: Some((exit, message)),
        }
    }

    fn on(mut self, member: &Member) -> Outcome {
        self.member = Some(member.name.clone());
        self
    }

    /// The machine output of this round: `{cluster, member, columns, rows}`, each value as psycopg2
    /// would have cast it (what JSON cannot hold, a date, a decimal, as its Python `str()`).
    fn data(&self, cluster: &str) -> Value {
        let ok = self.failed.is_none();
        serde_json::json!({
            "cluster": cluster,
            "member": self.member,
            "columns": if ok { self.columns.clone() } else { None },
            "rows": if ok {
                self.rows
                    .iter()
                    .map(|r| r.iter().map(PyVal::to_value).collect::<Vec<_>>())
                    .collect::<Vec<_>>()
            } else {
                Vec::new()
            },
        })
    }

    fn sql_error(f: Failed) -> Outcome {
        Outcome::error(
            format!("ERROR, SQLSTATE: {}", f.message.replace('\n', " ")),
            f.exit,
        )
    }
}

/// A failed connection or statement: psycopg2's `sqlstate or str(error)`, and our exit code.
pub(super) struct Failed {
    pub(super) message: String,
    pub(super) exit: Exit,
}

impl Failed {
    pub(super) fn new(message: impl Into<String>) -> Failed {
        Failed {
            message: message.into(),
            exit: Exit::Failure,
        }
    }
}

/// Run `query`.
pub async fn cmd_query(ctx: &mut Context<'_>, args: QueryArgs) -> Result<()> {
    let sql = read_sql(&args)?;
    let mut params = ConnectParams {
        user: args.username.clone().filter(|u| !u.is_empty()),
        password: None,
        dbname: args.dbname.clone().filter(|d| !d.is_empty()),
    };
    if args.password {
        params.password = Some(ctx.ui.password("Password")?);
    } else if let Some(serde_json::Value::Object(q)) =
        ctx.settings.raw.get("ctl").and_then(|c| c.get("query"))
    {
        // patctl's `ctl.query` (password, password_file or password_command): the PostgreSQL password
        // of `query` when no prompt is asked for.
        params.password = crate::config::secret::password(q, "ctl.query")?;
    }
    let name = ctx.cluster_name(args.cluster_name.clone())?;
    // patronictl's `watching`: `-W` means 2 s unless `-w` gives a non-zero interval; 0 runs once.
    let interval = match (args.watch.filter(|w| *w != 0.0), args.w) {
        (Some(w), _) => Some(w),
        (None, true) => Some(2.0),
        (None, false) => None,
    };
    // Machine output is one document: one round, no watch.
    let interval = interval.filter(|_| ctx.ui.machine().is_none());
    let mut watch = Watch::new(false, interval, false);
    let mut cluster: Option<Cluster> = None;
    let mut failed = None;
    let mut data = Value::Null;
    while watch.next(ctx).await {
        if cluster.is_none() {
            cluster = Some(ctx.cluster(&name, args.group).await?);
        }
        let c = cluster.as_ref().expect("read above");
        let outcome = query_member(c, &args, &sql, &params).await?;
        ctx.ui.out(&render(
            &args.fmt,
            &args.delimiter,
            outcome.columns.as_deref(),
            &outcome.rows,
        ));
        data = outcome.data(&name);
        failed = outcome.failed;
    }
    let result = match failed {
        // The error row was printed as patronictl prints it; machine output says it as the error.
        Some((exit, why)) if ctx.ui.machine().is_some() => {
            let mut e = Error::silent(exit);
            e.message = why;
            Err(e)
        }
        Some((exit, _)) => Err(Error::silent(exit)),
        None => Ok(()),
    };
    ctx.ui.emit_result(result, data)
}

/// The SQL from `--file` (`-` is stdin) or `--command`, checked as patronictl does.
fn read_sql(args: &QueryArgs) -> Result<String> {
    let Some(path) = &args.p_file else {
        return args
            .command
            .clone()
            .ok_or_else(|| Error::failure("You need to specify either --command or --file"));
    };
    let bytes = if path == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map(|_| buf)
    } else {
        std::fs::read(path)
    }
    .map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::NotFound {
            "No such file or directory".to_string()
        } else {
            e.to_string()
        };
        Error::usage(format!(
            "Invalid value for '--file' / '-f': '{path}': {why}"
        ))
    })?;
    if args.command.is_some() {
        return Err(Error::failure(
            "--file and --command are mutually exclusive options",
        ));
    }
    String::from_utf8(bytes).map_err(|_| Error::failure(format!("{path} is not valid UTF-8")))
}

/// patronictl's `query_member`: pick the member, connect, check the role, run the SQL.
async fn query_member(
    cluster: &Cluster,
    args: &QueryArgs,
    sql: &str,
    params: &ConnectParams,
) -> Result<Outcome> {
    let member = get_any_member(cluster, args.group, args.role, args.member.as_deref())?;
    let Some(member) = member else {
        return Ok(Outcome::error(no_connection(args), Exit::Failure));
    };
    let client = match connect(member, params).await {
        Ok(c) => c,
        Err(f) => return Ok(Outcome::sql_error(f).on(member)),
    };
    match role_matches(&client, args.role).await {
        Ok(true) => {}
        Ok(false) => return Ok(Outcome::error(no_connection(args), Exit::Failure).on(member)),
        Err(f) => return Ok(Outcome::sql_error(f).on(member)),
    }
    Ok(match execute(&client, sql).await {
        Ok((columns, rows)) => Outcome {
            member: Some(member.name.clone()),
            columns: Some(columns),
            rows,
            failed: None,
        },
        Err(f) => Outcome::sql_error(f).on(member),
    })
}

fn no_connection(args: &QueryArgs) -> String {
    match (&args.member, args.role) {
        (Some(m), _) => format!("No connection to member {m} is available"),
        (None, Some(r)) => format!("No connection to role '{}' is available", r.as_str()),
        (None, None) => "No connection is available".to_string(),
    }
}

/// For `primary`, `replica`, `standby` and `standby-leader`, patronictl checks the real role with
/// `pg_is_in_recovery()` instead of trusting the DCS.
async fn role_matches(client: &Client, role: Option<Role>) -> std::result::Result<bool, Failed> {
    let Some(role) = role.filter(|r| !matches!(r, Role::Any | Role::Leader)) else {
        return Ok(true);
    };
    let msgs = client
        .simple_query("SELECT pg_catalog.pg_is_in_recovery()")
        .await
        .map_err(|e| statement_error(&e))?;
    let first = msgs.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(r) => Some(r.get(0) != Some("f")),
        _ => None,
    });
    let in_recovery = first.unwrap_or(true);
    Ok(match role {
        Role::Replica | Role::Standby | Role::StandbyLeader => in_recovery,
        _ => !in_recovery,
    })
}

/// Run the SQL; return the column names and rows of the last result, as psycopg2's cursor does.
async fn execute(
    client: &Client,
    sql: &str,
) -> std::result::Result<(Vec<String>, Vec<Vec<PyVal>>), Failed> {
    if is_blank_query(sql) {
        return Err(Failed::new("can't execute an empty query"));
    }
    if let Some(msg) = copy_refusal(sql) {
        return Err(Failed::new(msg));
    }
    let msgs = client
        .simple_query(sql)
        .await
        .map_err(|e| statement_error(&e))?;
    let mut last: Option<(Vec<String>, Vec<tokio_postgres::SimpleQueryRow>)> = None;
    let mut current = None;
    for m in msgs {
        match m {
            SimpleQueryMessage::RowDescription(cols) => {
                current = Some((cols.iter().map(|c| c.name().to_string()).collect(), vec![]));
            }
            SimpleQueryMessage::Row(r) => {
                let slot = current.get_or_insert_with(|| {
                    (
                        r.columns().iter().map(|c| c.name().to_string()).collect(),
                        vec![],
                    )
                });
                slot.1.push(r);
            }
            SimpleQueryMessage::CommandComplete(_) => last = current.take(),
            _ => {}
        }
    }
    let (columns, rows) = last.ok_or_else(|| Failed::new("no results to fetch"))?;
    let types = column_types(client, sql, &columns).await;
    let rows = rows
        .iter()
        .map(|r| {
            (0..columns.len())
                .map(|i| pyvalue::convert(types.as_ref().map(|t| t[i]), r.get(i)))
                .collect()
        })
        .collect();
    Ok((columns, rows))
}

/// The type OIDs of the result columns, which psycopg2 casts by and the simple protocol does not
/// report: describe the last statement (after running it, so objects the SQL created exist). `None`
/// when it cannot be described or does not describe to the same columns; the values then stay text.
async fn column_types(client: &Client, sql: &str, columns: &[String]) -> Option<Vec<u32>> {
    let stmt = client.prepare(last_statement(sql)?).await.ok()?;
    let cols = stmt.columns();
    let same = cols.len() == columns.len() && cols.iter().zip(columns).all(|(c, n)| c.name() == n);
    same.then(|| cols.iter().map(|c| c.type_().oid()).collect())
}

/// A statement's error as patronictl shows it: the SQLSTATE, else the client's message.
fn statement_error(e: &tokio_postgres::Error) -> Failed {
    if let Some(code) = e.code() {
        return Failed::new(code.code());
    }
    if e.is_closed() {
        return Failed {
            message: "server closed the connection unexpectedly\n\tThis probably means the server \
terminated abnormally\n\tbefore or while processing the request.\n"
                .into(),
            exit: Exit::Unreachable,
        };
    }
    Failed::new(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conn_kwargs_from_url() {
        let m = Member::from_node(
            "n",
            None,
            None,
            r#"{"conn_url":"postgres://127.0.0.1:5933/postgres"}"#,
        );
        let kw = conn_kwargs(&m).unwrap();
        assert_eq!(
            kw,
            vec![
                ("host".into(), Value::from("127.0.0.1")),
                ("port".into(), Value::from(5933)),
                ("dbname".into(), Value::from("postgres")),
            ]
        );
        assert_eq!(
            urlparse("postgres://u:p@[::1]:5433/db?x=1"),
            Some((Some("::1".into()), Some(5433), "db".into()))
        );
        assert_eq!(
            urlparse("postgres://Host"),
            Some((Some("host".into()), None, String::new()))
        );
        assert!(conn_kwargs(&Member::from_node("n", None, None, "{}")).is_none());
    }
}
