//! Defaults from a config file, `$XDG_CONFIG_HOME/vedette/config.toml`
//! (`~/.config/vedette/config.toml`; `VEDETTE_CONFIG` names another): each
//! setting is named after a flag's environment variable, in lower case with
//! dashes (`VEDETTE_FAIL_ON` is `fail-on`), and becomes that flag's default.
//! The flag on the command line, then its environment variable, win over it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Where the config file is looked for.
pub(crate) fn path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("VEDETTE_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    dirs_config().map(|d| d.join("vedette").join("config.toml"))
}

fn dirs_config() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
}

/// `cmd` with the config file's settings as its flags' defaults; an error
/// names the file and the setting it cannot use.
pub(crate) fn apply(cmd: clap::Command) -> Result<clap::Command, String> {
    let Some(path) = path() else {
        return Ok(cmd);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(cmd)
        }
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let table: toml::Table = text
        .parse()
        .map_err(|e| format!("{} is not TOML: {e}", path.display()))?;
    // Environment variable → (setting, value).
    let mut settings = BTreeMap::new();
    for (key, value) in table {
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            other => {
                return Err(format!(
                    "{}: {key} = {other}: a setting is a string, a number or true/false",
                    path.display()
                ))
            }
        };
        let env = format!("VEDETTE_{}", key.to_ascii_uppercase().replace('-', "_"));
        settings.insert(env, (key, value));
    }
    let mut known = BTreeSet::new();
    let cmd = with_defaults(cmd, &settings, &mut known);
    if let Some((_, (key, _))) = settings.iter().find(|(env, _)| !known.contains(*env)) {
        let names: Vec<String> = known
            .iter()
            .map(|e| {
                e.trim_start_matches("VEDETTE_")
                    .to_ascii_lowercase()
                    .replace('_', "-")
            })
            .collect();
        return Err(format!(
            "{}: '{key}' is not a setting Vedette knows. Settings are the flags' environment variables in lower case (VEDETTE_FAIL_ON is fail-on): {}",
            path.display(),
            names.join(", ")
        ));
    }
    Ok(cmd)
}

/// Sets the default of every argument (of `cmd` and its subcommands) whose
/// environment variable `settings` names; `known` collects every variable.
fn with_defaults(
    mut cmd: clap::Command,
    settings: &BTreeMap<String, (String, String)>,
    known: &mut BTreeSet<String>,
) -> clap::Command {
    let args: Vec<(String, String)> = cmd
        .get_arguments()
        .filter_map(|a| {
            let env = a.get_env()?.to_str()?.to_owned();
            Some((a.get_id().to_string(), env))
        })
        .collect();
    for (id, env) in args {
        if let Some((_, value)) = settings.get(&env) {
            let value = value.clone();
            cmd = cmd.mut_arg(id, |a| a.default_value(value));
        }
        known.insert(env);
    }
    let subcommands: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in subcommands {
        cmd = cmd.mut_subcommand(name, |s| with_defaults(s, settings, known));
    }
    cmd
}
