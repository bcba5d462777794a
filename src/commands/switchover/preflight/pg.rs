//! The PostgreSQL side of the pre-flight (patctl only; patronictl has no such check): what a
//! switchover or failover will break inside the leader's PostgreSQL. One read-only connection to the
//! leader, made as `query` makes it (`--dbuser`, else libpq's `PGUSER`, `PGPASSWORD`, `~/.pgpass`;
//! when that fails and no `--dbuser` was given, the configuration's
//! `postgresql.authentication.superuser`),
//! under `statement_timeout` and the request timeout, reads: transactions older than
//! `--max-xact-age` (pid, user, application), prepared transactions, replication slots retaining more
//! than `--max-slot-wal` bytes of WAL, `pg_stat_archiver` failures since the last success, and the
//! number of client backends the switch will cut (shown, never judged). Each finding is a WARN, or
//! blocks the switch with `--strict`; when no connection can be made the checks are skipped with one
//! INFO line; `--skip-pg-checks` skips them.

use std::time::Duration;

use clap::Args;
use serde_json::{json, Value};

use crate::commands::query::read_row_as;
use crate::model::Cluster;

/// Default `--max-xact-age`, in seconds (autobase's pre-check refuses a transaction older than 15 s).
const DEFAULT_XACT_AGE: f64 = 15.0;
/// Default `--max-slot-wal`: 1 GiB.
const DEFAULT_SLOT_WAL: u64 = 1 << 30;
/// The server-side bound on the read (within the connect timeout of `query`).
const STATEMENT_TIMEOUT_MS: u64 = 3000;
/// Field and record separators inside the aggregated columns (never in names PostgreSQL accepts
/// unquoted; quoted ones are tidied by the output layer).
const FS: char = '\u{1f}';
const RS: char = '\u{1e}';

/// The PostgreSQL pre-flight options of `switchover`, `failover` and `rollout`.
#[derive(Debug, Clone, Args)]
pub struct PgArgs {
    /// Make the PostgreSQL pre-flight's warnings (long or prepared transactions, slots retaining
    /// WAL, archiving failures) block the switch: --dry-run and the switch exit 1
    #[arg(long)]
    pub strict: bool,
    /// Do not look inside the leader's PostgreSQL before the switch
    #[arg(long = "skip-pg-checks")]
    pub skip_pg_checks: bool,
    /// Warn about transactions on the leader open longer than this, in seconds
    #[arg(long = "max-xact-age", value_name = "SECONDS", default_value_t = DEFAULT_XACT_AGE)]
    pub max_xact_age: f64,
    /// Warn about replication slots retaining more WAL than this, in bytes
    #[arg(long = "max-slot-wal", value_name = "BYTES", default_value_t = DEFAULT_SLOT_WAL)]
    pub max_slot_wal: u64,
    /// The PostgreSQL user of the pre-flight's connection [default: PGUSER, else the OS user]
    #[arg(long = "dbuser", value_name = "TEXT")]
    pub dbuser: Option<String>,
}

impl Default for PgArgs {
    fn default() -> Self {
        PgArgs {
            strict: false,
            skip_pg_checks: false,
            max_xact_age: DEFAULT_XACT_AGE,
            max_slot_wal: DEFAULT_SLOT_WAL,
            dbuser: None,
        }
    }
}

/// What the PostgreSQL pre-flight found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PgReport {
    /// The member asked (the leader).
    pub member: Option<String>,
    /// Why the checks did not run (the INFO line).
    pub skipped: Option<String>,
    /// `(check, message)`: each a WARN, or a blocking problem under `--strict`.
    pub findings: Vec<(&'static str, String)>,
    /// Client backends on the leader (other than ours): the connections the switch will cut.
    pub client_backends: Option<i64>,
    /// `--strict` was given.
    pub strict: bool,
}

impl PgReport {
    fn skipped(member: Option<String>, why: String, strict: bool) -> PgReport {
        PgReport {
            member,
            skipped: Some(why),
            strict,
            ..PgReport::default()
        }
    }

    /// The INFO lines (pure): the skip, or the client backends the switch will cut.
    pub fn info(&self) -> Vec<String> {
        if let Some(why) = &self.skipped {
            return vec![format!("PostgreSQL checks skipped: {why}")];
        }
        match (&self.member, self.client_backends) {
            (Some(m), Some(n)) => vec![format!(
                "{n} client connection(s) on {m} will be cut by the switch"
            )],
            _ => vec![],
        }
    }

    /// The findings as text, `member: message`.
    pub fn lines(&self) -> Vec<String> {
        let m = self.member.as_deref().unwrap_or("leader");
        self.findings
            .iter()
            .map(|(_, msg)| format!("{m}: {msg}"))
            .collect()
    }

