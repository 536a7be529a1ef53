//! `mnemosynce install` / `uninstall`: puts this very binary, the systemd units, the shell
//! completions, the man page and an example configuration where a Linux system looks for them, and
//! takes them away again.
//!
//! Layout (`--prefix`, default `/usr/local`; `--destdir`/`DESTDIR` for packagers, prepended to
//! every path but not written into the units): `<prefix>/bin/mnemosynce`; the units in
//! `/etc/systemd/system` (`<prefix>/lib/systemd/system` for `--prefix /usr`, a distribution's
//! place); completions in `<prefix>/share/{bash-completion/completions,zsh/site-functions,
//! fish/vendor_completions.d}`; `<prefix>/share/man/man1/mnemosynce.1`;
//! `<prefix>/share/doc/mnemosynce/backup_config.example.yml`; the data directory
//! `/var/lib/mnemosynce`, made `0700`.
//!
//! Invariants: no configuration, history, key or store is ever written or removed — `install`
//! leaves an existing data directory as it is (only its mode is tightened), `uninstall` removes the
//! installed files only. Each file is written beside its place and renamed over it, so a running
//! service keeps its binary until it restarts. The unit files are `scripts/packaging/systemd/`.

use super::exit::EXIT_FAILURE;
use crate::cli::{Cli, InstallArgs};
use clap::CommandFactory;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where the service keeps its data (the unit's `StateDirectory=mnemosynce`).
const DATA_DIR: &str = "/var/lib/mnemosynce";
/// The binary's place as the unit files name it, replaced by the prefix's.
const UNIT_BINARY: &str = "/usr/local/bin/mnemosynce";

const UNITS: [(&str, &str); 3] = [
    (
        "mnemosynce.service",
        include_str!("../../../scripts/packaging/systemd/mnemosynce.service"),
    ),
    (
        "mnemosynce-run.service",
        include_str!("../../../scripts/packaging/systemd/mnemosynce-run.service"),
    ),
    (
        "mnemosynce-run.timer",
        include_str!("../../../scripts/packaging/systemd/mnemosynce-run.timer"),
    ),
];

/// Why an install or uninstall stopped.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("--prefix must be an absolute path (e.g. /usr/local), not {0}")]
    RelativePrefix(PathBuf),
    #[error("cannot find this program's own file to copy ({0})")]
    OwnBinary(std::io::Error),
    #[error("cannot write {path}: {source}; run as root (sudo), or choose --prefix/--destdir")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot remove {path}: {source}; run as root (sudo)")]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot render the {what}: {source}")]
    Render {
        what: &'static str,
        source: std::io::Error,
    },
}

/// One installed file: its place (without the destdir), content, mode.
struct Item {
    path: PathBuf,
    content: Vec<u8>,
    mode: u32,
}

/// The places of an installation.
struct Layout {
    destdir: PathBuf,
    prefix: PathBuf,
}

impl Layout {
    fn new(args: &InstallArgs) -> Result<Layout, InstallError> {
        if !args.prefix.is_absolute() {
            return Err(InstallError::RelativePrefix(args.prefix.clone()));
        }
        Ok(Layout {
            destdir: args.destdir.clone().unwrap_or_default(),
            prefix: args.prefix.clone(),
        })
    }

    /// `path` (absolute) under the destdir.
    fn staged(&self, path: &Path) -> PathBuf {
        if self.destdir.as_os_str().is_empty() {
            return path.to_path_buf();
        }
        self.destdir.join(path.strip_prefix("/").unwrap_or(path))
    }

    fn binary(&self) -> PathBuf {
        self.prefix.join("bin/mnemosynce")
    }

    fn unit_dir(&self) -> PathBuf {
        if self.prefix == Path::new("/usr") {
            PathBuf::from("/usr/lib/systemd/system")
        } else {
            PathBuf::from("/etc/systemd/system")
        }
    }

