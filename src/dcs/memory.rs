//! An in-memory DCS for tests: a [`KeyValue`] with real versions (a store-wide revision, like etcd
//! v3's `mod_revision`), real compare-and-swap, and change notification for `wait_for_change`.
//!
//! A [`Memory`] is a handle: clones share the same keys, so a test keeps one to seed the store, to
//! look at what a command wrote afterwards, and to make a concurrent change land just before the
//! command's next write ([`Memory::race_next_write`]) or the store stop answering
//! ([`Memory::set_unreachable`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;

use super::{EndpointStatus, Expect, KeyChange, KeyTtl, KeyValue, KvChanges, Version};
use crate::error::{Error, Result};
use crate::model::Node;

/// A shared in-memory key-value store.
#[derive(Clone)]
pub struct Memory {
    state: Arc<Mutex<State>>,
    /// The revision of the last change, for waiters.
    changed: Arc<watch::Sender<i64>>,
    /// The revision this handle last read at (a wait sees every change after it).
    read_at: Option<i64>,
}

#[derive(Default)]
struct State {
    /// Key → (value, revision of its last change).
    keys: BTreeMap<String, (String, i64)>,
    /// The store-wide revision, bumped by every change.
    revision: i64,
    /// Every change as (revision, key, new value), deletions (`None`) included.
    log: Vec<(i64, String, Option<String>)>,
    /// Changes to apply just before the next write, as if another client had been faster.
    races: Vec<(String, Option<String>)>,
    /// Every write and delete a client made, in order (`put KEY VALUE`, `delete PREFIX`).
    writes: Vec<String>,
    unreachable: bool,
    /// How many calls failed as unreachable (tests wait on it: the client has seen the outage).
    refusals: usize,
    /// Key → lease, for keys set with [`Memory::set_leased`] (cleared by any other change).
    leases: BTreeMap<String, i64>,
    /// Lease → what is left of it, as [`Memory::set_lease_ttl`] made it.
    lease_ttls: BTreeMap<i64, KeyTtl>,
    /// Every lease asked about through [`KeyValue::time_to_live`], in order.
    ttl_asks: Vec<i64>,
    /// What [`KeyValue::endpoint_statuses`] answers.
    endpoints: Vec<EndpointStatus>,
}

impl State {
    fn set(&mut self, key: &str, value: Option<&str>) {
        self.revision += 1;
        self.leases.remove(key);
        match value {
            Some(v) => {
                self.keys
                    .insert(key.to_string(), (v.to_string(), self.revision));
            }
            None => {
                self.keys.remove(key);
            }
        }
        self.log
            .push((self.revision, key.to_string(), value.map(String::from)));
    }
}

impl Default for Memory {
    fn default() -> Self {
        Memory::new()
    }
}

impl Memory {
    /// An empty store.
    pub fn new() -> Memory {
        Memory {
            state: Arc::default(),
            changed: Arc::new(watch::channel(0).0),
            read_at: None,
        }
    }

