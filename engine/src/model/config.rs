//! The typed configuration (`backup_config.yml`, SPEC §2).
//!
//! These are plain serde types. Reading a file, reporting every problem with its line and column, and
//! checking the values (task names, endpoints, addresses) is `engine::config`'s job; a [`Config`] that
//! came out of there is valid. Every field new since the original Python Mnemosynce is optional, with a
//! default that reproduces the original's documented behaviour.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// The whole configuration file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Local root of the snapshot store; task `T` lives in `<root>/T/`.
    pub dir_backup_local: PathBuf,
    /// Mirror target; without it the sync step is "not configured".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir_backup_remote: Option<Endpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_sender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_report: Option<String>,
    /// Extra recipient of reports of failed runs. Empty, or equal to `email_report`, means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_admin: Option<String>,
    #[serde(default)]
    pub email: EmailSettings,
    /// IANA zone name; `None` means the server's local zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default)]
    pub schedule: Schedule,
    #[serde(default)]
    pub retention: RetentionPolicy,
    #[serde(default)]
    pub smtp: SmtpSettings,
    #[serde(default)]
    pub report: ReportSettings,
    #[serde(default)]
    pub history: HistorySettings,
    #[serde(default)]
    pub metrics: MetricsSettings,
    pub tasks: Vec<Task>,
}

impl Config {
    /// The task called `name`, if any.
    pub fn task(&self, name: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.name == name)
    }

    /// The tasks called `names`, in config order and each once; all tasks when `names` is empty.
    pub fn select_tasks(&self, names: &[String]) -> Result<Vec<&Task>, UnknownTask> {
        if let Some(missing) = names.iter().find(|n| self.task(n).is_none()) {
            return Err(UnknownTask {
                name: missing.clone(),
                known: self.tasks.iter().map(|t| t.name.clone()).collect(),
            });
        }
        Ok(self
            .tasks
            .iter()
            .filter(|t| names.is_empty() || names.contains(&t.name))
            .collect())
    }

    /// The retention policy in force for a task: its own fields merged over the global policy.
    pub fn policy_for(&self, task: &Task) -> RetentionPolicy {
        match &task.retention {
            Some(o) => o.apply_to(&self.retention),
            None => self.retention.clone(),
        }
    }
}

/// A task name that is not in the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownTask {
    pub name: String,
    /// The task names there are, in config order.
    pub known: Vec<String>,
}

impl fmt::Display for UnknownTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no task is called {:?} (the tasks are: {})",
            self.name,
            self.known.join(", ")
        )
    }
}

impl std::error::Error for UnknownTask {}

/// One source to snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Unique; a safe single folder name (spaces and UTF-8 fine; see `engine::config::check_task_name`).
    pub name: String,
    pub dir_source: Endpoint,
    /// rsync-style exclude patterns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excludes: Vec<String>,
    /// Stay on the source's filesystem (rsync `-x`).
    #[serde(default)]
    pub one_file_system: bool,
    /// Allow a snapshot of an empty source even when the previous one was not empty.
    #[serde(default)]
    pub allow_empty_source: bool,
    /// Preserve ACLs and extended attributes (rsync `-AX`) where the store supports them.
    #[serde(default = "default_true")]
    pub acls_xattrs: bool,
    /// Fields set here override the global policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<RetentionOverride>,
    /// New: limit the transfer to this many KiB/s (rsync `--bwlimit`), e.g. for a source on a slow
    /// link or a disk that must stay responsive. Default: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bwlimit_kbps: Option<u32>,
    /// New: which implementation fills the task's snapshots (`engine: rsync | native`). `None`: the
    /// default for the source's kind, see [`Task::effective_engine`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<TransferEngine>,
}

impl Task {
    /// The engine this task's backups use: the one it names, else [`default_engine_for_local`] for a
    /// local source, else rsync (the only engine that reads SSH sources).
    pub fn effective_engine(&self) -> TransferEngine {
        match (self.engine, &self.dir_source) {
            (Some(engine), _) => engine,
            (None, Endpoint::Local(_)) => default_engine_for_local(),
            (None, Endpoint::Ssh(_)) => TransferEngine::Rsync,
        }
    }
}

/// How a task's snapshot folder is filled (`tasks[].engine`, SPEC §4.1: the transfer is one
/// replaceable part).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransferEngine {
    /// `rsync --link-dest`: every kind of source; the only one for SSH sources.
    Rsync,
    /// The native local-to-local snapshotter (hard-links unchanged files itself): local sources only.
    Native,
}

