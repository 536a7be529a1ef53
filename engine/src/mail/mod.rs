//! Email: the SMTP session that carries run reports (SPEC §7) and the step-by-step test email.
//!
//! Every message goes through one path, [`Transport::from_config`] (the `smtp:` settings and the
//! password), then [`Session::open`] and [`Session::send`], walked in four steps, each of which can
//! fail on its own with a [`MailError`] that says how to fix it: connect ─▶ TLS ─▶ login ─▶ send.
//!
//! Invariants: certificates are always checked (the system's roots plus `smtp.ca_file`; there is
//! no switch to turn that off). The password is the first line of `smtp.password_file` (never a
//! file inside the data directory), else `$MNEMOSYNCE_SMTP_PASSWORD`, else
//! `<data>/secrets/smtp_password`; it goes only to the endpoint it is bound to ([`binding`]), and in
//! clear text (`security: none`) only to this machine. Every connect, read and write waits at most
//! `smtp.timeout_secs`, so a silent server never hangs a run. The session is blocking (lettre's
//! `SmtpConnection`) and runs on Tokio's blocking pool.
//!
//! [`report`] builds and sends the report of a run; [`test_email`] is the settings page's and
//! `mnemosynce test-email`'s check; [`settings`] writes the email settings page's keys and password.

pub mod binding;
pub mod report;
pub mod settings;

use crate::data_dir::DataDir;
use crate::model::config::{Config, SmtpSecurity};
use crate::model::connection::{CheckStep, Verdict};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, SmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::Address;
use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

/// The environment variable that may hold the SMTP password.
pub const PASSWORD_ENV: &str = "MNEMOSYNCE_SMTP_PASSWORD";

/// One of the four steps of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailStep {
    Connect,
    Tls,
    Login,
    Send,
}

impl MailStep {
    pub fn as_str(self) -> &'static str {
        match self {
            MailStep::Connect => "connect",
            MailStep::Tls => "TLS",
            MailStep::Login => "login",
            MailStep::Send => "send",
        }
    }
}

/// Why a message did not go out: the step, what happened, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} failed: {detail} (fix: {hint})", step.as_str())]
pub struct MailError {
    pub step: MailStep,
    pub detail: String,
    pub hint: String,
}

impl MailError {
    fn new(step: MailStep, detail: impl Into<String>, hint: impl Into<String>) -> MailError {
        MailError {
            step,
            detail: detail.into(),
            hint: hint.into(),
        }
    }
}

