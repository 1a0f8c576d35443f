//! An AWS account read from the AWS CLI's shared files, to be stored in the
//! keyring: `~/.aws/credentials` and `~/.aws/config` (or the files
//! `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE` name), as the AWS
//! CLI reads them: a profile's keys, its region, its `role_arn` with the
//! keys of its `source_profile`, its `external_id` and `endpoint_url`.

use std::path::{Path, PathBuf};

use vedette_model::Sensitive;

use crate::AwsAccount;

/// Why a profile could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{path} cannot be read: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("{path} is not an INI file the AWS CLI reads: {reason}")]
    Malformed { path: String, reason: String },
    #[error("the AWS profile '{profile}' {problem}")]
    Incomplete { profile: String, problem: String },
}

/// The shared files, where the AWS CLI looks for them.
pub fn default_files(home: &Path) -> (PathBuf, PathBuf) {
    let from_env = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(default))
    };
    (
        from_env("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials"),
        from_env("AWS_CONFIG_FILE", ".aws/config"),
    )
}

fn load(path: &Path) -> Result<Option<ini::Ini>, ProfileError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ProfileError::Unreadable {
                path: path.display().to_string(),
                reason: e.to_string(),
            })
        }
    };
    ini::Ini::load_from_str(&text)
        .map(Some)
        .map_err(|e| ProfileError::Malformed {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
}

/// A profile's settings: the config file's `[profile NAME]` (`[default]`
/// for the default profile) overlaid by the credentials file's `[NAME]`.
fn settings(
    credentials: Option<&ini::Ini>,
    config: Option<&ini::Ini>,
    profile: &str,
) -> Option<std::collections::BTreeMap<String, String>> {
    let config_name = if profile == "default" {
        "default".to_owned()
    } else {
        format!("profile {profile}")
    };
    let mut out = std::collections::BTreeMap::new();
    let mut found = false;
    for section in [
        config.and_then(|c| c.section(Some(config_name.as_str()))),
        credentials.and_then(|c| c.section(Some(profile))),
    ]
    .into_iter()
    .flatten()
    {
        found = true;
        for (k, v) in section.iter() {
            out.insert(k.to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    found.then_some(out)
}

/// The account of `profile` in these files; `region` when the profile
/// names none.
pub fn account_from_files(
    credentials_file: &Path,
    config_file: &Path,
    profile: &str,
    region: Option<&str>,
) -> Result<AwsAccount, ProfileError> {
    let credentials = load(credentials_file)?;
    let config = load(config_file)?;
    let incomplete = |problem: String| ProfileError::Incomplete {
        profile: profile.to_owned(),
        problem,
    };
    let p = settings(credentials.as_ref(), config.as_ref(), profile).ok_or_else(|| {
        incomplete(format!(
            "is in neither {} nor {}",
            credentials_file.display(),
            config_file.display()
        ))
    })?;
    // A role's keys come from its source profile (one hop, as here).
    let (keys, role_arn) = match p.get("role_arn") {
        Some(role) => {
            let source = p.get("source_profile").ok_or_else(|| {
                incomplete(
                    "names a role_arn without a source_profile (credential_source is not read: store the keys with `vedette cloud aws set --role-arn`)"
                        .into(),
                )
            })?;
            let keys =
                settings(credentials.as_ref(), config.as_ref(), source).ok_or_else(|| {
                    incomplete(format!(
                        "takes its keys from '{source}', which is not there"
                    ))
                })?;
            (keys, Some(role.clone()))
        }
        None => (p.clone(), None),
    };
    let access_key_id = keys
        .get("aws_access_key_id")
        .filter(|k| !k.is_empty())
        .ok_or_else(|| incomplete("has no aws_access_key_id".into()))?;
    let secret = keys
        .get("aws_secret_access_key")
        .filter(|k| !k.is_empty())
        .ok_or_else(|| incomplete("has no aws_secret_access_key".into()))?;
    let region = p
        .get("region")
        .or_else(|| keys.get("region"))
        .filter(|r| !r.is_empty())
        .map(String::as_str)
        .or(region)
        .ok_or_else(|| incomplete("has no region: add one, or give --region".into()))?;
    Ok(AwsAccount {
        access_key_id: access_key_id.clone(),
        secret_access_key: Sensitive::new(secret.clone()),
        // A role's own session is made at each decision; a profile's
        // session token would expire in the keyring.
        session_token: None,
        region: region.to_owned(),
        endpoint: p.get("endpoint_url").cloned(),
        role_arn,
        external_id: p.get("external_id").cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(credentials: &str, config: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let (c, f) = (d.path().join("credentials"), d.path().join("config"));
        std::fs::write(&c, credentials).unwrap();
        std::fs::write(&f, config).unwrap();
        (d, c, f)
    }

    const CREDENTIALS: &str = "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = s3cr3t/default\n\n[ops]\naws_access_key_id=AKIAOPS\naws_secret_access_key=s3cr3t-ops\n";
    const CONFIG: &str = "[default]\nregion = eu-west-1\n\n[profile ops]\nregion = us-east-2\nendpoint_url = http://127.0.0.1:5000\n\n[profile gate]\nrole_arn = arn:aws:iam::123456789012:role/vedette-gate\nsource_profile = ops\nexternal_id = fleet-42\nregion = ap-south-1\n\n[profile broken]\nrole_arn = arn:aws:iam::123456789012:role/x\n";

    #[test]
    fn profiles_read_as_the_aws_cli_reads_them() {
        let (_d, c, f) = files(CREDENTIALS, CONFIG);
        let a = account_from_files(&c, &f, "default", None).unwrap();
        assert_eq!(
            (a.access_key_id.as_str(), a.region.as_str()),
            ("AKIADEFAULT", "eu-west-1")
        );
        assert_eq!(a.secret_access_key.expose(), "s3cr3t/default");
        assert_eq!(a.role_arn, None);
        let a = account_from_files(&c, &f, "ops", None).unwrap();
        assert_eq!(a.endpoint.as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(a.region, "us-east-2");
        // A role profile: the source profile's keys, the role's region.
        let a = account_from_files(&c, &f, "gate", None).unwrap();
        assert_eq!(a.access_key_id, "AKIAOPS");
        assert_eq!(
            a.role_arn.as_deref(),
            Some("arn:aws:iam::123456789012:role/vedette-gate")
        );
        assert_eq!(a.external_id.as_deref(), Some("fleet-42"));
        assert_eq!(a.region, "ap-south-1");
    }

    #[test]
    fn a_missing_or_incomplete_profile_says_what_is_missing() {
        let (_d, c, f) = files(CREDENTIALS, CONFIG);
        let e = account_from_files(&c, &f, "nope", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("'nope' is in neither"), "{e}");
        let e = account_from_files(&c, &f, "broken", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("without a source_profile"), "{e}");
        let (_d, c, f) = files("[x]\naws_access_key_id = A\n", "");
        let e = account_from_files(&c, &f, "x", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no aws_secret_access_key"), "{e}");
        let (_d, c, f) = files(
            "[x]\naws_access_key_id = A\naws_secret_access_key = B\n",
            "",
        );
        let e = account_from_files(&c, &f, "x", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no region"), "{e}");
        let a = account_from_files(&c, &f, "x", Some("eu-north-1")).unwrap();
        assert_eq!(a.region, "eu-north-1");
        // Garbage is refused with the file's name, never its contents.
        let (_d, c, f) = files("[unterminated\naws_secret_access_key = hunter2\n", "");
        let e = account_from_files(&c, &f, "x", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("credentials") && !e.contains("hunter2"), "{e}");
    }
}