impl TransferEngine {
    /// Every engine, in the order messages list them.
    pub const ALL: [TransferEngine; 2] = [TransferEngine::Rsync, TransferEngine::Native];

    /// The word the configuration uses: `rsync`, `native`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferEngine::Rsync => "rsync",
            TransferEngine::Native => "native",
        }
    }
}

impl fmt::Display for TransferEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The engine of a task with a local source that does not name one: native, since the native
/// snapshotter passes the differential test against rsync (`engine/tests/native_vs_rsync.rs`).
/// SSH sources stay on rsync whatever this says.
pub const fn default_engine_for_local() -> TransferEngine {
    TransferEngine::Native
}

fn default_true() -> bool {
    true
}

/// Where data comes from or goes to: a local folder, or a folder on another machine over SSH.
///
/// Written in the config as an absolute path, `user@host:/path` or `ssh://user@host:port/path`; an
/// IPv6 host in brackets (`user@[fd00::1]:/path`, `ssh://user@[fd00::1]:2222/path`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Local(PathBuf),
    Ssh(SshEndpoint),
}

/// A folder reached over SSH.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SshEndpoint {
    pub user: String,
    /// As written in the config and in rsync's `user@host:path` argument: a name, an IPv4 address,
    /// or an IPv6 address in brackets (`[fd00::1]`, canonical form). ssh, ssh-keyscan and a TCP
    /// connect want it without brackets: [`SshEndpoint::address`].
    pub host: String,
    /// `None`: the default port, 22.
    pub port: Option<u16>,
    /// Absolute path on the remote machine.
    pub path: String,
}

impl SshEndpoint {
    /// The host as ssh, ssh-keyscan and a TCP connect take it: an IPv6 address without its
    /// brackets (`fd00::1`), any other host as it is.
    pub fn address(&self) -> &str {
        self.host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(&self.host)
    }
}

/// Why an endpoint string was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointError(pub String);

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EndpointError {}

