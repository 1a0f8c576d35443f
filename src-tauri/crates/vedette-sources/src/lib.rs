//! Where packages are read from. Each source produces a [`View`]: the files
//! of the final filesystem that catalogers want, plus what is known about the
//! image. Parsing is `vedette-extract`'s job; this crate fetches and unpacks.
//!
//! - [`dir`]: a directory or root filesystem.
//! - [`archive`]: docker-archive and oci-archive tars, OCI layout directories.
//! - [`registry`]: any OCI v2 / Docker registry.

pub mod archive;
pub mod dir;
pub mod layers;
pub mod reference;
pub mod registry;

use std::path::PathBuf;

use vedette_extract::Files;

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
    #[error("the image has no manifest for platform {wanted}; it offers {available}. Choose one with --platform")]
    NoPlatform { wanted: String, available: String },
}

/// The wanted files of a target's final filesystem view.
#[derive(Debug, Default)]
pub struct View {
    pub files: Files,
    pub image: Option<ImageInfo>,
    /// Problems that did not stop the read (a skipped file, a dangling link).
    pub warnings: Vec<String>,
}

/// Applies layer deltas bottom-up into the final view.
pub fn assemble(deltas: Vec<layers::LayerDelta>) -> (Files, Vec<String>) {
    let mut files = Files::new();
    let mut warnings = Vec::new();
    for mut d in deltas {
        warnings.extend(
            d.warnings
                .drain(..)
                .map(|w| format!("layer {}: {w}", d.digest)),
        );
        d.apply(&mut files);
    }
    (files, warnings)
}