    /// A store holding these keys (absolute paths), written in order.
    pub fn with<K: AsRef<str>, V: AsRef<str>>(keys: impl IntoIterator<Item = (K, V)>) -> Memory {
        let m = Memory::new();
        for (k, v) in keys {
            m.set(k.as_ref(), v.as_ref());
        }
        m
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn notify(&self, revision: i64) {
        self.changed.send_replace(revision);
    }

    /// Set a key, as another client would (not recorded in [`Memory::writes`]).
    pub fn set(&self, key: &str, value: &str) {
        let rev = {
            let mut s = self.lock();
            s.set(key, Some(value));
            s.revision
        };
        self.notify(rev);
    }

    /// Set a key attached to a lease, as Patroni writes its leader and member keys (read back as the
    /// node's `session`, like an etcd v3 lease; a later change of the key drops it).
    pub fn set_leased(&self, key: &str, value: &str, lease: i64) {
        let rev = {
            let mut s = self.lock();
            s.set(key, Some(value));
            s.leases.insert(key.to_string(), lease);
            s.revision
        };
        self.notify(rev);
    }

    /// Give a lease (of [`Memory::set_leased`]) its granted and remaining time to live, as etcd v3's
    /// `LeaseTimeToLive` would answer; a lease without one answers nothing (like an expired lease).
    pub fn set_lease_ttl(&self, lease: i64, granted: f64, remaining: f64) {
        self.lock().lease_ttls.insert(
            lease,
            KeyTtl {
                granted: Some(granted),
                remaining,
            },
        );
    }

    /// The leases asked about through [`KeyValue::time_to_live`], in order.
    pub fn ttl_asks(&self) -> Vec<i64> {
        self.lock().ttl_asks.clone()
    }

    /// Make [`KeyValue::endpoint_statuses`] answer these (none by default: no endpoint to judge).
    pub fn set_endpoint_statuses(&self, statuses: Vec<EndpointStatus>) {
        self.lock().endpoints = statuses;
    }

    /// Delete a key, as another client would.
    pub fn remove(&self, key: &str) {
        let rev = {
            let mut s = self.lock();
            s.set(key, None);
            s.revision
        };
        self.notify(rev);
    }

    /// A key's value.
    pub fn get(&self, key: &str) -> Option<String> {
        self.lock().keys.get(key).map(|(v, _)| v.clone())
    }

    /// A key's version.
    pub fn version(&self, key: &str) -> Option<Version> {
        self.lock().keys.get(key).map(|(_, r)| Version::new(*r))
    }

    /// Every key, sorted.
    pub fn keys(&self) -> Vec<String> {
        self.lock().keys.keys().cloned().collect()
    }

    /// What clients wrote through [`KeyValue`], in order: `put KEY VALUE` and `delete PREFIX`.
    pub fn writes(&self) -> Vec<String> {
        self.lock().writes.clone()
    }

    /// Make `key` become `value` (`None`: deleted) just before the next write through [`KeyValue`], as
    /// a concurrent client that got there first.
    pub fn race_next_write(&self, key: &str, value: Option<&str>) {
        self.lock()
            .races
            .push((key.to_string(), value.map(String::from)));
    }

    /// Make every call fail as an unreachable DCS (exit 3), or answer again.
    pub fn set_unreachable(&self, unreachable: bool) {
        self.lock().unreachable = unreachable;
    }

    /// How many calls have failed as unreachable so far: a test waits on it to know that a client has
    /// seen the outage before it ends the outage.
    pub fn refusals(&self) -> usize {
        self.lock().refusals
    }

    /// How many clients wait for a change now: a test waits on it to know that a client has read and
    /// watches (a change made earlier would be part of its first read, not a change it sees).
    pub fn waiters(&self) -> usize {
        self.changed.receiver_count()
    }

    /// The error of an unreachable store, when it is one.
    fn check(&self) -> Result<()> {
        let mut s = self.lock();
        if s.unreachable {
            s.refusals += 1;
            Err(Error::unreachable(
                "DCS unreachable at memory (set unreachable by the test)",
            ))
        } else {
            Ok(())
        }
    }

    /// Apply the pending races; `true` when there were any.
    fn run_races(&self, s: &mut State) -> bool {
        let races = std::mem::take(&mut s.races);
        for (k, v) in &races {
            s.set(k, v.as_deref());
        }
        !races.is_empty()
    }
}

#[async_trait]
impl KeyValue for Memory {
    async fn read_prefix(&mut self, prefix: &str) -> Result<Vec<Node>> {
        self.check()?;
        let s = self.lock();
        let nodes = s
            .keys
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, (v, r))| Node {
                key: k[prefix.len()..].to_string(),
                value: v.clone(),
                version: Version::new(*r),
                session: s.leases.get(k).copied(),
            })
            .collect();
        let rev = s.revision;
        drop(s);
        self.read_at = Some(rev);
        Ok(nodes)
    }

    async fn put(&mut self, key: &str, value: &str, expect: Expect) -> Result<bool> {
        self.check()?;
        let (won, rev) = {
            let mut s = self.lock();
            let raced = self.run_races(&mut s);
            let current = s.keys.get(key).map(|(_, r)| *r);
            let won = match expect {
                Expect::Any => true,
                Expect::Absent => current.is_none(),
                Expect::At(v) => current == Some(v.raw()),
            };
            if won {
                s.set(key, Some(value));
                s.writes.push(format!("put {key} {value}"));
            }
            (won, (won || raced).then_some(s.revision))
        };
        if let Some(r) = rev {
            self.notify(r);
        }
        Ok(won)
    }

    async fn delete_prefix(&mut self, prefix: &str) -> Result<()> {
        self.check()?;
        let rev = {
            let mut s = self.lock();
            self.run_races(&mut s);
            let doomed: Vec<String> = s
                .keys
                .keys()
                .filter(|k| k.starts_with(prefix))
                .cloned()
                .collect();
            for k in &doomed {
                s.set(k, None);
            }
            s.writes.push(format!("delete {prefix}"));
            s.revision
        };
        self.notify(rev);
        Ok(())
    }

    /// Returns at once when a key under `prefix` changed since this handle's last read; otherwise
    /// waits for the next change under it.
    async fn wait_for_change(&mut self, prefix: &str, timeout: Duration) -> Result<bool> {
        self.check()?;
        let deadline = tokio::time::Instant::now() + timeout;
        let mut rx = self.changed.subscribe();
        let mut since = self.read_at.unwrap_or_else(|| self.lock().revision);
        loop {
            let (hit, now) = {
                let s = self.lock();
                let hit = s
                    .log
                    .iter()
                    .any(|(r, k, _)| *r > since && k.starts_with(prefix));
                (hit, s.revision)
            };
            if hit {
                self.read_at = None;
                return Ok(true);
            }
            since = now;
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                _ => return Ok(false),
            }
        }
    }

    fn describe(&self) -> String {
        "memory".to_string()
    }

    /// The keys now, or replayed from the log up to `at`.
    async fn read_prefix_at(
        &mut self,
        prefix: &str,
        at: Option<i64>,
    ) -> Result<(Vec<Node>, Option<i64>)> {
        let Some(at) = at else {
            let nodes = self.read_prefix(prefix).await?;
            return Ok((nodes, self.read_at));
        };
        self.check()?;
        let s = self.lock();
        let mut keys: BTreeMap<&str, (&str, i64)> = BTreeMap::new();
        for (r, k, v) in s.log.iter().take_while(|(r, _, _)| *r <= at) {
            match v {
                Some(v) if k.starts_with(prefix) => {
                    keys.insert(k, (v, *r));
                }
                _ => {
                    keys.remove(k.as_str());
                }
            }
        }
        let nodes = keys
            .into_iter()
            .map(|(k, (v, r))| Node {
                key: k[prefix.len()..].to_string(),
                value: v.to_string(),
                version: Version::new(r),
                session: None,
            })
            .collect();
        Ok((nodes, Some(at)))
    }

    /// Every logged change under `prefix` after `after`, waiting for one when there is none yet.
    async fn changes(
        &mut self,
        prefix: &str,
        after: Option<i64>,
        timeout: Duration,
    ) -> Result<KvChanges> {
        self.check()?;
        let deadline = tokio::time::Instant::now() + timeout;
        let mut rx = self.changed.subscribe();
        let after = after.unwrap_or_else(|| self.lock().revision);
        loop {
            let found: Vec<KeyChange> = self
                .lock()
                .log
                .iter()
                .filter(|(r, k, _)| *r > after && k.starts_with(prefix))
                .map(|(r, k, v)| KeyChange {
                    revision: *r,
                    key: k.clone(),
                    value: v.clone(),
                    session: None,
                })
                .collect();
            if !found.is_empty() {
                return Ok(KvChanges::Batch(found));
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => self.check()?,
                _ => return Ok(KvChanges::Idle),
            }
        }
    }

    async fn time_to_live(&mut self, sessions: &[i64]) -> Result<Vec<Option<KeyTtl>>> {
        self.check()?;
        let mut s = self.lock();
        s.ttl_asks.extend_from_slice(sessions);
        Ok(sessions
            .iter()
            .map(|l| s.lease_ttls.get(l).copied())
            .collect())
    }

    async fn endpoint_statuses(
        &mut self,
        _probe_key: &str,
        _budget: Duration,
    ) -> Vec<EndpointStatus> {
        self.lock().endpoints.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn compare_and_swap_on_versions() {
        rt().block_on(async {
            let mut m = Memory::with([("/s/a/config", "{}")]);
            let v = m.version("/s/a/config").unwrap();
            assert!(!m.put("/s/a/config", "x", Expect::Absent).await.unwrap());
            assert!(m.put("/s/a/config", "x", Expect::At(v)).await.unwrap());
            assert!(!m.put("/s/a/config", "y", Expect::At(v)).await.unwrap());
            assert_eq!(m.get("/s/a/config").as_deref(), Some("x"));
            assert!(m.put("/s/a/failover", "f", Expect::Absent).await.unwrap());
            assert!(m.put("/s/a/failover", "g", Expect::Any).await.unwrap());
            assert_eq!(
                m.writes(),
                [
                    "put /s/a/config x",
                    "put /s/a/failover f",
                    "put /s/a/failover g"
                ]
            );
        });
    }

    #[test]
    fn a_raced_write_loses_and_the_race_is_kept() {
        rt().block_on(async {
            let mut m = Memory::with([("/s/a/config", "{}")]);
            let v = m.version("/s/a/config").unwrap();
            m.race_next_write("/s/a/config", Some("theirs"));
            assert!(!m.put("/s/a/config", "mine", Expect::At(v)).await.unwrap());
            assert_eq!(m.get("/s/a/config").as_deref(), Some("theirs"));
            assert!(m.writes().is_empty());
        });
    }

    #[test]
    fn prefix_reads_and_deletes() {
        rt().block_on(async {
            let mut m = Memory::with([
                ("/s/a/leader", "n1"),
                ("/s/a/members/n1", "{}"),
                ("/s/ab/leader", "x"),
            ]);
            let keys: Vec<String> = m
                .read_prefix("/s/a/")
                .await
                .unwrap()
                .into_iter()
                .map(|n| n.key)
                .collect();
            assert_eq!(keys, ["leader", "members/n1"]);
            m.delete_prefix("/s/a/").await.unwrap();
            assert_eq!(m.keys(), ["/s/ab/leader"]);
            m.set_unreachable(true);
            let e = m.read_prefix("/s/").await.unwrap_err();
            assert_eq!(e.exit, crate::error::Exit::Unreachable);
        });
    }

    #[test]
    fn waits_see_changes_after_the_last_read() {
        rt().block_on(async {
            let mut m = Memory::with([("/s/a/leader", "n1")]);
            let other = m.clone();
            m.read_prefix("/s/a/").await.unwrap();
            other.set("/s/b/leader", "x");
            let short = Duration::from_millis(20);
            assert!(!m.wait_for_change("/s/a/", short).await.unwrap());
            other.set("/s/a/leader", "n2");
            assert!(m.wait_for_change("/s/a/", short).await.unwrap());
            let waiter = tokio::spawn({
                let mut m = m.clone();
                async move { m.wait_for_change("/s/a/", Duration::from_secs(5)).await }
            });
            tokio::task::yield_now().await;
            other.set("/s/a/members/n2", "{}");
            assert!(waiter.await.unwrap().unwrap());
        });
    }
}
