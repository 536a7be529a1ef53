//! The command line (clap): the global options and each subcommand's arguments.
//!
//! Definitions only: `main.rs` dispatches to `commands/`, one file per subcommand.

use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

/// `mnemosynce --version`: the version and the commit it was built from (`build.rs`).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("MNEMOSYNCE_COMMIT"),
    ")"
);

/// Mnemosynce: dated hard-link snapshots of your folders, pruned, mirrored and reported.
#[derive(Parser, Debug)]
#[command(name = "mnemosynce", version = VERSION, about)]
pub struct Cli {
    /// The data directory: configuration, database, keys, logs.
    #[arg(long, global = true, env = "MNEMOSYNCE_DATA", default_value = "data")]
    pub data: PathBuf,

    /// The configuration file [default: <data>/backup_config.yml].
    #[arg(long, global = true, env = "MNEMOSYNCE_CONFIG")]
    pub config: Option<PathBuf>,

    /// Log format on the console.
    #[arg(long, global = true, env = "MNEMOSYNCE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Without one, `cargo leptos watch`/`serve`/`end-to-end` (which start the binary bare) get
    /// `serve`; anyone else the help (see `main.rs`).
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the web app (with the engine and the scheduler).
    Serve(ServeArgs),
    /// Run the backup now, in the foreground. Exit code: 0 success, 1 warning, 2 failure,
    /// 3 configuration error, 4 another run is active.
    Run(RunArgs),
    /// Restore a file or folder of a snapshot: next to the original as <name>.restored-<time>, or
    /// into --to DIR. Never overwrites unless --replace (the replaced files are then kept aside in
    /// <name>.replaced-<time>). Exit codes as for run.
    Restore(RestoreArgs),
    /// Check the configuration and print every problem with its line and column.
    Check,
    /// Show what retention would keep and prune, and why.
    Plan(PlanArgs),
    /// List the snapshots.
    Snapshots(SnapshotsArgs),
    /// Hand a task's snapshot-named folders that Mnemosynce did not make (e.g. the original
    /// Mnemosynce's YYYY-MM-DD folders) to retention, which may then prune them. Check them first:
    /// a folder named by date may be your own data.
    Adopt(AdoptArgs),
    /// Manage the app's SSH keys (in <data>/ssh/).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Test an SSH endpoint step by step (TCP, host key, login, rsync, folder); trust its host key.
    TestConnection(TestConnectionArgs),
    /// Set the web app's admin password (read from the terminal, or one line of stdin). Signs out
    /// every browser.
    Passwd,
    /// Send a test email step by step (connect, TLS, login, send), each with a verdict and a fix.
    TestEmail(TestEmailArgs),
    /// Install this binary, the systemd units, completions and the man page (as root); makes
    /// /var/lib/mnemosynce (0700). Never touches an existing configuration or store.
    Install(InstallArgs),
    /// Remove what `install` put in place; the data directory and the stores stay.
    Uninstall(InstallArgs),
    /// Print the shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

#[derive(clap::Args, Debug)]
pub struct InstallArgs {
    /// Where the program goes: <prefix>/bin, <prefix>/share/{man,doc,...}.
    #[arg(long, default_value = "/usr/local", value_name = "DIR")]
    pub prefix: PathBuf,
    /// Stage everything under this folder instead of / (for packagers); the units still name the
    /// final places.
    #[arg(long, env = "DESTDIR", value_name = "DIR")]
    pub destdir: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct TestEmailArgs {
    /// Recipient [default: email_report].
    #[arg(long, value_name = "ADDR")]
    pub to: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// List the keys with their public lines for authorized_keys.
    List,
    /// Generate an ed25519 key pair.
    Generate {
        /// Letters, digits, '-' and '_' (at most 64).
        name: String,
        /// Comment in the public key line.
        #[arg(long, default_value = "mnemosynce")]
        comment: String,
    },
    /// Delete a key pair.
    Delete { name: String },
}

#[derive(clap::Args, Debug)]
pub struct TestConnectionArgs {
    /// user@host:/path or ssh://user@host:port/path
    pub endpoint: String,
    /// The endpoint is a mirror target: also check the folder is writable.
    #[arg(long)]
    pub mirror: bool,
    /// Trust the host key if it is not known yet (compare its fingerprint first).
    #[arg(long)]
    pub trust: bool,
    /// Replace a CHANGED host key (only after checking with the server's owner).
    #[arg(long)]
    pub replace_changed_host_key: bool,
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Run only this task (repeatable); default: all, in config order.
    #[arg(long = "task", value_name = "NAME")]
    pub tasks: Vec<String>,
    /// Show what would be copied and pruned; change nothing and record nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    /// The task.
    pub task: String,
    /// The snapshot (its folder name, see `mnemosynce snapshots`).
    pub snapshot: String,
    /// What to restore, inside the snapshot (e.g. albums/2026); `/` for all of it.
    pub path: std::ffi::OsString,
    /// Restore into this folder on this machine (it gets the item under its own name) instead of
    /// next to the original.
    #[arg(long, value_name = "DIR")]
    pub to: Option<std::path::PathBuf>,
    /// Write over what exists (onto the original without --to); every replaced file is kept in
    /// <name>.replaced-<time>, never deleted.
    #[arg(long)]
    pub replace: bool,
}

#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    /// Only this task.
    #[arg(long, value_name = "NAME")]
    pub task: Option<String>,
    /// Print one JSON array: {task, name, keep, reasons} per snapshot.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct AdoptArgs {
    /// The task whose folders to adopt.
    pub task: String,
}

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SnapshotsArgs {
    #[command(subcommand)]
    pub command: Option<SnapshotsCommand>,
    /// Only this task.
    #[arg(long, value_name = "NAME")]
    pub task: Option<String>,
    /// Print one JSON array: {task, name, time, status, pinned, pin_note, managed, sizes} per
    /// snapshot.
    #[arg(long)]
    pub json: bool,
    /// Measure every snapshot again from disk (files, total and unique size) before listing them.
    #[arg(long)]
    pub recount: bool,
}

/// What `mnemosynce snapshots` does besides listing them.
#[derive(clap::Subcommand, Debug)]
pub enum SnapshotsCommand {
    /// List a folder of a snapshot: folders first, symbolic links shown with their target and
    /// never followed, odd names escaped (`\n`, `\xff`).
    Ls(LsArgs),
    /// What changed between two snapshots of a task (by inode first: a file both snapshots
    /// hard-link is unchanged without reading a byte). With one snapshot: against the one before it.
    Diff(DiffArgs),
    /// The versions of one file across a task's snapshots: which snapshots hold which bytes.
    Versions(VersionsArgs),
    /// Files whose name matches a pattern (*.xlsx, taxes*, IMG_????.jpg; ASCII case ignored; no
    /// wildcard: names containing it) across a task's snapshots, newest first, each version once.
    Find(FindArgs),
    /// Pin a snapshot: retention never prunes it (nor its copy on the mirror) until it is unpinned.
    Pin(PinArgs),
    /// Unpin a snapshot: retention decides about it again at the next run.
    Unpin(UnpinArgs),
}

#[derive(clap::Args, Debug)]
pub struct LsArgs {
    /// The task.
    pub task: String,
    /// The snapshot (its folder name, e.g. 2026-12-07_020000).
    pub snapshot: String,
    /// A folder inside the snapshot (default: its top).
    pub path: Option<std::ffi::OsString>,
    /// Order: name, size or modified (folders always first).
    #[arg(long, default_value = "name", value_parser = ["name", "size", "modified"])]
    pub sort: String,
    /// Reverse the order.
    #[arg(long)]
    pub reverse: bool,
    /// Print the listing as JSON ({path, key, total, entries: [{name, key, kind, size, modified, mode, target}]}).
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The task.
    pub task: String,
    /// The older snapshot (or, alone, the newer one: compared with the snapshot before it).
    pub older: String,
    /// The newer snapshot.
    pub newer: Option<String>,
    /// List at most this many entries (the counts cover all).
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
    /// Print the engine's SnapshotDiff as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct VersionsArgs {
    /// The task.
    pub task: String,
    /// The file's path inside the snapshots (e.g. albums/2026/beach.jpg).
    pub path: std::ffi::OsString,
    /// Print the versions as JSON ([{first, last, snapshots, size, modified}]).
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct FindArgs {
    /// The task.
    pub task: String,
    /// The name pattern (quote it, so the shell leaves the `*` alone).
    pub pattern: String,
    /// One JSON object per line: {snapshot, path, key, size, modified, newest}.
    #[arg(long)]
    pub json: bool,
    /// Stop after this many results.
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
}

#[derive(clap::Args, Debug)]
pub struct PinArgs {
    /// The task.
    pub task: String,
    /// The snapshot (its folder name).
    pub snapshot: String,
    /// Why it is kept (shown with the pin).
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct UnpinArgs {
    /// The task.
    pub task: String,
    /// The snapshot (its folder name).
    pub snapshot: String,
}

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "MNEMOSYNCE_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// The built site (WASM, JS, CSS, icons) [default: as configured at build, target/site].
    #[arg(long, env = "MNEMOSYNCE_SITE")]
    pub site: Option<PathBuf>,

