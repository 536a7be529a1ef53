//! The native local-to-local snapshotter: Mnemosynce makes the snapshot itself instead of running
//! `rsync --link-dest`, for the common case of a source folder on the same machine.
//!
//! Worker threads walk the source (`walk.rs`); each entry found unchanged in **everything** in an
//! earlier tree of the request (`link_dests`: the newest snapshot, then interrupted transfers;
//! `unchanged.rs`) is hard-linked, anything else copied under a temporary name and renamed
//! (`copy.rs`); files sharing an inode in the source stay linked (`links.rs`); `counters.rs`
//! counts and decides the end; `job.rs` holds the state they share; `sys.rs` the system calls,
//! `exclude.rs` rsync's pattern rules ([`exclude::ExcludeSet`]).
//!
//! Ends as with rsync (SPEC §4.2): entries that vanish or change while copied give
//! [`TransferEnd::Vanished`] (a warning), unreadable ones [`TransferEnd::Partial`], a failure to
//! write the snapshot [`TransferEnd::Failed`]; cancelling stops the workers at the next entry and
//! leaves `.incomplete/` to be resumed. This file is the [`Transfer`] glue: the request checked,
//! the workers started, their log lines and progress forwarded to the step's sink.

mod copy;
mod counters;
pub mod exclude;
mod job;
mod links;
mod sys;
mod unchanged;
mod walk;

use super::{StepSink, Transfer, TransferEnd, TransferFuture, TransferOutcome, TransferRequest};
use crate::model::config::Endpoint;
use crate::model::events::TransferStats;
use counters::{Counters, Problems};
use exclude::ExcludeSet;
use job::{store_dirs, DirNode, Job, Queue};
use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Progress events are sent at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// The native implementation of [`Transfer`], for local sources only.
#[derive(Clone, Debug, Default)]
pub struct NativeTransfer {
    /// Worker threads; 0 = one per core (at least 2, at most 8).
    pub threads: usize,
}

impl Transfer for NativeTransfer {
    fn name(&self) -> &'static str {
        "native"
    }

    fn transfer<'a>(
        &'a self,
        request: &'a TransferRequest,
        sink: &'a dyn StepSink,
        cancel: &'a CancellationToken,
    ) -> TransferFuture<'a> {
        Box::pin(run(self.threads, request, sink, cancel))
    }
}

fn failed(message: String) -> TransferOutcome {
    TransferOutcome {
        end: TransferEnd::Failed { message },
        stats: TransferStats::default(),
    }
}

async fn run(
    threads: usize,
    request: &TransferRequest,
    sink: &dyn StepSink,
    cancel: &CancellationToken,
) -> TransferOutcome {
    let source = match &request.source {
        Endpoint::Local(path) => path.clone(),
        Endpoint::Ssh(e) => {
            return failed(format!(
                "the native snapshotter copies local folders only; {e} needs engine: rsync"
            ))
        }
    };
    let excludes = match ExcludeSet::new(&request.excludes) {
        Ok(x) => x,
        Err(m) => return failed(m),
    };
    let root_meta = match fs::metadata(&source) {
        Ok(m) if m.is_dir() => m,
        Ok(_) => return failed(format!("the source {} is not a folder", source.display())),
        Err(e) => return failed(format!("cannot read the source {}: {e}", source.display())),
    };
    let threads = if threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(2, 8)
    } else {
        threads
    };
    let (log_tx, mut log_rx) = mpsc::unbounded_channel();
    let job = Arc::new(Job {
        src: source,
        dest: request.dest.clone(),
        link_dests: request.link_dests.clone(),
        excludes,
        root_dev: request.one_file_system.then(|| root_meta.dev()),
        store_dirs: store_dirs(&request.dest),
        xattrs: request.acls_xattrs,
        dry_run: request.dry_run,
        // SAFETY: geteuid has no preconditions and cannot fail.
        as_root: unsafe { libc::geteuid() } == 0,
        cancel: cancel.clone(),
        stop: AtomicBool::new(false),
        queue: Mutex::new(Queue::default()),
        wake: Condvar::new(),
        groups: Mutex::new(HashMap::new()),
        relinks: Mutex::new(Vec::new()),
        temp_names: AtomicU64::new(0),
        bwlimit: request.bwlimit_kbps.map(|k| u64::from(k.max(1)) * 1024),
        limited_bytes: AtomicU64::new(0),
        started: Instant::now(),
        count: Counters::default(),
        problems: Mutex::new(Problems::default()),
        log: log_tx,
    });
    let started = Instant::now();
    let worker = job.clone();
    let root = DirNode::new(Vec::new(), None, &root_meta);
    let mut work = tokio::task::spawn_blocking(move || worker.run(root, threads));
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    tick.tick().await;
    let joined = loop {
        tokio::select! {
            joined = &mut work => break joined,
            Some((level, line)) = log_rx.recv() => sink.log(level, &line),
            _ = tick.tick() => sink.progress(job.progress(started)),
        }
    };
    while let Ok((level, line)) = log_rx.try_recv() {
        sink.log(level, &line);
    }
    if let Err(e) = joined {
        job.fatal(format!("the snapshot workers stopped unexpectedly: {e}"));
    }
    sink.progress(job.progress(started));
    job.outcome(started, sink)
}

#[cfg(test)]
mod tests;
