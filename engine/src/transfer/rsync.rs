//! The rsync driver: runs `rsync` as a child process (an argv list, never a shell), turns its
//! `--info=progress2` output into [`Progress`] events and its `--stats` into [`TransferStats`], and
//! maps its exit code to a [`TransferEnd`]. [`RsyncTransfer`] is the backup step's transfer;
//! [`run_rsync`] also runs the mirror step's.
//!
//! Process hygiene: rsync runs in its own process group (so a cancel stops it and the processes it
//! forks, and a Ctrl-C in the terminal reaches only Mnemosynce, which then stops rsync cleanly), and
//! with `PR_SET_PDEATHSIG`, so if Mnemosynce itself is killed, even by SIGKILL, rsync gets SIGTERM
//! instead of writing on alone.

use super::{StepSink, Transfer, TransferEnd, TransferFuture, TransferOutcome, TransferRequest};
use crate::model::config::Endpoint;
use crate::model::events::{LogLevel, Progress, TransferStats};
use std::ffi::OsString;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio_util::sync::CancellationToken;

/// Progress events are sent at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// After SIGTERM, rsync gets this long to exit before SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(10);

/// The rsync implementation of [`Transfer`].
#[derive(Clone, Debug, Default)]
pub struct RsyncTransfer {
    /// The program to run; `rsync` from `PATH` by default.
    pub program: Option<std::path::PathBuf>,
}

impl RsyncTransfer {
    /// The argv (after the program name) for a snapshot transfer.
    pub fn snapshot_args(request: &TransferRequest) -> Vec<OsString> {
        let mut args: Vec<OsString> = [
            "--archive",
            "--numeric-ids",
            "--hard-links",
            "--delete",
            "--delete-excluded",
            "--info=progress2",
            "--stats",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        if request.acls_xattrs {
            args.push("--acls".into());
            args.push("--xattrs".into());
        }
        if request.one_file_system {
            args.push("--one-file-system".into());
        }
        if let Some(kbps) = request.bwlimit_kbps {
            args.push(format!("--bwlimit={kbps}").into());
        }
        if request.dry_run {
            args.push("--dry-run".into());
        }
        for pattern in &request.excludes {
            let mut a = OsString::from("--exclude=");
            a.push(pattern);
            args.push(a);
        }
        for dir in &request.link_dests {
            let mut a = OsString::from("--link-dest=");
            a.push(dir.as_os_str());
            args.push(a);
        }
        match &request.source {
            Endpoint::Local(path) => {
                let mut src = path.clone().into_os_string();
                if !src.to_string_lossy().ends_with('/') {
                    src.push("/");
                }
                args.push(src);
            }
            Endpoint::Ssh(e) => {
                // --protect-args: the remote path travels inside rsync's protocol, never through
                // the remote shell.
                args.push("--protect-args".into());
                args.push("-e".into());
                args.push(request.rsh.clone().unwrap_or_else(|| "ssh".into()).into());
                args.push(crate::ssh::rsync_remote_arg(e, None));
            }
        }
        let mut dest = request.dest.clone().into_os_string();
        dest.push("/");
        args.push(dest);
        args
    }
}

impl Transfer for RsyncTransfer {
    fn name(&self) -> &'static str {
        "rsync"
    }

    fn transfer<'a>(
        &'a self,
        request: &'a TransferRequest,
        sink: &'a dyn StepSink,
        cancel: &'a CancellationToken,
    ) -> TransferFuture<'a> {
        Box::pin(async move {
            let program = self.program.clone().unwrap_or_else(|| "rsync".into());
            let run = run_rsync(
                program.as_os_str(),
                &Self::snapshot_args(request),
                request.workdir.as_deref(),
                sink,
                cancel,
            )
            .await;
            run.into_outcome()
        })
    }
}

/// What one rsync process did.
#[derive(Clone, Debug, Default)]
pub struct RsyncRun {
    /// Exit code; `None` when rsync could not be started or was killed by a signal.
    pub code: Option<i32>,
    pub cancelled: bool,
    pub spawn_error: Option<String>,
    pub stats: TransferStats,
    /// Paths rsync said it could not read or that vanished.
    pub problem_paths: Vec<String>,
    /// The last error line rsync printed, for the one-line reason.
    pub last_error: Option<String>,
    /// rsync's (and ssh's) error output, the last [`KEEP_STDERR`] lines.
    pub stderr: Vec<String>,
}

