//! A step's output: [`StepReporter`] writes each line to the step's log file
//! (`<data>/logs/<run-id>/<task>.<step>.log`, named by [`log_file_name`]) and turns lines and
//! progress into [`RunEvent`]s for the caller's sink.
//!
//! Invariants: a log file that cannot be written never fails the step (the events still go out); a
//! log file name always fits a folder entry (255 bytes), however long the task name.

use super::EventSink;
use crate::model::events::{LogLevel, Progress, RunEvent, StepKind};
use crate::transfer::StepSink;
use std::io::Write;
use std::sync::Mutex;

/// Writes a step's log file and turns its output into events.
pub(super) struct StepReporter {
    pub(super) run_id: i64,
    pub(super) task: String,
    pub(super) step: StepKind,
    pub(super) events: EventSink,
    pub(super) log: Option<Mutex<std::fs::File>>,
}

impl StepSink for StepReporter {
    fn progress(&self, progress: Progress) {
        (self.events)(RunEvent::Progress {
            run_id: self.run_id,
            task: self.task.clone(),
            step: self.step,
            progress,
        });
    }

    fn log(&self, level: LogLevel, line: &str) {
        if let Some(file) = &self.log {
            if let Ok(mut f) = file.lock() {
                let tag = match level {
                    LogLevel::Info => "INFO",
                    LogLevel::Warn => "WARN",
                    LogLevel::Error => "ERROR",
                };
                let _ = writeln!(
                    f,
                    "{} {tag} {line}",
                    chrono::Local::now().format("%H:%M:%S")
                );
            }
        }
        (self.events)(RunEvent::Log {
            run_id: self.run_id,
            task: Some(self.task.clone()),
            step: Some(self.step),
            level,
            line: line.to_string(),
        });
    }
}

/// The log file of one step: `<task>.<step>.log`. A task name may have up to 255 bytes, a file name
/// no more: a name that would not fit keeps its first bytes (at a character boundary) and gets `~`
/// and 8 hex digits of its SHA-256, so two long names still get two files.
pub(super) fn log_file_name(task: &str, step: StepKind) -> String {
    const NAME_MAX: usize = 255;
    let suffix = format!(".{step}.log");
    if task.len() + suffix.len() <= NAME_MAX {
        return format!("{task}{suffix}");
    }
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(task.as_bytes());
    let tag = format!(
        "~{:02x}{:02x}{:02x}{:02x}",
        hash[0], hash[1], hash[2], hash[3]
    );
    let mut keep = NAME_MAX - suffix.len() - tag.len();
    while !task.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}{tag}{suffix}", &task[..keep])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_file_names_fit_a_folder_entry_for_every_task_name() {
        assert_eq!(
            log_file_name("My Photos ü", StepKind::Backup),
            "My Photos ü.backup.log"
        );
        for name in [
            "n".repeat(255),
            "ü".repeat(127),
            format!("{}n", "ü".repeat(127)),
        ] {
            for step in StepKind::ALL {
                let f = log_file_name(&name, step);
                assert!(
                    f.len() <= 255 && f.ends_with(&format!(".{step}.log")),
                    "{f}"
                );
            }
        }
        assert_ne!(
            log_file_name(&format!("{}a", "n".repeat(254)), StepKind::Backup),
            log_file_name(&format!("{}b", "n".repeat(254)), StepKind::Backup)
        );
    }
}
