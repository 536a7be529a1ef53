//! `mnemosynce serve`: the web app with the engine and the scheduler (`crate::serve`); a start-up
//! error is logged, printed and exits with 2.

use crate::cli::{Cli, ServeArgs};
use std::process::ExitCode;

/// `mnemosynce serve`
pub async fn execute(cli: &Cli, args: &ServeArgs) -> ExitCode {
    match crate::serve::serve(cli, args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
