//! The context every command runs in: the resolved configuration, the terminal, and the DCS and REST
//! clients, connected on first use (so `version` without a cluster never touches the network).
//! Mirrors patronictl's `ctl` group callback plus its cached `get_dcs` / `request_patroni`.
//!
//! When a command read a cluster that has no key at all, [`Context::conclude`] adds the scopes that
//! do exist to its error (or to stderr after an empty `list`): patctl's hint for a misspelt name.
//!
//! Tests run commands in-process by giving the context a store of their own ([`Context::set_dcs`],
//! e.g. [`Dcs::memory`]) before running a command.

use crate::api::Api;
use crate::config::{self, Settings, Sources};
use crate::dcs::{Dcs, Layout};
use crate::error::{Error, Result};
use crate::model::Cluster;
use crate::output::Ui;

/// Resolved settings plus lazily connected clients.
pub struct Context<'a> {
    /// The loaded configuration.
    pub settings: Settings,
    /// The terminal.
    pub ui: &'a Ui,
    dcs: Option<Dcs>,
    api: Option<Api>,
    /// The clusters whose last read found no key at all (perhaps a misspelt name).
    absent: Vec<String>,
}

impl<'a> Context<'a> {
    /// Load the configuration named by the command line and environment.
    pub fn new(sources: &Sources, ui: &'a Ui) -> Result<Context<'a>> {
        let settings = config::load(sources)?;
        Ok(Context {
            settings,
            ui,
            dcs: None,
            api: None,
            absent: Vec::new(),
        })
    }

    /// The DCS, connecting on first use.
    pub async fn dcs(&mut self) -> Result<&mut Dcs> {
        if self.dcs.is_none() {
            let s = self.settings.dcs()?.clone();
            self.dcs = Some(Dcs::connect(&s, Layout::of(&self.settings)).await?);
        }
        Ok(self.dcs.as_mut().expect("connected above"))
    }

    /// The DCS, connecting first if needed, taken out of the context for a task of its own (`top`'s
    /// watcher); the context connects again if asked later.
    pub async fn take_dcs(&mut self) -> Result<Dcs> {
        self.dcs().await?;
        Ok(self.dcs.take().expect("connected above"))
    }

    /// Use this store instead of connecting to the configured one (tests).
    pub fn set_dcs(&mut self, dcs: Dcs) {
        self.dcs = Some(dcs);
    }

    /// The REST client, built on first use.
    pub fn api(&mut self) -> Result<&Api> {
        if self.api.is_none() {
            self.api = Some(Api::new(&self.settings.rest)?);
        }
        Ok(self.api.as_ref().expect("built above"))
    }

    /// The REST client and the DCS together (disjoint borrows), for work that asks both at once.
    pub async fn api_and_dcs(&mut self) -> Result<(&Api, &mut Dcs)> {
        self.api()?;
        self.dcs().await?;
        Ok((
            self.api.as_ref().expect("built above"),
            self.dcs.as_mut().expect("connected above"),
        ))
    }

    /// Whether this invocation treats the cluster as Citus (a `citus` section, or `--group` given).
    pub fn is_citus(&self, group: Option<i64>) -> bool {
        self.settings.citus || group.is_some()
    }

    /// Read a cluster, as patronictl's `get_dcs(name, group).get_cluster()`. Without `--group` on a
    /// Citus cluster the whole scope is read and split into coordinator and workers.
    pub async fn cluster(&mut self, name: &str, group: Option<i64>) -> Result<Cluster> {
        let cluster = self.dcs().await?.get_cluster(name, group).await?;
        self.absent.retain(|n| n != name);
        if cluster == Cluster::default() {
            self.absent.push(name.to_string());
        }
        Ok(cluster)
    }

    /// A command's result with the hint for an unknown cluster: when the last read of a cluster
    /// found no key and its name is not among the scopes in the DCS, the error (that has no hint of
    /// its own) says which clusters exist; on success (an empty `list`) the hint goes to stderr. The
    /// scopes are read within the request timeout; when that fails there is no hint.
    pub async fn conclude(&mut self, result: Result<()>) -> Result<()> {
        if self.absent.is_empty() || result.as_ref().is_err_and(|e| e.hint.is_some()) {
            return result;
        }
        let Some(hint) = self.unknown_cluster_hint().await else {
            return result;
        };
        match result {
            Ok(()) => {
                self.ui.err_line(&format!("Hint: {hint}"));
                Ok(())
            }
            Err(e) => Err(e.with_hint(hint)),
        }
    }

    async fn unknown_cluster_hint(&mut self) -> Option<String> {
        let timeout = self.settings.rest.timeout;
        let namespace = self.settings.namespace.clone();
        let dcs = self.dcs.as_mut()?;
        let scopes = tokio::time::timeout(timeout, dcs.scopes())
            .await
            .ok()?
            .ok()?;
        let unknown: Vec<&String> = self.absent.iter().filter(|n| !scopes.contains(n)).collect();
        let [name, ..] = unknown[..] else {
            return None;
        };
        Some(if scopes.is_empty() {
            format!(
                "there is no cluster {name} in the DCS: the namespace {namespace} holds no cluster"
            )
        } else {
            format!(
                "there is no cluster {name} in the DCS; the clusters in {namespace}: {}",
                scopes.join(", ")
            )
        })
    }

    /// The cluster name: the argument, else `scope` from the configuration.
    pub fn cluster_name(&self, arg: Option<String>) -> Result<String> {
        arg.or_else(|| self.settings.scope.clone()).ok_or_else(|| {
            Error::usage("no cluster name given and no 'scope' in the configuration (use -c or name the cluster)")
        })
    }

    /// `--group`, defaulting to `citus.group` for the commands where patronictl does that.
    pub fn default_group(&self, arg: Option<i64>) -> Option<i64> {
        arg.or(self.settings.citus_group)
    }
}
