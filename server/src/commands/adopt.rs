//! `mnemosynce adopt TASK`: hands a task's snapshot-named folders that Mnemosynce did not make to
//! retention, which may then prune them.

use super::exit::{EXIT_CONFIG, EXIT_FAILURE};
use super::load::read_side;
use crate::cli::{AdoptArgs, Cli};
use engine::run;
use std::process::ExitCode;

/// `mnemosynce adopt TASK`
pub async fn execute(cli: &Cli, args: &AdoptArgs) -> ExitCode {
    let (config, tz, history) = match read_side(cli, Some(&args.task)).await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let Some(task) = config.task(&args.task) else {
        eprintln!("error: no task is called {:?}", args.task);
        return ExitCode::from(EXIT_CONFIG);
    };
    match run::adopt(&config, &history, tz, task).await {
        Ok(names) if names.is_empty() => {
            println!(
                "{}: nothing to adopt (every snapshot folder is already Mnemosynce's)",
                task.name
            );
            ExitCode::SUCCESS
        }
        Ok(names) => {
            for n in &names {
                println!("adopted {} {n}", task.name);
            }
            println!(
                "{}: {} folder(s) adopted; retention manages them from the next run (see `mnemosynce plan --task {}`)",
                task.name,
                names.len(),
                task.name
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}: {e}", task.name);
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
