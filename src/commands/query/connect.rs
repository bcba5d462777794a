//! Connecting to a member's PostgreSQL for `query` as psycopg2 (libpq) does in patronictl's
//! `get_cursor`: the member's `conn_kwargs` with the command-line user, password and database,
//! libpq's environment defaults (`PGUSER`, `PGPASSWORD`, `~/.pgpass`, `PGDATABASE`, …, which
//! tokio-postgres does not read), libpq's SSL rules ([`super::ssl`]: `sslmode`, the root, client
//! and key files, the `prefer`/`allow` second attempt), and failures worded as libpq words them.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::Value;
use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, Config, NoTls};

use super::ssl;
use super::{conn_kwargs, ConnectParams, Failed, CONNECT_TIMEOUT};
use crate::error::Exit;
use crate::model::Member;
use crate::py::repr::py_str;
use crate::tls;

/// Where a connection goes, for libpq-style messages.
struct Target {
    host: String,
    port: u16,
}

impl Target {
    /// libpq's `connection to server at "h", port p failed: ` prefix.
    fn prefix(&self) -> String {
        if self.host.starts_with('/') {
            format!(
                "connection to server on socket \"{}/.s.PGSQL.{}\" failed: ",
                self.host, self.port
            )
        } else {
            format!(
                "connection to server at \"{}\", port {} failed: ",
                self.host, self.port
            )
        }
    }
}

/// Connect to the member's PostgreSQL as patronictl's `get_cursor` does (autocommit, bounded).
pub(super) async fn connect(
    member: &Member,
    params: &ConnectParams,
) -> std::result::Result<Client, Failed> {
    let kw = conn_kwargs(member).ok_or_else(|| {
        Failed::new(format!(
            "member {} has no connection URL in the DCS",
            member.name
        ))
    })?;
    let (mut config, target) = pg_config(&kw, params);
    let usage = |message: String| Failed {
        message: format!("{}{message}\n", target.prefix()),
        exit: Exit::Usage,
    };
    let plan = ssl_plan(&kw).map_err(usage)?;
    let tls = match plan.mode {
        ssl::SslMode::Disable => None,
        _ => Some(plan.connector().map_err(usage)?),
    };
    let attempts = plan.attempts();
    let mut last: Option<Failed> = None;
    for (i, mode) in attempts.iter().enumerate() {
        config.ssl_mode(*mode);
        if let Some(t) = &tls {
            t.used.store(false, Ordering::SeqCst);
        }
        let attempt = tokio::time::timeout(CONNECT_TIMEOUT + Duration::from_secs(1), async {
            match (&tls, mode) {
                (Some(t), SslMode::Require | SslMode::Prefer) => config
                    .connect(t.clone())
                    .await
                    .map(|(c, conn)| (c, tokio::spawn(conn))),
                _ => config
                    .connect(NoTls)
                    .await
                    .map(|(c, conn)| (c, tokio::spawn(conn))),
            }
        });
        match attempt.await {
            Err(_) => {
                return Err(Failed {
                    message: format!("{}timeout expired\n", target.prefix()),
                    exit: Exit::Unreachable,
                })
            }
            // The connection task ends when the client is dropped; its errors surface through the client.
            Ok(Ok((client, _connection))) => return Ok(client),
            Ok(Err(e)) => {
                // libpq tries the next way (prefer: plain after a failure over TLS; allow: TLS after
                // plain) after any failure but a TCP one.
                let tcp = e.to_string().starts_with("error connecting to server");
                let over_tls = tls.as_ref().is_some_and(|t| t.used.load(Ordering::SeqCst));
                let retry = !tcp && (*mode != SslMode::Prefer || over_tls);
                let mut failed = connect_error(&target, &e);
                // libpq keeps the messages of every attempt, in order.
                if let Some(prev) = last.take() {
                    failed.message = prev.message + &failed.message;
                }
                if !retry || i + 1 == attempts.len() {
                    return Err(failed);
                }
                last = Some(failed);
            }
        }
    }
    Err(last.unwrap_or_else(|| Failed::new("no connection attempt")))
}

/// libpq's SSL settings from the member's connection parameters, then libpq's environment.
fn ssl_plan(kw: &[(String, Value)]) -> std::result::Result<ssl::SslPlan, String> {
    let get = |k: &str| {
        kw.iter()
            .find(|(ek, _)| ek == k)
            .filter(|(_, v)| !v.is_null())
            .map(|(_, v)| py_str(v))
            .or_else(|| ssl::env_var(k).and_then(env))
    };
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    ssl::resolve(&get, home.as_deref(), &|p| p.is_file())
}

