//! Bounded output of the commands that talk to a remote (ssh, rsync listings): a hostile or huge
//! remote can print without end, so nothing here is collected whole. stdout is kept up to a byte
//! and a line limit, and past either the command is killed and [`CaptureError::TooLarge`] says so;
//! stderr keeps only its last [`STDERR_TAIL`] bytes (enough for the error that ends it).

use std::io;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// How much of a command's stderr is kept: its last 64 KiB.
pub const STDERR_TAIL: usize = 64 * 1024;

/// What may be kept of a command's stdout.
#[derive(Clone, Copy, Debug)]
pub struct StdoutCap {
    pub bytes: usize,
    pub lines: usize,
}

impl StdoutCap {
    /// For commands whose stdout is a short answer (a version line) or nothing.
    pub const SMALL: StdoutCap = StdoutCap {
        bytes: 64 * 1024,
        lines: 1000,
    };

    /// "1 MiB or 100000 lines", for messages.
    pub fn describe(&self) -> String {
        let bytes = if self.bytes.is_multiple_of(1 << 20) {
            format!("{} MiB", self.bytes >> 20)
        } else {
            format!("{} KiB", self.bytes >> 10)
        };
        format!("{bytes} or {} lines", self.lines)
    }
}

/// A finished command's status and kept output.
#[derive(Debug)]
pub struct Captured {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    /// The last [`STDERR_TAIL`] bytes of stderr.
    pub stderr: Vec<u8>,
}

/// Why a command's output could not be captured.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot start {program}: {source}")]
    Start { program: String, source: io::Error },
    #[error("no answer within {} s", .0.as_secs())]
    Timeout(Duration),
    #[error("its output is larger than {limit}; it was stopped")]
    TooLarge { limit: String },
}

/// Runs `cmd` (stdin from `/dev/null`) and keeps its output within `cap` and [`STDERR_TAIL`]; the
/// command is killed when it prints more than `cap` or outlives `timeout`.
pub async fn run_capped(
    cmd: &mut tokio::process::Command,
    cap: StdoutCap,
    timeout: Duration,
) -> Result<Captured, CaptureError> {
    let program = cmd.as_std().get_program().to_string_lossy().into_owned();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|source| CaptureError::Start {
        program: program.clone(),
        source,
    })?;
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.start_kill();
        return Err(CaptureError::Start {
            program,
            source: io::Error::other("its output could not be captured"),
        });
    };
    let read = async {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let (mut out_buf, mut err_buf) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
        let (mut out_open, mut err_open) = (true, true);
        let mut lines = 0usize;
        while out_open || err_open {
            tokio::select! {
                r = stdout.read(&mut out_buf), if out_open => match r {
                    Ok(n) if n > 0 => {
                        let chunk = &out_buf[..n];
                        lines += chunk.iter().filter(|&&b| b == b'\n').count();
                        if out.len() + n > cap.bytes || lines > cap.lines {
                            return Err(CaptureError::TooLarge { limit: cap.describe() });
                        }
                        out.extend_from_slice(chunk);
                    }
                    _ => out_open = false,
                },
                r = stderr.read(&mut err_buf), if err_open => match r {
                    Ok(n) if n > 0 => {
                        err.extend_from_slice(&err_buf[..n]);
                        if err.len() > 2 * STDERR_TAIL {
                            err.drain(..err.len() - STDERR_TAIL);
                        }
                    }
                    _ => err_open = false,
                },
            }
        }
        if err.len() > STDERR_TAIL {
            err.drain(..err.len() - STDERR_TAIL);
        }
        Ok((out, err))
    };
    let outcome = tokio::time::timeout(timeout, async {
        let (stdout, stderr) = read.await?;
        let status = child.wait().await.map_err(|source| CaptureError::Start {
            program: program.clone(),
            source,
        })?;
        Ok(Captured {
            status,
            stdout,
            stderr,
        })
    })
    .await;
    match outcome {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => {
            let _ = child.kill().await;
            Err(e)
        }
        Err(_) => {
            let _ = child.kill().await;
            Err(CaptureError::Timeout(timeout))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A command that prints without end (`yes`) is stopped at the cap, with the reason, and killed.
    #[tokio::test]
    async fn endless_output_is_stopped_at_the_cap() {
        let cap = StdoutCap {
            bytes: 1 << 20,
            lines: 100_000,
        };
        let started = std::time::Instant::now();
        let err = run_capped(
            &mut tokio::process::Command::new("yes"),
            cap,
            Duration::from_secs(20),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&err, CaptureError::TooLarge { limit } if limit == "1 MiB or 100000 lines"),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        // Long lines: the byte cap, not the line cap, stops it.
        let mut cmd = tokio::process::Command::new("head");
        cmd.args(["-c", "3000000", "/dev/zero"]);
        assert!(matches!(
            run_capped(&mut cmd, cap, Duration::from_secs(20)).await,
            Err(CaptureError::TooLarge { .. })
        ));
    }

    /// Endless stderr is kept to its last 64 KiB, and the command's end is still seen.
    #[tokio::test]
    async fn stderr_keeps_its_tail() {
        let mut cmd = tokio::process::Command::new("sh");
        cmd.args([
            "-c",
            "head -c 5000000 /dev/zero | tr '\\0' x >&2; echo last words >&2; echo out; exit 3",
        ]);
        let c = run_capped(&mut cmd, StdoutCap::SMALL, Duration::from_secs(20))
            .await
            .unwrap();
        assert_eq!(c.status.code(), Some(3));
        assert_eq!(c.stdout, b"out\n");
        assert_eq!(c.stderr.len(), STDERR_TAIL);
        assert!(c.stderr.ends_with(b"xlast words\n"));
    }

    #[tokio::test]
    async fn a_silent_hang_times_out() {
        let mut cmd = tokio::process::Command::new("sleep");
        cmd.arg("30");
        assert!(matches!(
            run_capped(&mut cmd, StdoutCap::SMALL, Duration::from_millis(300)).await,
            Err(CaptureError::Timeout(_))
        ));
    }
}
