//! [`Printer`]: how `mnemosynce run` (and `restore`) show the engine's run events: a live progress line on a
//! terminal (percent, bytes, rate, files, ETA), plain lines otherwise; warnings and errors always.

use engine::model::events::{LogLevel, RunEvent};
use engine::model::units::human_bytes;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

/// Prints run events: a live progress line on a terminal, plain lines otherwise.
pub struct Printer {
    tty: bool,
    line_open: Mutex<bool>,
}

impl Printer {
    pub fn new() -> Printer {
        Printer {
            tty: std::io::stderr().is_terminal(),
            line_open: Mutex::new(false),
        }
    }

    /// A printer and the run's event sink that feeds it.
    pub fn sink() -> (Arc<Printer>, engine::run::EventSink) {
        let printer = Arc::new(Printer::new());
        let fed = printer.clone();
        (printer, Arc::new(move |event| fed.event(&event)))
    }

    pub fn clear_line(&self) {
        if let Ok(mut open) = self.line_open.lock() {
            if *open {
                eprint!("\r\x1b[2K");
                *open = false;
            }
        }
    }

    fn say(&self, text: &str) {
        self.clear_line();
        eprintln!("{text}");
    }

    pub fn event(&self, event: &RunEvent) {
        match event {
            RunEvent::RunStarted { tasks, .. } => self.say(&format!(
                "run: {} task(s): {}",
                tasks.len(),
                tasks.join(", ")
            )),
            RunEvent::StepStarted { task, step, .. } if !self.tty => {
                self.say(&format!("{task}: {step} ..."))
            }
            RunEvent::StepFinished {
                task,
                step,
                status,
                message,
                ..
            } => {
                let msg = message.as_deref().unwrap_or("");
                self.say(&format!(
                    "{task}: {step} {status}{}{msg}",
                    if msg.is_empty() { "" } else { " — " }
                ));
            }
            RunEvent::Progress {
                task,
                step,
                progress,
                ..
            } => {
                if !self.tty {
                    return;
                }
                let mut line = format!("{task}: {step}");
                if let Some(p) = progress.percent {
                    line.push_str(&format!(" {p:>3}%"));
                }
                line.push_str(&format!(" {}", human_bytes(progress.bytes)));
                if let Some(r) = progress.rate {
                    line.push_str(&format!(" {}/s", human_bytes(r)));
                }
                if let (Some(d), Some(t)) = (progress.files_done, progress.files_total) {
                    line.push_str(&format!(" {d}/{t} files"));
                }
                if let Some(eta) = progress.eta_seconds {
                    line.push_str(&format!(
                        " ETA {}:{:02}:{:02}",
                        eta / 3600,
                        eta / 60 % 60,
                        eta % 60
                    ));
                }
                if let Ok(mut open) = self.line_open.lock() {
                    eprint!("\r\x1b[2K{line}");
                    let _ = std::io::stderr().flush();
                    *open = true;
                }
            }
            RunEvent::Log {
                level: LogLevel::Warn | LogLevel::Error,
                task,
                line,
                ..
            } => {
                self.say(&format!(
                    "{}{line}",
                    task.as_deref()
                        .map(|t| format!("{t}: "))
                        .unwrap_or_default()
                ));
            }
            _ => {}
        }
    }
}
