//! Email reports against a real SMTP server: `scripts/fixtures/smtpd` (Debian's python3-aiosmtpd) on a
//! free loopback port, with STARTTLS or implicit TLS (a certificate from a CA made here, trusted through
//! `smtp.ca_file`) and AUTH, stopped by PID when each test ends. What arrives is parsed as MIME.

use engine::config;
use engine::data_dir::DataDir;
use engine::history::History;
use engine::mail::{self, report};
use engine::model::connection::{CheckStep, Verdict};
use engine::model::events::Trigger;
use engine::model::report::ReportStatus;
use engine::model::Status;
use engine::run::{self, RunOptions, RunReport};
use mail_parser::{MessageParser, MimeHeaders};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::{Certs, Smtpd};
use tokio_util::sync::CancellationToken;

const USER: &str = "owner@example.com";
const PASSWORD: &str = "correct horse battery staple";

/// The SMTP fixture in `mode`, with the test's login unless it is the server that never answers.
fn start_smtpd(dir: &Path, mode: &str, certs: Option<&Certs>) -> Smtpd {
    let login = (mode != "hang").then_some((USER, PASSWORD));
    Smtpd::start(dir, mode, certs, login)
}

/// A data directory, a store and a configuration around one SMTP server.
struct Fixture {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    data: DataDir,
    certs: Certs,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let certs = Certs::make(&root);
        for d in ["store", "src/Photos", "src/Music"] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        fs::write(root.join("src/Photos/a.jpg"), b"a photo").unwrap();
        fs::write(root.join("src/Music/b.flac"), b"a song").unwrap();
        // A source whose path holds markup: it must arrive escaped.
        let hostile = root.join("src/<script>alert(1)<");
        fs::create_dir_all(&hostile).unwrap();
        fs::write(hostile.join("script>"), b"a file, not a folder").unwrap();
        Fixture {
            data: DataDir::new(root.join("data")),
            root,
            _tmp: tmp,
            certs,
        }
    }

    fn smtpd(&self, mode: &str) -> Smtpd {
        start_smtpd(
            &self.root.join(format!("smtpd-{mode}")),
            mode,
            Some(&self.certs),
        )
    }

    /// The YAML with the given `smtp:` and `report:` settings and tasks (by name: Photos, Music,
    /// Hostile — the last one fails, its source being a file).
    fn yaml(&self, smtp: &str, extra: &str, tasks: &[&str]) -> String {
        let mut y = format!(
            "dir_backup_local: {}\ntimezone: UTC\nemail_sender: backup@example.com\n\
             email_report: owner@example.com\nemail_admin: admin@example.com\n{smtp}\n{extra}\ntasks:\n",
            self.root.join("store").display()
        );
        for t in tasks {
            let src = match *t {
                "Hostile" => self.root.join("src/<script>alert(1)</script>"),
                other => self.root.join("src").join(other),
            };
            y.push_str(&format!(
                "  - name: {t}\n    dir_source: \"{}\"\n",
                src.display()
            ));
        }
        y
    }

    fn smtp(&self, server: &Smtpd, security: &str) -> String {
        let pw = self.root.join("smtp_password");
        fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
        format!(
            "smtp: {{host: 127.0.0.1, port: {}, security: {security}, username: {USER}, password_file: {}, ca_file: {}, timeout_secs: 3}}",
            server.port,
            pw.display(),
            self.certs.ca.display()
        )
    }

    /// Runs every task of `yaml` and sends the report, as `mnemosynce run` does.
    async fn run(&self, yaml: &str) -> (RunReport, report::ReportOutcome, History) {
        self.run_tasks(yaml, &[]).await
    }

    /// Runs the named tasks of `yaml` (all when empty) and sends the report.
    async fn run_tasks(
        &self,
        yaml: &str,
        tasks: &[&str],
    ) -> (RunReport, report::ReportOutcome, History) {
        let checked = config::check_str(yaml);
        let cfg = checked
            .config
            .unwrap_or_else(|| panic!("config: {:#?}", checked.problems));
        let tz = config::resolve_timezone(&cfg).unwrap();
        self.data.create().unwrap();
        let history = History::open(&self.data.database()).await.unwrap();
        let options = RunOptions {
            trigger: Trigger::Cli,
            tasks: tasks.iter().map(|t| t.to_string()).collect(),
            dry_run: false,
        };
        let report = run::run(
            &self.data,
            &history,
            &cfg,
            tz,
            options,
            Arc::new(|_| {}),
            CancellationToken::new(),
        )
        .await
        .unwrap();
        let outcome = report::send_run_report(&self.data, &history, &cfg, tz, &report).await;
        (report, outcome, history)
    }

    async fn test_email(&self, yaml: &str) -> Vec<CheckStep> {
        let cfg = config::check_str(yaml).config.unwrap();
        mail::test_email(&cfg, &self.data, None).await
    }
}