/// Everything needed to talk to the mail server, resolved from the configuration and the data
/// directory (password, CA file) before any connection is made.
#[derive(Clone)]
pub struct Transport {
    host: String,
    port: u16,
    security: SmtpSecurity,
    timeout: Duration,
    user: Option<String>,
    password: Option<String>,
    /// Where the password came from, for messages (never the password itself).
    password_source: Option<String>,
    /// A password that exists but is not sent to this server: the endpoint it is bound to.
    withheld: Option<String>,
    ca_file: Option<PathBuf>,
    secrets_file: PathBuf,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.user)
            .field("password_source", &self.password_source)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// Resolves the `smtp:` settings. Fails (as the login step) only when a configured password file
    /// cannot be read: a missing password elsewhere just means "no login".
    pub fn from_config(config: &Config, data: &DataDir) -> Result<Transport, MailError> {
        let smtp = &config.smtp;
        let secrets_file = data.secrets().join("smtp_password");
        let (password, password_source) = if let Some(file) = &smtp.password_file {
            let text = read_password_file(file, data)?;
            (
                Some(text),
                Some(format!("smtp.password_file ({})", file.display())),
            )
        } else if let Some(p) = std::env::var_os(PASSWORD_ENV) {
            (
                Some(p.to_string_lossy().into_owned()),
                Some(format!("${PASSWORD_ENV}")),
            )
        } else {
            match std::fs::read_to_string(&secrets_file) {
                Ok(text) => (Some(text), Some(secrets_file.display().to_string())),
                Err(e) if e.kind() == io::ErrorKind::NotFound => (None, None),
                Err(e) => {
                    return Err(MailError::new(
                        MailStep::Login,
                        format!("cannot read {}: {e}", secrets_file.display()),
                        "make it readable by the user Mnemosynce runs as",
                    ))
                }
            }
        };
        // One line: a trailing newline from `echo pw > file` is not part of the password.
        let password = password
            .map(|p| p.trim_end_matches(['\r', '\n']).to_string())
            .filter(|p| !p.is_empty());
        // Only to the server the password is bound to (binding.rs).
        let (password, withheld) = match password {
            Some(p) => match binding::check(data, &binding::SmtpEndpoint::of(config)) {
                Ok(()) => (Some(p), None),
                Err(bound) => (None, Some(bound)),
            },
            None => (None, None),
        };
        Ok(Transport {
            host: smtp.host.clone(),
            port: smtp.port,
            security: smtp.security,
            timeout: Duration::from_secs(u64::from(smtp.timeout_secs.max(1))),
            user: smtp
                .username
                .clone()
                .or_else(|| config.email_sender.clone()),
            password_source: password.as_ref().and(password_source),
            password,
            withheld,
            ca_file: smtp.ca_file.clone(),
            secrets_file,
        })
    }

    /// `host:port`, as messages show it.
    pub fn server(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// Where the password comes from (`smtp.password_file (…)`, `$MNEMOSYNCE_SMTP_PASSWORD`, the
    /// secrets file), never the password; `None` when there is none and the login is skipped.
    pub fn password_source(&self) -> Option<&str> {
        self.password_source.as_deref()
    }

    fn tls_parameters(&self) -> Result<TlsParameters, MailError> {
        let mut builder = TlsParameters::builder(self.host.clone());
        if let Some(file) = &self.ca_file {
            let pem = std::fs::read(file).map_err(|e| {
                MailError::new(
                    MailStep::Tls,
                    format!("cannot read smtp.ca_file {}: {e}", file.display()),
                    "write the path of a readable PEM file, or remove smtp.ca_file",
                )
            })?;
            let cert =
                Certificate::from_pem(&pem).map_err(|e| {
                    MailError::new(
                    MailStep::Tls,
                    format!("smtp.ca_file {} is not a PEM certificate: {e}", file.display()),
                    "the file must hold a certificate between -----BEGIN CERTIFICATE----- lines",
                )
                })?;
            builder = builder.add_root_certificate(cert);
        }
        builder.build_rustls().map_err(|e| {
            MailError::new(
                MailStep::Tls,
                format!("cannot set up TLS for {}: {e}", self.host),
                "check smtp.host (a host name or an IP address)",
            )
        })
    }
}

/// An open, encrypted (unless `security: none`) and logged-in connection.
pub struct Session {
    conn: SmtpConnection,
}

