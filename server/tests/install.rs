//! `mnemosynce install` / `uninstall` into a temporary root (`--destdir`), as a packager or the
//! release archive's `install` script runs them: every file in its standard place with its mode,
//! the data directory 0700 with an existing configuration never touched, the installed binary runs,
//! the units pass `systemd-analyze verify` and score at most 5.0 with `systemd-analyze security`,
//! the bash completion parses, and `uninstall` takes the files away and leaves the data.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mnemosynce");

fn mnemosynce(args: &[&str], root: &Path) -> String {
    let out = Command::new(BIN)
        .args(args)
        .arg("--destdir")
        .arg(root)
        .env_remove("DESTDIR")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{args:?}: {text}");
    text
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// `systemd-analyze` on a copy of an installed unit whose `ExecStart=` names the staged binary
/// (verify wants the program to exist).
fn analyze(root: &Path, unit: &str) -> (bool, String, f64) {
    let text = fs::read_to_string(root.join("etc/systemd/system").join(unit)).unwrap();
    let staged_bin = root.join("usr/local/bin/mnemosynce");
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join(unit);
    fs::write(
        &copy,
        text.replace("/usr/local/bin/mnemosynce", &staged_bin.to_string_lossy()),
    )
    .unwrap();
    let verify = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&copy)
        .output()
        .expect("systemd-analyze (Debian's systemd package; scripts/ensure-tools installs it)");
    let verify_text = String::from_utf8_lossy(&verify.stderr).into_owned();
    if !unit.ends_with(".service") {
        return (verify.status.success(), verify_text, 0.0);
    }
    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(&copy)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&security.stdout).into_owned();
    let score = report
        .lines()
        .find_map(|l| l.split_once("Overall exposure level for ").map(|(_, r)| r))
        .and_then(|r| r.split(": ").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no score in: {report}"));
    (verify.status.success(), verify_text, score)
}

#[test]
fn install_puts_every_file_in_place_keeps_the_configuration_and_uninstall_keeps_the_data() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    // An owner's configuration from an earlier install.
    let data = root.join("var/lib/mnemosynce");
    fs::create_dir_all(&data).unwrap();
    fs::set_permissions(&data, fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(data.join("backup_config.yml"), "# mine\n").unwrap();

    let out = mnemosynce(&["install"], root);
    assert!(out.contains("kept your configuration"), "{out}");

    let bin = root.join("usr/local/bin/mnemosynce");
    assert_eq!(mode(&bin), 0o755);
    let version = Command::new(&bin).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("mnemosynce "));
    for unit in [
        "mnemosynce.service",
        "mnemosynce-run.service",
        "mnemosynce-run.timer",
    ] {
        let path = root.join("etc/systemd/system").join(unit);
        assert_eq!(mode(&path), 0o644, "{unit}");
        let (verified, why, score) = analyze(root, unit);
        assert!(verified, "systemd-analyze verify {unit}: {why}");
        assert!(score <= 5.0, "{unit}: exposure {score} > 5.0");
    }
    let service = fs::read_to_string(root.join("etc/systemd/system/mnemosynce.service")).unwrap();
    assert!(
        service.contains("ExecStart=/usr/local/bin/mnemosynce serve"),
        "{service}"
    );
    assert!(service.contains("StateDirectory=mnemosynce"), "{service}");
    for file in [
        "usr/local/share/bash-completion/completions/mnemosynce",
        "usr/local/share/zsh/site-functions/_mnemosynce",
        "usr/local/share/fish/vendor_completions.d/mnemosynce.fish",
        "usr/local/share/man/man1/mnemosynce.1",
        "usr/local/share/doc/mnemosynce/backup_config.example.yml",
    ] {
        assert_eq!(mode(&root.join(file)), 0o644, "{file}");
    }
    // The bash completion is valid bash and offers the subcommands.
    let bash = root.join("usr/local/share/bash-completion/completions/mnemosynce");
    let syntax = Command::new("bash").arg("-n").arg(&bash).output().unwrap();
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    assert!(fs::read_to_string(&bash).unwrap().contains("serve"));
    // The man page is roff with a section per subcommand.
    let man = fs::read_to_string(root.join("usr/local/share/man/man1/mnemosynce.1")).unwrap();
    assert!(
        man.starts_with(".ie") || man.contains(".TH mnemosynce"),
        "{man}"
    );
    assert!(
        man.contains("MNEMOSYNCE SERVE") && man.contains("MNEMOSYNCE RUN"),
        "{man}"
    );
    // The data directory is the owner's alone; the configuration is untouched.
    assert_eq!(mode(&data), 0o700);
    assert_eq!(
        fs::read_to_string(data.join("backup_config.yml")).unwrap(),
        "# mine\n"
    );

    // Installing again (an upgrade) is fine and still keeps the configuration.
    mnemosynce(&["install"], root);
    assert_eq!(
        fs::read_to_string(data.join("backup_config.yml")).unwrap(),
        "# mine\n"
    );

    // Uninstall: the files go, the data stays.
    let out = mnemosynce(&["uninstall"], root);
    assert!(out.contains("kept"), "{out}");
    assert!(!bin.exists());
    assert!(!root.join("etc/systemd/system/mnemosynce.service").exists());
    assert!(!root.join("usr/local/share/man/man1/mnemosynce.1").exists());
    assert!(!root.join("usr/local/share/doc/mnemosynce").exists());
    assert_eq!(
        fs::read_to_string(data.join("backup_config.yml")).unwrap(),
        "# mine\n"
    );
}

#[test]
fn a_distribution_prefix_puts_the_units_under_usr_lib_and_a_relative_prefix_is_refused() {
    let root = tempfile::tempdir().unwrap();
    mnemosynce(&["install", "--prefix", "/usr"], root.path());
    let unit = root
        .path()
        .join("usr/lib/systemd/system/mnemosynce.service");
    let text = fs::read_to_string(&unit).unwrap();
    assert!(
        text.contains("ExecStart=/usr/bin/mnemosynce serve"),
        "{text}"
    );
    assert!(root.path().join("usr/bin/mnemosynce").is_file());

    let out = Command::new(BIN)
        .args(["install", "--prefix", "usr/local", "--destdir"])
        .arg(root.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--prefix must be an absolute path"), "{err}");
}
