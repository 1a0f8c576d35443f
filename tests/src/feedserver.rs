//! A static HTTP server for advisory feeds on a loopback port, as a mirror
//! of the OSV bucket, CISA and NVD would answer: `ETag` and `Last-Modified`,
//! `304 Not Modified` for conditional requests, `404` for what it does not
//! have, and faults on demand (a 503, a connection cut mid-body).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::UNIX_EPOCH;

/// A fault for one path, used up one request at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer `503 Service Unavailable`.
    Unavailable,
    /// Send the headers with the full `Content-Length`, then this many bytes
    /// of the body, then close the connection.
    CutAfter(usize),
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub status: u16,
    pub conditional: bool,
}

#[derive(Default)]
struct State {
    faults: HashMap<String, Vec<Fault>>,
    hits: Vec<Hit>,
    /// `Authorization` header every request must carry (a private mirror).
    basic: Option<String>,
}

pub struct FeedServer {
    port: u16,
    root: Arc<Mutex<PathBuf>>,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl FeedServer {
    /// Serves the files under `root` (e.g. `../shared/feeds`).
    pub fn start(root: impl Into<PathBuf>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let root = Arc::new(Mutex::new(root.into()));
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s, st) = (Arc::clone(&root), Arc::clone(&state), Arc::clone(&stop));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (r, s) = (Arc::clone(&r), Arc::clone(&s));
                std::thread::spawn(move || {
                    let _ = serve(conn, &r, &s);
                });
            }
        });
        FeedServer {
            port,
            root,
            state,
            stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!(
            "http://127.0.0.1:{}/{}",
            self.port,
            path.trim_start_matches('/')
        )
    }

    /// Serves another directory from now on (a new feed release).
    pub fn set_root(&self, root: impl Into<PathBuf>) {
        *self.root.lock().expect("root lock") = root.into();
    }

    /// Queues `fault` for the next `times` requests of `path`.
    pub fn fault(&self, path: &str, fault: Fault, times: usize) {
        let mut st = self.state.lock().expect("state lock");
        let q = st
            .faults
            .entry(format!("/{}", path.trim_start_matches('/')))
            .or_default();
        q.extend(std::iter::repeat_n(fault, times));
    }

    /// Answers 401 to requests without these HTTP basic credentials.
    pub fn require_basic(&self, user: &str, password: &str) {
        use base64::Engine;
        self.state.lock().expect("state lock").basic = Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        ));
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.state.lock().expect("state lock").hits.clone()
    }
}

impl Drop for FeedServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn etag_of(meta: &std::fs::Metadata) -> String {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("\"{:x}-{:x}\"", meta.len(), mtime)
}

fn serve(conn: TcpStream, root: &Mutex<PathBuf>, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let conditional =
        headers.contains_key("if-none-match") || headers.contains_key("if-modified-since");
    let fault = {
        let mut st = state.lock().expect("state lock");
        st.faults
            .get_mut(&path)
            .and_then(|q| (!q.is_empty()).then(|| q.remove(0)))
    };
    let file: PathBuf = {
        let root = root.lock().expect("root lock").clone();
        let rel = path.trim_start_matches('/').replace("%20", " ");
        if rel.split('/').any(|c| c == "..") {
            root.join("nonexistent")
        } else {
            root.join(rel)
        }
    };
    let mut out = conn;
    let record = |status: u16| {
        state.lock().expect("state lock").hits.push(Hit {
            path: path.clone(),
            status,
            conditional,
        })
    };
    let basic = state.lock().expect("state lock").basic.clone();
    if basic.is_some() && headers.get("authorization") != basic.as_ref() {
        record(401);
        out.write_all(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"mirror\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
        return Ok(());
    }
    if fault == Some(Fault::Unavailable) {
        record(503);
        out.write_all(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?;
        return Ok(());
    }
    let Some(meta) = std::fs::metadata(&file).ok().filter(|m| m.is_file()) else {
        record(404);
        out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
        return Ok(());
    };
    let etag = etag_of(&meta);
    let last_modified = meta
        .modified()
        .map(httpdate::fmt_http_date)
        .unwrap_or_default();
    if headers.get("if-none-match") == Some(&etag) {
        record(304);
        write!(
            out,
            "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nLast-Modified: {last_modified}\r\nConnection: close\r\n\r\n"
        )?;
        return Ok(());
    }
    let body = read_all(&file)?;
    record(200);
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: {etag}\r\nLast-Modified: {last_modified}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    match fault {
        Some(Fault::CutAfter(n)) => {
            out.write_all(&body[..n.min(body.len())])?;
            out.flush()?;
            out.shutdown(Shutdown::Both)?;
        }
        _ => out.write_all(&body)?,
    }
    Ok(())
}

fn read_all(p: &Path) -> std::io::Result<Vec<u8>> {
    let mut v = Vec::new();
    std::fs::File::open(p)?.read_to_end(&mut v)?;
    Ok(v)
}
