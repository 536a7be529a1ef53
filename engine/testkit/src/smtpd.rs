//! `scripts/fixtures/smtpd`: a real SMTP server (Debian's python3-aiosmtpd) on a free loopback port,
//! in one of its modes (`starttls`, `tls`, `none`, `hang`), and [`Certs`] for its TLS modes. What
//! it receives is kept as files the test reads back. Stopped by PID when the guard drops.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A CA and a server certificate for 127.0.0.1 and localhost, as PEM files.
pub struct Certs {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Certs {
    /// Makes a fresh CA and server certificate in `dir`.
    pub fn make(dir: &Path) -> Certs {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
        fs::create_dir_all(dir).expect("create the certificates' folder");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Mnemosynce test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
            .expect("self-sign the CA");
        let leaf_key = KeyPair::generate().expect("server key");
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .expect("server parameters")
            .signed_by(&leaf_key, &ca)
            .expect("sign the server certificate");
        let certs = Certs {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        fs::write(&certs.ca, ca.pem()).expect("write ca.pem");
        fs::write(&certs.cert, leaf.pem()).expect("write cert.pem");
        fs::write(&certs.key, leaf_key.serialize_pem()).expect("write key.pem");
        certs
    }
}

/// A running SMTP server.
pub struct Smtpd {
    child: Child,
    pub dir: PathBuf,
    pub port: u16,
}

impl Smtpd {
    /// Starts one in `dir`. `certs` for the TLS modes; `login` = (user, password) makes AUTH
    /// required and accepts only that pair.
    pub fn start(
        dir: &Path,
        mode: &str,
        certs: Option<&Certs>,
        login: Option<(&str, &str)>,
    ) -> Smtpd {
        fs::create_dir_all(dir).expect("create the smtpd folder");
        let mut cmd = Command::new(crate::fixture("smtpd"));
        cmd.arg("--dir").arg(dir).arg("--mode").arg(mode);
        if let Some(c) = certs {
            cmd.arg("--cert").arg(&c.cert).arg("--key").arg(&c.key);
        }
        if let Some((user, password)) = login {
            cmd.args(["--user", user, "--password", password]);
        }
        cmd.stdout(Stdio::null()).stdin(Stdio::null());
        let mut smtpd = Smtpd {
            child: cmd.spawn().expect("start the smtpd fixture"),
            dir: dir.to_path_buf(),
            port: 0,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(port) = fs::read_to_string(dir.join("port"))
                .ok()
                .and_then(|p| p.trim().parse::<u16>().ok())
            {
                smtpd.port = port;
                return smtpd;
            }
            if let Ok(Some(status)) = smtpd.child.try_wait() {
                panic!(
                    "the smtpd fixture exited ({status}): {}",
                    fs::read_to_string(dir.join("smtpd.log")).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "the smtpd fixture did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The messages received so far, in order: (envelope JSON, raw message).
    pub fn received(&self) -> Vec<(serde_json::Value, Vec<u8>)> {
        let mut out = Vec::new();
        for n in 1.. {
            let Ok(text) = fs::read_to_string(self.dir.join(format!("mail/{n}.json"))) else {
                break;
            };
            let eml =
                fs::read(self.dir.join(format!("mail/{n}.eml"))).expect("read a received message");
            out.push((
                serde_json::from_str(&text).expect("the envelope is JSON"),
                eml,
            ));
        }
        out
    }
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's PID; wait() reaps it.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}
