//! Run patctl commands in-process against a [`Memory`] DCS seeded with a three-member cluster whose
//! REST APIs are fake ones on loopback.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use patctl::cli::{run_command, Parsed};
use patctl::context::Context;
use patctl::dcs::{Dcs, Layout, Memory};
use patctl::output::Ui;

pub use crate::fake_api::*;
pub use crate::wait::*;

/// What a command printed and how it exited.
#[derive(Debug, Clone)]
pub struct Out {
    pub stdout: String,
    pub stderr: String,
    pub code: u8,
}

impl Out {
    /// Assert the exit code, showing the output when it differs.
    #[track_caller]
    pub fn code(&self, code: u8) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// stdout without the `YYYY-MM-DD HH:MM:SS.ffffff ` timestamps patronictl puts before some lines.
    pub fn stdout_untimed(&self) -> String {
        untimed(&self.stdout)
    }
}

/// Text with the leading timestamps of its lines removed.
pub fn untimed(text: &str) -> String {
    text.lines()
        .map(|l| {
            let b = l.as_bytes();
            let stamped = b.len() > 20
                && b[4] == b'-'
                && b[7] == b'-'
                && b[10] == b' '
                && b[13] == b':'
                && b[..4].iter().all(u8::is_ascii_digit);
            if stamped {
                l.split_once(' ')
                    .and_then(|(_, rest)| rest.split_once(' '))
                    .map_or(l, |(_, rest)| rest)
            } else {
                l
            }
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// A cluster in memory (namespace `/service/`, scope `demo`) and the config file naming it.
pub struct World {
    /// The DCS every command of this world reads and writes.
    pub dcs: Memory,
    config: PathBuf,
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

impl World {
    /// An empty DCS; the configuration names scope `demo` (extra YAML appended).
    pub fn empty_with(extra_yaml: &str) -> World {
        let dir = std::env::temp_dir().join(format!(
            "patctl-hermetic-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("patroni.yml");
        // The etcd endpoint is never used: the context gets the in-memory store instead.
        let text = format!(
            "scope: demo\nnamespace: /service/\netcd3:\n  hosts: 127.0.0.1:1\n{extra_yaml}"
        );
        std::fs::write(&config, text).unwrap();
        World {
            dcs: Memory::new(),
            config,
        }
    }

    /// An empty DCS, plain (not Citus) configuration.
    pub fn empty() -> World {
        World::empty_with("")
    }

    /// The demo cluster: node1 leads, node2 and node3 stream from it; each member's REST API is the
    /// given fake (or a closed port).
    pub fn demo(apis: [&str; 3]) -> World {
        let w = World::empty();
        w.seed_demo("/service/demo/", apis);
        w
    }

    /// The demo cluster with every member's REST API served by `api`.
    pub fn demo_served_by(api: &FakeApi) -> World {
        let url = api.url();
        World::demo([&url, &url, &url])
    }

    /// The demo cluster with no member's REST API reachable (closed ports).
    pub fn demo_unreachable() -> World {
        let dead = dead_api();
        World::demo([&dead, &dead, &dead])
    }

    /// Write the demo cluster's keys under `dir` (leader and members on a lease, as Patroni writes
    /// them).
    pub fn seed_demo(&self, dir: &str, apis: [&str; 3]) {
        let put = |k: &str, v: &str| self.dcs.set(&format!("{dir}{k}"), v);
        let leased = |k: &str, v: &str| self.dcs.set_leased(&format!("{dir}{k}"), v, 7);
        put(
            "config",
            r#"{"ttl":30,"loop_wait":10,"retry_timeout":10,"maximum_lag_on_failover":1048576,"postgresql":{"parameters":{"max_connections":100}}}"#,
        );
        put("initialize", "7712032472125471084");
        leased("leader", "node1");
        put("status", r#"{"optime":67108960}"#);
        put(
            "history",
            r#"[[1,25165984,"no recovery target specified","2026-11-25T09:06:12.571482+00:00","node1"]]"#,
        );
        for (i, api) in apis.iter().enumerate() {
            let n = i + 1;
            leased(&format!("members/node{n}"), &member(n, api, n == 1));
        }
    }

    /// An absolute key of the demo cluster.
    pub fn key(rel: &str) -> String {
        format!("/service/demo/{rel}")
    }

    /// A key of the demo cluster, as stored now.
    pub fn get(&self, rel: &str) -> Option<String> {
        self.dcs.get(&World::key(rel))
    }

    /// Run `patctl -c <config> ARGS` with nothing to read at prompts.
    pub fn run(&self, args: &[&str]) -> Out {
        self.run_stdin(args, "")
    }

    /// Run `patctl -c <config> ARGS`, prompts answered from `stdin`.
    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Out {
        self.run_on(args, stdin, true)
    }

    /// Run `patctl -c <config> ARGS` against the configured DCS itself (an etcd on a closed port),
    /// not the in-memory one: every DCS call fails as unreachable.
    pub fn run_without_dcs(&self, args: &[&str]) -> Out {
        self.run_on(args, "", false)
    }

    /// Run as `patctl::run` does (`-o` included: the envelope is written at the end, commands that
    /// need no configuration run offline), on the in-memory DCS when `memory`.
    fn run_on(&self, args: &[&str], stdin: &str, memory: bool) -> Out {
        let config = self.config.to_string_lossy().into_owned();
        let mut argv = vec!["patctl", "-c", config.as_str()];
        argv.extend_from_slice(args);
        let (cli, name) = match patctl::cli::parse("patctl", argv.iter().map(Into::into).collect())
        {
            Parsed::Run { cli, command_name } => (*cli, command_name),
            Parsed::Usage(e, _) => panic!("bad arguments {args:?}: {e}"),
            Parsed::Failed(e) => {
                let ui = Ui::scripted(stdin);
                ui.report(&e);
                let (stdout, stderr) = ui.captured();
                return Out {
                    stdout,
                    stderr,
                    code: e.exit.code(),
                };
            }
        };
        let ui = Ui::scripted(stdin).with_machine(cli.output, &name);
        if let Some(exit) = patctl::cli::run_offline(&cli, &ui) {
            let (stdout, stderr) = ui.captured();
            return Out {
                stdout,
                stderr,
                code: exit.code(),
            };
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let result = runtime.block_on(async {
            let mut ctx = Context::new(&cli.sources(), &ui)?;
            if memory {
                let layout = Layout::of(&ctx.settings);
                ctx.set_dcs(Dcs::memory(&self.dcs, layout));
            }
            run_command(&mut ctx, cli.command).await
        });
        runtime.shutdown_background();
        ui.finish_machine(&result);
        let code = match &result {
            Ok(()) => 0,
            Err(e) => {
                ui.report(e);
                e.exit.code()
            }
        };
        let (stdout, stderr) = ui.captured();
        Out {
            stdout,
            stderr,
            code,
        }
    }
}

/// A member key as Patroni 4.1.5 writes it: node `n` on PostgreSQL port 5432+n, REST API at `api`.
pub fn member(n: usize, api: &str, leader: bool) -> String {
    if leader {
        format!(
            r#"{{"conn_url":"postgres://127.0.0.1:{}/postgres","api_url":"{api}/patroni","state":"running","role":"primary","version":"4.1.5","xlog_location":67108960,"timeline":1}}"#,
            5432 + n
        )
    } else {
        format!(
            r#"{{"conn_url":"postgres://127.0.0.1:{}/postgres","api_url":"{api}/patroni","state":"running","role":"replica","version":"4.1.5","xlog_location":67108960,"replay_lsn":67108960,"receive_lsn":67108960,"replication_state":"streaming","timeline":1}}"#,
            5432 + n
        )
    }
}

/// A REST URL nothing answers on.
pub fn dead_api() -> String {
    format!("http://127.0.0.1:{}", closed_port())
}
