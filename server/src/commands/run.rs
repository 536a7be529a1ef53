//! `mnemosynce run`: the backup now, in the foreground, with its progress on the terminal.
//!
//! Every run is recorded, also one stopped by its configuration (not a dry run). SIGTERM or Ctrl-C
//! cancels it (the interrupted snapshot resumes next time). The email report is sent after a real
//! run and never changes the exit code (`exit.rs`): a backup that worked is not failed by the mail
//! server.

use super::exit::{EXIT_BUSY, EXIT_CONFIG, EXIT_FAILURE, EXIT_WARNING};
use super::load::{load_config, open_history};
use super::printer::Printer;
use crate::cli::{Cli, RunArgs};
use engine::config;
use engine::data_dir::DataDir;
use engine::model::events::Trigger;
use engine::model::Status;
use engine::run::{self, RunError, RunOptions};
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

/// `mnemosynce run`
pub async fn execute(cli: &Cli, args: &RunArgs) -> ExitCode {
    let data = DataDir::new(&cli.data);
    let config = match load_config(cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            // Every run is recorded, also one stopped by its configuration (not a dry run).
            if !args.dry_run {
                if let Ok(history) = open_history(&data).await {
                    let _ = run::record_failed_run(
                        &history,
                        Trigger::Cli,
                        &format!("configuration error: {e}"),
                    )
                    .await;
                }
            }
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let tz = match config::resolve_timezone(&config) {
        Ok(tz) => tz,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let history = match open_history(&data).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };

    let cancel = cancel_on_signal("the run (the interrupted snapshot resumes next time)");
    let (printer, events) = Printer::sink();
    let options = RunOptions {
        trigger: Trigger::Cli,
        tasks: args.tasks.clone(),
        dry_run: args.dry_run,
    };
    let report = match run::run(&data, &history, &config, tz, options, events, cancel).await {
        Ok(r) => r,
        Err(RunError::Busy(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BUSY);
        }
        Err(e @ RunError::UnknownTask(..)) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    printer.clear_line();
    println!();
    for t in &report.tasks {
        let what = t
            .snapshot
            .as_deref()
            .map(|s| format!("snapshot {s}"))
            .unwrap_or_default();
        let why = t.message.as_deref().unwrap_or("");
        println!("{:<9} {:<24} {what} {why}", t.status.as_str(), t.task);
    }
    match report.run_id {
        Some(id) => println!(
            "run {id}: {} (logs in {})",
            report.status,
            data.run_logs(id).display()
        ),
        None => println!("dry run: {}", report.status),
    }
    // The report never changes the exit code: a backup that worked is not failed by the mail server.
    if report.run_id.is_some() {
        let outcome =
            engine::mail::report::send_run_report(&data, &history, &config, tz, &report).await;
        println!("report: {outcome}");
    }
    match report.status {
        Status::Success | Status::Skipped => ExitCode::SUCCESS,
        Status::Warning => ExitCode::from(EXIT_WARNING),
        _ => ExitCode::from(EXIT_FAILURE),
    }
}

/// A token cancelled at SIGTERM or Ctrl-C, saying on stderr that `what` is being cancelled (a
/// restore stops the same way).
pub(crate) fn cancel_on_signal(what: &'static str) -> CancellationToken {
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        wait_for_stop_signal().await;
        eprintln!("\nstopping: cancelling {what}");
        on_signal.cancel();
    });
    cancel
}

async fn wait_for_stop_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term => {},
    }
}
