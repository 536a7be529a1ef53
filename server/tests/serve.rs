//! `mnemosynce serve` as a user runs it: a real process on a free loopback port, talked to over HTTP
//! and WebSocket. Each test starts its own server with its own data directory and stops it by PID.

use crate::util::processes_mentioning;
use engine::model::feed::FeedMessage;
use futures_util::StreamExt;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The admin password the test servers start with (through `MNEMOSYNCE_ADMIN_PASSWORD`).
const PASSWORD: &str = "a long test password";

struct Server {
    child: Child,
    port: u16,
    data: tempfile::TempDir,
}

/// One HTTP response.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `name=value` of the session cookie this reply sets.
    fn session_cookie(&self) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.split(';').next().unwrap_or("").to_string())
            .find(|c| c.starts_with("mnemosynce_session=") && c.len() > "mnemosynce_session=".len())
    }
}

impl Server {
    /// A server whose admin password is [`PASSWORD`].
    fn start(extra: &[&str]) -> Server {
        Server::start_with(extra, Some(PASSWORD))
    }

    fn start_with(extra: &[&str], password: Option<&str>) -> Server {
        Server::start_full(extra, &[], password)
    }

    /// `extra` go before `serve` (global options), `serve_args` after it.
    fn start_full(extra: &[&str], serve_args: &[&str], password: Option<&str>) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let data = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mnemosynce"));
        cmd.args(extra)
            .args(["serve", "--data"])
            .arg(data.path())
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .args(serve_args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("MNEMOSYNCE_ADMIN_PASSWORD")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(p) = password {
            cmd.env("MNEMOSYNCE_ADMIN_PASSWORD", p);
        }
        let server = Server {
            child: cmd.spawn().unwrap(),
            port,
            data,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server did not start on port {port}");
    }

    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Sends one request; `headers` are extra lines such as `Cookie: …`.
    fn request(&self, method: &str, path: &str, headers: &[String], body: &str) -> Reply {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n",
            self.port
        );
        for h in headers {
            head.push_str(h);
            head.push_str("\r\n");
        }
        if !body.is_empty() || method == "POST" {
            head.push_str(&format!(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        head.push_str(body);
        s.write_all(head.as_bytes()).unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        Reply {
            status,
            headers,
            body: body.to_string(),
        }
    }

    fn get(&self, path: &str) -> (u16, String) {
        let r = self.request("GET", path, &[], "");
        (r.status, r.body)
    }

    fn get_signed_in(&self, path: &str, cookie: &str) -> Reply {
        self.request("GET", path, &[format!("Cookie: {cookie}")], "")
    }

    /// A form POST from this site's own pages (Origin set).
    fn post_form(&self, path: &str, body: &str, cookie: Option<&str>) -> Reply {
        let mut headers = vec![format!("Origin: {}", self.origin())];
        if let Some(c) = cookie {
            headers.push(format!("Cookie: {c}"));
        }
        self.request("POST", path, &headers, body)
    }

    /// A form POST from this site's own pages with extra header lines.
    fn post_form_with(&self, path: &str, body: &str, extra: &[String]) -> Reply {
        let mut headers = vec![format!("Origin: {}", self.origin())];
        headers.extend(extra.iter().cloned());
        self.request("POST", path, &headers, body)
    }

    /// Signs in with [`PASSWORD`]; returns the session cookie.
    fn sign_in(&self) -> String {
        let r = self.post_form("/auth/login", &format!("password={}", form(PASSWORD)), None);
        assert_eq!(r.status, 303, "{r:?}");
        assert_eq!(r.header("location"), Some("/"), "{r:?}");
        r.session_cookie().expect("a session cookie")
    }

    /// A WebSocket to the feed with this cookie, from this site.
    async fn feed(
        &self,
        cookie: &str,
    ) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>
    {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = format!("ws://127.0.0.1:{}/api/feed", self.port)
            .into_client_request()
            .unwrap();
        req.headers_mut().insert("cookie", cookie.parse().unwrap());
        req.headers_mut()
            .insert("origin", self.origin().parse().unwrap());
        tokio_tungstenite::connect_async(req).await.unwrap().0
    }
    /// SIGTERM, then wait; returns how long the process took to exit.
    fn terminate(&mut self) -> Duration {
        let t = Instant::now();
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.child.try_wait().unwrap().is_some() {
                return t.elapsed();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("server did not exit within 10 s of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn healthz_answers_with_uptime_and_the_version_only_to_a_session() {
    let server = Server::start(&[]);
    // The body may be chunked; find the JSON object in it.
    let json = |body: &str| -> serde_json::Value {
        serde_json::from_str(&body[body.find('{').unwrap()..=body.rfind('}').unwrap()]).unwrap()
    };
    let (status, body) = server.get("/healthz");
    assert_eq!(status, 200, "{body}");
    let v = json(&body);
    assert_eq!(v["status"], "ok");
    assert!(v["uptime_seconds"].is_u64());
    assert!(
        v.get("version").is_none(),
        "the version is shown without a session: {v}"
    );
    let cookie = server.sign_in();
    let v = json(&server.get_signed_in("/healthz", &cookie).body);
    assert_eq!(v["version"], engine::model::VERSION);
}

#[test]
fn unknown_host_names_get_421_and_known_ones_are_served() {
    let server = Server::start_full(
        &[],
        &["--allowed-host", "backup.home.example"],
        Some(PASSWORD),
    );
    let get = |host: &str| {
        let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        write!(
            s,
            "GET /login HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        text.split_whitespace().nth(1).unwrap_or("").to_string()
    };
    let port = server.port;
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "backup.home.example".to_string(),
    ] {
        assert_eq!(get(&host), "200", "{host}");
    }
    // A rebinding attack names its own host.
    for host in [
        format!("evil.example:{port}"),
        "127.0.0.1.nip.io".to_string(),
    ] {
        assert_eq!(get(&host), "421", "{host}");
    }
}

#[test]
fn pages_and_answers_are_not_cached_but_assets_may_be() {
    let server = Server::start(&[]);
    let cookie = server.sign_in();
    for path in ["/", "/history", "/login", "/healthz"] {
        let r = server.get_signed_in(path, &cookie);
        assert_eq!(r.header("cache-control"), Some("no-store"), "{path}: {r:?}");
        assert!(
            r.header("strict-transport-security").is_none(),
            "HSTS over plain HTTP"
        );
    }
    let r = server.get_signed_in("/icons/icon-192.png", &cookie);
    assert_ne!(r.header("cache-control"), Some("no-store"), "{r:?}");
}

#[test]
fn sign_in_never_sends_the_browser_to_another_site() {
    let server = Server::start(&[]);
    for next in [
        "%2F%09%2Fevil.example",
        "%2F%0A%2Fevil.example",
        "%2F%5C%2Fevil.example",
        "%2F%2Fevil.example",
    ] {
        let r = server.post_form(
            "/auth/login",
            &format!("password={}&next={next}", form(PASSWORD)),
            None,
        );
        assert_eq!(
            (r.status, r.header("location")),
            (303, Some("/")),
            "{next}: {r:?}"
        );
    }
}

/// Percent-encodes a form value.
fn form(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn pages_are_rendered_on_the_server_with_the_shell() {
    let server = Server::start(&[]);
    let cookie = server.sign_in();
    for path in ["/", "/history", "/snapshots", "/settings"] {
        let r = server.get_signed_in(path, &cookie);
        let (status, body) = (r.status, r.body);
        assert_eq!(status, 200, "{path}");
        assert!(body.contains("Mnemosynce"), "{path}");
        assert!(
            body.contains(r#"data-state="offline""#),
            "{path}: the indicator is not offline"
        );
        assert!(
            body.contains(engine::model::VERSION),
            "{path}: no version in the footer"
        );
    }
    let r = server.get_signed_in("/no-such-page", &cookie);
    assert_eq!(r.status, 404);
}

#[test]
fn finish_setup_anyway_hides_the_setup_strip_and_opens_the_dashboard() {
    let server = Server::start(&[]);
    let cookie = server.sign_in();
    // A fresh data directory: no configuration yet, so the dashboard offers the setup.
    let page = server.get_signed_in("/", &cookie);
    assert!(page.body.contains("setup-strip"), "{}", page.body);
    let r = server.post_form("/setup/finish", "", Some(&cookie));
    assert_eq!((r.status, r.header("location")), (303, Some("/")), "{r:?}");
    let page = server.get_signed_in("/", &cookie);
    assert!(!page.body.contains("setup-strip"), "{}", page.body);
}

#[tokio::test]
async fn the_feed_says_hello_then_heartbeats() {
    let server = Server::start(&[]);
    let cookie = server.sign_in();
    let mut ws = server.feed(&cookie).await;
    let first = next_message(&mut ws).await;
    let FeedMessage::Hello {
        version,
        active_run,
        ..
    } = first
    else {
        panic!("first message is not Hello: {first:?}")
    };
    assert_eq!(version, engine::model::VERSION);
    assert!(active_run.is_none());
    let t = Instant::now();
    let second = tokio::time::timeout(Duration::from_secs(8), next_message(&mut ws))
        .await
        .unwrap();
    assert!(
        matches!(second, FeedMessage::Heartbeat { .. }),
        "{second:?}"
    );
    assert!(
        t.elapsed() > Duration::from_secs(3),
        "heartbeat came too early"
    );
}

async fn next_message<S>(ws: &mut S) -> FeedMessage
where
    S: futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    loop {
        let msg = ws.next().await.unwrap().unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

#[tokio::test]
async fn sigterm_stops_the_server_even_with_an_open_feed() {
    let mut server = Server::start(&[]);
    let cookie = server.sign_in();
    let mut ws = server.feed(&cookie).await;
    let _hello = next_message(&mut ws).await;
    let took = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(took < Duration::from_secs(3), "shutdown took {took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_a_run_records_it_cancelled_keeps_the_transfer_and_stops_rsync() {
    use engine::model::events::{RunEvent, StepKind};
    let mut server = Server::start(&[]);
    let work = tempfile::tempdir().unwrap();
    let (source, store) = (work.path().join("source"), work.path().join("store"));
    fs::create_dir_all(&source).unwrap();
    fs::create_dir_all(&store).unwrap();
    // 3 MB at 300 KiB/s: a transfer of about ten seconds, stopped in the middle.
    fs::write(source.join("big.bin"), vec![7u8; 3_000_000]).unwrap();
    write_config(
        server.data.path(),
        &source,
        &store,
        "    bwlimit_kbps: 300\n    engine: rsync\n",
    );
    let cookie = server.sign_in();
    let mut ws = server.feed(&cookie).await;
    let _hello = next_message(&mut ws).await;
    let r = server.post_form("/runs/start", "", Some(&cookie));
    assert_eq!(r.status, 303, "{r:?}");
    let run_id: i64 = r
        .header("location")
        .and_then(|l| l.strip_prefix("/runs/"))
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("{r:?}"));
    events_until(&mut ws, |e| {
        matches!(
            e,
            RunEvent::StepStarted {
                step: StepKind::Backup,
                ..
            }
        )
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let store_text = store.display().to_string();
    assert!(
        !processes_mentioning(&store_text).is_empty(),
        "rsync is not running"
    );

    let data = server.data.path().to_path_buf();
    let took = tokio::task::spawn_blocking(move || {
        let took = server.terminate();
        (took, server)
    })
    .await
    .unwrap();
    assert!(
        took.0 < Duration::from_secs(10),
        "shutdown took {:?}",
        took.0
    );
    assert!(
        processes_mentioning(&store_text).is_empty(),
        "rsync outlived the server"
    );
    let history = engine::history::History::open(&data.join("mnemosynce.db"))
        .await
        .unwrap();
    let run = history.run(run_id).await.unwrap().unwrap();
    assert_eq!(run.status, engine::model::Status::Cancelled, "{run:?}");
    assert!(run.finished_at.is_some(), "{run:?}");
    assert!(
        store.join("Photos/.incomplete").is_dir(),
        "nothing kept to resume"
    );
    drop(took);
}

#[test]
fn json_log_format_writes_one_json_object_per_line() {
    let mut server = Server::start(&["--log-format", "json"]);
    let _ = server.get("/healthz");
    let _ = server.terminate();
    let mut stderr = BufReader::new(server.child.stderr.take().unwrap());
    let mut lines = Vec::new();
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        lines.push(std::mem::take(&mut line));
    }
    assert!(!lines.is_empty(), "no log lines");
    for l in &lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(v.get("level").is_some(), "{l}");
    }
    assert!(
        lines.iter().any(|l| l.contains("/healthz")),
        "the request was not logged: {lines:?}"
    );
}

#[tokio::test]
async fn every_route_but_sign_in_health_and_assets_refuses_without_a_session() {
    let server = Server::start(&[]);
    for path in [
        "/",
        "/history",
        "/snapshots",
        "/settings",
        "/settings/config",
        "/settings/keys",
        "/settings/connections",
        "/settings/schedule",
        "/settings/email",
        "/settings/retention",
        "/welcome",
        "/no-such-page",
    ] {
        let r = server.request("GET", path, &[], "");
        assert_eq!(r.status, 303, "{path}: {r:?}");
        let to = r.header("location").unwrap();
        assert!(to.starts_with("/login"), "{path} -> {to}");
    }
    let r = server.request("GET", "/history?status=failed", &[], "");
    assert_eq!(
        r.header("location"),
        Some("/login?next=/history%3Fstatus%3Dfailed")
    );
    // Server functions, the page forms and the feed answer 401, also with a proper Origin.
    for path in [
        "/api/anything",
        "/runs/start",
        "/runs/1/cancel",
        "/setup/finish",
    ] {
        let r = server.post_form(path, "", None);
        assert_eq!(r.status, 401, "{path}: {r:?}");
    }
    // A page whose session ended is told so in the server functions' own error type, so it can
    // offer to sign in again.
    let r = server.post_form("/api/get_schedule", "", None);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&r.body).ok(),
        Some(serde_json::json!("SignedOut")),
        "{r:?}"
    );
    let mut ws_req = {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        format!("ws://127.0.0.1:{}/api/feed", server.port)
            .into_client_request()
            .unwrap()
    };
    ws_req
        .headers_mut()
        .insert("origin", server.origin().parse().unwrap());
    match tokio_tungstenite::connect_async(ws_req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 401),
        other => panic!("the feed opened without a session: {:?}", other.map(|_| ())),
    }
    // What stays open.
    assert_eq!(server.get("/healthz").0, 200);
    assert_eq!(server.get("/login").0, 200);
    let asset = server.get("/favicon.ico").0;
    assert!(
        asset != 303 && asset != 401,
        "static files need no session: {asset}"
    );
    // A session opens everything.
    let cookie = server.sign_in();
    assert_eq!(server.get_signed_in("/history", &cookie).status, 200);
}

#[test]
fn first_start_prints_a_setup_code_that_creates_the_password() {
    let mut server = Server::start_with(&[], None);
    let file = server.data.path().join("setup-code");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !file.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "setup-code must be private");
    let code = std::fs::read_to_string(&file).unwrap().trim().to_string();
    // The console says it too.
    let mut out = BufReader::new(server.child.stdout.take().unwrap());
    let mut console = String::new();
    while !console.contains(&code) {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "console ended: {console}"
        );
        console.push_str(&line);
    }

    // Without a password, sign-in leads to the setup page.
    let r = server.request("GET", "/login", &[], "");
    assert_eq!((r.status, r.header("location")), (303, Some("/setup")));
    assert_eq!(server.get("/setup").0, 200);

    let new_pw = "my new admin password";
    let body = |code: &str, pw: &str, confirm: &str| {
        format!(
            "code={}&password={}&confirm={}",
            form(code),
            form(pw),
            form(confirm)
        )
    };
    let r = server.post_form("/auth/setup", &body("AAAA-BBBB-CCCC", new_pw, new_pw), None);
    assert_eq!(r.header("location"), Some("/setup?error=code"));
    let r = server.post_form("/auth/setup", &body(&code, "short", "short"), None);
    assert_eq!(r.header("location"), Some("/setup?error=short"));
    let r = server.post_form("/auth/setup", &body(&code, new_pw, "something else"), None);
    assert_eq!(r.header("location"), Some("/setup?error=mismatch"));
    // Typed in lower case with spaces: still the code.
    let typed = code.to_lowercase().replace('-', " ");
    let r = server.post_form("/auth/setup", &body(&typed, new_pw, new_pw), None);
    assert_eq!((r.status, r.header("location")), (303, Some("/")), "{r:?}");
    let cookie = r.session_cookie().expect("signed in after setup");
    let set_cookie = r.header("set-cookie").unwrap();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    assert!(!file.exists(), "the setup code is used up");
    assert_eq!(server.get_signed_in("/", &cookie).status, 200);
    // The code does not work a second time, and the setup page now sends to sign-in.
    let r = server.post_form(
        "/auth/setup",
        &body(&code, "another password!", "another password!"),
        None,
    );
    assert_eq!(r.header("location"), Some("/login"));
    let r = server.post_form("/auth/login", &format!("password={}", form(new_pw)), None);
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/"));
}

/// The server's anonymous resident memory, from /proc.
fn rss_anon_kb(pid: u32) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn a_sign_in_gives_back_the_memory_its_password_hash_took() {
    let server = Server::start(&[]);
    // The first request waits for the password hash of the start (MNEMOSYNCE_ADMIN_PASSWORD).
    server.request("GET", "/healthz", &[], "");
    std::thread::sleep(Duration::from_millis(500));
    let before = rss_anon_kb(server.child.id());
    for _ in 0..2 {
        server.sign_in();
    }
    std::thread::sleep(Duration::from_millis(500));
    let after = rss_anon_kb(server.child.id());
    // argon2id takes 19 MiB per check; kept on the heap, it would stay resident for good.
    assert!(
        after < before + 8 * 1024,
        "anonymous RSS grew from {before} kB to {after} kB over two sign-ins"
    );
}

/// The server's peak resident memory so far (kB), from /proc.
fn vm_hwm_kb(pid: u32) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Sends `n` wrong-password sign-ins at once, each from the address `from(i)` (the server trusts
/// `X-Forwarded-For`); returns each reply's status and location.
fn parallel_guesses(
    server: &Server,
    n: usize,
    from: impl Fn(usize) -> String,
) -> Vec<(u16, String)> {
    let barrier = std::sync::Barrier::new(n);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (barrier, addr) = (&barrier, from(i));
                scope.spawn(move || {
                    barrier.wait();
                    let r = server.post_form_with(
                        "/auth/login",
                        "password=a+wrong+guess",
                        &[format!("X-Forwarded-For: {addr}")],
                    );
                    (r.status, r.header("location").unwrap_or("").to_string())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn a_burst_of_parallel_guesses_is_counted_before_checking_and_memory_stays_flat() {
    let server = Server::start_full(&[], &["--trust-proxy"], Some(PASSWORD));
    server.request("GET", "/healthz", &[], "");
    std::thread::sleep(Duration::from_millis(300));
    let before = vm_hwm_kb(server.child.id());

    // 40 guesses at once from one address, then 10 more one by one: no more than five are ever
    // checked in the minute.
    let mut replies = parallel_guesses(&server, 40, |_| "192.0.2.7".to_string());
    for _ in 0..10 {
        replies.extend(parallel_guesses(&server, 1, |_| "192.0.2.7".to_string()));
    }
    let checked = replies
        .iter()
        .filter(|(_, l)| l.starts_with("/login?error=wrong"))
        .count();
    assert!(checked <= 5, "{checked} guesses were checked: {replies:?}");
    assert!(
        replies
            .iter()
            .all(|(s, l)| *s == 429 || l.starts_with("/login?error=wrong")),
        "{replies:?}"
    );
    // Its five are used up: even the right password waits now.
    let r = server.post_form_with(
        "/auth/login",
        &format!("password={}", form(PASSWORD)),
        &["X-Forwarded-For: 192.0.2.7".to_string()],
    );
    assert_eq!(r.status, 429, "{r:?}");
    assert!(r.header("retry-after").is_some(), "{r:?}");

    // 60 addresses at once: the checks that run are bounded, so memory stays flat (argon2id
    // takes 19 MiB per check: unbounded, this burst would take over a gigabyte).
    let replies = parallel_guesses(&server, 60, |i| format!("198.51.100.{i}"));
    assert!(replies.iter().any(|(s, _)| *s == 429), "{replies:?}");
    let after = vm_hwm_kb(server.child.id());
    assert!(
        after < before + 100 * 1024,
        "peak memory grew from {before} kB to {after} kB in a burst of sign-ins"
    );
}

#[test]
fn sign_in_rotates_the_session_throttles_failures_and_sign_out_ends_it() {
    let server = Server::start(&[]);
    let r = server.post_form("/auth/login", "password=wrong&next=%2Fhistory", None);
    assert_eq!(
        r.header("location"),
        Some("/login?error=wrong&next=/history")
    );
    assert!(
        r.session_cookie().is_none(),
        "no session for a wrong password"
    );

    let first = server.sign_in();
    // Signing in again with that session gives a new id; the old one is gone.
    let r = server.post_form(
        "/auth/login",
        &format!("password={}&next=%2Fhistory", form(PASSWORD)),
        Some(&first),
    );
    assert_eq!(r.header("location"), Some("/history"));
    let second = r.session_cookie().expect("a new cookie");
    assert_ne!(first, second, "the session id is rotated at sign-in");
    assert_eq!(server.get_signed_in("/", &first).status, 303);
    assert_eq!(server.get_signed_in("/", &second).status, 200);

    // Sign-out is a POST (a GET is not a route) and ends the session.
    assert_ne!(server.get_signed_in("/auth/logout", &second).status, 200);
    let r = server.post_form("/auth/logout", "", Some(&second));
    assert_eq!(r.header("location"), Some("/login?signed_out=1"));
    assert_eq!(server.get_signed_in("/", &second).status, 303);

    // Five failures a minute, then 429 with Retry-After, even for the right password.
    for _ in 0..5 {
        let r = server.post_form("/auth/login", "password=nope", None);
        assert_eq!(r.status, 303);
    }
    let r = server.post_form("/auth/login", &format!("password={}", form(PASSWORD)), None);
    assert_eq!(r.status, 429, "{r:?}");
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
}

#[test]
fn cross_site_posts_are_refused_and_pages_carry_the_security_headers() {
    let server = Server::start(&[]);
    let body = format!("password={}", form(PASSWORD));
    let evil = server.request(
        "POST",
        "/auth/login",
        &["Origin: http://evil.example".to_string()],
        &body,
    );
    assert_eq!(evil.status, 403, "{evil:?}");
    let bare = server.request("POST", "/auth/login", &[], &body);
    assert_eq!(bare.status, 403, "no Origin and no Referer: {bare:?}");
    let referer = server.request(
        "POST",
        "/auth/login",
        &[format!("Referer: {}/login", server.origin())],
        &body,
    );
    assert_eq!(referer.status, 303, "{referer:?}");

    let page = server.request("GET", "/login", &[], "");
    let csp = page.header("content-security-policy").expect("a CSP");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    // The page's inline scripts carry the nonce the policy names.
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .unwrap();
    assert!(
        page.body.contains(&format!("nonce=\"{nonce}\"")),
        "{}",
        page.body
    );
    for script in page.body.split("<script").skip(1) {
        let tag = script.split('>').next().unwrap();
        assert!(
            tag.contains("nonce=") || tag.contains(" src="),
            "inline script without nonce: <script{tag}>"
        );
    }
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("referrer-policy"), Some("same-origin"));
}

#[test]
fn passwd_sets_the_password_and_signs_every_browser_out() {
    let server = Server::start(&[]);
    let cookie = server.sign_in();
    // The runtime lives as long as the test: the feed's socket belongs to it.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut ws = runtime.block_on(async {
        let mut ws = server.feed(&cookie).await;
        let _ = next_message(&mut ws).await;
        ws
    });
    let mut child = Command::new(env!("CARGO_BIN_EXE_mnemosynce"))
        .args(["passwd", "--data"])
        .arg(server.data.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"the changed password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        server.get_signed_in("/", &cookie).status,
        303,
        "old sessions end"
    );
    // Their feeds too, within a heartbeat (the server re-reads the session).
    runtime.block_on(async {
        assert_eq!(
            closed_within(&mut ws, Duration::from_secs(8)).await,
            Some(4401)
        );
    });
    let r = server.post_form("/auth/login", &format!("password={}", form(PASSWORD)), None);
    assert_eq!(r.header("location"), Some("/login?error=wrong"));
    let r = server.post_form("/auth/login", "password=the+changed+password", None);
    assert_eq!(r.header("location"), Some("/"));

    let short = Command::new(env!("CARGO_BIN_EXE_mnemosynce"))
        .args(["passwd", "--data"])
        .arg(server.data.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = {
        let mut c = short;
        c.stdin.take().unwrap().write_all(b"short\n").unwrap();
        c.wait_with_output().unwrap()
    };
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 10 characters"));
}

/// Waits (at most `limit`) for the feed to be closed by the server; returns the close code.
async fn closed_within<S>(ws: &mut S, limit: Duration) -> Option<u16>
where
    S: futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => panic!("the feed is still open after {limit:?}"),
            Ok(None) | Ok(Some(Err(_))) => return None,
            Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_feed_ends_with_its_session_and_the_password_can_be_changed_in_the_web_app() {
    let server = Server::start(&[]);
    // Sign-out closes that session's feed at once, not another session's.
    let (one, other) = (server.sign_in(), server.sign_in());
    let mut ws_one = server.feed(&one).await;
    let mut ws_other = server.feed(&other).await;
    let _ = next_message(&mut ws_one).await;
    let _ = next_message(&mut ws_other).await;
    let r = server.post_form("/auth/logout", "", Some(&one));
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(
        closed_within(&mut ws_one, Duration::from_secs(2)).await,
        Some(4401)
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(300), ws_other.next())
            .await
            .is_err()
            || server.get_signed_in("/", &other).status == 200,
        "the other session's feed must stay"
    );

    // The password page asks for the current password.
    let page = server.get_signed_in("/settings/password", &other);
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("action=\"/auth/password\""),
        "{}",
        page.body
    );
    let change = |current: &str, new: &str, cookie: &str| {
        server.post_form(
            "/auth/password",
            &format!(
                "current={}&password={}&confirm={}",
                form(current),
                form(new),
                form(new)
            ),
            Some(cookie),
        )
    };
    let r = change("not the password", "a brand new password", &other);
    assert_eq!(
        r.header("location"),
        Some("/settings/password?error=wrong"),
        "{r:?}"
    );
    let r = change(PASSWORD, "short", &other);
    assert_eq!(
        r.header("location"),
        Some("/settings/password?error=short"),
        "{r:?}"
    );

    // A third browser with its feed: a new password ends it; the browser that changed it stays.
    let third = server.sign_in();
    let mut ws_third = server.feed(&third).await;
    let _ = next_message(&mut ws_third).await;
    let r = change(PASSWORD, "a brand new password", &other);
    assert_eq!(
        r.header("location"),
        Some("/settings/password?changed=1"),
        "{r:?}"
    );
    let renewed = r
        .session_cookie()
        .expect("this browser gets a new session id");
    assert_eq!(
        closed_within(&mut ws_third, Duration::from_secs(2)).await,
        Some(4401)
    );
    assert_eq!(
        server.get_signed_in("/", &third).status,
        303,
        "the third browser is signed out"
    );
    assert_eq!(
        server.get_signed_in("/", &renewed).status,
        200,
        "this browser stays signed in"
    );
    let r = server.post_form("/auth/login", "password=a+brand+new+password", None);
    assert_eq!(r.header("location"), Some("/"), "{r:?}");
    // Without a session the form is refused.
    let r = server.post_form("/auth/password", "current=x&password=y&confirm=y", None);
    assert_eq!(r.status, 401, "{r:?}");
}

#[test]
fn the_database_is_owner_only_and_holds_no_usable_session_id() {
    use std::os::unix::fs::PermissionsExt;
    let server = Server::start(&[]);
    let cookie = server.sign_in();
    let id = cookie.trim_start_matches("mnemosynce_session=");
    assert!(id.len() > 10, "{cookie}");
    let db = server.data.path().join("mnemosynce.db");
    for f in [db.clone(), server.data.path().join("mnemosynce.db-wal")] {
        let mode = fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
        let bytes = fs::read(&f).unwrap();
        assert!(
            !bytes.windows(id.len()).any(|w| w == id.as_bytes()),
            "{} holds the cookie's session id",
            f.display()
        );
    }
    assert_eq!(server.get_signed_in("/", &cookie).status, 200);
}

/// Writes `<data>/backup_config.yml` with one task `Photos` over `source`, storing in `store`.
fn write_config(
    data: &std::path::Path,
    source: &std::path::Path,
    store: &std::path::Path,
    extra: &str,
) {
    std::fs::write(
        data.join("backup_config.yml"),
        format!(
            "dir_backup_local: {}\nemail: {{enabled: false}}\ntimezone: UTC\ntasks:\n  - name: Photos\n    dir_source: {}\n{extra}",
            store.display(),
            source.display()
        ),
    )
    .unwrap();
}

/// A temporary folder with `source/` (made) and `store/` (not made), and the server's configuration
/// of task `Photos` over them.
fn photos_task(server: &Server) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let work = tempfile::tempdir().unwrap();
    let (source, store) = (work.path().join("source"), work.path().join("store"));
    fs::create_dir_all(&source).unwrap();
    write_config(server.data.path(), &source, &store, "");
    (work, source, store)
}

/// Reads feed messages until `until` says stop; returns every event seen, in order.
async fn events_until<S>(
    ws: &mut S,
    until: impl Fn(&engine::model::events::RunEvent) -> bool,
) -> Vec<engine::model::feed::Sequenced>
where
    S: futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    let mut seen = Vec::new();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(60), next_message(ws))
            .await
            .expect("the feed went quiet");
        if let FeedMessage::Events { events } = msg {
            // The whole batch is kept: events after the one looked for belong to the caller too.
            let stop = events.iter().any(|e| until(&e.event));
            seen.extend(events);
            if stop {
                return seen;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_wizard_runs_the_first_backup_and_shows_what_it_made() {
    use engine::model::events::RunEvent;
    use engine::model::setup::Readiness;
    let server = Server::start(&[]);
    let (_work, source, store) = photos_task(&server);
    fs::create_dir_all(&store).unwrap();
    fs::write(source.join("beach.jpg"), vec![3u8; 20_000]).unwrap();
    let cookie = server.sign_in();
    // What the wizard's page reads (its route, app/src/routes.rs, and the step list after a save).
    let readiness = || {
        let r = server.post_form("/api/get_readiness", "", Some(&cookie));
        assert_eq!(r.status, 200, "{r:?}");
        serde_json::from_str::<Readiness>(&r.body).expect("readiness JSON")
    };
    let before = readiness();
    let last = before.steps.last().expect("steps");
    assert_eq!(last.step.as_str(), "first-run");
    assert!(!last.done && before.first_backup.is_none(), "{before:?}");

    let mut watcher = server.feed(&cookie).await;
    next_message(&mut watcher).await;
    // The wizard's form comes back to the wizard, which follows the run on the feed.
    let step = "/welcome?step=first-run";
    let r = server.post_form("/runs/start", "then=wizard", Some(&cookie));
    assert_eq!((r.status, r.header("location")), (303, Some(step)), "{r:?}");
    events_until(&mut watcher, |e| matches!(e, RunEvent::RunFinished { .. })).await;
    let after = readiness();
    let made = after
        .first_backup
        .clone()
        .expect("the snapshot the run made");
    assert_eq!(made.task, "Photos");
    assert!(
        store.join("Photos").join(&made.snapshot).is_dir(),
        "{made:?}"
    );
    assert_eq!(made.bytes, 20_000, "{made:?}");
    assert!(after.steps.last().is_some_and(|s| s.done), "{after:?}");

    // Any other `then` is not an address to go to: the run's own page.
    let r = server.post_form(
        "/runs/start",
        "then=https%3A%2F%2Felsewhere.example%2F",
        Some(&cookie),
    );
    let to = r.header("location").unwrap_or_default().to_string();
    assert!(to.starts_with("/runs/"), "{r:?}");
    events_until(&mut watcher, |e| matches!(e, RunEvent::RunFinished { .. })).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_from_the_web_streams_live_refuses_a_second_start_and_cancels() {
    use engine::model::events::RunEvent;
    let server = Server::start(&[]);
    let work = tempfile::tempdir().unwrap();
    let (source, store) = (work.path().join("source"), work.path().join("store"));
    std::fs::create_dir_all(&source).unwrap();
    std::fs::create_dir_all(&store).unwrap();
    // 3 MB at 500 KiB/s: a run of about six seconds.
    std::fs::write(source.join("big.bin"), vec![7u8; 3_000_000]).unwrap();
    write_config(
        server.data.path(),
        &source,
        &store,
        "    bwlimit_kbps: 500\n",
    );
    let cookie = server.sign_in();

    let mut watcher = server.feed(&cookie).await;
    assert!(matches!(
        next_message(&mut watcher).await,
        FeedMessage::Hello { .. }
    ));
    // A tab that never reads: it must not hold anything up.
    let _stalled = server.feed(&cookie).await;

    // Run now: a plain form that opens the new run's page.
    let r = server.post_form("/runs/start", "", Some(&cookie));
    assert_eq!(r.status, 303, "{r:?}");
    let run_id: i64 = r
        .header("location")
        .and_then(|l| l.strip_prefix("/runs/"))
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("not sent to the run's page: {r:?}"));

    let started = events_until(&mut watcher, |e| {
        matches!(
            e,
            RunEvent::StepStarted {
                step: engine::model::events::StepKind::Backup,
                ..
            }
        )
    })
    .await;
    assert!(matches!(started[0].event, RunEvent::RunStarted { run_id: id, .. } if id == run_id));

    // A second start while one runs is refused: back to the dashboard, which says why, once.
    let again = server.post_form("/runs/start", "", Some(&cookie));
    assert_eq!(
        (again.status, again.header("location")),
        (303, Some("/")),
        "{again:?}"
    );
    let page = server.get_signed_in("/", &cookie);
    assert!(
        page.body.contains("already in progress"),
        "the dashboard does not say why: {}",
        page.body
    );
    let page = server.get_signed_in("/", &cookie);
    assert!(
        !page.body.contains("already in progress"),
        "the notice is shown only once"
    );

    // The dashboard, rendered on the server, shows the live run's banner... after hydration only;
    // its HTML already lists the task.
    let page = server.get_signed_in("/", &cookie);
    assert!(page.body.contains("Photos"), "{}", page.body);

    let r = server.post_form(&format!("/runs/{run_id}/cancel"), "", Some(&cookie));
    let back = format!("/runs/{run_id}");
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some(back.as_str())),
        "{r:?}"
    );
    let rest = events_until(&mut watcher, |e| matches!(e, RunEvent::RunFinished { .. })).await;
    let all: Vec<_> = started.iter().chain(rest.iter()).collect();
    for pair in all.windows(2) {
        assert_eq!(
            pair[1].seq,
            pair[0].seq + 1,
            "events arrive in order, none missing"
        );
    }
    match &rest.last().unwrap().event {
        RunEvent::RunFinished { status, .. } => {
            assert_eq!(*status, engine::model::Status::Cancelled)
        }
        other => panic!("{other:?}"),
    }

    // A tab that reconnects with the last number it saw gets nothing twice: Resumed, no events.
    let last = rest.last().unwrap().seq;
    let mut resumed = {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = format!("ws://127.0.0.1:{}/api/feed?since={}", server.port, last - 3)
            .into_client_request()
            .unwrap();
        req.headers_mut().insert("cookie", cookie.parse().unwrap());
        req.headers_mut()
            .insert("origin", server.origin().parse().unwrap());
        tokio_tungstenite::connect_async(req).await.unwrap().0
    };
    assert!(
        matches!(next_message(&mut resumed).await, FeedMessage::Resumed { seq, .. } if seq == last - 3)
    );
    match next_message(&mut resumed).await {
        FeedMessage::Events { events } => {
            assert_eq!(
                events.iter().map(|e| e.seq).collect::<Vec<_>>(),
                vec![last - 2, last - 1, last]
            );
        }
        other => panic!("{other:?}"),
    }

    // The run is recorded, and its page and the history show it (server-rendered).
    let page = server.get_signed_in(&format!("/runs/{run_id}"), &cookie);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("cancelled"), "{}", page.body);
    let history = server.get_signed_in("/history?status=cancelled", &cookie);
    assert!(
        history.body.contains(&format!("#{run_id}")),
        "{}",
        history.body
    );

    // Without the limit, a run completes and the dashboard lists the snapshot.
    write_config(server.data.path(), &source, &store, "");
    let r = server.post_form("/runs/start", "task=Photos", Some(&cookie));
    assert_eq!(r.status, 303, "{r:?}");
    let run_page = r.header("location").unwrap_or_default().to_string();
    let done = events_until(&mut watcher, |e| matches!(e, RunEvent::RunFinished { .. })).await;
    match &done.last().unwrap().event {
        RunEvent::RunFinished { status, .. } => assert_eq!(*status, engine::model::Status::Success),
        other => panic!("{other:?}"),
    }
    let page = server.get_signed_in("/", &cookie);
    let snapshot = std::fs::read_dir(store.join("Photos"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("20"))
        .unwrap();
    assert!(
        page.body.contains(&snapshot),
        "the dashboard names the new snapshot {snapshot}"
    );
    // The run page offers each step's log as a link; the link opens it in the page.
    let page = server.get_signed_in(&run_page, &cookie);
    assert!(!page.body.contains("class=\"step-log\""), "{}", page.body);
    let link = format!("{run_page}?task=Photos&amp;step=backup#step-log");
    assert!(page.body.contains(&link), "no link {link}: {}", page.body);
    let page = server.get_signed_in(&format!("{run_page}?task=Photos&step=backup"), &cookie);
    let log = page
        .body
        .split("class=\"step-log\"")
        .nth(1)
        .unwrap_or_else(|| panic!("the log is not shown: {}", page.body));
    assert!(log.contains("Hide log") || page.body.contains("Hide log"));
    assert!(log.contains("engine"), "the backup step's log: {log}");
    // The store's size is measured right after the run (3 MB of data).
    let store_size = |body: &str| {
        body.split("class=\"store-size\">")
            .nth(1)
            .and_then(|r| r.split('<').next())
            .unwrap_or_default()
            .to_string()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut size = store_size(&page.body);
    while !size.ends_with(" MB") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        size = store_size(&server.get_signed_in("/", &cookie).body);
    }
    assert!(size.ends_with(" MB"), "store size {size:?}");
}

#[tokio::test]
async fn tls_serves_https_and_marks_the_session_cookie_secure() {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let certs = tempfile::tempdir().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let (cert_path, key_path) = (certs.path().join("cert.pem"), certs.path().join("key.pem"));
    std::fs::write(&cert_path, leaf.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();

    let server = Server::start_full(
        &[],
        &[
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
        ],
        Some(PASSWORD),
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let port = server.port;
    let https = |request: String| {
        let connector = connector.clone();
        async move {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
            let mut tls = connector.connect(name, tcp).await.expect("a TLS handshake");
            tls.write_all(request.as_bytes()).await.unwrap();
            let mut text = String::new();
            let _ = tls.read_to_string(&mut text).await;
            text
        }
    };
    let reply = https(format!(
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    ))
    .await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let body = format!("password={}", form(PASSWORD));
    let reply = https(format!(
        "POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: https://127.0.0.1:{port}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ))
    .await;
    let cookie = reply
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: mnemosynce_session=")
        })
        .unwrap_or_else(|| panic!("{reply}"));
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(
        reply
            .to_ascii_lowercase()
            .contains("strict-transport-security: max-age="),
        "no HSTS: {reply}"
    );

    // Over HTTP/2, as browsers negotiate it (the host is in `:authority`, there is no Host
    // header): signing in works. curl is a real HTTP/2 client.
    // (`--insecure`: OpenSSL wants more of a CA than this test's one; the rustls client above
    // checked the chain.)
    let out = Command::new("curl")
        .args(["-s", "--http2", "--insecure"])
        .args(["-o", "/dev/null", "-D", "-", "-H"])
        .arg(format!("Origin: https://127.0.0.1:{port}"))
        .arg("--data")
        .arg(&body)
        .arg(format!("https://127.0.0.1:{port}/auth/login"))
        .output()
        .expect("curl runs");
    let head = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
    assert!(
        head.starts_with("http/2 303"),
        "not a 303 over HTTP/2: {head} ({out:?})"
    );
    assert!(head.contains("\nlocation: /\r"), "{head}");
    assert!(head.contains("set-cookie: mnemosynce_session="), "{head}");

    // Plain HTTP on the same port gets no page.
    let (status, _) =
        std::panic::catch_unwind(|| server.get("/healthz")).unwrap_or((0, String::new()));
    assert_ne!(status, 200);
}

#[test]
fn a_connection_test_streams_each_step_while_the_next_one_runs() {
    // An SSH port that accepts and never speaks: TCP passes at once, the host key step waits for its
    // timeout (8 s). The TCP verdict must reach the page long before that.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in silent.incoming().flatten() {
            held.push(conn);
        }
    });
    let server = Server::start(&[]);
    let work = tempfile::tempdir().unwrap();
    let endpoint = format!("ssh://backup@127.0.0.1:{port}/srv/photos");
    std::fs::write(
        server.data.path().join("backup_config.yml"),
        format!(
            "dir_backup_local: {}\nemail: {{enabled: false}}\ntimezone: UTC\ntasks:\n  - name: Remote\n    dir_source: {endpoint}\n",
            work.path().display()
        ),
    )
    .unwrap();
    let cookie = server.sign_in();

    let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let body = format!("endpoint={}", form(&endpoint));
    write!(
        s,
        "POST /api/test_connection_live HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nOrigin: {}\r\nCookie: {cookie}\r\n\
         Connection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        server.port,
        server.origin(),
        body.len()
    )
    .unwrap();
    let started = Instant::now();
    let mut seen = Vec::new();
    let mut first_step = None;
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        if first_step.is_none() && String::from_utf8_lossy(&seen).contains("TCP connect") {
            first_step = Some(started.elapsed());
        }
    }
    let ended = started.elapsed();
    let text = String::from_utf8_lossy(&seen);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let first_step = first_step.expect("the TCP step");
    assert!(
        first_step + Duration::from_secs(5) < ended,
        "the TCP step came at {first_step:?}, the end at {ended:?}: not streamed"
    );
    // The last line is the whole result: the host key step failed with its reason.
    assert!(text.contains("\"Done\""), "{text}");
    assert!(text.contains("\"verdict\":\"pass\""), "{text}");
    assert!(text.contains("\"verdict\":\"fail\""), "{text}");
}

