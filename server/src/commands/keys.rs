//! `mnemosynce keys {list,generate,delete}`: the app's SSH keys in `<data>/ssh/`.

use super::exit::EXIT_FAILURE;
use crate::cli::{Cli, KeysCommand};
use engine::data_dir::DataDir;
use std::process::ExitCode;

/// `mnemosynce keys ...`
pub fn execute(cli: &Cli, cmd: &KeysCommand) -> ExitCode {
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
