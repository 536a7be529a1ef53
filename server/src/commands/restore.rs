//! `mnemosynce restore TASK SNAPSHOT PATH [--to DIR] [--replace]`: a file or folder of a snapshot
//! copied back (`engine::run::restore`), with its progress on the terminal like `run`.
//!
//! Without `--to` it lands next to the original as `<name>.restored-YYYY-MM-DD_HHMMSS` (on the
//! source's machine, over SSH for an SSH task); `--to DIR` puts it into DIR on this machine. Nothing
//! that exists is overwritten unless `--replace` is given, and then the replaced files are kept in
//! `<name>.replaced-…`. SIGTERM or Ctrl-C cancels it. Exit codes as `run`'s.

use super::exit::{EXIT_BUSY, EXIT_CONFIG, EXIT_FAILURE, EXIT_WARNING};
use super::load::read_side;
use super::printer::Printer;
use super::run::cancel_on_signal;
use crate::cli::{Cli, RestoreArgs};
use engine::data_dir::DataDir;
use engine::files::InnerPath;
use engine::model::events::Trigger;
use engine::model::Status;
use engine::run::{self, RestoreError, RestoreRequest};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

/// `mnemosynce restore`
pub async fn execute(cli: &Cli, args: &RestoreArgs) -> ExitCode {
    let (config, tz, history) = match read_side(cli, Some(&args.task)).await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let path = match InnerPath::parse(args.path.as_bytes()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let cancel = cancel_on_signal("the restore (what was copied so far stays)");
    let (printer, events) = Printer::sink();
    let request = RestoreRequest {
        trigger: Trigger::Cli,
        task: args.task.clone(),
        snapshot: args.snapshot.clone(),
        path,
        to: args.to.clone(),
        replace: args.replace,
    };
    let data = DataDir::new(&cli.data);
    let report = match run::restore(&data, &history, &config, tz, request, events, cancel).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(match e {
                RestoreError::Busy(_) => EXIT_BUSY,
                RestoreError::UnknownTask(_)
                | RestoreError::RelativeTo(_)
                | RestoreError::Exists(..)
                | RestoreError::LinkInTheWay(_) => EXIT_CONFIG,
                _ => EXIT_FAILURE,
            });
        }
    };
    printer.clear_line();
    println!("{}: {}", report.status, report.message);
    println!(
        "run {}: {} (log in {})",
        report.run_id,
        report.status,
        data.run_logs(report.run_id).display()
    );
    match report.status {
        Status::Success => ExitCode::SUCCESS,
        Status::Warning => ExitCode::from(EXIT_WARNING),
        _ => ExitCode::from(EXIT_FAILURE),
    }
}
