//! patctl: a fast, drop-in replacement for Patroni's `patronictl`.
//!
//! The pipeline is the one of the model Rust CLIs: parse the command line (no I/O), load the
//! configuration, run one command on a current-thread tokio runtime, and map the result to an exit
//! code at one boundary ([`error::Exit`]). Commands live in [`commands`], one file per family; the DCS
//! store behind [`dcs::Dcs`]; the REST client in [`api`]; everything printed goes through [`output`].

pub mod api;
pub mod cli;
pub mod commands;
pub mod complete;
pub mod config;
pub mod context;
pub mod dcs;
pub mod error;
pub mod generate;
pub mod http_client;
#[cfg(test)]
mod import_rules;
pub mod model;
pub mod output;
pub mod par;
pub mod peer_cert;
pub mod py;
pub mod time;
pub mod tls;
pub mod tls_refusal;
pub mod tls_stream;
pub mod usage;

use std::ffi::OsString;
use std::process::ExitCode;

use crate::error::Exit;

/// Parse `args`, run the command, and return the process exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args: Vec<OsString> = args.into_iter().collect();
    let bin = cli::invoked_name(args.first());
    // `COMPLETE=<shell> patctl …` is a completion request from the shell; it prints and exits.
    if std::env::var_os("COMPLETE").is_some() {
        clap_complete::CompleteEnv::with_factory(|| complete::add_completers(command())).complete();
    }
    let (cli, command_name) = match cli::parse(&bin, args) {
        cli::Parsed::Run { cli, command_name } => (*cli, command_name),
        cli::Parsed::Usage(e, args) => return usage_exit(e, &bin, &args),
        cli::Parsed::Failed(e) => {
            output::Ui::new(output::ColorChoice::Never).report(&e);
            return e.exit.into();
        }
    };
    let ui = output::Ui::new(cli.color).with_machine(cli.output, &command_name);
    if let Some(done) = cli::run_offline(&cli, &ui) {
        return done.into();
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            ui.err_line(&format!("Error: cannot start the runtime: {e}"));
            return Exit::Failure.into();
        }
    };
    let result = runtime.block_on(cli::dispatch(cli, &ui));
    runtime.shutdown_background();
    ui.finish_machine(&result);
    match result {
        Ok(()) => Exit::Success.into(),
        Err(e) => {
            ui.report(&e);
            e.exit.into()
        }
    }
}

fn usage_exit(e: clap::Error, bin: &str, args: &[OsString]) -> ExitCode {
    match usage::click_message(&e, &mut cli::Cli::command_for(bin), args) {
        Some(text) => output::Ui::new(output::ColorChoice::Never).err_raw(&text),
        None => {
            let _ = e.print();
        }
    }
    if e.use_stderr() {
        Exit::Usage.into()
    } else {
        Exit::Success.into()
    }
}

/// Parse-only entry point used by tests and `generate`: the clap command tree.
pub fn command() -> clap::Command {
    <cli::Cli as clap::CommandFactory>::command()
}
