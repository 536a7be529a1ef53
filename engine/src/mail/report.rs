//! The email report of a run (SPEC §7): what it says, who gets it, and recording whether it went out.
//!
//! Three stages, each testable alone: [`summarize`] turns a [`RunReport`], the history and the store
//! into a [`Summary`] (a [`TaskRow`] per task of the run, a [`StaleRow`] per other task gone
//! stale); [`render`] fills `engine/templates/report.{txt,html}` (askama: checked when the engine
//! compiles, every value HTML-escaped); [`compose`] makes the `multipart/mixed` message, with the
//! logs of failed and warning steps attached gzip-compressed (at most [`LOG_ATTACHMENT_MAX`] each).
//! [`send_run_report`] decides whether the report is due (`email.enabled`, `report.when`,
//! `report.stale_after_days`), sends it through `mail::Session` and records the outcome on the run.
//!
//! Invariants: sending never changes the run's status and never fails it; an error is stored on the
//! run (`report_status = failed`, `report_error` = the step, the reason and the fix).
//! `email_admin` is a real envelope recipient (and a `Cc:`) only when a task failed. Who gets what,
//! for owners: README, *Email reports*.

use super::{address, deliver, MailError, MailStep, Transport};
use crate::data_dir::DataDir;
use crate::history::History;
use crate::model::config::{Config, ReportWhen};
use crate::model::events::StepKind;
use crate::model::report::ReportStatus;
use crate::model::units::{human_bytes, human_count, human_duration};
use crate::model::Status;
use crate::run::{RunReport, StepReport, TaskReport};
use crate::store::{listing, local_to_utc, TaskStore};
use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use lettre::address::Envelope;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::Message;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// At most this much of the end of a step's log is attached (before compression): the end is where a
/// failure is explained, and a report must stay small enough for any mailbox.
pub const LOG_ATTACHMENT_MAX: u64 = 4 * 1024 * 1024;

/// One task of the run, as the report shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskRow {
    pub name: String,
    pub status: Status,
    /// ✔ ⚠ ✘ ■ –
    pub icon: &'static str,
    /// The status colour (text on white, WCAG AA).
    pub colour: &'static str,
    pub duration: String,
    pub snapshot: Option<String>,
    /// "1 204 of 100 000" (files copied of files in the snapshot)
    pub files: String,
    /// Bytes copied into the new snapshot (unchanged files are hard links and cost nothing), i.e. the
    /// store's growth from this snapshot.
    pub growth: String,
    /// "today", "1 day", "5 days", "never"
    pub last_good: String,
    pub stale: bool,
    /// The failure or warning in one sentence, and what to do about it.
    pub reason: Option<String>,
    pub hint: Option<String>,
}

/// A task outside this run (or inside it, failed) whose newest good snapshot is too old.
#[derive(Clone, Debug, PartialEq)]
pub struct StaleRow {
    pub name: String,
    pub last_good: String,
}

/// Everything a report says.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub subject: String,
    pub host: String,
    pub run_id: Option<i64>,
    pub status: Status,
    /// Start of the run, in the configured timezone.
    pub started: String,
    pub duration: String,
    pub tasks: Vec<TaskRow>,
    /// Configured tasks that were not in this run and are stale.
    pub stale_others: Vec<StaleRow>,
    pub stale_after_days: u32,
    /// True when some task failed (then `email_admin` is told too).
    pub any_failed: bool,
    /// True when something needs the owner: a failure, a warning, a cancellation or a stale task.
    pub needs_attention: bool,
}

/// A message ready to send.
#[derive(Clone, Debug)]
pub struct Composed {
    pub envelope: Envelope,
    pub bytes: Vec<u8>,
    pub subject: String,
}

/// What became of a run's report.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportOutcome {
    pub status: ReportStatus,
    pub recipients: Vec<String>,
    pub error: Option<MailError>,
}

impl std::fmt::Display for ReportOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.status, &self.error) {
            (ReportStatus::Sent, _) => write!(f, "sent to {}", self.recipients.join(", ")),
            (ReportStatus::NotDue, _) => {
                f.write_str("not sent: report.when is failures and nothing needs attention")
            }
            (ReportStatus::Disabled, _) => {
                f.write_str("not sent: email is off (email: {enabled: false})")
            }
            (ReportStatus::Failed, Some(e)) => write!(f, "NOT SENT: {e}"),
            (ReportStatus::Failed, None) => f.write_str("NOT SENT"),
        }
    }
}