    /// `postgresql` in the `SwitchoverPlan` document.
    pub fn to_json(&self) -> Value {
        json!({
            "member": self.member,
            "checked": self.skipped.is_none(),
            "skipped": self.skipped,
            "strict": self.strict,
            "clientBackends": self.client_backends,
            "findings": self.findings.iter().map(|(c, m)| json!({
                "check": c,
                "result": if self.strict { "FAIL" } else { "WARN" },
                "message": m,
            })).collect::<Vec<_>>(),
        })
    }
}

/// The one read: five columns, each one aggregated text value (`read_row` returns one row).
fn sql(args: &PgArgs) -> String {
    let age = if args.max_xact_age.is_finite() {
        args.max_xact_age.max(0.0)
    } else {
        DEFAULT_XACT_AGE
    };
    let fs = "chr(31)";
    let rs = "chr(30)";
    format!(
        "SET statement_timeout = {STATEMENT_TIMEOUT_MS}; \
SET default_transaction_read_only = on; \
SELECT \
(SELECT string_agg(pid || {fs} || coalesce(usename, '') || {fs} || coalesce(application_name, '') \
 || {fs} || floor(extract(epoch FROM now() - xact_start))::bigint, {rs} ORDER BY xact_start) \
 FROM pg_catalog.pg_stat_activity WHERE xact_start IS NOT NULL AND pid <> pg_catalog.pg_backend_pid() \
 AND backend_type = 'client backend' AND now() - xact_start > interval '1 second' * {age}), \
(SELECT string_agg(gid || {fs} || owner || {fs} || floor(extract(epoch FROM now() - prepared))::bigint, {rs}) \
 FROM pg_catalog.pg_prepared_xacts), \
(SELECT string_agg(slot_name || {fs} || d::bigint, {rs}) FROM (SELECT slot_name, \
 pg_catalog.pg_wal_lsn_diff(CASE WHEN pg_catalog.pg_is_in_recovery() \
 THEN pg_catalog.pg_last_wal_replay_lsn() ELSE pg_catalog.pg_current_wal_lsn() END, restart_lsn) AS d \
 FROM pg_catalog.pg_replication_slots WHERE restart_lsn IS NOT NULL) s WHERE d > {slot}), \
(SELECT failed_count || {fs} || coalesce(last_failed_wal, '') || {fs} || last_failed_time \
 FROM pg_catalog.pg_stat_archiver WHERE last_failed_time IS NOT NULL \
 AND (last_archived_time IS NULL OR last_failed_time > last_archived_time)), \
(SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend' \
 AND pid <> pg_catalog.pg_backend_pid())::text",
        slot = args.max_slot_wal,
    )
}

/// The records of one aggregated column.
fn records(col: Option<&Option<String>>) -> Vec<Vec<String>> {
    match col.and_then(|c| c.as_deref()) {
        Some(s) if !s.is_empty() => s
            .split(RS)
            .map(|r| r.split(FS).map(String::from).collect())
            .collect(),
        _ => vec![],
    }
}

