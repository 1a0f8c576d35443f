//! A fault-injecting HTTP proxy on loopback, in front of a real registry:
//! answers chosen requests with an error status (and headers), or cuts the
//! connection partway through a response, and forwards everything else.
//! One request per connection (`Connection: close`), which every HTTP
//! client handles.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// What to do to requests whose path contains `path_contains`, the next `times` times.
#[derive(Clone, Debug)]
pub struct Fault {
    pub method: Option<&'static str>,
    pub path_contains: &'static str,
    pub times: u32,
    pub action: Action,
}

#[derive(Clone, Debug)]
pub enum Action {
    /// Answer with this status, these headers and a short body.
    Status(u16, Vec<(&'static str, String)>),
    /// Forward, but close the connection after this many bytes of the response body.
    ResetAfter(usize),
    /// Forward, but flip one byte of the response body (a corrupt blob).
    Corrupt,
    /// Answer 200 with a JSON body of this many bytes (no Content-Length,
    /// as a hostile server would), sent as fast as the client reads.
    Huge(u64),
    /// Forward, but send the response one byte a second (a registry that
    /// trickles, so no read ever times out).
    Trickle,
    /// Answer 200 with this JSON body and these headers, in both of which
    /// `{path}` stands for the request's path and query and `{url}` for
    /// its whole URL (a page that links to itself).
    Page(String, Vec<(&'static str, String)>),
}

pub struct FaultProxy {
    port: u16,
    faults: Arc<Mutex<Vec<Fault>>>,
    /// When set, the proxy is a token-auth front: requests need a bearer
    /// token that `/token` gives for these basic credentials.
    bearer: Arc<Mutex<Option<(String, String)>>>,
    log: Arc<Mutex<Vec<String>>>,
    timed: Arc<Mutex<Vec<Timed>>>,
    stop: Arc<AtomicBool>,
    tokens: Arc<Mutex<Tokens>>,
    harbor: Arc<Mutex<Option<crate::harbor::HarborApi>>>,
    hub: Arc<Mutex<Option<crate::dockerhub::HubApi>>>,
    github: Arc<Mutex<Option<crate::github::GithubApi>>>,
    gitlab: Arc<Mutex<Option<crate::gitlab::GitlabApi>>>,
    google: Arc<Mutex<Option<crate::google::GoogleOauth>>>,
    azure: Arc<Mutex<Option<crate::azure::AzureApi>>>,
}

/// The bearer tokens handed out, each with the requests it has left.
#[derive(Default)]
struct Tokens {
    issued: std::collections::HashMap<String, u64>,
    /// Requests one token is good for (none: unlimited).
    lifetime: Option<u64>,
}

impl FaultProxy {
    pub fn start(upstream_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let faults: Arc<Mutex<Vec<Fault>>> = Arc::default();
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let timed: Arc<Mutex<Vec<Timed>>> = Arc::default();
        let timed2 = Arc::clone(&timed);
        let stop = Arc::new(AtomicBool::new(false));
        let bearer: Arc<Mutex<Option<(String, String)>>> = Arc::default();
        let tokens: Arc<Mutex<Tokens>> = Arc::default();
        let harbor: Arc<Mutex<Option<crate::harbor::HarborApi>>> = Arc::default();
        let hub: Arc<Mutex<Option<crate::dockerhub::HubApi>>> = Arc::default();
        let hub2 = Arc::clone(&hub);
        let github: Arc<Mutex<Option<crate::github::GithubApi>>> = Arc::default();
        let github2 = Arc::clone(&github);
        let gitlab: Arc<Mutex<Option<crate::gitlab::GitlabApi>>> = Arc::default();
        let gitlab2 = Arc::clone(&gitlab);
        let google: Arc<Mutex<Option<crate::google::GoogleOauth>>> = Arc::default();
        let google2 = Arc::clone(&google);
        let azure: Arc<Mutex<Option<crate::azure::AzureApi>>> = Arc::default();
        let azure2 = Arc::clone(&azure);
        let (f, l, s, b, t, h) = (
            Arc::clone(&faults),
            Arc::clone(&log),
            Arc::clone(&stop),
            Arc::clone(&bearer),
            Arc::clone(&tokens),
            Arc::clone(&harbor),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (f, l, b, t, timed) = (
                    Arc::clone(&f),
                    Arc::clone(&l),
                    Arc::clone(&b),
                    Arc::clone(&t),
                    Arc::clone(&timed2),
                );
                let harbor = h.lock().ok().and_then(|g| g.clone());
                let hub = hub2.lock().ok().and_then(|g| g.clone());
                let github = github2.lock().ok().and_then(|g| g.clone());
                let gitlab = gitlab2.lock().ok().and_then(|g| g.clone());
                let google = google2.lock().ok().and_then(|g| g.clone());
                let azure = azure2.lock().ok().and_then(|g| g.clone());
                std::thread::spawn(move || {
                    let auth = b.lock().ok().and_then(|g| g.clone());
                    let _ = handle(
                        conn,
                        Conn {
                            upstream: upstream_port,
                            faults: &f,
                            log: &l,
                            timed: &timed,
                            bearer: auth,
                            tokens: &t,
                            harbor: harbor.as_ref(),
                            hub: hub.as_ref(),
                            github: github.as_ref(),
                            gitlab: gitlab.as_ref(),
                            google: google.as_ref(),
                            azure: azure.as_ref(),
                            own_port: port,
                        },
                    );
                });
            }
        });
        Self {
            port,
            faults,
            log,
            timed,
            stop,
            bearer,
            tokens,
            harbor,
            hub,
            github,
            gitlab,
            google,
            azure,
        }
    }

    /// Answers Microsoft Entra ID (`/aad/<tenant>/oauth2/v2.0/token`) and
    /// ACR's `/oauth2/exchange` with `api`.
    pub fn serve_azure(&self, api: crate::azure::AzureApi) {
        *self.azure.lock().expect("azure") = Some(api);
    }

    /// Answers Google's OAuth2 token endpoint (`POST /oauth2/token`).
    pub fn serve_google(&self, oauth: crate::google::GoogleOauth) {
        *self.google.lock().expect("google") = Some(oauth);
    }

    /// Answers GitLab's registry API (`/api/v4/…`) with `api`, and refuses
    /// the distribution catalog as GitLab's registry does for users.
    pub fn serve_gitlab(&self, api: crate::gitlab::GitlabApi) {
        *self.gitlab.lock().expect("gitlab") = Some(api);
    }

    /// Answers GitHub's Packages API (`/orgs/…`, `/users/…`) with `api`.
    pub fn serve_github(&self, api: crate::github::GithubApi) {
        *self.github.lock().expect("github") = Some(api);
    }

    /// Answers Docker Hub's API (`/v2/namespaces/…`) with `api`.
    pub fn serve_hub(&self, api: crate::dockerhub::HubApi) {
        *self.hub.lock().expect("hub") = Some(api);
    }

    /// Answers Harbor's API (`/api/v2.0/…`) with `api`, and refuses the
    /// distribution catalog as Harbor does for robot accounts.
    pub fn serve_harbor(&self, api: crate::harbor::HarborApi) {
        *self.harbor.lock().expect("harbor") = Some(api);
    }

    /// Each bearer token handed out from now on is good for `n` requests,
    /// then refused (an expired token): clients must fetch a new one.
    pub fn tokens_last(&self, n: u64) {
        self.tokens.lock().expect("tokens").lifetime = Some(n);
    }

    /// Requires Docker-style token auth: `/token` trades these basic
    /// credentials (or, POSTed as an OAuth2 refresh grant, the password as
    /// an identity token) for a bearer token, every other request needs it.
    pub fn require_token(&self, user: &str, password: &str) {
        *self.bearer.lock().expect("bearer") = Some((user.to_owned(), password.to_owned()));
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn inject(&self, fault: Fault) {
        self.faults.lock().expect("faults").push(fault);
    }

    /// Drops the faults not used up yet.
    pub fn clear_faults(&self) {
        self.faults.lock().expect("faults").clear();
    }

    /// "METHOD path -> status" of every request seen.
    pub fn requests(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }

    /// Every request with when it came and when its answer ended.
    pub fn timed_requests(&self) -> Vec<Timed> {
        self.timed.lock().expect("timed log").clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wake the accept loop
    }
}

/// Writes a JSON answer and closes (the loopback APIs' answers).
fn respond(
    client: &mut TcpStream,
    code: u16,
    headers: &[(String, String)],
    body: &str,
) -> std::io::Result<()> {
    let mut resp = format!(
        "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        resp.push_str(&format!("{k}: {v}\r\n"));
    }
    resp.push_str("\r\n");
    resp.push_str(body);
    client.write_all(resp.as_bytes())
}

fn take_fault(faults: &Mutex<Vec<Fault>>, method: &str, path: &str) -> Option<Action> {
    let mut faults = faults.lock().ok()?;
    let f = faults.iter_mut().find(|f| {
        f.times > 0 && path.contains(f.path_contains) && f.method.is_none_or(|m| m == method)
    })?;
    f.times -= 1;
    Some(f.action.clone())
}

const TOKEN: &str = "vedette-test-token-5d1e";

/// A 200 answer with a JSON body of `n` bytes and no length: a list that
/// never seems to end, or a token as large as a disk.
fn huge(
    mut client: TcpStream,
    log: &Mutex<Vec<String>>,
    method: &str,
    path: &str,
    n: u64,
) -> std::io::Result<()> {
    log.lock()
        .expect("log")
        .push(format!("{method} {path} -> 200 (huge: {n} bytes)"));
    client.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"token\":\"x\",\"repositories\":[",
    )?;
    let chunk = "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",".repeat(2048);
    let mut sent: u64 = 0;
    while sent < n {
        // The client hanging up (it read enough) ends the answer.
        if client.write_all(chunk.as_bytes()).is_err() {
            return Ok(());
        }
        sent += chunk.len() as u64;
    }
    client.write_all(b"\"z\"]}")
}

/// What one connection's handler is given.
/// A request as the proxy saw it: its request line, when it came, when its
/// answer ended.
#[derive(Clone, Debug)]
pub struct Timed {
    pub line: String,
    pub start: std::time::Instant,
    pub end: std::time::Instant,
}

/// Records a request's [`Timed`] when the handling ends, however it ends.
struct Timing<'a> {
    into: &'a Mutex<Vec<Timed>>,
    line: String,
    start: std::time::Instant,
}

impl Drop for Timing<'_> {
    fn drop(&mut self) {
        if let Ok(mut v) = self.into.lock() {
            v.push(Timed {
                line: std::mem::take(&mut self.line),
                start: self.start,
                end: std::time::Instant::now(),
            });
        }
    }
}

