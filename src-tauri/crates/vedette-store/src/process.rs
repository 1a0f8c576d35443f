//! This process as the database names it (`<hostname> <pid>`): who runs a
//! scan, who holds a schedule's run.

/// This process: `<hostname> <pid>`. A worker claims jobs under this name
/// and its scans carry it, so a takeover finds the dead worker's scans by it.
pub fn runner() -> String {
    format!("{} {}", hostname(), std::process::id())
}

pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

/// Whether the process `runner` names is gone: on this machine and no such
/// process (this one is never gone). A process of another machine is never
/// judged gone here.
pub(crate) fn is_gone(runner: &str) -> bool {
    let Some((host, pid)) = runner.rsplit_once(' ') else {
        return false;
    };
    host == hostname()
        && pid.parse::<u32>().is_ok_and(|p| {
            p != std::process::id() && !std::path::Path::new(&format!("/proc/{p}")).exists()
        })
}