    fn share(&self, rest: &str) -> PathBuf {
        self.prefix.join("share").join(rest)
    }

    /// Every file but the binary (whose bytes are read only by `install`).
    fn files(&self) -> Result<Vec<Item>, InstallError> {
        let binary = self.binary().to_string_lossy().into_owned();
        let mut items: Vec<Item> = UNITS
            .iter()
            .map(|(name, text)| Item {
                path: self.unit_dir().join(name),
                content: text.replace(UNIT_BINARY, &binary).into_bytes(),
                mode: 0o644,
            })
            .collect();
        for (shell, place) in [
            (
                clap_complete::Shell::Bash,
                "bash-completion/completions/mnemosynce",
            ),
            (clap_complete::Shell::Zsh, "zsh/site-functions/_mnemosynce"),
            (
                clap_complete::Shell::Fish,
                "fish/vendor_completions.d/mnemosynce.fish",
            ),
        ] {
            items.push(Item {
                path: self.share(place),
                content: completions(shell),
                mode: 0o644,
            });
        }
        items.push(Item {
            path: self.share("man/man1/mnemosynce.1"),
            content: man_page()?,
            mode: 0o644,
        });
        items.push(Item {
            path: self.share("doc/mnemosynce/backup_config.example.yml"),
            content: engine::config::edit::TEMPLATE.as_bytes().to_vec(),
            mode: 0o644,
        });
        Ok(items)
    }
}

/// The completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "mnemosynce", &mut out);
    out
}

/// The man page (roff), with a section per subcommand.
pub fn man_page() -> Result<Vec<u8>, InstallError> {
    let render = |source| InstallError::Render {
        what: "man page",
        source,
    };
    let command = Cli::command();
    let mut out = Vec::new();
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(&mut out).map_err(render)?;
    man.render_name_section(&mut out).map_err(render)?;
    man.render_synopsis_section(&mut out).map_err(render)?;
    man.render_description_section(&mut out).map_err(render)?;
    man.render_options_section(&mut out).map_err(render)?;
    man.render_subcommands_section(&mut out).map_err(render)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let _ = writeln!(out, ".SH \"MNEMOSYNCE {}\"", sub.get_name().to_uppercase());
        let sub_man = clap_mangen::Man::new(
            sub.clone()
                .bin_name(format!("mnemosynce {}", sub.get_name())),
        );
        sub_man.render_synopsis_section(&mut out).map_err(render)?;
        sub_man
            .render_description_section(&mut out)
            .map_err(render)?;
        sub_man.render_options_section(&mut out).map_err(render)?;
    }
    man.render_version_section(&mut out).map_err(render)?;
    Ok(out)
}

/// Writes `content` to `path` through a file beside it, renamed over it; parents made `0755`.
fn put(path: &Path, content: &[u8], mode: u32) -> Result<(), InstallError> {
    let fail = |source| InstallError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        make_dirs(parent).map_err(fail)?;
    }
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temp = path.with_file_name(format!(".{name}.installing"));
    fs::write(&temp, content).map_err(fail)?;
    fs::set_permissions(&temp, fs::Permissions::from_mode(mode)).map_err(fail)?;
    fs::rename(&temp, path).map_err(|e| {
        let _ = fs::remove_file(&temp);
        fail(e)
    })
}

