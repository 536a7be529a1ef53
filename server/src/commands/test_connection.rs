//! `mnemosynce test-connection ENDPOINT`: an SSH endpoint step by step (TCP, host key, login,
//! rsync, folder), each with a verdict and a fix; `--trust` trusts a new host key,
//! `--replace-changed-host-key` a changed one.

use super::exit::{EXIT_CONFIG, EXIT_FAILURE};
use crate::cli::{Cli, TestConnectionArgs};
use engine::data_dir::DataDir;
use std::process::ExitCode;

/// `mnemosynce test-connection ENDPOINT`
pub async fn execute(cli: &Cli, args: &TestConnectionArgs) -> ExitCode {
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
