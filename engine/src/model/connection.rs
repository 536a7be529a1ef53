//! The result of a connection test: one verdict per step, each with a hint how to fix it; and the
//! command that installs the app's public key on another machine ([`key_install_command`]).

use serde::{Deserialize, Serialize};

/// How one step of a connection test went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    /// Works, but needs a look (e.g. an unknown host key to trust).
    Warn,
    Fail,
    /// Not tried because an earlier step failed.
    Skipped,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
            Verdict::Skipped => "skipped",
        }
    }
}

/// One step of a connection test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckStep {
    /// What was checked, e.g. "TCP connect to nas:22".
    pub name: String,
    pub verdict: Verdict,
    /// What was found.
    pub detail: String,
    /// How to fix it, when it is not a pass.
    pub hint: Option<String>,
}

/// An unknown or changed host key, offered for trust.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferedHostKey {
    pub algorithm: String,
    /// `SHA256:...`, as `ssh-keygen -lf` prints it.
    pub fingerprint: String,
    /// True when the host had another key before: never trust this with one click.
    pub changed: bool,
}

/// `text` as one word for a POSIX shell: wrapped in single quotes, each `'` inside written `'\''`
/// (close the quotes, an escaped quote, reopen). Nothing inside single quotes is special to the shell.
pub fn shell_single_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The command to run on the remote machine that adds `public_line` to `~/.ssh/authorized_keys`
/// (what `ssh-copy-id` does). The whole line is quoted with [`shell_single_quote`], so a key whose
/// comment holds a quote or any other shell character (keys made before comments were checked) is
/// still pasted as data, never as commands.
pub fn key_install_command(public_line: &str) -> String {
    format!(
        "mkdir -p ~/.ssh && chmod 700 ~/.ssh && printf '%s\\n' {} >> ~/.ssh/authorized_keys && chmod 600 ~/.ssh/authorized_keys",
        shell_single_quote(public_line)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command, run by a real `sh` in a scratch HOME, appends exactly the line and runs nothing
    /// else, whatever the comment holds.
    #[cfg(unix)]
    #[test]
    fn hostile_comments_stay_data_in_the_install_command() {
        for (i, comment) in [
            "it's mine",
            "'; touch pwned; echo '",
            "$(touch pwned)",
            "`touch pwned`",
            "a && touch pwned",
            r"\' ; touch pwned #",
            "''''",
            r#""; touch pwned; ""#,
            "> pwned",
        ]
        .into_iter()
        .enumerate()
        {
            let home = std::env::temp_dir()
                .join(format!("mnemosynce-keyinstall-{}-{i}", std::process::id()));
            let _ = std::fs::remove_dir_all(&home);
            std::fs::create_dir_all(&home).unwrap();
            let line = format!("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA {comment}");
            let status = std::process::Command::new("sh")
                .arg("-c")
                .arg(key_install_command(&line))
                .env("HOME", &home)
                .current_dir(&home)
                .status()
                .unwrap();
            assert!(status.success(), "{comment:?}");
            let written = std::fs::read_to_string(home.join(".ssh/authorized_keys")).unwrap();
            assert_eq!(written, format!("{line}\n"), "{comment:?}");
            assert!(!home.join("pwned").exists(), "{comment:?} ran a command");
            std::fs::remove_dir_all(&home).unwrap();
        }
    }

    #[test]
    fn single_quotes_are_closed_escaped_and_reopened() {
        assert_eq!(shell_single_quote("a'b"), r"'a'\''b'");
        assert_eq!(shell_single_quote(""), "''");
    }
}