/// A user or host name is safe when it cannot be read as an option or by a shell: letters, digits,
/// `.`, `_` and `-`, not starting with `-`. A host may instead be an IPv6 address in brackets, which
/// must parse as one ([`parse_bracketed_host`]).
fn check_ssh_word(what: &str, value: &str) -> Result<(), EndpointError> {
    if value.is_empty() {
        return Err(EndpointError(format!("the {what} is empty")));
    }
    if value.starts_with('-') {
        return Err(EndpointError(format!(
            "the {what} {value:?} starts with '-', which ssh would read as an option"
        )));
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if !value.chars().all(ok) {
        return Err(EndpointError(format!(
            "the {what} {value:?} may only contain letters, digits, '.', '_' and '-'{}",
            if what == "host" {
                " (an IPv6 address goes in brackets: [fd00::1])"
            } else {
                ""
            }
        )));
    }
    Ok(())
}

/// A host as written in an endpoint: a name checked by [`check_ssh_word`], or `[v6]`, whose inside
/// must be an IPv6 address (std's parser: no zone id such as `%eth0`, no IPv4, nothing else), kept
/// in its canonical form (`[fd00::1]`). rsync strips the brackets before it hands the host to ssh
/// (without `--` on older rsync), so anything else in brackets could become an ssh option.
fn check_host(host: &str) -> Result<String, EndpointError> {
    if let Some(inner) = host.strip_prefix('[') {
        return parse_bracketed_host(host, inner.strip_suffix(']'));
    }
    check_ssh_word("host", host)?;
    Ok(host.to_string())
}

fn parse_bracketed_host(host: &str, inner: Option<&str>) -> Result<String, EndpointError> {
    let Some(inner) = inner else {
        return Err(EndpointError(format!(
            "the host {host:?} opens a '[' it does not close; an IPv6 address is written [fd00::1]"
        )));
    };
    if inner.contains('%') {
        return Err(EndpointError(format!(
            "the host {host:?} has a zone id (%…), which is not supported; use a global or unique-local IPv6 address (fd00::…) or a host name"
        )));
    }
    match inner.parse::<std::net::Ipv6Addr>() {
        Ok(addr) => Ok(format!("[{addr}]")),
        Err(_) => Err(EndpointError(format!(
            "the host {host:?} is in brackets but {inner:?} is not an IPv6 address; write an IPv6 address in brackets ([fd00::1]) or a host name or IPv4 address without brackets"
        ))),
    }
}

fn check_remote_path(path: &str) -> Result<(), EndpointError> {
    if !path.starts_with('/') {
        return Err(EndpointError(format!(
            "the remote path {path:?} must be absolute (start with '/')"
        )));
    }
    if path.chars().any(|c| c.is_control()) {
        return Err(EndpointError(
            "the remote path contains a control character (newline, tab, ...)".into(),
        ));
    }
    Ok(())
}

impl std::str::FromStr for Endpoint {
    type Err = EndpointError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(EndpointError("the path is empty".into()));
        }
        if let Some(rest) = s.strip_prefix("ssh://") {
            let (authority, path) = match rest.find('/') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => {
                    return Err(EndpointError(
                        "an ssh:// address needs a path: ssh://user@host:port/path".into(),
                    ))
                }
            };
            let (user, hostport) = authority.split_once('@').ok_or_else(|| {
                EndpointError("an ssh:// address needs a user: ssh://user@host:port/path".into())
            })?;
            // `host`, `host:port`, `[v6]` or `[v6]:port`.
            let (host, port_text) = if let Some(end) =
                hostport.find(']').filter(|_| hostport.starts_with('['))
            {
                let (h, rest) = hostport.split_at(end + 1);
                if !rest.is_empty() && !rest.starts_with(':') {
                    return Err(EndpointError(format!(
                            "the host {h:?} must be followed by ':' and the port, or by the path: ssh://user@[fd00::1]:22/path"
                        )));
                }
                (h, rest.strip_prefix(':'))
            } else {
                match hostport.rsplit_once(':') {
                    Some((h, p)) => (h, Some(p)),
                    None => (hostport, None),
                }
            };
            let port = match port_text {
                None => None,
                Some(p) => match p.parse::<u16>() {
                    Ok(port) if port > 0 => Some(port),
                    _ => {
                        return Err(EndpointError(format!(
                            "the port {p:?} is not a number from 1 to 65535"
                        )))
                    }
                },
            };
            check_ssh_word("user", user)?;
            let host = check_host(host)?;
            check_remote_path(path)?;
            return Ok(Endpoint::Ssh(SshEndpoint {
                user: user.into(),
                host,
                port,
                path: path.into(),
            }));
        }
        if s.starts_with('/') {
            if s.chars().any(|c| c.is_control()) {
                return Err(EndpointError(
                    "the path contains a control character (newline, tab, ...)".into(),
                ));
            }
            return Ok(Endpoint::Local(PathBuf::from(s)));
        }
        // `user@host:/path`, or `user@[v6]:/path` (the address's own ':' are inside the brackets).
        if let Some((user, rest)) = s.split_once('@').filter(|(u, _)| !u.contains([':', '/'])) {
            let split = if rest.starts_with('[') {
                match rest.find(']') {
                    Some(end) => match rest[end + 1..].strip_prefix(':') {
                        Some(path) => Some((&rest[..=end], path)),
                        None => {
                            return Err(EndpointError(format!(
                                "the host {:?} must be followed by ':' and the path: user@[fd00::1]:/path",
                                &rest[..=end]
                            )))
                        }
                    },
                    None => {
                        return Err(parse_bracketed_host(rest, None)
                            .err()
                            .unwrap_or_else(|| EndpointError("unclosed '['".into())))
                    }
                }
            } else {
                rest.split_once(':')
            };
            if let Some((host, path)) = split {
                check_ssh_word("user", user)?;
                let host = check_host(host)?;
                check_remote_path(path)?;
                return Ok(Endpoint::Ssh(SshEndpoint {
                    user: user.into(),
                    host,
                    port: None,
                    path: path.into(),
                }));
            }
        }
        Err(EndpointError(format!(
            "{s:?} is neither an absolute path (/srv/photos) nor user@host:/path nor ssh://user@host:port/path"
        )))
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Local(p) => write!(f, "{}", p.display()),
            Endpoint::Ssh(e) => write!(f, "{e}"),
        }
    }
}

impl fmt::Display for SshEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "ssh://{}@{}:{}{}", self.user, self.host, port, self.path),
            None => write!(f, "{}@{}:{}", self.user, self.host, self.path),
        }
    }
}

impl Serialize for Endpoint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Endpoint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// `email: {enabled: false}` turns reports off.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmailSettings {
    #[serde(default = "default_true")]
    pub enabled: bool,
}

impl Default for EmailSettings {
    fn default() -> Self {
        EmailSettings { enabled: true }
    }
}