/// The connection settings: the member's `conn_kwargs`, the command-line parameters, then libpq's
/// environment defaults. Like patronictl, the member's own `dbname` is not used.
fn pg_config(kw: &[(String, Value)], p: &ConnectParams) -> (Config, Target) {
    let kw_str = |k: &str| {
        kw.iter()
            .find(|(ek, _)| ek == k)
            .filter(|(_, v)| !v.is_null())
            .map(|(_, v)| py_str(v))
    };
    let host = kw_str("host")
        .or_else(|| env("PGHOST"))
        .unwrap_or_else(|| "/var/run/postgresql".into());
    let port = kw_str("port")
        .or_else(|| env("PGPORT"))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(5432);
    let user = p
        .user
        .clone()
        .or_else(|| kw_str("user"))
        .or_else(|| env("PGUSER"));
    let dbname = p.dbname.clone().or_else(|| env("PGDATABASE"));
    let mut config = Config::new();
    config
        .host(&host)
        .port(port)
        .connect_timeout(CONNECT_TIMEOUT)
        // A peer that vanishes mid-query is noticed in about 25 s instead of never.
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(10))
        .keepalives_interval(Duration::from_secs(5))
        .keepalives_retries(3)
        .application_name(
            kw_str("application_name")
                .or_else(|| env("PGAPPNAME"))
                .unwrap_or_else(|| "Patroni ctl".into()),
        );
    if let Some(u) = &user {
        config.user(u);
    }
    if let Some(d) = &dbname {
        config.dbname(d);
    }
    if let Some(o) = kw_str("options").or_else(|| env("PGOPTIONS")) {
        config.options(&o);
    }
    let pgpass = || {
        let login = user
            .clone()
            .or_else(|| env("USER"))
            .or_else(|| env("LOGNAME"))?;
        let db = dbname.clone().unwrap_or_else(|| login.clone());
        pgpass_lookup(&host, port, &db, &login)
    };
    let password = p
        .password
        .clone()
        .or_else(|| kw_str("password"))
        .or_else(|| env("PGPASSWORD"))
        .or_else(pgpass);
    if let Some(pw) = password {
        config.password(pw);
    }
    (config, Target { host, port })
}

/// A libpq environment variable, when set and not empty.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// libpq's password file (`PGPASSFILE`, else `~/.pgpass`): the first matching
/// `host:port:db:user:password` line; ignored when group or others can read it, as libpq does.
fn pgpass_lookup(host: &str, port: u16, db: &str, user: &str) -> Option<String> {
    let path = std::env::var_os("PGPASSFILE")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".pgpass")))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(&path).ok()?;
        if !meta.is_file() || meta.permissions().mode() & 0o077 != 0 {
            return None;
        }
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let host = if host.starts_with('/') {
        "localhost"
    } else {
        host
    };
    let port = port.to_string();
    let wanted = [host, port.as_str(), db, user];
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let fields = split_pgpass(line);
            if fields.len() < 5 {
                return None;
            }
            let matches = wanted.iter().zip(&fields).all(|(w, f)| f == "*" || f == w);
            matches.then(|| fields[4..].join(":"))
        })
}

/// Split a `.pgpass` line on unescaped `:` (`\:` and `\\` are escapes).
pub(super) fn split_pgpass(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.last_mut().expect("never empty").push(n);
                }
            }
            ':' if out.len() < 5 => out.push(String::new()),
            c => out.last_mut().expect("never empty").push(c),
        }
    }
    out
}

/// A connection failure worded as libpq words it (psycopg2's `str(error)` has no SQLSTATE then).
fn connect_error(target: &Target, e: &tokio_postgres::Error) -> Failed {
    let prefix = target.prefix();
    if let Some(db) = e.as_db_error() {
        let mut msg = format!("{prefix}{}:  {}\n", db.severity(), db.message());
        if let Some(d) = db.detail() {
            msg.push_str(&format!("DETAIL:  {d}\n"));
        }
        if let Some(h) = db.hint() {
            msg.push_str(&format!("HINT:  {h}\n"));
        }
        return Failed::new(msg);
    }
    let text = e.to_string();
    let texts = crate::error::causes(e);
    if texts
        .iter()
        .any(|t| t.contains("server does not support TLS"))
    {
        return Failed {
            message: format!("{prefix}server does not support SSL, but SSL was required\n"),
            exit: Exit::Unreachable,
        };
    }
    if let Some(why) = tls::describe(&texts) {
        return Failed {
            message: format!("{prefix}SSL error: {why}\n"),
            exit: Exit::Unreachable,
        };
    }
    if text.contains("password missing") {
        return Failed::new(format!("{prefix}fe_sendauth: no password supplied\n"));
    }
    let io = crate::error::sources(e).find_map(|s| s.downcast_ref::<std::io::Error>());
    if let Some(io) = io {
        let why = crate::error::root_cause(io);
        let message = if io.kind() == std::io::ErrorKind::TimedOut {
            format!("{prefix}timeout expired\n")
        } else {
            format!("{prefix}{why}\n\tIs the server running on that host and accepting TCP/IP connections?\n")
        };
        return Failed {
            message,
            exit: Exit::Unreachable,
        };
    }
    Failed {
        message: format!("{prefix}{text}\n"),
        exit: Exit::Unreachable,
    }
}
