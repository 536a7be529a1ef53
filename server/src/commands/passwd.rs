//! `mnemosynce passwd`: sets the web app's admin password, read from the terminal without echo
//! (asked twice), or as one line of stdin. Signs out every browser.
//!
//! Uses `crate::auth::password` only: the CLI never reaches into the HTTP handlers.

use super::exit::EXIT_FAILURE;
use super::load::open_history;
use crate::auth::password::set_password;
use crate::cli::Cli;
use engine::data_dir::DataDir;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

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
pub async fn execute(cli: &Cli) -> ExitCode {
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
    match set_password(&history, &data, &password).await {
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
