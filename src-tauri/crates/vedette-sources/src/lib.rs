//! Where packages are read from. Each source produces a [`View`]: the files
//! of the final filesystem that catalogers want, plus what is known about the
//! image. Parsing is `vedette-extract`'s job; this crate fetches and unpacks.
//!
//! - [`dir`]: a directory or root filesystem.
//! - [`archive`]: docker-archive and oci-archive tars, OCI layout directories.
//! - [`registry`]: any OCI v2 / Docker registry.

pub mod archive;
mod budget;
pub mod dir;
pub mod host;
mod in_root;
pub mod layers;
pub mod reference;
pub mod registry;
pub mod tar_stream;

use std::path::PathBuf;

use vedette_extract::Files;

pub use budget::Budget;
pub use reference::Reference;
pub use vedette_model::{ImageInfo, LayerInfo};

/// What went wrong reading a target. Each message names the target and says
/// what to do.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read {path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("layer {digest} is not a readable tar stream: {message}. The image may be truncated or corrupt; pull or save it again")]
    Layer { digest: String, message: String },
    #[error(
        "the download of layer {digest} broke off: {message}. Check the network and try again"
    )]
    BrokeOff { digest: String, message: String },
    #[error("{what} {expected} does not match its content (it hashes to {actual}); the download or archive is corrupt or was tampered with")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("{0}")]
    Format(String),
    #[error("'{reference}' is not an image reference: {why}. Write it as [registry/]repository[:tag][@sha256:digest], e.g. debian:12 or ghcr.io/acme/api:1.4")]
    BadReference { reference: String, why: String },
    #[error("{0}")]
    Registry(String),
    /// The registry answered 404 for a manifest or listing.
    #[error("{0}")]
    NotFound(String),
    #[error("the image has no manifest for platform {wanted}; it offers {available}. Choose one with --platform")]
    NoPlatform { wanted: String, available: String },
    /// A limit of the scan was reached (`what` names the file or response).
    #[error("{what}. The target may be hostile; if it is genuine, raise the limit with {} or {}", setting.flag, setting.env)]
    Limit {
        what: String,
        setting: vedette_model::LimitSetting,
    },
    /// A host could not be reached or read (the reason is the user's to act on).
    #[error(transparent)]
    Host(#[from] host::HostError),
    /// The scan was cancelled or ran out of time; its owner says which.
    #[error("the scan was stopped")]
    Stopped,
}

/// The wanted files of a target's final filesystem view.
#[derive(Debug, Default)]
pub struct View {
    pub files: Files,
    pub image: Option<ImageInfo>,
    /// Problems that did not stop the read (a skipped file, a dangling link).
    pub warnings: Warnings,
}

/// Problems that did not stop a read, at most [`Warnings::MAX`] of them
/// kept (a hostile tree can hold millions of unreadable entries); the rest
/// are counted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Warnings {
    list: Vec<String>,
    omitted: u64,
}

impl Warnings {
    pub const MAX: usize = 100;

    pub fn push(&mut self, w: impl Into<String>) {
        if self.list.len() < Self::MAX {
            self.list.push(w.into());
        } else {
            self.omitted += 1;
        }
    }

    /// Adds another list's warnings, each with `prefix`.
    pub fn absorb(&mut self, other: Warnings, prefix: &str) {
        let omitted = other.omitted;
        for w in other.list {
            self.push(format!("{prefix}{w}"));
        }
        self.omitted += omitted;
    }

    pub fn iter(&self) -> impl Iterator<Item = &String> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len() + self.omitted as usize
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty() && self.omitted == 0
    }

    /// The kept warnings, and a last line counting the others.
    pub fn into_vec(self) -> Vec<String> {
        let mut v = self.list;
        if self.omitted > 0 {
            v.push(format!("… and {} more warnings like these", self.omitted));
        }
        v
    }
}

/// Applies layer deltas bottom-up into the final view.
pub fn assemble(deltas: Vec<layers::LayerDelta>) -> (Files, Warnings) {
    let mut files = Files::new();
    let mut warnings = Warnings::default();
    for mut d in deltas {
        let w = std::mem::take(&mut d.warnings);
        warnings.absorb(w, &format!("layer {}: ", d.digest));
        d.apply(&mut files);
    }
    (files, warnings)
}