/// The version a settings page was given when it loaded (server function `endpoint`).
fn page_version(server: &Server, cookie: &str, endpoint: &str) -> String {
    let r = server.post_form(&format!("/api/{endpoint}"), "", Some(cookie));
    assert_eq!(r.status, 200, "{r:?}");
    let page: serde_json::Value = serde_json::from_str(&r.body).expect("JSON");
    page["version"].as_str().expect("a version").to_string()
}

#[test]
fn a_settings_page_never_saves_over_a_hand_edit_made_after_it_loaded() {
    let server = Server::start(&[]);
    let work = tempfile::tempdir().unwrap();
    let (source, store) = (work.path().join("source"), work.path().join("store"));
    std::fs::create_dir_all(&source).unwrap();
    std::fs::create_dir_all(&store).unwrap();
    write_config(server.data.path(), &source, &store, "");
    let file = server.data.path().join("backup_config.yml");
    let cookie = server.sign_in();

    let schedule = |version: &str| {
        format!(
            "cron={}&enabled=true&version={}",
            form("0 4 * * *"),
            form(version)
        )
    };
    let email = |version: &str| {
        format!(
            "sender={}&report={}&admin=&host={}&port=465&security=tls&username=&password=&version={}",
            form("me@example.com"),
            form("me@example.com"),
            form("smtp.example.com"),
            form(version)
        )
    };
    let retention = |version: &str| {
        format!(
            "keep_last=2&hourly=0&daily=7&weekly=4&monthly=12&yearly=5&keep_within=&version={}",
            form(version)
        )
    };
    type Body<'a> = &'a dyn Fn(&str) -> String;
    let pages: [(&str, &str, Body); 3] = [
        ("get_schedule", "save_schedule", &schedule),
        ("get_email", "save_email", &email),
        ("get_retention", "save_retention", &retention),
    ];
    for (n, (get, save, body)) in pages.into_iter().enumerate() {
        // The page loads, then the owner edits the file by hand, then the page saves.
        let version = page_version(&server, &cookie, get);
        let mut by_hand = std::fs::read_to_string(&file).unwrap();
        by_hand.push_str(&format!("# hand edit {n}\n"));
        std::fs::write(&file, &by_hand).unwrap();
        let r = server.post_form(&format!("/api/{save}"), &body(&version), Some(&cookie));
        assert_eq!(r.status, 409, "{save}: {r:?}");
        assert!(r.body.starts_with(r#"{"Conflict":"#), "{save}: {r:?}");
        assert!(r.body.contains("reload the page"), "{save}: {r:?}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), by_hand, "{save}");

        // Reloaded, the page saves, on top of the hand edit.
        let version = page_version(&server, &cookie, get);
        let r = server.post_form(&format!("/api/{save}"), &body(&version), Some(&cookie));
        assert_eq!(r.status, 200, "{save}: {r:?}");
        let now = std::fs::read_to_string(&file).unwrap();
        assert!(now.contains(&format!("# hand edit {n}")), "{save}: {now}");
        assert_ne!(now, by_hand, "{save}");
    }

    // The configuration editor too.
    let version = page_version(&server, &cookie, "get_config");
    let by_hand = format!(
        "{}# edited in another tab\n",
        std::fs::read_to_string(&file).unwrap()
    );
    std::fs::write(&file, &by_hand).unwrap();
    let typed = by_hand.replace("# edited in another tab\n", "");
    let body = format!("text={}&version={}", form(&typed), form(&version));
    let r = server.post_form("/api/save_config", &body, Some(&cookie));
    assert_eq!(r.status, 409, "{r:?}");
    assert!(r.body.contains("reload the page"), "{r:?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), by_hand);
}

#[test]
fn a_snapshot_is_browsed_and_its_files_downloaded_without_anything_escaping_it() {
    let server = Server::start(&[]);
    let work = tempfile::tempdir().unwrap();
    let (source, store) = (work.path().join("source"), work.path().join("store"));
    std::fs::create_dir_all(&source).unwrap();
    let snap = store.join("Photos").join("2026-12-01_020000");
    std::fs::create_dir_all(snap.join("albums")).unwrap();
    write_config(server.data.path(), &source, &store, "");
    let content: String = (0..5000).map(|i| format!("{i:05}\n")).collect();
    std::fs::write(snap.join("albums").join("notes.txt"), &content).unwrap();
    std::fs::write(
        snap.join("<img src=x onerror=alert(1)>.html"),
        "<script>alert(1)</script>",
    )
    .unwrap();
    std::fs::write(snap.join("two\nlines.txt"), "x").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", snap.join("passwd")).unwrap();
    std::os::unix::fs::symlink("/etc", snap.join("etc")).unwrap();
    let cookie = server.sign_in();

    // The Snapshots page lists it, with what retention says of it.
    let r = server.get_signed_in("/snapshots", &cookie);
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("2026-12-01_020000"), "{}", r.body);
    assert!(r.body.contains("not adopted"), "{}", r.body);

    // The top folder: folders first, names escaped, links shown with their target only.
    let browse = "/snapshots/browse?task=Photos&snapshot=2026-12-01_020000";
    let r = server.get_signed_in(browse, &cookie);
    assert_eq!(r.status, 200, "{r:?}");
    let folder = r.body.find(r#"data-kind="folder""#);
    let file = r.body.find(r#"data-kind="file""#);
    assert!(
        folder.is_some() && folder < file,
        "folders come first: {}",
        r.body
    );
    assert!(r.body.contains("path=albums&amp;"), "{}", r.body);
    assert!(
        r.body.contains("&lt;img src=x onerror=alert(1)&gt;.html"),
        "{}",
        r.body
    );
    assert!(
        !r.body.contains("<img src=x"),
        "a name was rendered as HTML"
    );
    assert!(r.body.contains("two\\nlines.txt"), "{}", r.body);
    assert!(r.body.contains("/etc/passwd"), "{}", r.body);

    // A link is never followed, `..` never parsed: the browser says why and shows nothing of /etc.
    for path in ["etc", "albums%2F..%2F..", ".."] {
        let r = server.get_signed_in(&format!("{browse}&path={path}"), &cookie);
        assert!(
            r.body.contains("symbolic link")
                || r.body.contains("not allowed")
                || r.body.contains("not a valid path"),
            "{path}: {}",
            r.body
        );
        assert!(
            !r.body.contains("hostname") && !r.body.contains("shadow"),
            "{path}"
        );
    }

    // A file downloads as an attachment, whole or by range; links and folders do not.
    let download = "/snapshots/download?task=Photos&snapshot=2026-12-01_020000&path=";
    let r = server.get_signed_in(&format!("{download}albums/notes.txt"), &cookie);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body, content);
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"notes.txt\"; filename*=UTF-8''notes.txt")
    );
    let r = server.request(
        "GET",
        &format!("{download}albums/notes.txt"),
        &[format!("Cookie: {cookie}"), "Range: bytes=6-17".into()],
        "",
    );
    assert_eq!(r.status, 206, "{r:?}");
    assert_eq!(r.body, "00001\n00002\n");
    assert_eq!(r.header("content-range"), Some("bytes 6-17/30000"));
    let r = server.get_signed_in(
        &format!("{download}%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.html"),
        &cookie,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r
        .header("content-disposition")
        .is_some_and(|d| d.starts_with("attachment;")));
    for path in [
        "passwd",
        "etc%2Fpasswd",
        "albums",
        "..%2F..%2F..%2Fetc%2Fpasswd",
    ] {
        let r = server.get_signed_in(&format!("{download}{path}"), &cookie);
        assert!(r.status >= 400, "{path}: {r:?}");
        assert!(!r.body.contains("root:"), "{path}: {r:?}");
    }
    // And nothing without a session.
    let (status, body) = server.get(&format!("{download}albums/notes.txt"));
    assert_ne!(status, 200);
    assert!(!body.contains("00001"));

    // A second snapshot: the notes hard-linked (unchanged), the HTML file changed, a file added.
    let next = store.join("Photos").join("2026-12-02_020000");
    std::fs::create_dir_all(next.join("albums")).unwrap();
    std::fs::hard_link(
        snap.join("albums").join("notes.txt"),
        next.join("albums").join("notes.txt"),
    )
    .unwrap();
    std::fs::write(
        next.join("<img src=x onerror=alert(1)>.html"),
        "<p>changed</p>",
    )
    .unwrap();
    std::fs::write(next.join("albums").join("new.txt"), "new").unwrap();
    let r = server.get_signed_in(
        "/snapshots/diff?task=Photos&newer=2026-12-02_020000",
        &cookie,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert!(
        r.body.contains("2026-12-01_020000"),
        "compared with the one before: {}",
        r.body
    );
    assert!(r.body.contains("/albums/new.txt"), "{}", r.body);
    assert!(
        r.body.contains("/&lt;img src=x onerror=alert(1)&gt;.html"),
        "{}",
        r.body
    );
    assert!(
        !r.body.contains("notes.txt"),
        "an unchanged (same inode) file is listed: {}",
        r.body
    );
    let r = server.get_signed_in(
        "/snapshots/versions?task=Photos&path=albums/notes.txt",
        &cookie,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("1 version(s)"), "{}", r.body);
    assert!(
        r.body.contains("2026-12-01_020000 … 2026-12-02_020000"),
        "{}",
        r.body
    );

    // Pinned from the page's form (a plain post), the snapshot shows its pin and note.
    let r = server.post_form_with(
        "/api/set_pin",
        "task=Photos&snapshot=2026-12-01_020000&pin=true&note=before+the+move",
        &[
            format!("Cookie: {cookie}"),
            "Accept: text/html".into(),
            format!("Referer: {}/snapshots", server.origin()),
        ],
    );
    assert!(r.status == 302 || r.status == 303, "{r:?}");
    let r = server.get_signed_in("/snapshots", &cookie);
    assert!(r.body.contains("pinned"), "{}", r.body);
    assert!(r.body.contains("before the move"), "{}", r.body);
    assert!(r.body.contains("Unpin"), "{}", r.body);
}

/// Every entry under `root`: relative path bytes → (kind, content or link target, mode, mtime).
fn tree(root: &std::path::Path) -> std::collections::BTreeMap<Vec<u8>, (char, Vec<u8>, u32, i64)> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    let mut out = std::collections::BTreeMap::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let m = fs::symlink_metadata(&p).unwrap();
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .as_os_str()
                .as_bytes()
                .to_vec();
            let entry = if m.is_symlink() {
                let t = fs::read_link(&p).unwrap();
                ('l', t.as_os_str().as_bytes().to_vec(), 0o777, 0)
            } else if m.is_dir() {
                todo.push(p.clone());
                ('d', Vec::new(), m.mode() & 0o7777, 0)
            } else {
                ('f', fs::read(&p).unwrap(), m.mode() & 0o7777, m.mtime())
            };
            out.insert(rel, entry);
        }
    }
    out
}