/// This machine's name, for the subject.
pub fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length; gethostname writes at most that much.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    match std::str::from_utf8(&buf[..end]) {
        Ok(name) if rc == 0 && !name.is_empty() => name.to_string(),
        _ => "this server".to_string(),
    }
}

fn icon(status: Status) -> &'static str {
    match status {
        Status::Success => "✔",
        Status::Warning => "⚠",
        Status::Failed => "✘",
        Status::Cancelled => "■",
        Status::Skipped | Status::Running => "–",
    }
}

fn colour(status: Status) -> &'static str {
    match status {
        Status::Success => "#1a7f37",
        Status::Warning => "#9a6700",
        Status::Failed => "#cf222e",
        Status::Cancelled | Status::Skipped | Status::Running => "#57606a",
    }
}

fn age(now: DateTime<Utc>, then: Option<DateTime<Utc>>) -> (String, Option<i64>) {
    match then {
        None => ("never".into(), None),
        Some(t) => {
            let days = (now - t).num_days().max(0);
            let text = match days {
                0 => "today".to_string(),
                1 => "1 day".to_string(),
                n => format!("{n} days"),
            };
            (text, Some((now - t).num_hours().max(0)))
        }
    }
}

/// The fix for a failed or warning step, from what the step said.
fn hint_for(step: &StepReport, task: &TaskReport, config: &Config) -> String {
    let m = step.message.as_deref().unwrap_or("");
    if m.contains("allow_empty_source") {
        return "mount the drive (or check the source path); set allow_empty_source: true on the task only if it is meant to be empty".into();
    }
    if m.contains("No space left") {
        return "free space on the store's disk: keep fewer snapshots (retention) or move dir_backup_local".into();
    }
    if m.contains("Permission denied") && !m.contains("publickey")
        || m.contains("could not be read")
    {
        return "give the user Mnemosynce runs as read access to the listed paths, or exclude them"
            .into();
    }
    match step.step {
        StepKind::Preflight => match config
            .tasks
            .iter()
            .find(|t| t.name == task.task)
            .map(|t| &t.dir_source)
        {
            Some(crate::model::config::Endpoint::Ssh(e)) => {
                format!("run `mnemosynce test-connection {e}` to see which step fails")
            }
            Some(crate::model::config::Endpoint::Local(p)) => format!(
                "check that {} exists, is a folder and is readable (is its drive mounted?)",
                p.display()
            ),
            None => "check the task's dir_source".into(),
        },
        StepKind::Backup if step.status == Status::Warning => {
            "nothing to do if the files were in use; see the attached backup log".into()
        }
        StepKind::Backup => {
            "see the attached backup log; the next run resumes where this one stopped".into()
        }
        StepKind::Retention => {
            "see the attached log; nothing the plan did not name was deleted".into()
        }
        StepKind::Mirror => match &config.dir_backup_remote {
            Some(target) => format!(
                "run `mnemosynce test-connection --mirror {target}` and see the attached mirror log"
            ),
            None => "see the attached mirror log".into(),
        },
        StepKind::Cleanup => {
            "the pruned snapshots wait in .pruning/ and the next run deletes them".into()
        }
        StepKind::Restore => "see the attached restore log".into(),
    }
}

