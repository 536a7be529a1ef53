//! `mnemosynce test-email [--to ADDR]`: a test email step by step (connect, TLS, login, send),
//! each with a verdict and a fix.
//!
//! Run by the owner on the server, it also binds the SMTP password to the server in the file (the
//! only one it may be sent to; see `engine::mail::binding`).

use super::exit::{EXIT_CONFIG, EXIT_FAILURE};
use super::load::load_config;
use crate::cli::{Cli, TestEmailArgs};
use engine::data_dir::DataDir;
use std::process::ExitCode;

/// `mnemosynce test-email [--to ADDR]`
pub async fn execute(cli: &Cli, args: &TestEmailArgs) -> ExitCode {
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