/// Like `mkdir -p` with mode 0755 for what it makes (the process's umask is 0077).
fn make_dirs(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        make_dirs(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => fs::set_permissions(dir, fs::Permissions::from_mode(0o755)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// `mnemosynce install`
pub fn install(args: &InstallArgs) -> ExitCode {
    exit_code(try_install(args))
}

/// `mnemosynce uninstall`
pub fn uninstall(args: &InstallArgs) -> ExitCode {
    exit_code(try_uninstall(args))
}

fn exit_code(result: Result<(), InstallError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn try_install(args: &InstallArgs) -> Result<(), InstallError> {
    let layout = Layout::new(args)?;
    let own = std::env::current_exe().map_err(InstallError::OwnBinary)?;
    let bytes = fs::read(&own).map_err(InstallError::OwnBinary)?;
    let binary = layout.staged(&layout.binary());
    put(&binary, &bytes, 0o755)?;
    println!("installed {}", binary.display());
    if !crate::embedded_site::present() {
        eprintln!(
            "warning: this binary does not carry the web app (a development build): the pages \
             will not come alive unless `serve --site DIR` names a built site; install from a \
             release archive (scripts/package) instead"
        );
    }
    for item in layout.files()? {
        let path = layout.staged(&item.path);
        put(&path, &item.content, item.mode)?;
        println!("installed {}", path.display());
    }
    let data = layout.staged(Path::new(DATA_DIR));
    let existed = data.is_dir();
    let fail = |source| InstallError::Write {
        path: data.clone(),
        source,
    };
    if let Some(parent) = data.parent() {
        make_dirs(parent).map_err(fail)?;
    }
    if !existed {
        fs::create_dir(&data).map_err(fail)?;
    }
    fs::set_permissions(&data, fs::Permissions::from_mode(0o700)).map_err(fail)?;
    let config = data.join("backup_config.yml");
    if existed {
        println!("kept {} as it is (made 0700)", data.display());
    } else {
        println!("made {} (0700)", data.display());
    }
    if config.exists() {
        println!("kept your configuration {}", config.display());
    }

    let staged = !layout.destdir.as_os_str().is_empty();
    println!();
    if staged {
        println!("Staged under {} for packaging.", layout.destdir.display());
        return Ok(());
    }
    println!("Next:");
    println!("  systemctl daemon-reload");
    println!("  systemctl enable --now mnemosynce");
    println!("  then open http://127.0.0.1:3000 on this machine.");
    if config.exists() || engine::data_dir::DataDir::new(&data).database().exists() {
        println!("  Sign in with your admin password.");
    } else {
        println!(
            "  The first start writes a one-time setup code to {DATA_DIR}/setup-code (also in `journalctl -u mnemosynce`):"
        );
        println!("  enter it on that page to choose the admin password; the setup wizard takes it from there.");
    }
    println!("  From another machine of your LAN: `systemctl edit mnemosynce`, add");
    println!("  [Service] Environment=MNEMOSYNCE_ADDR=0.0.0.0:3000, and put HTTPS in front (README, \"Behind a reverse proxy\").");
    println!("  Without the web app: systemctl enable --now mnemosynce-run.timer (every night at 02:00).");
    Ok(())
}

fn try_uninstall(args: &InstallArgs) -> Result<(), InstallError> {
    let layout = Layout::new(args)?;
    let staged = !layout.destdir.as_os_str().is_empty();
    // On a running system, stop and disable the units before their files go (argv, no shell).
    if !staged && Path::new("/run/systemd/system").is_dir() {
        let _ = std::process::Command::new("systemctl")
            .args([
                "disable",
                "--now",
                "mnemosynce.service",
                "mnemosynce-run.timer",
            ])
            .status();
    }
    let mut paths = vec![layout.binary()];
    paths.extend(layout.files()?.into_iter().map(|i| i.path));
    for path in paths {
        let path = layout.staged(&path);
        match fs::remove_file(&path) {
            Ok(()) => println!("removed {}", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(InstallError::Remove { path, source }),
        }
    }
    let _ = fs::remove_dir(layout.staged(&layout.share("doc/mnemosynce")));
    if !staged && Path::new("/run/systemd/system").is_dir() {
        let _ = std::process::Command::new("systemctl")
            .arg("daemon-reload")
            .status();
    }
    println!(
        "kept {} (configuration, history, keys) and every store: remove them yourself if you mean to",
        layout.staged(Path::new(DATA_DIR)).display()
    );
    Ok(())
}