/// Builds the summary of a finished run.
pub async fn summarize(
    history: &History,
    config: &Config,
    tz: Tz,
    report: &RunReport,
    now: DateTime<Utc>,
) -> Summary {
    let run_row = match report.run_id {
        Some(id) => history.run(id).await.ok().flatten(),
        None => None,
    };
    let task_rows = match report.run_id {
        Some(id) => history.task_runs(id).await.unwrap_or_default(),
        None => Vec::new(),
    };
    let stale_hours = i64::from(config.report.stale_after_days) * 24;
    let is_stale = |hours: Option<i64>| {
        config.report.stale_after_days > 0 && hours.is_none_or(|h| h > stale_hours)
    };

    // The newest complete snapshot of every configured task, from the store itself.
    let mut last_good = std::collections::HashMap::new();
    for task in &config.tasks {
        let store = TaskStore::new(&config.dir_backup_local, &task.name);
        let newest = listing(&store, history, &task.name)
            .await
            .ok()
            .and_then(|l| {
                l.all()
                    .into_iter()
                    .rev()
                    .find(|c| c.completeness == crate::model::snapshot::Completeness::Complete)
            })
            .map(|c| local_to_utc(tz, &c.name));
        last_good.insert(task.name.clone(), newest);
    }

    let mut tasks = Vec::new();
    for t in &report.tasks {
        let row = task_rows.iter().find(|r| r.task == t.task);
        let duration = row
            .and_then(|r| {
                r.finished_at
                    .map(|f| (f - r.started_at).num_seconds().max(0) as u64)
            })
            .map(human_duration)
            .unwrap_or_else(|| "—".into());
        let (last_text, hours) = age(now, last_good.get(&t.task).copied().flatten());
        let problem = t
            .steps
            .iter()
            .find(|s| s.status == Status::Failed)
            .or_else(|| t.steps.iter().find(|s| s.status == Status::Warning));
        let (reason, hint) = match problem {
            Some(step) if t.status != Status::Success => (
                Some(format!(
                    "{}: {}",
                    step.step,
                    step.message.as_deref().unwrap_or(step.status.as_str())
                )),
                Some(hint_for(step, t, config)),
            ),
            _ if t.status == Status::Cancelled => (Some("the run was cancelled".into()), None),
            _ => (
                t.message.clone().filter(|_| t.status != Status::Success),
                None,
            ),
        };
        let (files, growth) = match &t.stats {
            Some(s) if t.snapshot.is_some() => (
                format!(
                    "{} of {}",
                    human_count(s.files_transferred),
                    human_count(s.files_total)
                ),
                human_bytes(s.bytes_transferred),
            ),
            _ => ("0".into(), "0 B".into()),
        };
        tasks.push(TaskRow {
            name: t.task.clone(),
            status: t.status,
            icon: icon(t.status),
            colour: colour(t.status),
            duration,
            snapshot: t.snapshot.clone(),
            files,
            growth,
            last_good: last_text,
            stale: is_stale(hours),
            reason,
            hint,
        });
    }
    let stale_others: Vec<StaleRow> = config
        .tasks
        .iter()
        .filter(|c| !report.tasks.iter().any(|t| t.task == c.name))
        .filter_map(|c| {
            let (text, hours) = age(now, last_good.get(&c.name).copied().flatten());
            is_stale(hours).then(|| StaleRow {
                name: c.name.clone(),
                last_good: text,
            })
        })
        .collect();

    let total = tasks.len();
    let ok = tasks.iter().filter(|t| t.status == Status::Success).count();
    let failed = tasks.iter().filter(|t| t.status == Status::Failed).count();
    let warned = tasks.iter().filter(|t| t.status == Status::Warning).count();
    let stale = tasks.iter().filter(|t| t.stale).count() + stale_others.len();
    let cancelled = report.status == Status::Cancelled;
    let host = host_name();
    let subject = if failed > 0 {
        format!("✘ Mnemosynce: {failed} of {total} tasks FAILED on {host}")
    } else if cancelled {
        format!("■ Mnemosynce: run cancelled, {ok} of {total} tasks OK on {host}")
    } else if warned > 0 {
        format!("⚠ Mnemosynce: {ok}/{total} tasks OK, {warned} with warnings on {host}")
    } else if stale > 0 {
        format!("⚠ Mnemosynce: {ok}/{total} tasks OK, {stale} stale on {host}")
    } else {
        format!("✔ Mnemosynce: {ok}/{total} tasks OK on {host}")
    };
    let (started, duration) = match &run_row {
        Some(r) => (
            r.started_at
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M %Z")
                .to_string(),
            human_duration(
                (r.finished_at.unwrap_or(now) - r.started_at)
                    .num_seconds()
                    .max(0) as u64,
            ),
        ),
        None => (
            now.with_timezone(&tz)
                .format("%Y-%m-%d %H:%M %Z")
                .to_string(),
            "—".into(),
        ),
    };
    Summary {
        subject,
        host,
        run_id: report.run_id,
        status: report.status,
        started,
        duration,
        needs_attention: failed + warned + stale > 0 || cancelled,
        any_failed: failed > 0,
        tasks,
        stale_others,
        stale_after_days: config.report.stale_after_days,
    }
}

