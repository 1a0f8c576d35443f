//! `vedette://` links: `vedette://scan/<id>` and `vedette://target/<id>`
//! open that page in the running window (from a notification, an e-mail, the
//! API's messages, a browser). The desktop entry registers the scheme
//! (`MimeType=x-scheme-handler/vedette`, `Exec=vedette-desktop %u`); a link
//! given to a second launch reaches the first through the single-instance
//! plugin, and one given at start waits until the page asks for it.

use std::sync::Mutex;

use serde::Serialize;
use tauri::{Emitter, Manager, Runtime};

/// A page a link opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Link {
    Scan(i64),
    Target(i64),
}

impl Link {
    /// `vedette://scan/12`, `vedette://target/3` (a trailing slash, or the
    /// `vedette:scan/12` form, too); anything else is not a link.
    pub fn parse(s: &str) -> Option<Self> {
        let rest = s
            .strip_prefix("vedette://")
            .or_else(|| s.strip_prefix("vedette:"))?;
        let (kind, id) = rest.trim_end_matches('/').split_once('/')?;
        let id: i64 = id.parse().ok().filter(|i| *i > 0)?;
        match kind {
            "scan" => Some(Self::Scan(id)),
            "target" => Some(Self::Target(id)),
            _ => None,
        }
    }

    /// The first link among a launch's arguments.
    pub fn in_args<I: IntoIterator<Item = S>, S: AsRef<str>>(args: I) -> Option<Self> {
        args.into_iter().find_map(|a| Self::parse(a.as_ref()))
    }
}

/// The link the app was started with, until the page takes it.
#[derive(Default)]
pub struct Pending(pub Mutex<Option<Link>>);

/// Shows the window on the link's page.
pub fn open<R: Runtime>(app: &tauri::AppHandle<R>, link: Link) {
    crate::show_main_window(app);
    if let Err(e) = app.emit("open-link", link) {
        tracing::warn!("cannot open {link:?} in the window: {e}");
    }
}

/// The link the app was started with, once (the page asks when it loads).
pub fn take<R: Runtime>(app: &tauri::AppHandle<R>) -> Option<Link> {
    app.try_state::<Pending>()?
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
}

#[cfg(test)]
mod tests {
    use super::Link;

    #[test]
    fn links_name_a_scan_or_a_target_by_id() {
        assert_eq!(Link::parse("vedette://scan/12"), Some(Link::Scan(12)));
        assert_eq!(Link::parse("vedette://target/3/"), Some(Link::Target(3)));
        assert_eq!(Link::parse("vedette:scan/7"), Some(Link::Scan(7)));
        for bad in [
            "vedette://scan/",
            "vedette://scan/-1",
            "vedette://scan/x",
            "vedette://settings/1",
            "https://scan/1",
            "--minimized",
        ] {
            assert_eq!(Link::parse(bad), None, "{bad}");
        }
        assert_eq!(
            Link::in_args(["--data-dir", "/d", "vedette://target/9"]),
            Some(Link::Target(9))
        );
    }
}