    /// Behind a reverse proxy: trust its X-Forwarded-For/-Host/-Proto headers (and mark the
    /// session cookie Secure). Only when the port is reachable by the proxy alone.
    #[arg(long, env = "MNEMOSYNCE_TRUST_PROXY")]
    pub trust_proxy: bool,

    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(
        long,
        env = "MNEMOSYNCE_TLS_CERT",
        requires = "tls_key",
        value_name = "PEM"
    )]
    pub tls_cert: Option<PathBuf>,

    /// Also answer to this host name or address (repeatable; `*` for any). By default the server
    /// answers only to its listen address, localhost, the machine's host name and its interface
    /// addresses: requests naming other hosts get 421 (a guard against DNS rebinding).
    #[arg(
        long = "allowed-host",
        value_name = "NAME",
        env = "MNEMOSYNCE_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,

    /// The private key of --tls-cert (PEM).
    #[arg(
        long,
        env = "MNEMOSYNCE_TLS_KEY",
        requires = "tls_cert",
        value_name = "PEM"
    )]
    pub tls_key: Option<PathBuf>,
}

impl Cli {
    /// The configuration file in force.
    pub fn config_path(&self) -> PathBuf {
        self.config
            .clone()
            .unwrap_or_else(|| self.data.join("backup_config.yml"))
    }
}
