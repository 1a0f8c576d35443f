//! Domain types shared by every Vedette crate.
//!
//! Plain serde data, no I/O. Types that cross the desktop IPC boundary also
//! derive [`ts_rs::TS`]; their TypeScript twins are generated into
//! `ui/src/bindings/` by `cargo test -p vedette-model` and never edited by hand.

mod coverage;
mod credential;
mod error;
mod event;
mod finding;
mod history;
mod host;
mod inventory;
mod limits;
mod node;
mod notify;
mod schedule;
mod sensitive;
mod status;
mod target;
mod text;
mod trends;
mod url;

pub use coverage::{coverage_of, os_ecosystem, release_applies, Coverage, PackageDb, COVERAGE};
pub use credential::{
    canonical_registry_host, feed_mirror_credential_name, host_credential_name,
    registry_credential_name, CredentialInfo, CredentialKind, NewRegistryCredential,
};
pub use error::{ApiError, ErrorCode};
pub use event::{
    ApiStatus, ApiToken, CreatedToken, Event, EventKind, LastScan, ScanProgress, ScansStarted,
    StartedScan, TargetVerdict, TargetView, TokenScope,
};
pub use finding::{
    Cvss, FeedInfo, Finding, RiskFactor, ScanReport, Severity, SeveritySource, Triage, TriageInput,
    TriageStatus, Uncovered, VendorSeverity, Verdict, VexJustification,
};
pub use history::{finding_key, Cause, NewFinding, ScanDetail, ScanDiff, Trigger};
pub use host::{HostAdded, HostAddress, HostFacts, HostKeyState, HostSpec};
pub use inventory::{
    Distro, Ecosystem, ImageInfo, Inventory, LayerInfo, Location, Package, SourcePackage,
    Unreadable,
};
pub use limits::{format_bytes, parse_bytes, LimitSetting, ScanLimits};
pub use node::{
    ActionOutcome, ActionRecord, CloudInstance, CreatedEnrolToken, EnrolToken, Enrolled,
    GateAction, GateCandidate, GateSettings, NodeFacts, NodeInfo,
};
pub use notify::{
    Channel, ChannelKind, ChannelSettings, Delivery, DeliveryState, Message, MessageFinding, Rule,
    SmtpTls,
};
pub use schedule::{
    glob_match, Schedule, ScheduleInput, ScheduleOptions, SchedulePreview, ScheduleView,
    TargetSelector, WEEKLY_SCAN_ALL,
};
pub use sensitive::Sensitive;
pub use status::{AppOverview, Check, CheckState, DoctorReport};
pub use target::{
    host_platform, Exposure, Quarantine, RegistryCrawl, RegistryImage, RegistryKind, RegistryWatch,
    ScanState, ScanSummary, SeverityCounts, TagSelector, TargetInfo, TargetKind, STDIN_TARGET,
};
pub use text::{markup_escape, printable};
pub use trends::{Activity, DailyOpen, OpenFinding, ScheduleRunTime, Trends, WeeklyChange};
pub use url::{strip_userinfo, url_origin, UrlCredential};