/// Judge the row read (pure): one finding per old transaction, prepared transaction, slot and
/// archiver failure; the client backend count.
pub fn judge(row: &[Option<String>], args: &PgArgs) -> (Vec<(&'static str, String)>, Option<i64>) {
    let mut out = Vec::new();
    let field = |r: &[String], i: usize| r.get(i).cloned().unwrap_or_default();
    for r in records(row.first()) {
        out.push((
            "transaction",
            format!(
                "transaction open for {} s (limit {}) by pid {} user {} application {:?}",
                field(&r, 3),
                args.max_xact_age,
                field(&r, 0),
                field(&r, 1),
                field(&r, 2)
            ),
        ));
    }
    for r in records(row.get(1)) {
        out.push((
            "prepared",
            format!(
                "prepared transaction {:?} of user {} (prepared {} s ago)",
                field(&r, 0),
                field(&r, 1),
                field(&r, 2)
            ),
        ));
    }
    for r in records(row.get(2)) {
        out.push((
            "slot",
            format!(
                "replication slot {} retains {} bytes of WAL (limit {})",
                field(&r, 0),
                field(&r, 1),
                args.max_slot_wal
            ),
        ));
    }
    for r in records(row.get(3)) {
        out.push((
            "archiver",
            format!(
                "WAL archiving failing since the last success ({} failure(s), last {} at {})",
                field(&r, 0),
                field(&r, 1),
                field(&r, 2)
            ),
        ));
    }
    let backends = row.get(4).cloned().flatten().and_then(|s| s.parse().ok());
    (out, backends)
}

/// The configuration's `postgresql.authentication.superuser` user name and password.
pub fn config_superuser(raw: &crate::config::Mapping) -> Option<(String, String)> {
    let su = raw
        .get("postgresql")?
        .get("authentication")?
        .get("superuser")?;
    let text = |k: &str| su.get(k).and_then(|v| v.as_str()).map(String::from);
    Some((text("username")?, text("password")?))
}

/// Run the checks on `cluster`'s leader, within `timeout` (the request timeout) at most: with
/// `query`'s credentials, then (without `--dbuser`) with `superuser` from the configuration.
pub async fn check(
    cluster: &Cluster,
    args: &PgArgs,
    superuser: Option<(String, String)>,
    timeout: Duration,
) -> PgReport {
    if args.skip_pg_checks {
        return PgReport::skipped(None, "--skip-pg-checks".into(), args.strict);
    }
    let Some(leader) = cluster.leader_member() else {
        return PgReport::skipped(None, "the cluster has no leader".into(), args.strict);
    };
    let name = Some(leader.name.clone());
    let sql = sql(args);
    let mut attempts = vec![(args.dbuser.clone(), None)];
    if let Some((u, p)) = superuser.filter(|_| args.dbuser.is_none()) {
        attempts.push((Some(u), Some(p)));
    }
    // `read_row_as` bounds its connect and its statement by `query`'s connect timeout; the request
    // timeout bounds the whole read, as it bounds every other pre-flight call.
    let all = async {
        let mut last = String::new();
        for (user, password) in &attempts {
            match read_row_as(leader, user.as_deref(), password.as_deref(), &sql).await {
                Ok(row) => return Ok(row),
                Err(e) => last = e.message,
            }
        }
        Err(last)
    };
    let row = match tokio::time::timeout(timeout.max(Duration::from_secs(1)), all).await {
        Ok(Ok(row)) => row,
        Ok(Err(e)) => return PgReport::skipped(name, e, args.strict),
        Err(_) => {
            return PgReport::skipped(
                name,
                format!("{}: no answer within {:?}", leader.name, timeout),
                args.strict,
            )
        }
    };
    let (findings, client_backends) = judge(&row, args);
    PgReport {
        member: name,
        skipped: None,
        findings,
        client_backends,
        strict: args.strict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cols: [Option<&str>; 5]) -> Vec<Option<String>> {
        cols.iter().map(|c| c.map(String::from)).collect()
    }

    #[test]
    fn nothing_found_is_no_finding() {
        let (f, n) = judge(
            &row([None, None, None, None, Some("3")]),
            &PgArgs::default(),
        );
        assert!(f.is_empty());
        assert_eq!(n, Some(3));
    }

    #[test]
    fn each_kind_is_a_finding() {
        let x = "42\u{1f}bob\u{1f}psql\u{1f}20\u{1e}43\u{1f}al\u{1f}\u{1f}99";
        let (f, _) = judge(
            &row([
                Some(x),
                Some("g1\u{1f}postgres\u{1f}5"),
                Some("s1\u{1f}2000000000"),
                Some("3\u{1f}000000010000000000000002\u{1f}2026-01-01"),
                Some("0"),
            ]),
            &PgArgs::default(),
        );
        let kinds: Vec<_> = f.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            kinds,
            ["transaction", "transaction", "prepared", "slot", "archiver"]
        );
        assert!(f[0].1.contains("pid 42 user bob application \"psql\""));
        assert!(f[0].1.contains("open for 20 s (limit 15)"));
        assert!(f[3].1.contains("slot s1 retains 2000000000 bytes"));
    }

    #[test]
    fn report_lines_info_and_json() {
        let strict = PgArgs {
            strict: true,
            ..PgArgs::default()
        };
        let (findings, client_backends) = judge(
            &row([Some("1\u{1f}u\u{1f}a\u{1f}30"), None, None, None, Some("2")]),
            &strict,
        );
        let r = PgReport {
            member: Some("node1".into()),
            skipped: None,
            findings,
            client_backends,
            strict: true,
        };
        assert_eq!(r.lines().len(), 1);
        assert!(r.lines()[0].starts_with("node1: transaction open for 30 s"));
        assert_eq!(
            r.info(),
            ["2 client connection(s) on node1 will be cut by the switch"]
        );
        assert_eq!(r.to_json()["findings"][0]["result"], "FAIL");
        let s = PgReport::skipped(None, "--skip-pg-checks".into(), false);
        assert_eq!(s.info(), ["PostgreSQL checks skipped: --skip-pg-checks"]);
        assert_eq!(s.to_json()["checked"], false);
    }

    #[test]
    fn the_sql_carries_the_bounds() {
        let s = sql(&PgArgs {
            max_xact_age: 7.5,
            max_slot_wal: 123,
            ..PgArgs::default()
        });
        assert!(s.starts_with("SET statement_timeout = 3000;"));
        assert!(s.contains("interval '1 second' * 7.5"));
        assert!(s.contains("WHERE d > 123"));
        let nan = sql(&PgArgs {
            max_xact_age: f64::NAN,
            ..PgArgs::default()
        });
        assert!(nan.contains("* 15"));
    }
}
