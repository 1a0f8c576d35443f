//! Secrets and credentials.
//!
//! Secrets live only in the OS keyring (Secret Service on Linux) under the
//! service name [`SERVICE`]; SQLite keeps their names. Cloud provider APIs
//! (EC2/ECR) will join this crate, using the same secret store.

mod aws;
mod aws_profile;
mod credentials;
mod secrets;

pub use aws::{AwsAccount, AwsError, Ec2, Ec2Action, EcrImage, EcrToken};
pub use aws_profile::{account_from_files, default_files, ProfileError};

pub use credentials::{
    feed_mirror_origin, normalize_registry_host, CredentialError, Credentials, HostSecret,
    AWS_CREDENTIAL,
};
pub use secrets::{KeyringSecrets, MemorySecrets, SecretBackend, SecretError, SERVICE};
pub use vedette_model::Sensitive;
