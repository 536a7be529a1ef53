//! `mnemosynce serve` as a user runs it: a real process on a free loopback port, talked to over HTTP
//! and WebSocket. Each test starts its own server with its own data directory and stops it by PID.

use engine::model::feed::FeedMessage;
use futures_util::StreamExt;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    port: u16,
    _data: tempfile::TempDir,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let data = tempfile::tempdir().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_mnemosynce"))
            .args(extra)
            .args(["serve", "--data"])
            .arg(data.path())
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let server = Server {
            child,
            port,
            _data: data,
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

    fn get(&self, path: &str) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
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
fn healthz_answers_with_version_and_uptime() {
    let server = Server::start(&[]);
    let (status, body) = server.get("/healthz");
    assert_eq!(status, 200, "{body}");
    // The body may be chunked; find the JSON object in it.
    let json = &body[body.find('{').unwrap()..=body.rfind('}').unwrap()];
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["version"], engine::model::VERSION);
    assert!(v["uptime_seconds"].is_u64());
}

#[test]
fn pages_are_rendered_on_the_server_with_the_shell() {
    let server = Server::start(&[]);
    for path in ["/", "/history", "/snapshots", "/settings"] {
        let (status, body) = server.get(path);
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
    let (status, _) = server.get("/no-such-page");
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_feed_says_hello_then_heartbeats() {
    let server = Server::start(&[]);
    let url = format!("ws://127.0.0.1:{}/api/feed", server.port);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
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
    let url = format!("ws://127.0.0.1:{}/api/feed", server.port);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let _hello = next_message(&mut ws).await;
    let took = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(took < Duration::from_secs(3), "shutdown took {took:?}");
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
