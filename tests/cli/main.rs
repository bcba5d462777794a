//! The sandbox tests: every test here runs the real `patctl` binary against the sandbox cluster
//! (`sandbox/cluster.sh up`, then `eval "$(sandbox/cluster.sh env)"`) or a sandbox of its own, and
//! compares with the real `patronictl` run on the same cluster at the same moment.
//!
//! Tests that change the cluster take the cluster lock for writing and leave it healthy.
//!
//! Without the sandbox (no `PATCTL_TEST_CONFIG` in the environment) the tests are skipped, each with
//! a `skipped: <test> needs …` line on stderr (`common::needs`); with `CI` or `PATCTL_REQUIRE_SANDBOX`
//! set they fail instead, so they never pass silently where the sandbox is expected.
//!
//! What needs no sandbox is not here, so that plain `cargo test` runs it: the real binary without a
//! cluster (snapshots, generated files, argument parsing, fuzz, formats, a DCS down) in the `offline`
//! target, command logic in-process in the `hermetic` target.

mod common;
#[path = "../support/complete.rs"]
mod complete;
#[path = "../support/doctor_findings.rs"]
mod doctor_findings;
#[path = "../support/fake_api.rs"]
mod fake_api;
#[path = "../support/fork_server.rs"]
mod fork_server;
#[path = "../support/hung.rs"]
mod hung;
#[path = "../support/process.rs"]
mod process;
#[path = "../support/rng.rs"]
mod rng;
#[path = "../support/schema.rs"]
mod schema;
#[path = "../support/tls_server.rs"]
mod tls_server;
#[path = "../support/wait.rs"]
mod wait;

mod admin; // remove/dsn/query/version/demote-cluster/promote-cluster
mod check; // check: the Nagios checks against the real check_patroni 2.2
mod completion; // dynamic completion of clusters, members, candidates from the sandbox's DCS
mod config; // show-config/edit-config/pause/resume on the sandbox
mod contexts; // named contexts: --context, PATCTL_CONTEXT, context list/use/show
mod dcs; // etcd v2/v3, several members, TLS and auth, HTTPS REST (own sandboxes per mode)
mod doctor; // doctor: healthy sandbox, a frozen member, a stopped etcd member
mod events; // events -o json during real switchovers, pause/resume, edit-config; resuming; etcd restarts
mod faults; // members frozen or answering garbage, the leader lost: bounded, one-line errors
mod generative; // generated Patroni-shaped clusters in etcd: read commands against patronictl, with shrinking
mod list; // list/topology/history: byte-for-byte against patronictl
mod list_all; // list/topology --all over synthetic clusters in a scratch namespace, against patronictl by name
mod machine; // -o json|yaml: envelopes valid against schemas/, data as patronictl shows it
mod members; // restart/reinit/reload/flush: real restarts, DCS effects, prompts vs patronictl
mod rollout; // rollout and wait: a gated rolling restart, a failed step, sync mode; wait --until
mod secrets; // secrets: private files, password_file/password_command, no secret in any output
mod site; // site status/switchover/failover on two sites of their own (sandbox/sites.sh)
mod switchover; // switchover/failover: real switches, prompts, --wait, --dry-run, DCS fallback
mod terminal; // colours, NO_COLOR, control characters on a terminal
mod terminal_walk; // every colouring/drawing command in tmux: no ?[, --wait at 60 columns, Ctrl-C
mod tls; // TLS accepted and refused as patronictl does, SANDBOX_TLS=selfsigned (own sandboxes)
mod top; // top in tmux during a real switchover: new leader, events, resize, q and Ctrl-C
mod tty; // prompts typed into a real terminal (tmux) vs patronictl; closed pipes
mod versions; // PATCTL_VERSIONS: sandboxes on other Patroni versions (reads, check, switchover, replication cut)
mod zookeeper; // the ZooKeeper back end on its own sandbox (SANDBOX_DCS=zookeeper), against patronictl
