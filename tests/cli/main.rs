//! The one integration-test binary. Every test runs the real `patctl` binary, most of them against
//! the sandbox cluster (`sandbox/cluster.sh up`, then `eval "$(sandbox/cluster.sh env)"`), and compares
//! with the real `patronictl` run on the same cluster at the same moment.
//!
//! Tests that change the cluster take the cluster lock for writing and leave it healthy.

mod common;

mod cli_basics; // parsing, config errors, exit codes: no cluster needed
mod dcs; // etcd v2/v3, several members, TLS and auth, HTTPS REST (own sandboxes per mode)
mod generated; // completions/ and man/ are current
mod list; // list/topology/history: byte-for-byte against patronictl
