//! The context every command runs in: the resolved configuration, the terminal, and the DCS and REST
//! clients, connected on first use (so `version` without a cluster never touches the network).
//! Mirrors patronictl's `ctl` group callback plus its cached `get_dcs` / `request_patroni`.

use crate::api::Api;
use crate::cli::Cli;
use crate::config::{self, Settings, Sources};
use crate::dcs::Store;
use crate::error::{Error, Result};
use crate::model::Cluster;
use crate::output::Ui;

/// Resolved settings plus lazily connected clients.
pub struct Context<'a> {
    /// The loaded configuration.
    pub settings: Settings,
    /// The terminal.
    pub ui: &'a Ui,
    dcs: Option<Store>,
    api: Option<Api>,
}

impl<'a> Context<'a> {
    /// Load the configuration named by the command line and environment.
    pub fn new(cli: &Cli, ui: &'a Ui) -> Result<Context<'a>> {
        let sources = Sources {
            config_file: cli.config_file.clone(),
            dcs_url: cli.dcs_url.clone(),
            insecure: cli.insecure,
            timeout: cli.request_timeout(),
        };
        let settings = config::load(&sources)?;
        Ok(Context {
            settings,
            ui,
            dcs: None,
            api: None,
        })
    }

    /// The DCS client, connecting on first use.
    pub async fn dcs(&mut self) -> Result<&mut Store> {
        if self.dcs.is_none() {
            let s = self.settings.dcs()?.clone();
            self.dcs = Some(Store::connect(&s).await?);
        }
        Ok(self.dcs.as_mut().expect("connected above"))
    }

    /// The REST client, built on first use.
    pub fn api(&mut self) -> Result<&Api> {
        if self.api.is_none() {
            self.api = Some(Api::new(&self.settings.rest)?);
        }
        Ok(self.api.as_ref().expect("built above"))
    }

    /// Whether this invocation treats the cluster as Citus (a `citus` section, or `--group` given).
    pub fn is_citus(&self, group: Option<i64>) -> bool {
        self.settings.citus || group.is_some()
    }

    /// The DCS prefix of a cluster (`/<namespace>/<scope>/[<group>/]`).
    pub fn prefix(&self, name: &str, group: Option<i64>) -> String {
        let g = if self.settings.citus && group.is_none() {
            None
        } else {
            group
        };
        self.settings.cluster_prefix(name, g)
    }

    /// Read a cluster, as patronictl's `get_dcs(name, group).get_cluster()`. Without `--group` on a
    /// Citus cluster the whole prefix is read and split into coordinator and workers.
    pub async fn cluster(&mut self, name: &str, group: Option<i64>) -> Result<Cluster> {
        let mpp = self.settings.citus && group.is_none();
        let prefix = self.prefix(name, group);
        self.dcs().await?.get_cluster(&prefix, mpp).await
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
