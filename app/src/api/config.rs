//! The server functions of the configuration editor (settings and the wizard's first step): the
//! file or the template, every problem at its line and column, the diff against the file, the
//! save through `engine::config::edit::update`. Nothing is decided here.

use super::error::ApiError;
use engine::model::diff::DiffLine;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One problem of a configuration text, at a 1-based line and column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigProblem {
    pub line: usize,
    pub column: usize,
    /// An error blocks saving; a warning (a folder that is not there yet) does not.
    pub error: bool,
    pub message: String,
}

/// The configuration file as the editor opens it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigFile {
    /// The file's text, or the commented template when there is no file yet.
    pub text: String,
    pub exists: bool,
    pub path: String,
    pub problems: Vec<ConfigProblem>,
    /// The version of the file this text is (of no file for the template); the save sends it back.
    pub version: String,
}

/// What checking (or saving) a text found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigCheck {
    pub problems: Vec<ConfigProblem>,
    /// The change against the file on disk, changed lines with 3 lines of context.
    pub diff: Vec<DiffLine>,
    /// The text was written (it had no errors).
    pub saved: bool,
    /// The version of the file after the save, for the next one (empty when nothing was saved).
    pub version: String,
}

impl ConfigCheck {
    pub fn errors(&self) -> usize {
        self.problems.iter().filter(|p| p.error).count()
    }
}

/// The engine's problems as the page shows them.
#[cfg(feature = "ssr")]
fn problems(checked: &engine::config::Checked) -> Vec<ConfigProblem> {
    checked
        .problems
        .iter()
        .map(|p| ConfigProblem {
            line: p.line,
            column: p.column,
            error: p.is_error(),
            message: p.message.clone(),
        })
        .collect()
}

/// The file's text, when there is one.
#[cfg(feature = "ssr")]
fn current_text(b: &super::backend::Backend) -> Option<String> {
    std::fs::read_to_string(&b.config_path).ok()
}

/// The configuration file (or the template for a new install) and its problems.
#[server(endpoint = "get_config")]
pub async fn get_config() -> Result<ConfigFile, ApiError> {
    use crate::api::server_side::admin;
    let b = admin().await?;
    let version = crate::api::server_side::config_version(&b);
    let current = current_text(&b);
    let exists = current.is_some();
    let text = current.unwrap_or_else(|| engine::config::edit::TEMPLATE.to_string());
    let problems = problems(&engine::config::check_str(&text));
    Ok(ConfigFile {
        text,
        exists,
        path: b.config_path.display().to_string(),
        problems,
        version,
    })
}

/// Checks a text without saving it: every problem, and the diff against the file.
#[server(endpoint = "check_config")]
pub async fn check_config(text: String) -> Result<ConfigCheck, ApiError> {
    use crate::api::server_side::admin;
    let b = admin().await?;
    let old = current_text(&b).unwrap_or_default();
    Ok(ConfigCheck {
        problems: problems(&engine::config::check_str(&text)),
        diff: engine::config::edit::line_diff_context(&old, &text, 3),
        saved: false,
        version: String::new(),
    })
}

/// Saves a text when it has no errors and the file is still at `version`, what the editor opened
/// (atomically; the replaced file stays as `.prev`).
#[server(endpoint = "save_config")]
pub async fn save_config(text: String, version: String) -> Result<ConfigCheck, ApiError> {
    use crate::api::server_side::{admin, save_error};
    use engine::config::edit::{update, SaveError, WholeText};
    let b = admin().await?;
    let old = current_text(&b).unwrap_or_default();
    let diff = engine::config::edit::line_diff_context(&old, &text, 3);
    match update(&b.config_path, &version.into(), &WholeText(&text)) {
        Ok(saved) => Ok(ConfigCheck {
            problems: problems(&engine::config::Checked {
                config: None,
                problems: saved.warnings,
            }),
            diff,
            saved: true,
            version: saved.version.to_string(),
        }),
        Err(SaveError::Invalid(checked)) => Ok(ConfigCheck {
            problems: problems(&checked),
            diff,
            saved: false,
            version: String::new(),
        }),
        Err(e) => Err(save_error(e)),
    }
}