#[test]
fn a_folder_downloads_as_zip_and_tar_gz_that_unpack_to_the_same_tree() {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;
    let server = Server::start(&[]);
    let (work, _source, store) = photos_task(&server);
    let snap = store.join("Photos").join("2026-12-01_020000");
    let albums = snap.join("albums");
    fs::create_dir_all(albums.join("2024").join("summer")).unwrap();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    fs::write(albums.join("2024").join("summer").join("beach.raw"), &big).unwrap();
    fs::write(albums.join("notes.txt"), "notes").unwrap();
    fs::set_permissions(albums.join("notes.txt"), fs::Permissions::from_mode(0o640)).unwrap();
    let when = std::time::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    fs::File::options()
        .write(true)
        .open(albums.join("notes.txt"))
        .unwrap()
        .set_modified(when)
        .unwrap();
    fs::write(
        albums.join("<img src=x onerror=alert(1)>.html"),
        "<script>alert(1)</script>",
    )
    .unwrap();
    fs::write(albums.join("two\nlines.txt"), "x").unwrap();
    fs::write(
        albums.join(std::ffi::OsStr::from_bytes(b"caf\xe9.txt")),
        "latin-1",
    )
    .unwrap();
    fs::write(albums.join("n".repeat(255)), "long name").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", albums.join("passwd")).unwrap();
    fs::create_dir_all(snap.join("elsewhere")).unwrap();
    fs::write(snap.join("elsewhere").join("not-in-the-archive"), "x").unwrap();
    let cookie = server.sign_in();
    let expected = tree(&albums);

    let base = format!(
        "{}/snapshots/archive?task=Photos&snapshot=2026-12-01_020000&path=albums",
        server.origin()
    );
    for (format, unpack) in [
        ("tar.gz", vec!["tar", "-xzf"]),
        ("zip", vec!["unzip", "-q", "-^"]),
    ] {
        let out = work.path().join(format);
        fs::create_dir_all(&out).unwrap();
        let file = out.join(format!("albums.{format}"));
        let got = Command::new("curl")
            .args(["-sS", "-f", "-D", "-", "-o"])
            .arg(&file)
            .args(["-H", &format!("Cookie: {cookie}")])
            .arg(format!("{base}&format={format}"))
            .output()
            .unwrap();
        let head = String::from_utf8_lossy(&got.stdout).to_ascii_lowercase();
        assert!(
            got.status.success(),
            "{format}: {head} {}",
            String::from_utf8_lossy(&got.stderr)
        );
        assert!(
            head.contains(&format!(
                "content-disposition: attachment; filename=\"albums.{format}\""
            )),
            "{head}"
        );
        assert!(head.contains("x-content-type-options: nosniff"), "{head}");
        let unpacked = out.join("unpacked");
        fs::create_dir_all(&unpacked).unwrap();
        let st = Command::new(unpack[0])
            .args(&unpack[1..])
            .arg(&file)
            .current_dir(&unpacked)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&st.stderr)
        );
        // One top folder named after the archived one, holding the same tree: contents, modes,
        // times, the link as a link (never what it points at), the odd names as they are.
        let top: Vec<_> = fs::read_dir(&unpacked)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(top, vec![std::ffi::OsString::from("albums")], "{format}");
        assert_eq!(tree(&unpacked.join("albums")), expected, "{format}");
    }

    // A whole snapshot is named after its task and snapshot; links, `..` and missing things are
    // refused before anything is sent; nothing without a session.
    let r = server.get_signed_in(
        "/snapshots/archive?task=Photos&snapshot=2026-12-01_020000&path=albums%2Fpasswd&format=zip",
        &cookie,
    );
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.body.contains("symbolic link"), "{r:?}");
    for (query, status) in [
        ("snapshot=2026-12-09_020000&path=&format=zip", 404),
        ("snapshot=2026-12-01_020000&path=..&format=zip", 400),
        ("snapshot=2026-12-01_020000&path=albums&format=rar", 400),
    ] {
        let r = server.get_signed_in(&format!("/snapshots/archive?task=Photos&{query}"), &cookie);
        assert_eq!(r.status, status, "{query}: {r:?}");
    }
    let (status, _) =
        server.get("/snapshots/archive?task=Photos&snapshot=2026-12-01_020000&path=&format=zip");
    assert_ne!(status, 200);
    let got = Command::new("curl")
        .args([
            "-sS",
            "-f",
            "-o",
            "/dev/null",
            "-D",
            "-",
            "-H",
            &format!("Cookie: {cookie}"),
        ])
        .arg(format!(
            "{}/snapshots/archive?task=Photos&snapshot=2026-12-01_020000&format=tar.gz",
            server.origin()
        ))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&got.stdout).contains("Photos-2026-12-01_020000.tar.gz"),
        "{}",
        String::from_utf8_lossy(&got.stdout)
    );
}

