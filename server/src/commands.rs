//! The engine's subcommands: `run`, `check`, `plan` and `snapshots` (SPEC §10).
//!
//! Each loads and checks the configuration through the engine (problems go to stderr with their line
//! and column), then calls one engine function and prints its result: for people by default, as JSON
//! with `--json`.

use crate::cli::{
    AdoptArgs, Cli, KeysCommand, PlanArgs, RunArgs, SnapshotsArgs, TestConnectionArgs,
    TestEmailArgs,
};
use engine::config::{self, Checked};
use engine::data_dir::DataDir;
use engine::history::History;
use engine::model::config::{Config, Task};
use engine::model::events::{LogLevel, RunEvent, Trigger};
use engine::model::units::human_bytes;
use engine::model::Status;
use engine::run::{self, RunError, RunOptions};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// Exit codes of `mnemosynce run`.
const EXIT_WARNING: u8 = 1;
const EXIT_FAILURE: u8 = 2;
const EXIT_CONFIG: u8 = 3;
const EXIT_BUSY: u8 = 4;

/// Loads the configuration and prints its problems. `Err` carries a one-line summary of why it
/// cannot be used.
fn load_config(cli: &Cli) -> Result<Config, String> {
    let path = cli.config_path();
    let checked = config::load(&path).map_err(|e| e.to_string())?;
    print_problems(&path, &checked);
    checked.usable(&path)
}

fn print_problems(path: &std::path::Path, checked: &Checked) {
    for p in &checked.problems {
        eprintln!("{}: {p}", path.display());
    }
}

async fn open_history(data: &DataDir) -> Result<History, String> {
    data.create().map_err(|e| {
        format!(
            "cannot create the data directory {}: {e}",
            data.root().display()
        )
    })?;
    History::open(&data.database())
        .await
        .map_err(|e| e.to_string())
}

/// `mnemosynce check`
pub fn check(cli: &Cli) -> ExitCode {
    match load_config(cli) {
        Ok(c) => {
            println!(
                "{}: OK ({} task(s))",
                cli.config_path().display(),
                c.tasks.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

/// `mnemosynce run`
pub async fn run(cli: &Cli, args: &RunArgs) -> ExitCode {
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

    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        wait_for_stop_signal().await;
        eprintln!("\nstopping: cancelling the run (the interrupted snapshot resumes next time)");
        on_signal.cancel();
    });

    let printer = Arc::new(Printer::new());
    let sink_printer = printer.clone();
    let events: run::EventSink = Arc::new(move |event| sink_printer.event(&event));
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

/// Prints run events: a live progress line on a terminal, plain lines otherwise.
struct Printer {
    tty: bool,
    line_open: Mutex<bool>,
}

impl Printer {
    fn new() -> Printer {
        Printer {
            tty: std::io::stderr().is_terminal(),
            line_open: Mutex::new(false),
        }
    }

    fn clear_line(&self) {
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

    fn event(&self, event: &RunEvent) {
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

/// The tasks a `--task` option selects, or a message naming the known ones.
fn select_tasks<'a>(config: &'a Config, task: Option<&str>) -> Result<Vec<&'a Task>, String> {
    let names: Vec<String> = task.into_iter().map(str::to_string).collect();
    config.select_tasks(&names).map_err(|e| e.to_string())
}

/// Common start of `plan` and `snapshots`.
async fn read_side(
    cli: &Cli,
    task: Option<&str>,
) -> Result<(Config, chrono_tz::Tz, History), ExitCode> {
    let config = load_config(cli).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_CONFIG)
    })?;
    select_tasks(&config, task).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_CONFIG)
    })?;
    let tz = config::resolve_timezone(&config).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_CONFIG)
    })?;
    let history = open_history(&DataDir::new(&cli.data)).await.map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_FAILURE)
    })?;
    Ok((config, tz, history))
}