impl Session {
    /// Connects, secures and logs in, recording one [`CheckStep`] per step in `steps` (passes,
    /// warnings and the failure); returns the failure as an error too.
    pub fn open(transport: &Transport, steps: &mut Vec<CheckStep>) -> Result<Session, MailError> {
        let t = transport;
        let server = t.server();
        let addrs = resolve(t).map_err(|e| fail(steps, e))?;
        let addr = tcp_probe(t, &addrs).map_err(|e| fail(steps, e))?;

        let hello = ClientId::default();
        let mut conn = match t.security {
            SmtpSecurity::Tls => {
                pass(steps, "connect", format!("connected to {addr} ({server})"));
                let params = t.tls_parameters().map_err(|e| fail(steps, e))?;
                let conn =
                    SmtpConnection::connect(addr, Some(t.timeout), &hello, Some(&params), None)
                        .map_err(|e| fail(steps, classify(t, MailStep::Tls, &e)))?;
                pass(steps, "TLS", "implicit TLS, certificate verified".into());
                conn
            }
            SmtpSecurity::Starttls | SmtpSecurity::None => {
                // The greeting is part of connecting: a port that accepts and says nothing fails here.
                let mut conn = SmtpConnection::connect(addr, Some(t.timeout), &hello, None, None)
                    .map_err(|e| fail(steps, classify(t, MailStep::Connect, &e)))?;
                pass(
                    steps,
                    "connect",
                    format!("connected to {addr} ({server}), greeted"),
                );
                if t.security == SmtpSecurity::Starttls {
                    let params = t.tls_parameters().map_err(|e| fail(steps, e))?;
                    if !conn.can_starttls() {
                        conn.abort();
                        return Err(fail(
                            steps,
                            MailError::new(
                                MailStep::Tls,
                                format!("{server} does not offer STARTTLS"),
                                "use security: tls (port 465) if the server expects TLS from the start, \
                                 or security: none only for a relay on your own network",
                            ),
                        ));
                    }
                    conn.starttls(&params, &hello)
                        .map_err(|e| fail(steps, classify(t, MailStep::Tls, &e)))?;
                    pass(steps, "TLS", "STARTTLS, certificate verified".into());
                } else {
                    steps.push(CheckStep {
                        name: "TLS".into(),
                        verdict: Verdict::Warn,
                        detail: "not encrypted (security: none): the report and the password cross the network in clear".into(),
                        hint: Some("use security: starttls or tls unless this is a relay on your own network".into()),
                    });
                }
                conn
            }
        };

        if let Some(bound) = &t.withheld {
            conn.abort();
            return Err(fail(
                steps,
                MailError::new(
                    MailStep::Login,
                    format!("the SMTP password is not sent to {server}: it was stored for {bound}"),
                    "if this server is yours, type the password again in Settings › Email, or run \
                     `mnemosynce test-email` on the server to confirm it",
                ),
            ));
        }
        if t.password.is_some() && !may_send_password(t.security, addr) {
            conn.abort();
            return Err(fail(
                steps,
                MailError::new(
                    MailStep::Login,
                    format!("not sending the password in clear text to {addr} (security: none)"),
                    "use security: starttls or tls; with security: none a password is only sent to a \
                     server on this machine (127.0.0.1, ::1)",
                ),
            ));
        }
        match (&t.user, &t.password) {
            (Some(user), Some(password)) => {
                let creds = Credentials::new(user.clone(), password.clone());
                match conn.auth(&[Mechanism::Plain, Mechanism::Login], &creds) {
                    Ok(_) => pass(
                        steps,
                        "login",
                        format!(
                            "logged in as {user} (password from {})",
                            t.password_source.as_deref().unwrap_or("?")
                        ),
                    ),
                    Err(e) => {
                        conn.abort();
                        return Err(fail(steps, classify(t, MailStep::Login, &e)));
                    }
                }
            }
            _ => steps.push(CheckStep {
                name: "login".into(),
                verdict: Verdict::Skipped,
                detail: "no password configured: sending without login".into(),
                hint: Some(no_password_hint(t)),
            }),
        }
        Ok(Session { conn })
    }

    /// Sends one formatted message to the envelope's recipients, then says goodbye.
    pub fn send(
        mut self,
        transport: &Transport,
        envelope: &Envelope,
        message: &[u8],
        steps: &mut Vec<CheckStep>,
    ) -> Result<(), MailError> {
        match self.conn.send(envelope, message) {
            Ok(_) => {
                let to: Vec<String> = envelope.to().iter().map(|a| a.to_string()).collect();
                pass(steps, "send", format!("accepted for {}", to.join(", ")));
                let _ = self.conn.quit();
                Ok(())
            }
            Err(e) => {
                self.conn.abort();
                Err(fail(steps, classify(transport, MailStep::Send, &e)))
            }
        }
    }
}