/// When runs start by themselves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// Standard 5-field cron; Sunday is 0 (and 7).
    #[serde(default = "default_cron")]
    pub cron: String,
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// A start missed while the server was down or asleep runs once when it is back.
    #[serde(default = "default_true")]
    pub catch_up: bool,
}

fn default_cron() -> String {
    "0 2 * * *".into()
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            cron: default_cron(),
            enabled: true,
            catch_up: true,
        }
    }
}

/// Which snapshots to keep (SPEC §5; restic/borg semantics).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    #[serde(default = "d_keep_last")]
    pub keep_last: u32,
    #[serde(default)]
    pub hourly: u32,
    #[serde(default = "d_daily")]
    pub daily: u32,
    #[serde(default = "d_weekly")]
    pub weekly: u32,
    #[serde(default = "d_monthly")]
    pub monthly: u32,
    #[serde(default = "d_yearly")]
    pub yearly: u32,
    /// Keep every snapshot younger than this, measured from the newest snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_within: Option<KeepWithin>,
}

fn d_keep_last() -> u32 {
    1
}
fn d_daily() -> u32 {
    7
}
fn d_weekly() -> u32 {
    4
}
fn d_monthly() -> u32 {
    12
}
fn d_yearly() -> u32 {
    5
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            keep_last: d_keep_last(),
            hourly: 0,
            daily: d_daily(),
            weekly: d_weekly(),
            monthly: d_monthly(),
            yearly: d_yearly(),
            keep_within: None,
        }
    }
}

/// A task's retention fields; those set replace the global ones.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_last: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hourly: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekly: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yearly: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_within: Option<KeepWithin>,
}

impl RetentionOverride {
    /// This override merged over `base`.
    pub fn apply_to(&self, base: &RetentionPolicy) -> RetentionPolicy {
        RetentionPolicy {
            keep_last: self.keep_last.unwrap_or(base.keep_last),
            hourly: self.hourly.unwrap_or(base.hourly),
            daily: self.daily.unwrap_or(base.daily),
            weekly: self.weekly.unwrap_or(base.weekly),
            monthly: self.monthly.unwrap_or(base.monthly),
            yearly: self.yearly.unwrap_or(base.yearly),
            keep_within: self
                .keep_within
                .clone()
                .or_else(|| base.keep_within.clone()),
        }
    }
}

/// A duration such as `2d`, `36h`, `1w` or `1y2m` (units: h, d, w, m = 30 days, y = 365 days),
/// written as in restic's `--keep-within`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeepWithin {
    text: String,
    seconds: i64,
}

impl KeepWithin {
    /// The duration in seconds.
    pub fn seconds(&self) -> i64 {
        self.seconds
    }
    /// The text as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl std::str::FromStr for KeepWithin {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hint = "write a number and a unit, e.g. 36h, 2d, 1w, 6m or 1y2m (h, d, w, m = 30 days, y = 365 days)";
        let t = s.trim();
        if t.is_empty() {
            return Err(format!("the duration is empty; {hint}"));
        }
        let mut seconds: i64 = 0;
        let mut number = String::new();
        for c in t.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let unit: i64 = match c {
                'h' => 3600,
                'd' => 86_400,
                'w' => 7 * 86_400,
                'm' => 30 * 86_400,
                'y' => 365 * 86_400,
                _ => return Err(format!("{s:?} has the unknown unit {c:?}; {hint}")),
            };
            let n: i64 = number
                .parse()
                .map_err(|_| format!("{s:?} has a unit without a number before it; {hint}"))?;
            number.clear();
            seconds = n
                .checked_mul(unit)
                .and_then(|v| v.checked_add(seconds))
                .filter(|v| *v <= 1000 * 365 * 86_400)
                .ok_or_else(|| format!("{s:?} is too long (at most 1000 years)"))?;
        }
        if !number.is_empty() {
            return Err(format!("{s:?} ends with a number without a unit; {hint}"));
        }
        Ok(KeepWithin {
            text: t.to_string(),
            seconds,
        })
    }
}

impl Serialize for KeepWithin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for KeepWithin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Implicit TLS (usually port 465).
    Tls,
    /// Plain connection upgraded with STARTTLS (usually port 587).
    Starttls,
    /// No encryption: only for a relay on the LAN.
    None,
}