/// How many stderr lines a run keeps for explaining a failure (all go to the log).
const KEEP_STDERR: usize = 50;

/// The longest line kept from rsync's stdout or stderr; the rest of a longer line is dropped, so
/// a remote that prints one endless line cannot exhaust memory.
const MAX_LINE: usize = 8 * 1024;

/// The next `\n`-ended line of `r` (the last one may lack it), of which at most `max` bytes are
/// kept; `None` at the end or on a read error.
async fn next_line_capped<R: AsyncBufRead + Unpin>(r: &mut R, max: usize) -> Option<String> {
    let mut line = Vec::new();
    let mut any = false;
    loop {
        let buf = r.fill_buf().await.ok()?;
        if buf.is_empty() {
            return any.then(|| String::from_utf8_lossy(&line).into_owned());
        }
        any = true;
        let (end, used) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i, i + 1),
            None => (buf.len(), buf.len()),
        };
        let room = max.saturating_sub(line.len());
        line.extend_from_slice(&buf[..end.min(room)]);
        let done = used > end;
        r.consume(used);
        if done {
            return Some(String::from_utf8_lossy(&line).into_owned());
        }
    }
}

impl RsyncRun {
    /// Maps the exit code as SPEC §4.2 says.
    pub fn into_outcome(self) -> TransferOutcome {
        let end = if self.cancelled {
            TransferEnd::Cancelled
        } else if let Some(e) = self.spawn_error {
            TransferEnd::Failed { message: e }
        } else {
            match self.code {
                Some(0) => TransferEnd::Complete,
                Some(24) => TransferEnd::Vanished {
                    paths: self.problem_paths,
                },
                Some(23) => TransferEnd::Partial {
                    paths: self.problem_paths,
                },
                code => TransferEnd::Failed {
                    message: exit_message(code, self.last_error.as_deref()),
                },
            }
        };
        TransferOutcome {
            end,
            stats: self.stats,
        }
    }
}

/// A one-line reason for an rsync failure, with a hint where one helps.
pub fn exit_message(code: Option<i32>, last_error: Option<&str>) -> String {
    let what = match code {
        None => "rsync was killed by a signal".to_string(),
        Some(1) => "rsync reported a syntax or usage error (exit 1)".into(),
        Some(2) => "rsync protocol incompatibility (exit 2): update rsync on both sides".into(),
        Some(3) => {
            "rsync could not select the files (exit 3): check that the source and store paths exist"
                .into()
        }
        Some(5) => "rsync could not start the transfer (exit 5)".into(),
        Some(10) | Some(12) => format!(
            "the connection broke during the transfer (exit {})",
            code.unwrap_or(0)
        ),
        Some(11) => "a file could not be written (exit 11): is the store full or read-only?".into(),
        Some(20) => "rsync was stopped by a signal (exit 20)".into(),
        Some(22) => "rsync ran out of memory (exit 22)".into(),
        Some(30) | Some(35) => {
            "the transfer timed out (exit 30): the other side stopped answering".into()
        }
        Some(255) => "ssh failed (exit 255): check the host, the key and the host key".into(),
        Some(c) => format!("rsync failed with exit code {c}"),
    };
    match last_error {
        Some(line) => format!("{what}: {line}"),
        None => what,
    }
}