/// Runs a whole session (connect, TLS, login, send) on the blocking pool.
pub async fn deliver(
    transport: Transport,
    envelope: Envelope,
    message: Vec<u8>,
) -> (Vec<CheckStep>, Result<(), MailError>) {
    let joined = tokio::task::spawn_blocking(move || {
        let mut steps = Vec::new();
        let result = Session::open(&transport, &mut steps)
            .and_then(|s| s.send(&transport, &envelope, &message, &mut steps));
        (steps, result)
    })
    .await;
    match joined {
        Ok(v) => v,
        Err(e) => {
            let err = MailError::new(
                MailStep::Send,
                format!("the mail task stopped: {e}"),
                "report this as a bug",
            );
            (Vec::new(), Err(err))
        }
    }
}

/// Whether a password may cross this connection: encrypted, or in clear text to this machine only.
fn may_send_password(security: SmtpSecurity, addr: SocketAddr) -> bool {
    security != SmtpSecurity::None || addr.ip().is_loopback()
}

/// Reads `smtp.password_file`: one line, from a file outside the data directory (which holds the
/// app's SSH keys and secrets: a configuration must not be able to mail one of them as a password).
fn read_password_file(file: &std::path::Path, data: &DataDir) -> Result<String, MailError> {
    use std::io::Read;
    let cannot = |e: io::Error| {
        MailError::new(
            MailStep::Login,
            format!("cannot read smtp.password_file {}: {e}", file.display()),
            "make the file readable by the user Mnemosynce runs as, or remove smtp.password_file",
        )
    };
    let real = std::fs::canonicalize(file).map_err(cannot)?;
    if let Ok(root) = std::fs::canonicalize(data.root()) {
        if real.starts_with(&root) {
            return Err(MailError::new(
                MailStep::Login,
                format!(
                    "smtp.password_file {} is inside the data directory {}",
                    file.display(),
                    root.display()
                ),
                "the data directory holds keys and secrets that are never sent anywhere: put the password \
                 in a file of its own outside it, or store it in Settings › Email",
            ));
        }
    }
    let mut head = Vec::new();
    std::fs::File::open(&real)
        .and_then(|f| f.take(4096).read_to_end(&mut head))
        .map_err(cannot)?;
    let text = String::from_utf8_lossy(&head);
    Ok(text.lines().next().unwrap_or("").to_string())
}

/// `mnemosynce test-email`: the owner, on the server, confirms the SMTP server in the file as the
/// one the password may be sent to.
pub fn confirm_endpoint(config: &Config, data: &DataDir) -> io::Result<binding::SmtpEndpoint> {
    let here = binding::SmtpEndpoint::of(config);
    binding::bind(data, &here)?;
    Ok(here)
}

/// The test email of the settings page and `mnemosynce test-email`: a short message to `to` (default
/// `email_report`), one verdict per step. Steps after a failure are listed as skipped.
pub async fn test_email(config: &Config, data: &DataDir, to: Option<&str>) -> Vec<CheckStep> {
    let transport = match Transport::from_config(config, data) {
        Ok(t) => t,
        Err(e) => return finish_with_skips(vec![], Some(e)),
    };
    let message = match report::test_message(config, to) {
        Ok(m) => m,
        Err(e) => return finish_with_skips(vec![], Some(e)),
    };
    let (steps, result) = deliver(transport, message.envelope, message.bytes).await;
    finish_with_skips(steps, result.err())
}

/// Adds `skipped` verdicts for the steps that were not reached.
fn finish_with_skips(mut steps: Vec<CheckStep>, error: Option<MailError>) -> Vec<CheckStep> {
    if let Some(e) = &error {
        if !steps.iter().any(|s| s.verdict == Verdict::Fail) {
            steps.push(step_of(e));
        }
    }
    if error.is_some() {
        for name in ["connect", "TLS", "login", "send"] {
            if !steps.iter().any(|s| s.name == name) {
                steps.push(CheckStep {
                    name: name.into(),
                    verdict: Verdict::Skipped,
                    detail: "not tried: an earlier step failed".into(),
                    hint: None,
                });
            }
        }
    }
    steps
}

