//! From an inventory and the advisories about its packages to findings:
//! which packages are affected (the OSV range semantics), how severe each
//! vulnerability is and where that came from, how likely it is to be
//! exploited and why, and whether the whole passes a policy.
//!
//! Matching is a pure function of [`vedette_osv::AdvisorySet`]: the index
//! is read first, then nothing here does I/O.

mod matcher;
mod policy;
mod risk;
mod vex;

pub use matcher::{evaluate_matches, evaluate_ranges, find, findings_from, lookup_keys, Matched};
pub use policy::{Exception, GateSeverity, Policy, PolicyError};
pub use risk::{score, severity_of_vector};
pub use vex::{exceptions_from_openvex, to_openvex};

#[cfg(test)]
mod tests;
