//! Takes one snapshot with a chosen transfer, outside any run: for profiling the transfers.
//!
//! `cargo run --release -p engine --example snapshot -- native|rsync SOURCE DEST [LINK_DEST]`
//! (DEST must not exist; it is created empty, like a store's `.incomplete/`). Environment:
//! `THREADS=N` sets the native worker count, `NO_XATTRS=1` turns ACLs/xattrs off.

use engine::model::config::Endpoint;
use engine::model::events::{LogLevel, Progress};
use engine::transfer::native::NativeTransfer;
use engine::transfer::rsync::RsyncTransfer;
use engine::transfer::{StepSink, Transfer, TransferRequest};
use std::path::PathBuf;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

struct Print;

impl StepSink for Print {
    fn progress(&self, _: Progress) {}
    fn log(&self, level: LogLevel, line: &str) {
        eprintln!("{level:?}: {line}");
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [engine, source, dest, rest @ ..] = args.as_slice() else {
        return Err("usage: snapshot native|rsync SOURCE DEST [LINK_DEST]".into());
    };
    let transfer: Box<dyn Transfer> = match engine.as_str() {
        "native" => Box::new(NativeTransfer {
            threads: std::env::var("THREADS")
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0),
        }),
        "rsync" => Box::new(RsyncTransfer::default()),
        other => return Err(format!("unknown transfer {other:?}: native or rsync")),
    };
    let dest = PathBuf::from(dest);
    std::fs::create_dir(&dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
    let request = TransferRequest {
        source: Endpoint::Local(PathBuf::from(source)),
        dest,
        link_dests: rest.iter().map(PathBuf::from).collect(),
        excludes: Vec::new(),
        one_file_system: false,
        acls_xattrs: std::env::var_os("NO_XATTRS").is_none(),
        dry_run: false,
        rsh: None,
        workdir: None,
        bwlimit_kbps: None,
    };
    let started = Instant::now();
    let outcome = transfer
        .transfer(&request, &Print, &CancellationToken::new())
        .await;
    println!(
        "{}: {:?} {:?} in {:.3} s",
        transfer.name(),
        outcome.end,
        outcome.stats,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
