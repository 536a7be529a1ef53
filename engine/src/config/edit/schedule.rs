//! The schedule page's block: `schedule:` with its `cron:` and `enabled:`, changed in place when the
//! entry is a plain block (comments on its lines stay), replaced whole otherwise.

use serde_yaml::Value;

use super::lines::{edit_fields, replace_block, verify, yaml_quote, Doc};
use super::{Edit, EditError};

/// The `schedule:` entry for `cron` (quoted with [`yaml_quote`]) and `enabled`.
pub fn schedule_block(cron: &str, enabled: bool) -> String {
    format!(
        "schedule:\n  cron: {}\n  enabled: {enabled}\n",
        yaml_quote(cron)
    )
}

/// Sets `schedule:` to `cron` and `enabled`. When the entry is a plain block with one `cron:` and one
/// `enabled:` line, only their values change (comments on those lines stay); otherwise the whole entry
/// is replaced with [`schedule_block`], or appended when there is none.
///
/// The cron expression is not checked here: [`update`] does that, with the same message as everywhere.
pub fn set_schedule(text: &str, cron: &str, enabled: bool) -> Result<String, EditError> {
    let key = "schedule";
    let cron_value = Value::String(cron.into());
    let holds_new_values = |value: Option<&Value>| {
        value.and_then(|v| v.get("cron")) == Some(&cron_value)
            && value.and_then(|v| v.get("enabled")) == Some(&Value::Bool(enabled))
    };
    let doc = Doc::read(text)?;
    if let Some(lines) = doc.find(key)? {
        let fields = [("cron", yaml_quote(cron)), ("enabled", enabled.to_string())];
        if let Some(new) = edit_fields(&doc, lines, &fields) {
            if verify(text, &new, key, holds_new_values).is_ok() {
                return Ok(new);
            }
        }
    }
    replace_block(text, key, &schedule_block(cron, enabled))
}

/// The schedule page's edit: `schedule:` set with [`set_schedule`].
pub struct ScheduleEdit<'a> {
    pub cron: &'a str,
    pub enabled: bool,
}

impl Edit for ScheduleEdit<'_> {
    fn apply(&self, current: Option<&str>) -> Result<String, EditError> {
        set_schedule(current.ok_or(EditError::NoFile)?, self.cron, self.enabled)
    }
}
