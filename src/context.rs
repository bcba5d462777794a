//! The context every command runs in: the resolved configuration, the terminal, and the DCS and REST
//! clients, connected on first use (so `version` without a cluster never touches the network).
//! Mirrors patronictl's `ctl` group callback plus its cached `get_dcs` / `request_patroni`.
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
        self.dcs().await?.get_cluster(name, group).await
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
