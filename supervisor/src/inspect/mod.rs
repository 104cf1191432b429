//! Reading a spec without starting it: its diagram ([`SupervisorSpec::to_mermaid`],
//! [`SupervisorSpec::to_dot`]) and its restart-storm bound
//! ([`SupervisorSpec::restart_bound`], [`SupervisorSpec::check_restart_bound`]).
//!
//! [`SupervisorSpec::to_mermaid`]: crate::SupervisorSpec::to_mermaid
//! [`SupervisorSpec::to_dot`]: crate::SupervisorSpec::to_dot
//! [`SupervisorSpec::restart_bound`]: crate::SupervisorSpec::restart_bound
//! [`SupervisorSpec::check_restart_bound`]: crate::SupervisorSpec::check_restart_bound

mod bound;
mod diagram;
pub(crate) mod words;

pub use bound::{RestartBound, RestartBoundExceeded};