/// `mnemosynce plan`
pub async fn plan(cli: &Cli, args: &PlanArgs) -> ExitCode {
    let (config, tz, history) = match read_side(cli, args.task.as_deref()).await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let mut rows = Vec::new();
    for task in select_tasks(&config, args.task.as_deref()).unwrap_or_default() {
        let decisions = match run::plan_task(&config, &history, tz, task).await {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: {}: {e}", task.name);
                return ExitCode::from(EXIT_FAILURE);
            }
        };
        for d in decisions {
            rows.push(serde_json::json!({
                "task": task.name,
                "name": d.name.to_string(),
                "keep": d.keep(),
                "reasons": d.reasons.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            }));
        }
    }
    if args.json {
        println!("{}", serde_json::Value::Array(rows));
    } else if rows.is_empty() {
        println!("no snapshots yet");
    } else {
        for r in rows {
            let keep = r["keep"].as_bool().unwrap_or(true);
            let reasons: Vec<&str> = r["reasons"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            println!(
                "{:<20} {:<18} {}",
                r["task"].as_str().unwrap_or(""),
                r["name"].as_str().unwrap_or(""),
                if keep {
                    format!("keep  ({})", reasons.join(", "))
                } else {
                    "prune".to_string()
                }
            );
        }
    }
    ExitCode::SUCCESS
}

/// `mnemosynce snapshots`
pub async fn snapshots(cli: &Cli, args: &SnapshotsArgs) -> ExitCode {
    let (config, tz, history) = match read_side(cli, args.task.as_deref()).await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let mut all = Vec::new();
    for task in select_tasks(&config, args.task.as_deref()).unwrap_or_default() {
        match run::list_snapshots(&config, &history, tz, task).await {
            Ok(list) => all.extend(list),
            Err(e) => {
                eprintln!("error: {}: {e}", task.name);
                return ExitCode::from(EXIT_FAILURE);
            }
        }
    }
    if args.json {
        match serde_json::to_string(&all) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_FAILURE);
            }
        }
    } else if all.is_empty() {
        println!("no snapshots yet");
    } else {
        for s in all {
            let status = match s.status {
                engine::model::snapshot::Completeness::Complete => "complete",
                engine::model::snapshot::Completeness::Partial => "partial",
            };
            println!(
                "{:<20} {:<18} {:<26} {status}{}{}",
                s.task,
                s.name.to_string(),
                s.time,
                if s.pinned { " pinned" } else { "" },
                if s.managed { "" } else { " not-adopted" }
            );
        }
    }
    ExitCode::SUCCESS
}