fn step_of(e: &MailError) -> CheckStep {
    CheckStep {
        name: e.step.as_str().into(),
        verdict: Verdict::Fail,
        detail: e.detail.clone(),
        hint: Some(e.hint.clone()),
    }
}

fn pass(steps: &mut Vec<CheckStep>, name: &str, detail: String) {
    steps.push(CheckStep {
        name: name.into(),
        verdict: Verdict::Pass,
        detail,
        hint: None,
    });
}

/// Records a failed step and hands the error back.
fn fail(steps: &mut Vec<CheckStep>, e: MailError) -> MailError {
    steps.push(step_of(&e));
    e
}

fn resolve(t: &Transport) -> Result<Vec<SocketAddr>, MailError> {
    let addrs: Vec<SocketAddr> = (t.host.as_str(), t.port)
        .to_socket_addrs()
        .map_err(|e| {
            MailError::new(
                MailStep::Connect,
                format!("cannot find the mail server {}: {e}", t.host),
                "check smtp.host for typos, and that this machine's DNS works",
            )
        })?
        .collect();
    if addrs.is_empty() {
        return Err(MailError::new(
            MailStep::Connect,
            format!("{} has no address", t.host),
            "check smtp.host",
        ));
    }
    Ok(addrs)
}

/// The TCP step on its own: which address answers, within the timeout.
fn tcp_probe(t: &Transport, addrs: &[SocketAddr]) -> Result<SocketAddr, MailError> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(addr, t.timeout) {
            Ok(_) => return Ok(*addr),
            Err(e) => last = Some(e),
        }
    }
    let e = last.unwrap_or_else(|| io::Error::other("no address"));
    let (detail, hint) = match e.kind() {
        io::ErrorKind::ConnectionRefused => (
            format!(
                "{} refused the connection: nothing listens on port {}",
                t.host, t.port
            ),
            port_hint(t.security),
        ),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => (
            format!(
                "no answer from {} within {} s",
                t.server(),
                t.timeout.as_secs()
            ),
            "a firewall may drop the connection (some providers block outgoing port 25/465/587), \
             or smtp.host/smtp.port is wrong"
                .into(),
        ),
        _ => (
            format!("cannot connect to {}: {e}", t.server()),
            port_hint(t.security),
        ),
    };
    Err(MailError::new(MailStep::Connect, detail, hint))
}

fn port_hint(security: SmtpSecurity) -> String {
    match security {
        SmtpSecurity::Tls => "check smtp.port: implicit TLS is usually port 465".into(),
        SmtpSecurity::Starttls => "check smtp.port: STARTTLS is usually port 587".into(),
        SmtpSecurity::None => "check smtp.host and smtp.port of your relay (often 25)".into(),
    }
}

fn no_password_hint(t: &Transport) -> String {
    format!(
        "if the server needs a login, put the password in smtp.password_file, the environment \
         variable {PASSWORD_ENV}, or {}",
        t.secrets_file.display()
    )
}

/// True when an error (or one of its causes) is a socket timeout.
fn is_timeout(e: &lettre::transport::smtp::Error) -> bool {
    if e.is_timeout() {
        return true;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<io::Error>() {
            if matches!(
                io.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) {
                return true;
            }
        }
        source = s.source();
    }
    false
}