#[test]
fn a_restore_from_the_web_form_runs_with_its_own_page_and_never_overwrites_unasked() {
    let server = Server::start(&[]);
    let work = tempfile::tempdir().unwrap();
    let (source, store) = (work.path().join("source"), work.path().join("store"));
    fs::create_dir_all(source.join("albums")).unwrap();
    write_config(server.data.path(), &source, &store, "");
    let snap = store.join("Photos").join("2026-12-01_020000");
    fs::create_dir_all(snap.join("albums")).unwrap();
    fs::write(snap.join("albums").join("notes.txt"), "saved notes").unwrap();
    fs::write(source.join("albums").join("notes.txt"), "edited notes").unwrap();
    let cookie = server.sign_in();

    // The form says where "next to the original" is, exactly.
    let form = "/snapshots/restore?task=Photos&snapshot=2026-12-01_020000&path=albums/notes.txt";
    let r = server.get_signed_in(form, &cookie);
    assert_eq!(r.status, 200, "{r:?}");
    let beside = format!("{}.restored-", source.join("albums/notes.txt").display());
    assert!(r.body.contains(&beside), "{}", r.body);
    assert!(r.body.contains(r#"action="/runs/restore""#), "{}", r.body);

    // Posted: a run of its own, whose page follows it; the file lands beside the original.
    let post =
        |body: &str| server.post_form_with("/runs/restore", body, &[format!("Cookie: {cookie}")]);
    let r = post("task=Photos&snapshot=2026-12-01_020000&path=albums%2Fnotes.txt&place=original");
    assert_eq!(r.status, 303, "{r:?}");
    let run_page = r.header("location").unwrap().to_string();
    assert!(run_page.starts_with("/runs/"), "{r:?}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let restored = loop {
        let found: Vec<_> = fs::read_dir(source.join("albums"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("notes.txt.restored-"))
            .collect();
        if let Some(p) = found.first() {
            if fs::read(p).map(|b| b == b"saved notes").unwrap_or(false) {
                break p.clone();
            }
        }
        assert!(Instant::now() < deadline, "nothing restored");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        fs::read_to_string(source.join("albums/notes.txt")).unwrap(),
        "edited notes"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = server.get_signed_in(&run_page, &cookie);
        if r.body.contains("restore") && r.body.contains(&restored.display().to_string()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the run page never told the restore: {}",
            r.body
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Into a folder where the file exists, without replace: refused, back on the form with why.
    let to = work.path().join("to");
    fs::create_dir_all(&to).unwrap();
    fs::write(to.join("notes.txt"), "keep me").unwrap();
    let body = format!(
        "task=Photos&snapshot=2026-12-01_020000&path=albums%2Fnotes.txt&place=folder&to={}",
        to.display().to_string().replace('/', "%2F")
    );
    let r = post(&body);
    assert_eq!(r.status, 303, "{r:?}");
    let back = r.header("location").unwrap().to_string();
    assert!(back.starts_with("/snapshots/restore?"), "{r:?}");
    let r = server.get_signed_in(&back, &cookie);
    assert!(r.body.contains("already exists"), "{}", r.body);
    assert_eq!(fs::read_to_string(to.join("notes.txt")).unwrap(), "keep me");
    // With replace: the saved bytes, the replaced ones kept aside.
    let r = post(&format!("{body}&replace=on"));
    assert_eq!(r.status, 303, "{r:?}");
    assert!(r.header("location").unwrap().starts_with("/runs/"), "{r:?}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while fs::read_to_string(to.join("notes.txt")).unwrap() != "saved notes" {
        assert!(Instant::now() < deadline, "not replaced");
        std::thread::sleep(Duration::from_millis(100));
    }
    let aside: Vec<_> = fs::read_dir(&to)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("notes.txt.replaced-"))
        .collect();
    assert_eq!(aside.len(), 1);
    assert_eq!(
        fs::read_to_string(aside[0].join("notes.txt")).unwrap(),
        "keep me"
    );

    // No session, no restore; another site's form, no restore.
    let r = server.request(
        "POST",
        "/runs/restore",
        &[format!("Origin: {}", server.origin())],
        "task=Photos&snapshot=2026-12-01_020000&path=albums&place=original",
    );
    assert!(
        r.status == 401
            || r.status == 303
                && r.header("location")
                    .is_some_and(|l| l.starts_with("/login")),
        "{r:?}"
    );
    let r = server.request(
        "POST",
        "/runs/restore",
        &[
            "Origin: http://evil.example".to_string(),
            format!("Cookie: {cookie}"),
        ],
        "task=Photos&snapshot=2026-12-01_020000&path=albums&place=original",
    );
    assert_eq!(r.status, 403, "{r:?}");
}

#[test]
fn find_streams_each_version_of_the_matching_files_with_links_to_get_them_back() {
    let server = Server::start(&[]);
    let (_work, _source, store) = photos_task(&server);
    let older = store.join("Photos").join("2026-12-01_020000");
    let newer = store.join("Photos").join("2026-12-02_020000");
    fs::create_dir_all(older.join("docs")).unwrap();
    fs::create_dir_all(newer.join("docs")).unwrap();
    fs::write(older.join("docs/Budget.xlsx"), "v1").unwrap();
    fs::write(newer.join("docs/Budget.xlsx"), "v2").unwrap();
    fs::write(older.join("docs/<b>x<i>.xlsx"), "odd").unwrap();
    fs::hard_link(
        older.join("docs/<b>x<i>.xlsx"),
        newer.join("docs/<b>x<i>.xlsx"),
    )
    .unwrap();
    fs::write(newer.join("docs/notes.txt"), "n").unwrap();
    let cookie = server.sign_in();

    let r = server.get_signed_in("/snapshots/find?task=Photos&pattern=*.XLSX", &cookie);
    assert_eq!(r.status, 200, "{r:?}");
    let body = &r.body;
    // Newest snapshot first, then only what is new in the older one.
    let first = body.find("2026-12-02_020000</h2>").expect(body);
    let second = body.find("2026-12-01_020000</h2>").expect(body);
    assert!(first < second, "{body}");
    assert_eq!(
        body.matches("/docs/Budget.xlsx</code>").count(),
        2,
        "{body}"
    );
    assert_eq!(
        body.matches("/docs/&lt;b&gt;x&lt;i&gt;.xlsx</code>")
            .count(),
        1,
        "{body}"
    );
    assert!(!body.contains("<b>x<i>"), "a name was rendered as HTML");
    assert!(!body.contains("notes.txt"), "{body}");
    assert!(
        body.contains("/snapshots/download?task=Photos&amp;snapshot=2026-12-01_020000&amp;path=docs/Budget.xlsx"),
        "{body}"
    );
    assert!(body.contains("/snapshots/restore?task=Photos"), "{body}");
    // Sent as it is made (chunked), not after the whole search.
    assert_eq!(r.header("transfer-encoding"), Some("chunked"), "{r:?}");

    let r = server.get_signed_in("/snapshots/find?task=Photos&pattern=docs%2F*.xlsx", &cookie);
    assert!(r.body.contains("matches names, not paths"), "{}", r.body);
}

#[test]
fn the_snapshots_page_draws_each_tasks_unique_size_and_file_count_over_time() {
    let server = Server::start(&[]);
    let work = tempfile::tempdir().unwrap();
    let (source, store) = (work.path().join("source"), work.path().join("store"));
    fs::create_dir_all(&source).unwrap();
    fs::create_dir_all(&store).unwrap();
    fs::write(source.join("a.txt"), "a").unwrap();
    write_config(
        server.data.path(),
        &source,
        &store,
        "    retention: {keep_last: 10}\n",
    );
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_mnemosynce"))
            .arg("--data")
            .arg(server.data.path())
            .arg("run")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run();
    std::thread::sleep(Duration::from_millis(1100));
    fs::write(source.join("b.txt"), "bb").unwrap();
    run();
    let cookie = server.sign_in();
    let r = server.get_signed_in("/snapshots", &cookie);
    assert_eq!(r.status, 200, "{r:?}");
    // An SVG drawn on the server: one bar per measured snapshot, the file count as a line, and
    // the figures in words for who cannot see it.
    assert!(r.body.contains("<svg"), "{}", r.body);
    assert_eq!(r.body.matches(r#"class="bar""#).count(), 2, "{}", r.body);
    assert!(r.body.contains("<polyline"), "{}", r.body);
    assert!(r.body.contains("files, up to 2"), "{}", r.body);
    assert!(r.body.contains("Unique size (bars"), "{}", r.body);
}

#[test]
fn pages_travel_compressed_while_backup_bytes_and_streamed_pages_go_as_they_are() {
    let server = Server::start(&[]);
    let (_work, _source, store) = photos_task(&server);
    let snap = store.join("Photos").join("2026-12-01_020000");
    fs::create_dir_all(&snap).unwrap();
    let text: String = (0..5000).map(|i| format!("line {i}\n")).collect();
    fs::write(snap.join("notes.txt"), &text).unwrap();
    let cookie = server.sign_in();
    // The response head of `path` asked for with `Accept-Encoding: br, gzip`, lower-cased.
    let head = |path: &str| {
        let out = Command::new("curl")
            .args([
                "-sS",
                "-o",
                "/dev/null",
                "-D",
                "-",
                "-H",
                "Accept-Encoding: br, gzip",
            ])
            .args(["-H", &format!("Cookie: {cookie}")])
            .arg(format!("{}{path}", server.origin()))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_ascii_lowercase()
    };
    for page in [
        "/",
        "/history",
        "/snapshots",
        "/snapshots/browse?task=Photos&snapshot=2026-12-01_020000",
    ] {
        let h = head(page);
        assert!(h.contains("content-encoding: br"), "{page}: {h}");
    }
    // A file of the backup: its bytes as stored (so `Range` addresses them), never re-encoded.
    let h = head("/snapshots/download?task=Photos&snapshot=2026-12-01_020000&path=notes.txt");
    assert!(h.starts_with("http/1.1 200"), "{h}");
    assert!(!h.contains("content-encoding"), "{h}");
    let h = head("/snapshots/archive?task=Photos&snapshot=2026-12-01_020000&path=&format=zip");
    assert!(!h.contains("content-encoding"), "{h}");
    // The Find page streams as it searches: nothing may hold its chunks back.
    let h = head("/snapshots/find?task=Photos&pattern=notes");
    assert!(h.contains("x-accel-buffering: no"), "{h}");
    assert!(!h.contains("content-encoding"), "{h}");
}

/// What `serve` logs to stderr until it listens, started with `envs`; stopped by PID.
fn startup_log(envs: &[(&str, &str)]) -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mnemosynce"));
    cmd.args(["serve", "--data"])
        .arg(data.path())
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("MNEMOSYNCE_ADMIN_PASSWORD", PASSWORD)
        .env("RUST_LOG", "info")
        .env_remove("JOURNAL_STREAM")
        .env_remove("MNEMOSYNCE_LOG_FORMAT")
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut text = String::new();
    if let Some(mut err) = child.stderr.take() {
        err.read_to_string(&mut text).unwrap();
    }
    text
}

#[test]
fn the_log_format_comes_from_the_environment_and_the_journal_gets_no_second_timestamp() {
    // MNEMOSYNCE_LOG_FORMAT=json: every line a JSON object with its own timestamp.
    let json = startup_log(&[("MNEMOSYNCE_LOG_FORMAT", "json")]);
    let lines: Vec<&str> = json.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "no log lines");
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v.get("timestamp").is_some(), "{line}");
    }

    // A terminal gets readable lines with the time…
    let stamped = |line: &str| {
        line.split(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | ':' | 'T')))
            .any(|w| w.len() >= 16 && w.as_bytes().get(4) == Some(&b'-') && w.contains('T'))
    };
    let text = startup_log(&[]);
    assert!(text.lines().all(stamped), "{text}");
    // …the journal (systemd sets JOURNAL_STREAM) none, and no colours: journald stamps the time.
    let journal = startup_log(&[("JOURNAL_STREAM", "8:12345")]);
    assert!(!journal.is_empty());
    assert!(!journal.lines().any(stamped), "{journal}");
    assert!(
        !journal.contains('\u{1b}'),
        "colours in the journal: {journal}"
    );
}