/// Runs rsync with `args` (started in `workdir` when given), reporting to `sink`; stops it when
/// `cancel` fires.
pub async fn run_rsync(
    program: &std::ffi::OsStr,
    args: &[OsString],
    workdir: Option<&std::path::Path>,
    sink: &dyn StepSink,
    cancel: &CancellationToken,
) -> RsyncRun {
    let mut cmd = tokio::process::Command::new(program);
    if let Some(dir) = workdir {
        cmd.current_dir(dir);
    }
    cmd.args(args)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let parent = std::process::id();
    // SAFETY: prctl and getppid are async-signal-safe and touch no memory of the parent.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // If Mnemosynce died before the line above, no signal will come: do not start at all.
            if libc::getppid() as u32 != parent {
                return Err(std::io::Error::other("the parent process is gone"));
            }
            Ok(())
        });
    }
    sink.log(LogLevel::Info, &format!("$ {}", shell_words(program, args)));
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let msg = if e.kind() == std::io::ErrorKind::NotFound {
                "rsync is not installed (install it: apt-get install rsync)".to_string()
            } else {
                format!("cannot start rsync: {e}")
            };
            sink.log(LogLevel::Error, &msg);
            return RsyncRun {
                spawn_error: Some(msg),
                ..Default::default()
            };
        }
    };
    let pid = child.id();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();

    let mut run = RsyncRun::default();
    let out_task = async {
        let mut stats = StatsParser::default();
        if let Some(stdout) = stdout {
            read_stdout(stdout, sink, &mut stats).await;
        }
        stats
    };
    let err_task = async {
        let mut paths = Vec::new();
        let mut last = None;
        let mut kept = std::collections::VecDeque::new();
        if let Some(stderr) = stderr {
            let mut stderr = BufReader::new(stderr);
            while let Some(line) = next_line_capped(&mut stderr, MAX_LINE).await {
                if kept.len() == KEEP_STDERR {
                    kept.pop_front();
                }
                kept.push_back(line.clone());
                let level = if line.contains("vanished") {
                    LogLevel::Warn
                } else {
                    LogLevel::Error
                };
                sink.log(level, &line);
                if let Some(p) = problem_path(&line) {
                    paths.push(p);
                }
                if !line.starts_with("rsync error:") || last.is_none() {
                    last = Some(line.trim().to_string());
                }
            }
        }
        (paths, last, Vec::from(kept))
    };
    let wait = async {
        tokio::select! {
            status = child.wait() => (status.ok().and_then(|s| s.code()), false),
            _ = cancel.cancelled() => {
                sink.log(LogLevel::Warn, "cancelled: stopping rsync");
                if let Some(pid) = pid {
                    signal_group(pid, libc::SIGTERM);
                }
                match tokio::time::timeout(TERM_GRACE, child.wait()).await {
                    Ok(_) => {}
                    Err(_) => {
                        if let Some(pid) = pid {
                            signal_group(pid, libc::SIGKILL);
                        }
                        let _ = child.wait().await;
                    }
                }
                (None, true)
            }
        }
    };
    let (stats, (paths, last, stderr), (code, cancelled)) = tokio::join!(out_task, err_task, wait);
    run.stderr = stderr;
    run.code = code;
    run.cancelled = cancelled;
    run.stats = stats.finish();
    run.problem_paths = paths;
    run.last_error = last;
    run
}

fn signal_group(pid: u32, signal: i32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: plain syscall; a negative pid addresses the process group rsync leads.
        unsafe {
            libc::kill(-pid, signal);
        }
    }
}

/// Reads rsync's stdout, where progress updates end in `\r` and other lines in `\n`.
async fn read_stdout<R: AsyncRead + Unpin>(
    mut out: R,
    sink: &dyn StepSink,
    stats: &mut StatsParser,
) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut line = Vec::new();
    let mut last_sent = Instant::now() - PROGRESS_EVERY;
    let mut pending: Option<Progress> = None;
    loop {
        let n = match out.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for &b in &buf[..n] {
            if b != b'\r' && b != b'\n' {
                // A line longer than any rsync prints (a hostile remote's) is cut, not kept whole.
                if line.len() < MAX_LINE {
                    line.push(b);
                }
                continue;
            }
            let text = String::from_utf8_lossy(&line).into_owned();
            line.clear();
            if let Some(p) = parse_progress(&text) {
                if last_sent.elapsed() >= PROGRESS_EVERY {
                    sink.progress(p);
                    last_sent = Instant::now();
                    pending = None;
                } else {
                    pending = Some(p);
                }
            } else if !text.trim().is_empty() {
                stats.line(&text);
                sink.log(LogLevel::Info, text.trim_end());
            }
        }
    }
    if let Some(p) = pending {
        sink.progress(p);
    }
}