impl SmtpSecurity {
    /// The word the configuration uses: `tls`, `starttls`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpSecurity::Tls => "tls",
            SmtpSecurity::Starttls => "starttls",
            SmtpSecurity::None => "none",
        }
    }
}

/// The mail server reports are sent through. Defaults: Gmail on 465, user = `email_sender`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SmtpSettings {
    #[serde(default = "d_smtp_host")]
    pub host: String,
    #[serde(default = "d_smtp_port")]
    pub port: u16,
    #[serde(default = "d_smtp_security")]
    pub security: SmtpSecurity,
    /// Defaults to `email_sender`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Else env `MNEMOSYNCE_SMTP_PASSWORD`, else `<data>/secrets/smtp_password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// New: a PEM file with a CA certificate to trust besides the system's (a LAN relay with its own
    /// certificate authority).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// New: seconds to wait for the connection and for each answer of the server.
    #[serde(default = "d_smtp_timeout")]
    pub timeout_secs: u32,
}

fn d_smtp_host() -> String {
    "smtp.gmail.com".into()
}
fn d_smtp_port() -> u16 {
    465
}
fn d_smtp_timeout() -> u32 {
    30
}
fn d_smtp_security() -> SmtpSecurity {
    SmtpSecurity::Tls
}

impl Default for SmtpSettings {
    fn default() -> Self {
        SmtpSettings {
            host: d_smtp_host(),
            port: d_smtp_port(),
            security: d_smtp_security(),
            username: None,
            password_file: None,
            ca_file: None,
            timeout_secs: d_smtp_timeout(),
        }
    }
}

/// Which runs are reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportWhen {
    Always,
    Failures,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportSettings {
    #[serde(default = "d_when")]
    pub when: ReportWhen,
    /// A task with no good snapshot for this many days is flagged.
    #[serde(default = "d_stale")]
    pub stale_after_days: u32,
}

fn d_when() -> ReportWhen {
    ReportWhen::Always
}
fn d_stale() -> u32 {
    3
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            when: d_when(),
            stale_after_days: d_stale(),
        }
    }
}

/// `GET /metrics` (Prometheus): open to a signed-in browser, and to a scraper that sends the token
/// in this file (`Authorization: Bearer …`). Without a token file, only to a session: never open.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
}

/// How long run history (and its log folders) is kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistorySettings {
    #[serde(default = "d_keep_days")]
    pub keep_days: u32,
}

fn d_keep_days() -> u32 {
    365
}

