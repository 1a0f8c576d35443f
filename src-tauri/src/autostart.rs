//! Start at login, minimised to the tray: an XDG autostart entry
//! (`$XDG_CONFIG_HOME/autostart/vedette.desktop`, which GNOME, KDE, Xfce and
//! the other freedesktop sessions read) that starts this binary with
//! `--minimized` on this data dir. Settings turns it on and off.

use std::path::{Path, PathBuf};

/// The autostart entry's path.
pub fn entry() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(config.join("autostart").join("vedette.desktop"))
}

/// Whether Vedette starts at login.
pub fn enabled() -> bool {
    entry().is_some_and(|p| p.is_file())
}

/// An argument as a desktop entry's `Exec` quotes it.
fn quoted(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.=:+,@%".contains(c))
    {
        return arg.to_owned();
    }
    let mut out = String::from("\"");
    for c in arg.chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Turns starting at login on (for this binary and `data_dir`) or off.
pub fn set(on: bool, data_dir: &Path) -> Result<(), String> {
    let path = entry().ok_or("neither XDG_CONFIG_HOME nor HOME is set")?;
    if !on {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(format!("cannot remove {}: {e}", path.display()))
            }
            _ => Ok(()),
        };
    }
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot tell where this program is: {e}"))?;
    let exec = [
        exe.to_string_lossy().as_ref(),
        "--minimized",
        "--data-dir",
        data_dir.to_string_lossy().as_ref(),
    ]
    .iter()
    .map(|a| quoted(a))
    .collect::<Vec<_>>()
    .join(" ");
    let text = format!(
        "[Desktop Entry]\nType=Application\nName=Vedette\nComment=Keeps watch over a fleet's containers and hosts, from the tray\nExec={exec}\nIcon=vedette-desktop\nTerminal=false\nX-GNOME-Autostart-enabled=true\n"
    );
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn exec_arguments_are_quoted_as_desktop_entries_want() {
        assert_eq!(
            super::quoted("/usr/bin/vedette-desktop"),
            "/usr/bin/vedette-desktop"
        );
        assert_eq!(super::quoted("/home/a b/data"), "\"/home/a b/data\"");
        assert_eq!(super::quoted("/x/$HOME\"q"), "\"/x/\\$HOME\\\"q\"");
    }
}
