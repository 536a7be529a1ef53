//! `scripts/fixtures/sshd`: a real OpenSSH server on a free loopback port (127.0.0.1 and ::1), with
//! its own host key and the `authorized_keys` a test gives it. Stopped by PID when the guard drops.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running sshd.
pub struct Sshd {
    child: Child,
    /// Its folder: `port`, `sshd.log`, the host key (`ssh_host_ed25519_key.pub`).
    pub dir: PathBuf,
    pub port: u16,
}

impl Sshd {
    /// Starts one in `dir` (on `port`, else a free one) and waits until it accepts connections.
    pub fn start(dir: &Path, authorized_keys: &Path, port: Option<u16>) -> Sshd {
        let _ = fs::remove_file(dir.join("port"));
        let mut cmd = Command::new(crate::fixture("sshd"));
        cmd.arg(dir).arg(authorized_keys).stdin(Stdio::null());
        if let Some(p) = port {
            cmd.arg(p.to_string());
        }
        let mut sshd = Sshd {
            child: cmd.spawn().expect("start the sshd fixture"),
            dir: dir.to_path_buf(),
            port: 0,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(port) = fs::read_to_string(dir.join("port"))
                .ok()
                .and_then(|p| p.trim().parse::<u16>().ok())
            {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    sshd.port = port;
                    return sshd;
                }
            }
            if let Ok(Some(status)) = sshd.child.try_wait() {
                panic!("the sshd fixture exited ({status}): {}", sshd.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("sshd did not start; log: {}", sshd.log());
    }

    /// The server's PID (its per-connection children are its descendants).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.join("sshd.log")).unwrap_or_default()
    }

    /// Stops it now (a test that needs the server gone); dropping does the same.
    pub fn stop(&mut self) {
        // SAFETY: kill(2) on our own child's PID; wait() reaps it.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}