/// `mnemosynce adopt TASK`
pub async fn adopt(cli: &Cli, args: &AdoptArgs) -> ExitCode {
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

/// `mnemosynce keys ...`
pub fn keys(cli: &Cli, cmd: &KeysCommand) -> ExitCode {
    let ssh = DataDir::new(&cli.data).ssh();
    let result = match cmd {
        KeysCommand::List => engine::ssh::keys::list(&ssh).map(|keys| {
            if keys.is_empty() {
                println!("no keys yet: mnemosynce keys generate NAME");
            }
            for k in keys {
                println!("{}  {}  {}\n  add to ~/.ssh/authorized_keys on the remote:\n  {}", k.name, k.algorithm, k.fingerprint, k.public_line);
            }
        }),
        KeysCommand::Generate { name, comment } => engine::ssh::keys::generate(&ssh, name, comment).map(|k| {
            println!("generated {} ({})", k.name, k.fingerprint);
            println!("add this line to ~/.ssh/authorized_keys of the backup user on the remote machine:");
            println!("{}", k.public_line);
        }),
        KeysCommand::Delete { name } => engine::ssh::keys::delete(&ssh, name).map(|_| println!("deleted {name}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// `mnemosynce test-connection ENDPOINT`
pub async fn test_connection(cli: &Cli, args: &TestConnectionArgs) -> ExitCode {
    use engine::model::config::Endpoint;
    use engine::model::connection::Verdict;
    let endpoint = match args.endpoint.parse::<Endpoint>() {
        Ok(Endpoint::Ssh(e)) => e,
        Ok(Endpoint::Local(p)) => {
            eprintln!(
                "error: {} is a local path; test-connection checks SSH endpoints (user@host:/path)",
                p.display()
            );
            return ExitCode::from(EXIT_CONFIG);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let ssh = DataDir::new(&cli.data).ssh();
    let mut report = engine::ssh::connection::test(&ssh, &endpoint, args.mirror).await;
    let trust_now = !report.offered.is_empty()
        && (args.trust && !report.host_key_changed || args.replace_changed_host_key);
    if trust_now {
        let kh = engine::ssh::known_hosts::KnownHosts::new(&ssh);
        let host = endpoint.address();
        for key in &report.offered {
            if let Err(e) = kh.trust(
                host,
                endpoint.port.unwrap_or(22),
                key,
                report.host_key_changed,
            ) {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_FAILURE);
            }
            println!("trusted {} {}", key.algorithm, key.fingerprint);
        }
        report = engine::ssh::connection::test(&ssh, &endpoint, args.mirror).await;
    }
    for s in &report.steps {
        println!("{:<8} {}: {}", s.verdict.as_str(), s.name, s.detail);
        if let Some(h) = &s.hint {
            if s.verdict != Verdict::Pass && s.verdict != Verdict::Skipped {
                println!("         fix: {h}");
            }
        }
    }
    if !report.offered.is_empty() && !trust_now {
        if report.host_key_changed {
            println!("the host key CHANGED; after checking with the server's owner: --replace-changed-host-key");
        } else {
            println!("to trust this host key, run again with --trust");
        }
    }
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    }
}

/// `mnemosynce test-email [--to ADDR]`
pub async fn test_email(cli: &Cli, args: &TestEmailArgs) -> ExitCode {
    use engine::model::connection::Verdict;
    let config = match load_config(cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if !config.email.enabled && args.to.is_none() {
        eprintln!("error: email is off (email: {{enabled: false}}); pass --to ADDR to test the SMTP settings anyway");
        return ExitCode::from(EXIT_CONFIG);
    }
    let data = DataDir::new(&cli.data);
    // The owner, on the server: the SMTP server in the file is the one the password may go to.
    let before = engine::mail::binding::bound(&data).ok().flatten();
    match engine::mail::confirm_endpoint(&config, &data) {
        Ok(here) if before.as_ref().is_some_and(|b| b != &here) => {
            println!(
                "the SMTP password may now be sent to {here} (it was bound to {})",
                before.map(|b| b.to_string()).unwrap_or_default()
            );
        }
        Ok(_) => {}
        Err(e) => eprintln!("warning: cannot record where the SMTP password may go: {e}"),
    }
    let steps = engine::mail::test_email(&config, &data, args.to.as_deref()).await;
    for s in &steps {
        println!("{:<8} {}: {}", s.verdict.as_str(), s.name, s.detail);
        if let Some(h) = &s.hint {
            if s.verdict != Verdict::Pass {
                println!("         fix: {h}");
            }
        }
    }
    if steps.iter().any(|s| s.verdict == Verdict::Fail) {
        ExitCode::from(EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    }
}

/// Reads a line from the terminal without echoing it (or from stdin when it is not a terminal).
fn read_secret(prompt: &str) -> std::io::Result<String> {
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    let mut saved: Option<libc::termios> = None;
    if tty {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        // SAFETY: termios calls on fd 0 with a zeroed struct they fill in; restored below.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) == 0 {
                saved = Some(t);
                t.c_lflag &= !libc::ECHO;
                libc::tcsetattr(0, libc::TCSANOW, &t);
            }
        }
    }
    let mut line = String::new();
    let read = stdin.read_line(&mut line);
    if let Some(t) = saved {
        // SAFETY: restores the settings read above.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, &t);
        }
        eprintln!();
    }
    read?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// `mnemosynce passwd`
pub async fn passwd(cli: &Cli) -> ExitCode {
    let data = DataDir::new(&cli.data);
    let history = match open_history(&data).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let password = match read_secret("New password: ") {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot read the password: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    if std::io::stdin().is_terminal() {
        match read_secret("Once more: ") {
            Ok(again) if again == password => {}
            Ok(_) => {
                eprintln!("error: the two passwords differ; nothing changed");
                return ExitCode::from(EXIT_FAILURE);
            }
            Err(e) => {
                eprintln!("error: cannot read the password: {e}");
                return ExitCode::from(EXIT_FAILURE);
            }
        }
    }
    match crate::auth::set_password(&history, &data, &password).await {
        Ok(()) => {
            println!("password set; every browser signed in before must sign in again");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
