//! The backups' figures in the Prometheus text format (version 0.0.4), for `GET /metrics`.
//!
//! [`Exposition`] writes metric families (`# HELP`, `# TYPE`, samples with escaped label values);
//! [`backup_metrics`] fills it from the same task overviews the dashboard shows and from the
//! history: per task the last run's status, times, duration, step durations and what it copied,
//! the newest good snapshot, the snapshot count and the store size; runs by outcome. The server adds
//! its own process figures with the same writer. Times are Unix seconds; sizes bytes.

use crate::history::{History, HistoryError, TaskRunRow};
use crate::model::config::Config;
use crate::model::overview::TaskOverview;
use crate::model::Status;
use crate::overview::task_overviews;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::fmt::Write;

/// Every status a run or a task run can end with (and `running`), as labels.
const STATUSES: [Status; 6] = [
    Status::Success,
    Status::Warning,
    Status::Failed,
    Status::Cancelled,
    Status::Skipped,
    Status::Running,
];

/// A Prometheus text exposition being written.
#[derive(Default)]
pub struct Exposition {
    text: String,
}

impl Exposition {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a family: its name, help line and type (`gauge`, `counter`).
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    /// One sample of the family just started.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (key, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                let v = v
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n");
                let _ = write!(self.text, "{key}=\"{v}\"");
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {}", number(value));
    }

    /// A gauge family with one sample per task (label `task`).
    pub fn per_task<'a>(
        &mut self,
        name: &str,
        help: &str,
        samples: impl IntoIterator<Item = (&'a str, f64)>,
    ) {
        self.family(name, "gauge", help);
        for (task, value) in samples {
            self.sample(name, &[("task", task)], value);
        }
    }

    /// The whole text.
    pub fn finish(self) -> String {
        self.text
    }
}

/// A sample value as Prometheus reads it (integers without a fraction).
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

fn took(start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> Option<f64> {
    end.map(|end| (end - start).num_milliseconds().max(0) as f64 / 1000.0)
}

/// Writes the backups' metrics (see the module documentation) into `out`.
pub async fn backup_metrics(
    out: &mut Exposition,
    config: &Config,
    history: &History,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<(), HistoryError> {
    let tasks = task_overviews(config, history, tz, now).await?;
    let mut last_runs = Vec::with_capacity(tasks.len());
    for task in &tasks {
        let last = history.last_task_run(&task.name).await?;
        let steps = match &last {
            Some(row) => history.steps(row.id).await?,
            None => Vec::new(),
        };
        last_runs.push((last, steps));
    }

    out.family(
        "mnemosynce_task_last_run_status",
        "gauge",
        "1 for the status of the task's last run (success, warning, failed, cancelled, skipped, running), 0 for the others.",
    );
    for (task, (last, _)) in tasks.iter().zip(&last_runs) {
        if let Some(last) = last {
            for s in STATUSES {
                let v = f64::from(u8::from(last.status == s));
                out.sample(
                    "mnemosynce_task_last_run_status",
                    &[("task", &task.name), ("status", s.as_str())],
                    v,
                );
            }
        }
    }
    // One gauge per task for each figure the task has (a task that never ran has no last run).
    let rows: Vec<_> = tasks.iter().zip(&last_runs).collect();
    let last = |f: fn(&TaskRunRow) -> Option<f64>| {
        rows.iter()
            .filter_map(move |(t, (run, _))| Some((t.name.as_str(), f(run.as_ref()?)?)))
            .collect::<Vec<_>>()
    };
    out.per_task(
        "mnemosynce_task_last_run_start_timestamp_seconds",
        "When the task's last run started.",
        last(|l| Some(seconds(l.started_at))),
    );
    out.per_task(
        "mnemosynce_task_last_run_duration_seconds",
        "How long the task's last finished run took.",
        last(|l| took(l.started_at, l.finished_at)),
    );
    out.family(
        "mnemosynce_task_last_step_duration_seconds",
        "gauge",
        "How long each step of the task's last run took.",
    );
    for (task, (_, steps)) in &rows {
        for step in steps {
            if let Some(d) = took(step.started_at, step.finished_at) {
                out.sample(
                    "mnemosynce_task_last_step_duration_seconds",
                    &[("task", &task.name), ("step", step.step.as_str())],
                    d,
                );
            }
        }
    }
    out.per_task(
        "mnemosynce_task_last_run_files_copied",
        "Files the task's last run copied into its snapshot (the others were hard-linked).",
        last(|l| Some(l.stats.files_transferred as f64)),
    );
    out.per_task(
        "mnemosynce_task_last_run_bytes_copied",
        "Bytes the task's last run copied into its snapshot.",
        last(|l| Some(l.stats.bytes_transferred as f64)),
    );
    let each = |f: fn(&TaskOverview) -> Option<f64>| {
        tasks
            .iter()
            .filter_map(move |t| Some((t.name.as_str(), f(t)?)))
            .collect::<Vec<_>>()
    };
    out.per_task(
        "mnemosynce_task_last_snapshot_timestamp_seconds",
        "When the task's newest complete snapshot was taken (alert when it gets old).",
        each(|t| t.last_snapshot_at.map(seconds)),
    );
    out.per_task(
        "mnemosynce_task_stale",
        "1 when the task has no good snapshot within report.stale_after_days.",
        each(|t| Some(f64::from(u8::from(t.stale)))),
    );
    out.per_task(
        "mnemosynce_task_snapshots",
        "Snapshots of the task in the store.",
        each(|t| Some(t.snapshot_count as f64)),
    );
    out.per_task(
        "mnemosynce_task_store_bytes",
        "Disk space of the task's folder in the store (every file once), measured after its last run.",
        each(|t| t.store_bytes.map(|b| b as f64)),
    );

    let counts = history.backup_run_counts().await?;
    out.family(
        "mnemosynce_runs_total",
        "counter",
        "Backup runs in the history, by outcome (runs older than history.keep_days are forgotten).",
    );
    for s in STATUSES {
        let n = counts
            .iter()
            .find(|(status, _)| *status == s)
            .map_or(0, |(_, n)| *n);
        out.sample(
            "mnemosynce_runs_total",
            &[("outcome", s.as_str())],
            n as f64,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_and_help_are_escaped_and_integers_have_no_fraction() {
        let mut out = Exposition::new();
        out.family("m", "gauge", "a \\ b\nc");
        out.sample("m", &[("task", "Pho\"tos\\\n")], 3.0);
        out.sample("m", &[], 0.5);
        assert_eq!(
            out.finish(),
            "# HELP m a \\\\ b\\nc\n# TYPE m gauge\nm{task=\"Pho\\\"tos\\\\\\n\"} 3\nm 0.5\n"
        );
    }
}