/// The plain-text alternative.
#[derive(Template)]
#[template(path = "report.txt")]
struct TextReport<'a> {
    s: &'a Summary,
    version: &'a str,
}

/// The HTML alternative: table layout and inline styles only (mail clients drop style sheets), no
/// images or fonts from elsewhere.
#[derive(Template)]
#[template(path = "report.html")]
struct HtmlReport<'a> {
    s: &'a Summary,
    version: &'a str,
    headline_colour: &'a str,
}

/// Renders the two alternatives: (plain text, HTML).
pub fn render(summary: &Summary) -> Result<(String, String), MailError> {
    let fail = |e: askama::Error| {
        MailError::new(
            MailStep::Send,
            format!("cannot render the report: {e}"),
            "report this as a bug",
        )
    };
    let version = crate::model::VERSION;
    let text = TextReport {
        s: summary,
        version,
    }
    .render()
    .map_err(fail)?;
    let headline_colour = if summary.any_failed {
        colour(Status::Failed)
    } else if summary.needs_attention {
        colour(Status::Warning)
    } else {
        colour(Status::Success)
    };
    let html = HtmlReport {
        s: summary,
        version,
        headline_colour,
    }
    .render()
    .map_err(fail)?;
    Ok((text, html))
}

/// A log attachment: the file's name in the mail and its gzip bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct LogAttachment {
    pub file_name: String,
    pub gzip: Vec<u8>,
}

/// Gzips the end of a log file (at most [`LOG_ATTACHMENT_MAX`] bytes, with a note when cut).
pub fn compress_log(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let mut data = Vec::new();
    if len > LOG_ATTACHMENT_MAX {
        file.seek(SeekFrom::Start(len - LOG_ATTACHMENT_MAX))?;
        data.extend_from_slice(
            format!(
                "[the first {} of this log are left out; the whole log is on the server at {}]\n",
                human_bytes(len - LOG_ATTACHMENT_MAX),
                path.display()
            )
            .as_bytes(),
        );
    }
    file.take(LOG_ATTACHMENT_MAX).read_to_end(&mut data)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&data)?;
    gz.finish()
}

/// The logs of the run's failed and warning steps.
pub async fn log_attachments(history: &History, run_id: i64) -> Vec<LogAttachment> {
    let mut out = Vec::new();
    for task_run in history.task_runs(run_id).await.unwrap_or_default() {
        for step in history.steps(task_run.id).await.unwrap_or_default() {
            if !matches!(step.status, Status::Failed | Status::Warning) {
                continue;
            }
            let Some(path) = step.log_path.as_deref().map(Path::new) else {
                continue;
            };
            let file_name = format!("{}.{}.log.gz", task_run.task, step.step);
            let path = path.to_path_buf();
            let gzip = tokio::task::spawn_blocking(move || compress_log(&path)).await;
            if let Ok(Ok(gzip)) = gzip {
                out.push(LogAttachment { file_name, gzip });
            }
        }
    }
    out
}

fn mailbox(field: &str, value: Option<&str>) -> Result<Mailbox, MailError> {
    let value = value.filter(|v| !v.trim().is_empty()).ok_or_else(|| {
        MailError::new(
            MailStep::Send,
            format!("{field} is not set"),
            format!("set {field} in the configuration, or turn email off with email: {{enabled: false}}"),
        )
    })?;
    Ok(Mailbox::new(None, address(field, value)?))
}

/// The report's recipients: `email_report`, plus `email_admin` when a task failed.
fn recipients(config: &Config, any_failed: bool) -> Result<(Mailbox, Option<Mailbox>), MailError> {
    let to = mailbox("email_report", config.email_report.as_deref())?;
    let admin = match config.email_admin.as_deref().map(str::trim) {
        Some(a) if any_failed && !a.is_empty() && !a.eq_ignore_ascii_case(to.email.as_ref()) => {
            Some(mailbox("email_admin", Some(a))?)
        }
        _ => None,
    };
    Ok((to, admin))
}

fn build_error(e: impl std::fmt::Display) -> MailError {
    MailError::new(
        MailStep::Send,
        format!("cannot build the message: {e}"),
        "check email_sender, email_report and email_admin",
    )
}