fn verdict(steps: &[CheckStep], name: &str) -> (Verdict, String, String) {
    let s = steps
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no step {name} in {steps:#?}"));
    (
        s.verdict,
        s.detail.clone(),
        s.hint.clone().unwrap_or_default(),
    )
}

fn gunzip(bytes: &[u8]) -> String {
    let mut out = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut out)
        .unwrap();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_run_reports_to_owner_and_admin_with_both_alternatives_and_the_log() {
    let f = Fixture::new();
    let server = f.smtpd("starttls");
    let yaml = f.yaml(&f.smtp(&server, "starttls"), "", &["Photos", "Hostile"]);
    let (report, outcome, history) = f.run(&yaml).await;
    assert_eq!(report.status, Status::Failed);
    assert_eq!(outcome.status, ReportStatus::Sent, "{outcome}");

    let mails = server.received();
    assert_eq!(mails.len(), 1);
    let (envelope, raw) = &mails[0];
    assert_eq!(envelope["mail_from"], "backup@example.com");
    let mut rcpt: Vec<String> = envelope["rcpt_tos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    rcpt.sort();
    assert_eq!(rcpt, ["admin@example.com", "owner@example.com"]);
    assert_eq!(envelope["auth_user"], USER);

    let msg = MessageParser::default().parse(raw).expect("a MIME message");
    let subject = msg.subject().unwrap();
    assert!(
        subject.starts_with("✘ Mnemosynce: 1 of 2 tasks FAILED on "),
        "{subject}"
    );
    let ct = msg.content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("multipart", Some("mixed")));
    let text = msg.body_text(0).unwrap();
    let html = msg.body_html(0).unwrap();
    assert!(text.contains("Photos: success"), "{text}");
    assert!(text.contains("Hostile: failed"), "{text}");
    assert!(text.contains("what to do:"), "{text}");
    assert!(
        html.contains("Photos") && html.contains("What to do:"),
        "{html}"
    );
    // The failure names the source path, which holds markup: escaped in HTML, never live.
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{html}"
    );
    assert!(text.contains("<script>alert(1)</script>"), "{text}");

    let attachments: Vec<_> = msg.attachments().collect();
    assert_eq!(
        attachments.len(),
        1,
        "one log: the failed preflight of Hostile"
    );
    assert_eq!(
        attachments[0].attachment_name(),
        Some("Hostile.preflight.log.gz")
    );
    let log = gunzip(attachments[0].contents());
    assert!(log.contains("is not a folder"), "{log}");

    let row = history.run(report.run_id.unwrap()).await.unwrap().unwrap();
    assert_eq!(row.report_status, Some(ReportStatus::Sent));
    assert_eq!(row.report_error, None);

    // Kept for a look (and the screenshot in the note).
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("email");
    fs::create_dir_all(&artifacts).unwrap();
    fs::write(artifacts.join("report.html"), html.as_bytes()).unwrap();
    fs::write(artifacts.join("report.txt"), text.as_bytes()).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_good_run_goes_to_the_owner_only_and_when_failures_sends_nothing() {
    let f = Fixture::new();
    let server = f.smtpd("tls");
    let smtp = f.smtp(&server, "tls");
    let (report, outcome, _) = f.run(&f.yaml(&smtp, "", &["Photos", "Music"])).await;
    assert_eq!(report.status, Status::Success);
    assert_eq!(outcome.status, ReportStatus::Sent, "{outcome}");
    let mails = server.received();
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0].0["rcpt_tos"],
        serde_json::json!(["owner@example.com"])
    );
    let msg = MessageParser::default().parse(&mails[0].1).unwrap();
    assert!(msg
        .subject()
        .unwrap()
        .starts_with("✔ Mnemosynce: 2/2 tasks OK on "));
    assert_eq!(msg.attachments().count(), 0);

    let quiet = f.yaml(&smtp, "report: {when: failures}", &["Photos", "Music"]);
    let (_, outcome, history) = f.run(&quiet).await;
    assert_eq!(outcome.status, ReportStatus::NotDue);
    assert_eq!(server.received().len(), 1, "nothing more was sent");
    let last = history.runs(&Default::default()).await.unwrap();
    assert_eq!(last[0].report_status, Some(ReportStatus::NotDue));

    let off = f.yaml(&smtp, "email: {enabled: false}", &["Photos"]);
    let (_, outcome, _) = f.run(&off).await;
    assert_eq!(outcome.status, ReportStatus::Disabled);
    assert_eq!(server.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_task_is_flagged_even_when_this_run_succeeded() {
    let f = Fixture::new();
    let server = f.smtpd("starttls");
    // Music's newest good snapshot is years old; this run only backs up Photos.
    fs::create_dir_all(f.root.join("store/Music/2020-01-01_000000")).unwrap();
    let yaml = f.yaml(
        &f.smtp(&server, "starttls"),
        "report: {when: failures, stale_after_days: 3}",
        &["Photos", "Music"],
    );
    let (report, outcome, _) = f.run_tasks(&yaml, &["Photos"]).await;
    assert_eq!(report.status, Status::Success);
    assert_eq!(
        outcome.status,
        ReportStatus::Sent,
        "stale counts as needing attention"
    );
    let mails = server.received();
    let msg = MessageParser::default().parse(&mails[0].1).unwrap();
    assert!(
        msg.subject()
            .unwrap()
            .starts_with("⚠ Mnemosynce: 1/1 tasks OK, 1 stale on "),
        "{:?}",
        msg.subject()
    );
    let text = msg.body_text(0).unwrap();
    assert!(text.contains("Stale tasks"), "{text}");
    assert!(text.contains("Music: last good"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_is_named_by_the_login_step() {
    let f = Fixture::new();
    let server = f.smtpd("starttls");
    let yaml = f.yaml(&f.smtp(&server, "starttls"), "", &["Photos"]);
    fs::write(f.root.join("smtp_password"), "not the password").unwrap();
    let steps = f.test_email(&yaml).await;
    assert_eq!(verdict(&steps, "connect").0, Verdict::Pass);
    assert_eq!(verdict(&steps, "TLS").0, Verdict::Pass);
    let (v, detail, hint) = verdict(&steps, "login");
    assert_eq!(v, Verdict::Fail, "{steps:#?}");
    assert!(
        detail.contains("refused the user name or password"),
        "{detail}"
    );
    assert!(hint.contains("app password"), "{hint}");
    assert_eq!(verdict(&steps, "send").0, Verdict::Skipped);
    assert!(server.received().is_empty());

    // A run with that password still succeeds; the report's failure is recorded on it.
    let (report, outcome, history) = f.run(&yaml).await;
    assert_eq!(report.status, Status::Success);
    assert_eq!(outcome.status, ReportStatus::Failed);
    let row = history.run(report.run_id.unwrap()).await.unwrap().unwrap();
    assert_eq!(row.status, Status::Success);
    assert_eq!(row.report_status, Some(ReportStatus::Failed));
    assert!(row.report_error.unwrap().starts_with("login failed: "));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_password_goes_only_to_the_server_it_was_stored_for() {
    let f = Fixture::new();
    let home = f.smtpd("starttls");
    let yaml = f.yaml(&f.smtp(&home, "starttls"), "", &["Photos"]);
    let steps = f.test_email(&yaml).await;
    assert_eq!(verdict(&steps, "login").0, Verdict::Pass, "{steps:#?}");
    // A session points smtp: at a server of its own and asks for a test email.
    let evil = f.smtpd("tls");
    let moved = f.yaml(&f.smtp(&evil, "tls"), "", &["Photos"]);
    let steps = f.test_email(&moved).await;
    let (v, detail, hint) = verdict(&steps, "login");
    assert_eq!(v, Verdict::Fail, "{steps:#?}");
    assert!(
        detail.contains("not sent") && detail.contains(&format!("127.0.0.1:{}", home.port)),
        "{detail}"
    );
    assert!(hint.contains("mnemosynce test-email"), "{hint}");
    assert!(evil.received().is_empty());
    // A run's report does not send it there either.
    let (_, outcome, _) = f.run(&moved).await;
    assert_eq!(outcome.status, ReportStatus::Failed);
    assert!(evil.received().is_empty());
    // The home server still gets it.
    assert_eq!(verdict(&f.test_email(&yaml).await, "send").0, Verdict::Pass);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_file_is_one_line_from_outside_the_data_directory() {
    let f = Fixture::new();
    let server = f.smtpd("starttls");
    let yaml = f.yaml(&f.smtp(&server, "starttls"), "", &["Photos"]);
    // Only the first line is the password.
    fs::write(
        f.root.join("smtp_password"),
        format!("{PASSWORD}\nnot part of it\n"),
    )
    .unwrap();
    assert_eq!(
        verdict(&f.test_email(&yaml).await, "login").0,
        Verdict::Pass
    );
    // A file in the data directory (its keys, its secrets) is never read as a password.
    fs::create_dir_all(f.data.root().join("ssh")).unwrap();
    let key = f.data.root().join("ssh/id_backup");
    fs::write(&key, "-----BEGIN OPENSSH PRIVATE KEY-----\n").unwrap();
    let pointed = yaml.replace(
        &f.root.join("smtp_password").display().to_string(),
        &key.display().to_string(),
    );
    let steps = f.test_email(&pointed).await;
    let (v, detail, _) = verdict(&steps, "login");
    assert_eq!(v, Verdict::Fail, "{steps:#?}");
    assert!(detail.contains("inside the data directory"), "{detail}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_test_email_passes_every_step_and_arrives() {
    let f = Fixture::new();
    for mode in ["starttls", "tls"] {
        let server = f.smtpd(mode);
        let yaml = f.yaml(&f.smtp(&server, mode), "", &["Photos"]);
        // Each server is a new endpoint: the owner confirms it (as `mnemosynce test-email` does).
        mail::confirm_endpoint(&config::check_str(&yaml).config.unwrap(), &f.data).unwrap();
        let steps = f.test_email(&yaml).await;
        for name in ["connect", "TLS", "login", "send"] {
            assert_eq!(verdict(&steps, name).0, Verdict::Pass, "{mode}: {steps:#?}");
        }
        let mails = server.received();
        assert_eq!(mails.len(), 1);
        let msg = MessageParser::default().parse(&mails[0].1).unwrap();
        assert!(msg
            .subject()
            .unwrap()
            .starts_with("Mnemosynce test email from "));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untrusted_certificate_fails_the_tls_step_with_the_fix() {
    let f = Fixture::new();
    let server = f.smtpd("starttls");
    let yaml = f
        .yaml(&f.smtp(&server, "starttls"), "", &["Photos"])
        .replace(&format!(", ca_file: {}", f.certs.ca.display()), "");
    let steps = f.test_email(&yaml).await;
    let (v, _, hint) = verdict(&steps, "TLS");
    assert_eq!(v, Verdict::Fail, "{steps:#?}");
    assert!(hint.contains("smtp.ca_file"), "{hint}");
    assert!(server.received().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_accepts_and_then_hangs_times_out() {
    let f = Fixture::new();
    let server = start_smtpd(&f.root.join("smtpd-hang"), "hang", None);
    // Without TLS the greeting is awaited by the connect step; with implicit TLS, by the TLS step.
    for (security, step) in [("starttls", "connect"), ("none", "connect"), ("tls", "TLS")] {
        let yaml = f.yaml(&f.smtp(&server, security), "", &["Photos"]);
        let started = Instant::now();
        let steps = f.test_email(&yaml).await;
        let took = started.elapsed();
        let (v, detail, _) = verdict(&steps, step);
        assert_eq!(v, Verdict::Fail, "{security}: {steps:#?}");
        assert!(detail.contains("within 3 s"), "{security}: {detail}");
        assert!(took < Duration::from_secs(10), "{security}: took {took:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_listening_fails_the_run_report_not_the_run() {
    let f = Fixture::new();
    // A port that was free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let yaml = f.yaml(
        &format!("smtp: {{host: 127.0.0.1, port: {port}, security: starttls, timeout_secs: 3}}"),
        "",
        &["Photos"],
    );
    let (report, outcome, history) = f.run(&yaml).await;
    assert_eq!(report.status, Status::Success);
    assert_eq!(outcome.status, ReportStatus::Failed);
    let e = outcome.error.unwrap();
    assert_eq!(e.step, mail::MailStep::Connect);
    assert!(e.detail.contains("refused the connection"), "{}", e.detail);
    assert!(e.hint.contains("587"), "{}", e.hint);
    let row = history.run(report.run_id.unwrap()).await.unwrap().unwrap();
    assert_eq!(row.status, Status::Success);
    assert!(row.report_error.unwrap().contains("refused the connection"));
}

#[test]
fn every_value_is_escaped_in_the_html_report() {
    // Task names cannot hold markup (the validator allows A-Za-z0-9._- only), but the report must
    // not rely on that: a summary built by hand with a hostile name renders it as text.
    let row = report::TaskRow {
        name: "<script>alert('name')</script>".into(),
        status: Status::Failed,
        icon: "✘",
        colour: "#cf222e",
        duration: "1 s".into(),
        snapshot: Some("<b>snap</b>".into()),
        files: "—".into(),
        growth: "—".into(),
        last_good: "never".into(),
        stale: true,
        reason: Some("backup: <img src=x onerror=alert(1)>".into()),
        hint: Some("\"quoted\" & <tagged>".into()),
    };
    let summary = report::Summary {
        subject: "✘ <i>subject</i>".into(),
        host: "<host>".into(),
        run_id: Some(1),
        status: Status::Failed,
        started: "now".into(),
        duration: "1 s".into(),
        tasks: vec![row],
        stale_others: vec![report::StaleRow {
            name: "<u>other</u>".into(),
            last_good: "never".into(),
        }],
        stale_after_days: 3,
        any_failed: true,
        needs_attention: true,
    };
    let (_, html) = report::render(&summary).unwrap();
    for live in [
        "<script",
        "<b>snap",
        "<img",
        "<i>subject",
        "<host>",
        "<u>other",
        "<tagged>",
    ] {
        assert!(!html.contains(live), "{live} is live in the HTML");
    }
    assert!(
        html.contains("&#60;script&#62;alert(&#39;name&#39;)&#60;/script&#62;"),
        "{html}"
    );
}