/// Turns a lettre error at a given step into what happened and what to do.
fn classify(t: &Transport, step: MailStep, e: &lettre::transport::smtp::Error) -> MailError {
    let secs = t.timeout.as_secs();
    let text = error_text(e);
    if is_timeout(e) {
        let (detail, hint) = match step {
            MailStep::Connect => (
                format!("{} accepted the connection but sent no greeting within {secs} s", t.server()),
                "check that smtp.port is the mail server's port; if the server expects TLS from the start (port 465) use security: tls".to_string(),
            ),
            MailStep::Tls => (
                format!("no TLS answer from {} within {secs} s", t.server()),
                match t.security {
                    SmtpSecurity::Tls => "the server may not speak TLS on connect: for port 587 use security: starttls".to_string(),
                    _ => "the server stalled during STARTTLS; try again later or use security: tls on port 465".to_string(),
                },
            ),
            _ => (
                format!("the server stopped answering during {} (waited {secs} s)", step.as_str()),
                "try again later; if it persists, raise smtp.timeout_secs or ask the mail provider".to_string(),
            ),
        };
        return MailError::new(step, detail, hint);
    }
    if e.is_tls() || (step == MailStep::Tls && !e.is_response()) {
        let hint = if text.contains("UnknownIssuer") || text.contains("certificate") {
            "the server's certificate is not trusted: if your relay uses its own CA, point smtp.ca_file at its PEM certificate; check smtp.host matches the certificate's name"
        } else {
            "check smtp.security: tls for port 465, starttls for port 587"
        };
        return MailError::new(
            MailStep::Tls,
            format!("TLS with {} failed: {text}", t.server()),
            hint,
        );
    }
    let code = e.status().map(|c| c.to_string());
    match step {
        MailStep::Login => {
            let hint = if t.host.ends_with("gmail.com") || t.host.ends_with("googlemail.com") {
                "Gmail needs an app password (Google account → Security → App passwords), not your account password; check smtp.username too"
            } else {
                "check smtp.username (default: email_sender) and the password; many providers need an app password"
            };
            let detail = match code.as_deref() {
                Some("535") | Some("534") | Some("530") => format!(
                    "the server refused the user name or password for {}: {text}",
                    t.user.as_deref().unwrap_or("?")
                ),
                _ => format!("login failed: {text}"),
            };
            MailError::new(MailStep::Login, detail, hint)
        }
        MailStep::Send => {
            let hint = match code.as_deref() {
                Some("530") | Some("535") => no_password_hint(t),
                Some(c) if c.starts_with('5') => "the server refused the message: check email_sender (many servers only accept their own addresses as sender) and the recipients".to_string(),
                Some(c) if c.starts_with('4') => "a temporary refusal: the next run tries again".to_string(),
                _ => "check the connection to the mail server and try again".to_string(),
            };
            MailError::new(
                MailStep::Send,
                format!("the server did not accept the message: {text}"),
                hint,
            )
        }
        MailStep::Connect | MailStep::Tls => MailError::new(
            step,
            format!("{} did not greet as a mail server: {text}", t.server()),
            port_hint(t.security),
        ),
    }
}

/// The error and its causes in one line.
fn error_text(e: &lettre::transport::smtp::Error) -> String {
    let mut text = e.to_string();
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// Parses an address from the configuration, naming the field when it is not one.
pub(crate) fn address(field: &str, value: &str) -> Result<Address, MailError> {
    value.trim().parse::<Address>().map_err(|e| {
        MailError::new(
            MailStep::Send,
            format!("{field} {value:?} is not an email address: {e}"),
            format!("write {field} as name@example.com"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_goes_in_clear_text_only_to_this_machine() {
        for (security, addr, ok) in [
            (SmtpSecurity::None, "127.0.0.1:25", true),
            (SmtpSecurity::None, "[::1]:25", true),
            (SmtpSecurity::None, "192.0.2.10:25", false),
            (SmtpSecurity::None, "[2001:db8::1]:25", false),
            (SmtpSecurity::Starttls, "192.0.2.10:587", true),
            (SmtpSecurity::Tls, "192.0.2.10:465", true),
        ] {
            assert_eq!(
                may_send_password(security, addr.parse().unwrap()),
                ok,
                "{security:?} {addr}"
            );
        }
    }
}
