use std::path::PathBuf;

/// Environment variable that overrides the data directory.
pub const DATA_DIR_ENV: &str = "VEDETTE_DATA_DIR";

/// The data directory: the explicit choice (`--data-dir`), else
/// `$VEDETTE_DATA_DIR`, else the XDG data dir (`~/.local/share/vedette`).
pub fn resolve_data_dir(explicit: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(dir) = explicit.filter(|p| !p.as_os_str().is_empty()) {
        return Ok(dir);
    }
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::data_dir()
        .map(|d| d.join("vedette"))
        .ok_or_else(|| {
            "cannot find a data directory: $HOME and $XDG_DATA_HOME are unset. Pass --data-dir DIR or set VEDETTE_DATA_DIR".to_owned()
        })
}