/// Makes the message of a report.
pub fn compose(
    config: &Config,
    summary: &Summary,
    attachments: &[LogAttachment],
) -> Result<Composed, MailError> {
    let (text, html) = render(summary)?;
    let from = mailbox("email_sender", config.email_sender.as_deref())?;
    let (to, admin) = recipients(config, summary.any_failed)?;
    let mut rcpt = vec![to.email.clone()];
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(summary.subject.clone())
        .header(lettre::message::header::MIME_VERSION_1_0);
    if let Some(admin) = admin {
        rcpt.push(admin.email.clone());
        builder = builder.cc(admin);
    }
    let mut body = MultiPart::mixed().multipart(MultiPart::alternative_plain_html(text, html));
    for a in attachments {
        let kind = ContentType::parse("application/gzip").map_err(build_error)?;
        let part: SinglePart = Attachment::new(a.file_name.clone()).body(a.gzip.clone(), kind);
        body = body.singlepart(part);
    }
    let message = builder.multipart(body).map_err(build_error)?;
    let envelope = Envelope::new(Some(from.email), rcpt).map_err(build_error)?;
    Ok(Composed {
        envelope,
        bytes: message.formatted(),
        subject: summary.subject.clone(),
    })
}

/// The short message of the test email.
pub fn test_message(config: &Config, to: Option<&str>) -> Result<Composed, MailError> {
    let from = mailbox("email_sender", config.email_sender.as_deref())?;
    let to = match to {
        Some(addr) => mailbox("--to", Some(addr))?,
        None => mailbox("email_report", config.email_report.as_deref())?,
    };
    let subject = format!("Mnemosynce test email from {}", host_name());
    let body = format!(
        "This is a test email from Mnemosynce on {}.\n\nIf you can read it, run reports will reach you.\n",
        host_name()
    );
    let message = Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(subject.clone())
        .singlepart(SinglePart::plain(body))
        .map_err(build_error)?;
    let envelope = Envelope::new(Some(from.email), vec![to.email]).map_err(build_error)?;
    Ok(Composed {
        envelope,
        bytes: message.formatted(),
        subject,
    })
}

/// Decides whether the run's report is due, sends it, and records the outcome on the run. Never
/// fails: what went wrong is in the outcome (and the history).
pub async fn send_run_report(
    data: &DataDir,
    history: &History,
    config: &Config,
    tz: Tz,
    report: &RunReport,
) -> ReportOutcome {
    let outcome = decide_and_send(data, history, config, tz, report).await;
    if let Some(id) = report.run_id {
        let error = outcome.error.as_ref().map(|e| e.to_string());
        if let Err(e) = history
            .set_report(id, outcome.status, error.as_deref())
            .await
        {
            tracing::warn!("cannot record the report of run {id}: {e}");
        }
    }
    outcome
}

async fn decide_and_send(
    data: &DataDir,
    history: &History,
    config: &Config,
    tz: Tz,
    report: &RunReport,
) -> ReportOutcome {
    let outcome = |status, recipients, error| ReportOutcome {
        status,
        recipients,
        error,
    };
    if !config.email.enabled {
        return outcome(ReportStatus::Disabled, vec![], None);
    }
    let summary = summarize(history, config, tz, report, Utc::now()).await;
    if config.report.when == ReportWhen::Failures && !summary.needs_attention {
        return outcome(ReportStatus::NotDue, vec![], None);
    }
    let attachments = match report.run_id {
        Some(id) => log_attachments(history, id).await,
        None => Vec::new(),
    };
    let composed = match compose(config, &summary, &attachments) {
        Ok(c) => c,
        Err(e) => return outcome(ReportStatus::Failed, vec![], Some(e)),
    };
    let recipients: Vec<String> = composed
        .envelope
        .to()
        .iter()
        .map(|a| a.to_string())
        .collect();
    let transport = match Transport::from_config(config, data) {
        Ok(t) => t,
        Err(e) => return outcome(ReportStatus::Failed, recipients, Some(e)),
    };
    match deliver(transport, composed.envelope, composed.bytes).await {
        (_, Ok(())) => outcome(ReportStatus::Sent, recipients, None),
        (_, Err(e)) => outcome(ReportStatus::Failed, recipients, Some(e)),
    }
}
