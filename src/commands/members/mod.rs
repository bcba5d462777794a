//! `restart`, `reinit`, `reload` and `flush`: the member actions. They mirror patronictl's
//! `get_members` (member table first, role and name filters, the reinit member prompt),
//! `confirm_members_action`, `check_response` and the per-command REST calls and printed lines.
//!
//! Beyond patronictl: requests to several members go out in parallel (bounded; immediate restarts
//! stay one at a time, as in patronictl) and their results are printed in member order; every
//! request has a timeout; a member that rejected the action, could not be reached or did not answer
//! makes the command exit non-zero (1, 3 or 5); `reinit --wait` is bounded by `--wait-timeout` and
//! shows progress on a terminal.
//!
//! One file per command (`restart`, `reload`, `flush`, `reinit`); `select` is patronictl's member
//! selection and confirmation, `report` the per-member outcome lines and the exit code they add up to.

mod flush;
mod reinit;
mod reload;
mod report;
mod restart;
mod restart_wait;
mod select;

pub use flush::{cmd_flush, FlushArgs};
pub use reinit::{cmd_reinit, ReinitArgs};
pub use reload::{cmd_reload, ReloadArgs};
pub use restart::{cmd_restart, restart_one, RestartArgs};
pub use restart_wait::postmaster_start;