/// Parses a Prometheus text exposition with the reference parser (Python's `prometheus_client`,
/// Debian's python3-prometheus-client): `{"name{label=value,...}": value}` for every sample.
fn prometheus_samples(text: &str) -> std::collections::BTreeMap<String, f64> {
    const PARSE: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ','.join(k + '=' + v for k, v in sorted(s.labels.items()))
        out[s.name + '{' + labels + '}'] = s.value
print(json.dumps(out))
"#;
    // Debian's own python3, which sees Debian's packages (a pyenv python3 on PATH would not).
    let python = if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let mut child = Command::new(python)
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (scripts/ensure-tools installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser refused the exposition: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_after_real_runs_parse_as_prometheus_text_and_need_a_session_or_the_token() {
    use engine::model::events::RunEvent;
    let server = Server::start(&[]);
    let work = tempfile::tempdir().unwrap();
    let (source, store) = (work.path().join("source"), work.path().join("store"));
    fs::create_dir_all(&source).unwrap();
    fs::create_dir_all(&store).unwrap();
    fs::write(source.join("beach.jpg"), vec![3u8; 20_000]).unwrap();
    fs::write(source.join("notes.txt"), b"hello").unwrap();
    let token_file = work.path().join("metrics-token");
    fs::write(&token_file, "a-long-scrape-token\n").unwrap();
    write_config(
        server.data.path(),
        &source,
        &store,
        &format!(
            "retention:\n  keep_last: 10\nmetrics:\n  token_file: {}\n",
            token_file.display()
        ),
    );

    // Never open: no session and no token, or a wrong one, get 401 and no figures.
    let scrape = |token: &str| {
        server.request(
            "GET",
            "/metrics",
            &[format!("Authorization: Bearer {token}")],
            "",
        )
    };
    let r = server.request("GET", "/metrics", &[], "");
    assert_eq!(r.status, 401, "{r:?}");
    assert!(r
        .header("www-authenticate")
        .is_some_and(|v| v.starts_with("Bearer")));
    assert!(!r.body.contains("mnemosynce_"), "{r:?}");
    assert_eq!(scrape("a-long-scrape-toke").status, 401);

    // Two real runs from the web app.
    let cookie = server.sign_in();
    let mut watcher = server.feed(&cookie).await;
    next_message(&mut watcher).await;
    for _ in 0..2 {
        let r = server.post_form("/runs/start", "", Some(&cookie));
        assert_eq!(r.status, 303, "{r:?}");
        events_until(&mut watcher, |e| matches!(e, RunEvent::RunFinished { .. })).await;
    }

    let r = scrape("a-long-scrape-token");
    assert_eq!(r.status, 200, "{r:?}");
    assert!(
        r.header("content-type")
            .is_some_and(|v| v.starts_with("text/plain; version=0.0.4")),
        "{r:?}"
    );
    let m = prometheus_samples(&r.body);
    let get = |k: &str| *m.get(k).unwrap_or_else(|| panic!("no {k} in {m:#?}"));
    assert_eq!(
        get("mnemosynce_task_last_run_status{status=success,task=Photos}"),
        1.0
    );
    assert_eq!(
        get("mnemosynce_task_last_run_status{status=failed,task=Photos}"),
        0.0
    );
    assert_eq!(get("mnemosynce_task_snapshots{task=Photos}"), 2.0);
    assert_eq!(get("mnemosynce_task_stale{task=Photos}"), 0.0);
    // The second run copied nothing: both files were hard-linked from the first snapshot.
    assert_eq!(
        get("mnemosynce_task_last_run_files_copied{task=Photos}"),
        0.0
    );
    assert_eq!(
        get("mnemosynce_task_last_run_bytes_copied{task=Photos}"),
        0.0
    );
    assert!(get("mnemosynce_task_store_bytes{task=Photos}") >= 20_000.0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let snapshot_at = get("mnemosynce_task_last_snapshot_timestamp_seconds{task=Photos}");
    assert!((now - snapshot_at).abs() < 600.0, "{snapshot_at} vs {now}");
    assert!(get("mnemosynce_task_last_run_duration_seconds{task=Photos}") >= 0.0);
    assert!(
        m.contains_key("mnemosynce_task_last_step_duration_seconds{step=backup,task=Photos}"),
        "{m:#?}"
    );
    // The parser names a counter's sample with `_total`.
    assert_eq!(get("mnemosynce_runs_total{outcome=success}"), 2.0);
    assert_eq!(get("mnemosynce_runs_total{outcome=failed}"), 0.0);
    assert_eq!(get("mnemosynce_run_in_progress{}"), 0.0);
    assert_eq!(get("mnemosynce_config_ok{}"), 1.0);
    assert!(get("process_resident_memory_bytes{}") > 1_000_000.0);
    assert!(get("process_open_fds{}") > 0.0);
    assert!(get("process_cpu_seconds_total{}") > 0.0);
    assert!((now - get("process_start_time_seconds{}")).abs() < 3_600.0);

    // A signed-in browser may read it too.
    assert_eq!(server.get_signed_in("/metrics", &cookie).status, 200);

    // Removing the token file locks scrapers out again.
    fs::remove_file(&token_file).unwrap();
    assert_eq!(scrape("a-long-scrape-token").status, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn healthz_tasks_answers_503_naming_the_stale_tasks() {
    use engine::model::events::RunEvent;
    let server = Server::start(&[]);
    let (_work, source, store) = photos_task(&server);
    fs::create_dir_all(&store).unwrap();
    fs::write(source.join("beach.jpg"), vec![3u8; 2_000]).unwrap();
    // Plain /healthz is liveness only; ?tasks with a task that never ran is current (new, not stale).
    assert_eq!(server.get("/healthz").0, 200);
    let (code, body) = server.get("/healthz?tasks");
    assert_eq!(code, 200, "{body}");

    // A run that fails (the source is gone) leaves the task without a good snapshot: stale.
    fs::remove_dir_all(&source).unwrap();
    let cookie = server.sign_in();
    let mut watcher = server.feed(&cookie).await;
    next_message(&mut watcher).await;
    let r = server.post_form("/runs/start", "", Some(&cookie));
    assert_eq!(r.status, 303, "{r:?}");
    events_until(&mut watcher, |e| matches!(e, RunEvent::RunFinished { .. })).await;
    let (code, body) = server.get("/healthz?tasks");
    assert_eq!(code, 503, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "stale", "{body}");
    assert_eq!(v["stale_tasks"], serde_json::json!(["Photos"]), "{body}");
    // Liveness is unaffected.
    assert_eq!(server.get("/healthz").0, 200);

    // An unusable configuration is a 503 too, without details for a caller without a session.
    fs::write(server.data.path().join("backup_config.yml"), "tasks: [").unwrap();
    let (code, body) = server.get("/healthz?tasks");
    assert_eq!(code, 503, "{body}");
    assert!(
        body.contains("configuration error") && !body.contains("line"),
        "{body}"
    );
}