/// Parses one `--info=progress2` update, e.g.
/// `    1,234,567  45%   12.34MB/s    0:00:12 (xfr#12, to-chk=345/1000)`.
pub fn parse_progress(line: &str) -> Option<Progress> {
    let mut words = line.split_whitespace();
    let bytes: u64 = words.next()?.replace(',', "").parse().ok()?;
    let percent_word = words.next()?;
    let percent: u8 = percent_word.strip_suffix('%')?.parse().ok()?;
    let rate = words.next().and_then(parse_rate);
    let time = words.next().and_then(parse_clock);
    let rest: String = words.collect::<Vec<_>>().join(" ");
    let (mut files_done, mut files_total) = (None, None);
    for key in ["to-chk=", "ir-chk="] {
        if let Some(i) = rest.find(key) {
            let tail = &rest[i + key.len()..];
            let tail = tail.trim_end_matches(')');
            if let Some((left, total)) = tail.split_once('/') {
                if let (Ok(left), Ok(total)) = (
                    left.parse::<u64>(),
                    total.trim_end_matches(')').parse::<u64>(),
                ) {
                    files_done = Some(total.saturating_sub(left));
                    files_total = Some(total);
                }
            }
        }
    }
    // While the transfer runs the time column is the ETA; on the final line (with xfr#) it is the
    // elapsed time, which is no ETA.
    let eta_seconds = if percent < 100 { time } else { Some(0) };
    Some(Progress {
        bytes,
        percent: Some(percent),
        rate,
        eta_seconds,
        files_done,
        files_total,
    })
}

fn parse_rate(word: &str) -> Option<u64> {
    let w = word.strip_suffix("/s")?;
    let (num, mult) = if let Some(n) = w.strip_suffix("kB") {
        (n, 1e3)
    } else if let Some(n) = w.strip_suffix("MB") {
        (n, 1e6)
    } else if let Some(n) = w.strip_suffix("GB") {
        (n, 1e9)
    } else if let Some(n) = w.strip_suffix("TB") {
        (n, 1e12)
    } else if let Some(n) = w.strip_suffix('B') {
        (n, 1.0)
    } else {
        return None;
    };
    let v: f64 = num.replace(',', "").parse().ok()?;
    Some((v * mult) as u64)
}

fn parse_clock(word: &str) -> Option<u64> {
    let parts: Vec<&str> = word.split(':').collect();
    if parts.len() != 3 {
        return None;
    }
    let h: u64 = parts[0].parse().ok()?;
    let m: u64 = parts[1].parse().ok()?;
    let s: u64 = parts[2].parse().ok()?;
    Some(h * 3600 + m * 60 + s)
}

/// Picks the figures out of rsync's `--stats` block.
#[derive(Default)]
struct StatsParser {
    stats: TransferStats,
}

impl StatsParser {
    fn line(&mut self, line: &str) {
        let line = line.trim();
        let number = |s: &str| -> u64 {
            s.split_whitespace()
                .next()
                .map(|w| w.replace(',', ""))
                .and_then(|w| w.parse().ok())
                .unwrap_or(0)
        };
        if let Some(rest) = line.strip_prefix("Number of files:") {
            self.stats.files_total = number(rest);
        } else if let Some(rest) = line.strip_prefix("Number of regular files transferred:") {
            self.stats.files_transferred = number(rest);
        } else if let Some(rest) = line.strip_prefix("Total file size:") {
            self.stats.bytes_total = number(rest);
        } else if let Some(rest) = line.strip_prefix("Total transferred file size:") {
            self.stats.bytes_transferred = number(rest);
        }
    }

    fn finish(self) -> TransferStats {
        self.stats
    }
}

/// The path in an rsync complaint such as
/// `rsync: [sender] send_files failed to open "/src/secret": Permission denied (13)` or
/// `file has vanished: "/src/tmp/x"`.
fn problem_path(line: &str) -> Option<String> {
    let start = line.find('"')?;
    let end = line.rfind('"')?;
    (end > start + 1).then(|| line[start + 1..end].to_string())
}