struct Conn<'a> {
    upstream: u16,
    faults: &'a Mutex<Vec<Fault>>,
    log: &'a Mutex<Vec<String>>,
    timed: &'a Mutex<Vec<Timed>>,
    bearer: Option<(String, String)>,
    tokens: &'a Mutex<Tokens>,
    harbor: Option<&'a crate::harbor::HarborApi>,
    hub: Option<&'a crate::dockerhub::HubApi>,
    github: Option<&'a crate::github::GithubApi>,
    gitlab: Option<&'a crate::gitlab::GitlabApi>,
    google: Option<&'a crate::google::GoogleOauth>,
    azure: Option<&'a crate::azure::AzureApi>,
    own_port: u16,
}

fn handle(client: TcpStream, conn: Conn<'_>) -> std::io::Result<()> {
    let Conn {
        upstream,
        faults,
        log,
        timed,
        bearer,
        tokens,
        harbor,
        hub,
        github,
        gitlab,
        google,
        azure,
        own_port,
    } = conn;
    let start = std::time::Instant::now();
    let mut reader = BufReader::new(client.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let _timing = Timing {
        into: timed,
        line: request_line.trim_end().to_owned(),
        start,
    };
    let mut headers = Vec::new();
    let mut authorization = String::new();
    let mut private_token = String::new();
    let mut amz_target = String::new();
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("authorization:") {
            authorization = line["authorization:".len()..].trim().to_owned();
        }
        if lower.starts_with("private-token:") {
            private_token = line["private-token:".len()..].trim().to_owned();
        }
        if lower.starts_with("x-amz-target:") {
            amz_target = line["x-amz-target:".len()..].trim().to_owned();
        }
        if let Some(v) = lower.strip_prefix("content-length:") {
            content_length = v.trim().parse().unwrap_or(0);
        }
        if !lower.starts_with("connection:") && !lower.starts_with("host:") {
            headers.push(line);
        }
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body)?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let path = parts.next().unwrap_or("").to_owned();
    let mut client = client;
    if let Some((code, body)) = azure.and_then(|a| a.answer(&path, &String::from_utf8_lossy(&body)))
    {
        log.lock()
            .expect("log")
            .push(format!("{method} {path} -> {code} (azure)"));
        respond(&mut client, code, &[], &body)?;
        return Ok(());
    }
    if let Some(oauth) = google.filter(|_| path.starts_with("/oauth2/token")) {
        let (code, body) = oauth.answer(&String::from_utf8_lossy(&body));
        log.lock()
            .expect("log")
            .push(format!("{method} {path} -> {code} (google)"));
        respond(&mut client, code, &[], &body)?;
        return Ok(());
    }
    if let Some(api) = gitlab {
        let answer = if path.starts_with("/api/v4/") {
            Some(api.answer(
                &path,
                &private_token,
                &format!("http://127.0.0.1:{own_port}"),
            ))
        } else if path.starts_with("/v2/_catalog") {
            Some((401, vec![], "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}".to_owned()))
        } else {
            None
        };
        if let Some((code, headers, body)) = answer {
            log.lock()
                .expect("log")
                .push(format!("{method} {path} -> {code} (gitlab)"));
            respond(&mut client, code, &headers, &body)?;
            return Ok(());
        }
    }
    if let Some(api) = github.filter(|_| path.starts_with("/orgs/") || path.starts_with("/users/"))
    {
        let (code, headers, body) = api.answer(
            &path,
            &authorization,
            &format!("http://127.0.0.1:{own_port}"),
        );
        log.lock()
            .expect("log")
            .push(format!("{method} {path} -> {code} (github)"));
        respond(&mut client, code, &headers, &body)?;
        return Ok(());
    }
    if let Some(api) = hub.filter(|_| path.starts_with("/v2/namespaces/")) {
        let (code, body) = api.answer(&path, &format!("http://127.0.0.1:{own_port}"));
        log.lock()
            .expect("log")
            .push(format!("{method} {path} -> {code} (hub)"));
        respond(&mut client, code, &[], &body)?;
        return Ok(());
    }
    if let Some(h) = harbor {
        let answer = if path.starts_with("/api/v2.0/") {
            match take_fault(faults, &method, &path) {
                Some(Action::Status(code, _)) => Some((
                    code,
                    vec![],
                    "{\"errors\":[{\"code\":\"FORBIDDEN\",\"message\":\"forbidden\"}]}".to_owned(),
                )),
                _ => Some(h.answer(&path, &authorization)),
            }
        } else if path.starts_with("/v2/_catalog") {
            Some((401, vec![], "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"unauthorized to list catalog\"}]}".to_owned()))
        } else {
            None
        };
        if let Some((code, headers, body)) = answer {
            log.lock()
                .expect("log")
                .push(format!("{method} {path} -> {code} (harbor)"));
            respond(&mut client, code, &headers, &body)?;
            return Ok(());
        }
    }
    if let Some((user, password)) = bearer {
        use base64::Engine;
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        if path.starts_with("/token") {
            if let Some(Action::Huge(n)) = take_fault(faults, &method, &path) {
                return huge(client, log, &method, &path, n);
            }
            let form = String::from_utf8_lossy(&body);
            let refresh = method == "POST"
                && form.contains("grant_type=refresh_token")
                && form
                    .split('&')
                    .any(|kv| kv == format!("refresh_token={password}"));
            let (code, body) = if authorization == basic || refresh {
                let mut t = tokens.lock().expect("tokens");
                let token = format!("{TOKEN}-{}", t.issued.len());
                let left = t.lifetime.unwrap_or(u64::MAX);
                t.issued.insert(token.clone(), left);
                let field = if refresh { "access_token" } else { "token" };
                (200, format!("{{\"{field}\":\"{token}\"}}"))
            } else {
                (401, "{\"errors\":[\"bad credentials\"]}".to_owned())
            };
            log.lock()
                .expect("log")
                .push(format!("{method} {path} -> {code} (token)"));
            respond(&mut client, code, &[], &body)?;
            return Ok(());
        }
        let valid = authorization.strip_prefix("Bearer ").is_some_and(|t| {
            match tokens.lock().expect("tokens").issued.get_mut(t) {
                Some(left) if *left > 0 => {
                    *left -= 1;
                    true
                }
                _ => false,
            }
        });
        if !valid {
            log.lock()
                .expect("log")
                .push(format!("{method} {path} -> 401 (challenge)"));
            let challenge = format!(
                "Bearer realm=\"http://127.0.0.1:{own_port}/token\",service=\"vedette-test\",scope=\"repository:x:pull\""
            );
            client.write_all(format!("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: {challenge}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes())?;
            return Ok(());
        }
        headers.retain(|h| !h.to_ascii_lowercase().starts_with("authorization:"));
    }
    let action = take_fault(faults, &method, &path);
    if let Some(Action::Huge(n)) = &action {
        return huge(client, log, &method, &path, *n);
    }
    if let Some(Action::Page(body, extra)) = &action {
        let url = format!("http://127.0.0.1:{own_port}{path}");
        let fill = |s: &str| s.replace("{path}", &path).replace("{url}", &url);
        let extra: Vec<(String, String)> = extra
            .iter()
            .map(|(k, v)| (k.to_string(), fill(v)))
            .collect();
        log.lock()
            .expect("log")
            .push(format!("{method} {path} -> 200 (page)"));
        respond(&mut client, 200, &extra, &fill(body))?;
        return Ok(());
    }
    if let Some(Action::Status(code, extra)) = &action {
        log.lock()
            .expect("log")
            .push(format!("{method} {path} -> {code} (injected)"));
        let mut resp =
            format!("HTTP/1.1 {code} Injected\r\nContent-Length: 17\r\nConnection: close\r\n");
        for (k, v) in extra {
            resp.push_str(&format!("{k}: {v}\r\n"));
        }
        resp.push_str("\r\ninjected failure\n");
        client.write_all(resp.as_bytes())?;
        return Ok(());
    }
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{upstream}\r\nConnection: close\r\n");
    for h in headers {
        req.push_str(&h);
    }
    req.push_str("\r\n");
    up.write_all(req.as_bytes())?;
    up.write_all(&body)?;
    let mut response = Vec::new();
    up.read_to_end(&mut response)?;
    let header_end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .unwrap_or(response.len());
    let status = String::from_utf8_lossy(&response[..header_end.min(response.len())])
        .split_whitespace()
        .nth(1)
        .unwrap_or("?")
        .to_owned();
    match action {
        Some(Action::ResetAfter(n)) => {
            log.lock().expect("log").push(format!(
                "{method} {path} -> {status} (reset after {n} bytes)"
            ));
            let cut = (header_end + n).min(response.len());
            client.write_all(&response[..cut])?;
            let _ = client.shutdown(std::net::Shutdown::Both);
        }
        Some(Action::Trickle) => {
            log.lock()
                .expect("log")
                .push(format!("{method} {path} -> {status} (trickled)"));
            client.write_all(&response[..header_end])?;
            for b in &response[header_end..] {
                std::thread::sleep(std::time::Duration::from_secs(1));
                if client.write_all(std::slice::from_ref(b)).is_err() {
                    return Ok(()); // the client gave up
                }
            }
        }
        Some(Action::Corrupt) => {
            log.lock()
                .expect("log")
                .push(format!("{method} {path} -> {status} (corrupted)"));
            if header_end < response.len() {
                let i = header_end + (response.len() - header_end) / 2;
                response[i] ^= 0xff;
            }
            client.write_all(&response)?;
        }
        _ => {
            // An AWS JSON call is named by its target, not its path.
            let call = amz_target
                .rsplit('.')
                .next()
                .filter(|c| !c.is_empty())
                .map(|c| format!(" {c}"))
                .unwrap_or_default();
            log.lock()
                .expect("log")
                .push(format!("{method} {path}{call} -> {status}"));
            client.write_all(&response)?;
        }
    }
    Ok(())
}