impl Default for HistorySettings {
    fn default() -> Self {
        HistorySettings {
            keep_days: d_keep_days(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_in_all_three_forms() {
        assert_eq!(
            "/srv/photos".parse::<Endpoint>().unwrap(),
            Endpoint::Local("/srv/photos".into())
        );
        let Endpoint::Ssh(e) = "user@desktop:/home/user".parse::<Endpoint>().unwrap() else {
            panic!("not ssh")
        };
        assert_eq!(
            (e.user.as_str(), e.host.as_str(), e.port, e.path.as_str()),
            ("user", "desktop", None, "/home/user")
        );
        let Endpoint::Ssh(e) = "ssh://bob@nas.lan:2222/volume1/backup"
            .parse::<Endpoint>()
            .unwrap()
        else {
            panic!("not ssh")
        };
        assert_eq!(
            (e.host.as_str(), e.port, e.path.as_str()),
            ("nas.lan", Some(2222), "/volume1/backup")
        );
        assert_eq!(e.to_string(), "ssh://bob@nas.lan:2222/volume1/backup");
        let Endpoint::Ssh(e) = "ssh://bob@[::1]:2222/b".parse::<Endpoint>().unwrap() else {
            panic!("not ssh")
        };
        assert_eq!((e.host.as_str(), e.port), ("[::1]", Some(2222)));
        assert_eq!(e.address(), "::1");
        let Endpoint::Ssh(e) = "me@[FD00:0::1]:/x".parse::<Endpoint>().unwrap() else {
            panic!("not ssh")
        };
        assert_eq!(
            (e.user.as_str(), e.host.as_str(), e.port, e.path.as_str()),
            ("me", "[fd00::1]", None, "/x")
        );
        assert_eq!(e.address(), "fd00::1");
        assert_eq!(e.to_string(), "me@[fd00::1]:/x");
        assert_eq!(e.to_string().parse::<Endpoint>().unwrap(), Endpoint::Ssh(e));
    }

    /// Brackets hold an IPv6 address and nothing else: rsync strips them and hands the rest to ssh
    /// (without `--` on older rsync), where `-E…` would be an option.
    #[test]
    fn bracketed_hosts_must_be_ipv6_addresses() {
        for (bad, why) in [
            ("me@[-Eowned.log]:/x", "not an IPv6 address"),
            ("ssh://u@[-Eowned.log]/p", "not an IPv6 address"),
            ("ssh://u@[-oProxyCommand=id]:22/p", "not an IPv6 address"),
            ("me@[::1;id]:/x", "not an IPv6 address"),
            ("ssh://u@[::1;id]/p", "not an IPv6 address"),
            ("me@[fe80::1%eth0]:/x", "zone id"),
            ("ssh://u@[fe80::1%25eth0]:22/p", "zone id"),
            ("me@[]:/x", "not an IPv6 address"),
            ("ssh://u@[]:22/p", "not an IPv6 address"),
            ("me@[127.0.0.1]:/x", "not an IPv6 address"),
            ("ssh://u@[127.0.0.1]/p", "not an IPv6 address"),
            ("ssh://u@[nas.lan]/p", "not an IPv6 address"),
            ("me@[::1:/x", "does not close"),
            ("ssh://u@[::1/p", "does not close"),
            ("me@::1:/x", "the host is empty"),
            ("ssh://u@::1/p", "IPv6 address goes in brackets"),
            ("me@[::1]x:/p", "followed by ':'"),
            ("me@[::1]]:/p", "followed by ':'"),
            ("ssh://u@[::1]x/p", "followed by ':'"),
            ("ssh://u@[::1]]:22/p", "followed by ':'"),
        ] {
            match bad.parse::<Endpoint>() {
                Ok(e) => panic!("{bad:?} was accepted as {e:?}"),
                Err(e) => assert!(e.0.contains(why), "{bad:?}: {e}"),
            }
        }
    }

    #[test]
    fn hostile_endpoints_are_refused() {
        for bad in [
            "-oProxyCommand=x@host:/p",
            "user@-oProxyCommand=touch:/p",
            "us;er@host:/p",
            "user@ho$(id)st:/p",
            "user@host:relative",
            "user @host:/p",
            "relative/path",
            "ssh://user@host:99999/p",
            "ssh://host/p",
            "",
        ] {
            assert!(bad.parse::<Endpoint>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn keep_within_reads_restic_durations() {
        assert_eq!("2d".parse::<KeepWithin>().unwrap().seconds(), 2 * 86_400);
        assert_eq!(
            "1y2m".parse::<KeepWithin>().unwrap().seconds(),
            425 * 86_400
        );
        assert!("2".parse::<KeepWithin>().is_err());
        assert!("2x".parse::<KeepWithin>().is_err());
        assert!("99999999999999y".parse::<KeepWithin>().is_err());
    }

    #[test]
    fn tasks_are_selected_in_config_order_and_unknown_names_are_named() {
        let task = |n: &str| Task {
            name: n.into(),
            dir_source: Endpoint::Local("/src".into()),
            excludes: vec![],
            one_file_system: false,
            allow_empty_source: false,
            acls_xattrs: true,
            retention: None,
            bwlimit_kbps: None,
            engine: None,
        };
        let cfg = Config {
            dir_backup_local: "/store".into(),
            dir_backup_remote: None,
            email_sender: None,
            email_report: None,
            email_admin: None,
            email: EmailSettings::default(),
            timezone: None,
            schedule: Schedule::default(),
            retention: RetentionPolicy::default(),
            smtp: SmtpSettings::default(),
            report: ReportSettings::default(),
            history: HistorySettings::default(),
            metrics: MetricsSettings::default(),
            tasks: vec![task("A"), task("B"), task("C")],
        };
        let names = |v: Vec<&Task>| v.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(cfg.select_tasks(&[]).unwrap()), ["A", "B", "C"]);
        assert_eq!(
            names(
                cfg.select_tasks(&["C".into(), "A".into(), "C".into()])
                    .unwrap()
            ),
            ["A", "C"]
        );
        let err = cfg.select_tasks(&["X".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"no task is called "X" (the tasks are: A, B, C)"#
        );
    }

    #[test]
    fn a_task_override_merges_over_the_global_policy() {
        let base = RetentionPolicy::default();
        let o = RetentionOverride {
            daily: Some(14),
            ..Default::default()
        };
        let p = o.apply_to(&base);
        assert_eq!((p.daily, p.weekly, p.keep_last), (14, 4, 1));
    }
}