/// The command as a human would type it, for the log (quoted where needed). Never executed.
fn shell_words(program: &std::ffi::OsStr, args: &[OsString]) -> String {
    std::iter::once(program)
        .chain(args.iter().map(|a| a.as_os_str()))
        .map(|a| {
            let s = a.to_string_lossy();
            if s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_=./:@,%+".contains(c))
            {
                s.into_owned()
            } else {
                format!("'{}'", s.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bandwidth_limit_reaches_rsync() {
        let mut request = TransferRequest {
            source: crate::model::config::Endpoint::Local("/src".into()),
            dest: "/store/A/.incomplete".into(),
            link_dests: vec![],
            excludes: vec![],
            one_file_system: false,
            acls_xattrs: false,
            dry_run: false,
            rsh: None,
            workdir: None,
            bwlimit_kbps: None,
        };
        let has = |args: &[OsString]| {
            args.iter()
                .any(|a| a.to_string_lossy().starts_with("--bwlimit"))
        };
        assert!(!has(&RsyncTransfer::snapshot_args(&request)));
        request.bwlimit_kbps = Some(500);
        let args = RsyncTransfer::snapshot_args(&request);
        assert!(args.contains(&OsString::from("--bwlimit=500")), "{args:?}");
    }

    #[test]
    fn progress2_lines_become_progress() {
        let p =
            parse_progress("      1,234,567  45%   12.34MB/s    0:00:12 (xfr#12, to-chk=345/1000)")
                .unwrap();
        assert_eq!(p.bytes, 1_234_567);
        assert_eq!(p.percent, Some(45));
        assert_eq!(p.rate, Some(12_340_000));
        assert_eq!(p.eta_seconds, Some(12));
        assert_eq!((p.files_done, p.files_total), (Some(655), Some(1000)));
        let p = parse_progress("          0   0%    0.00kB/s    0:00:00 (xfr#0, ir-chk=1000/1021)")
            .unwrap();
        assert_eq!((p.files_done, p.files_total), (Some(21), Some(1021)));
        assert!(parse_progress("Number of files: 3 (reg: 2, dir: 1)").is_none());
        assert!(parse_progress("sending incremental file list").is_none());
    }

    #[test]
    fn stats_are_read_from_the_stats_block() {
        let mut s = StatsParser::default();
        for l in [
            "Number of files: 1,021 (reg: 1,000, dir: 21)",
            "Number of regular files transferred: 10",
            "Total file size: 4,096,000 bytes",
            "Total transferred file size: 40,960 bytes",
        ] {
            s.line(l);
        }
        assert_eq!(
            s.finish(),
            TransferStats {
                files_total: 1021,
                files_transferred: 10,
                bytes_total: 4_096_000,
                bytes_transferred: 40_960
            }
        );
    }

    #[test]
    fn exit_codes_map_as_the_spec_says() {
        let run = |code| {
            RsyncRun {
                code: Some(code),
                ..Default::default()
            }
            .into_outcome()
            .end
        };
        assert_eq!(run(0), TransferEnd::Complete);
        assert!(matches!(run(24), TransferEnd::Vanished { .. }));
        assert!(matches!(run(23), TransferEnd::Partial { .. }));
        assert!(matches!(run(11), TransferEnd::Failed { .. }));
        let cancelled = RsyncRun {
            cancelled: true,
            code: Some(20),
            ..Default::default()
        };
        assert_eq!(cancelled.into_outcome().end, TransferEnd::Cancelled);
    }

    /// One endless stderr line (a hostile remote's) is kept to its first MAX_LINE bytes, and the
    /// lines after it are still read.
    #[tokio::test]
    async fn long_lines_are_cut_and_the_next_ones_still_read() {
        let mut text = vec![b'x'; 3 * MAX_LINE];
        text.extend_from_slice(b"\nshort\nlast");
        let mut r = BufReader::with_capacity(64, &text[..]);
        let first = next_line_capped(&mut r, MAX_LINE).await.unwrap();
        assert_eq!(first.len(), MAX_LINE);
        assert_eq!(next_line_capped(&mut r, MAX_LINE).await.unwrap(), "short");
        assert_eq!(next_line_capped(&mut r, MAX_LINE).await.unwrap(), "last");
        assert_eq!(next_line_capped(&mut r, MAX_LINE).await, None);
    }
}
