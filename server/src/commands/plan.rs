//! `mnemosynce plan`: what retention would keep and prune, and why (`--json`: one array of
//! `{task, name, keep, reasons}`).

use super::exit::EXIT_FAILURE;
use super::load::{read_side, select_tasks};
use crate::cli::{Cli, PlanArgs};
use engine::store;
use std::process::ExitCode;

/// `mnemosynce plan`
pub async fn execute(cli: &Cli, args: &PlanArgs) -> ExitCode {
    let (config, tz, history) = match read_side(cli, args.task.as_deref()).await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let mut rows = Vec::new();
    for task in select_tasks(&config, args.task.as_deref()).unwrap_or_default() {
        let decisions = match store::plan_task(&config, &history, tz, task).await {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: {}: {e}", task.name);
                return ExitCode::from(EXIT_FAILURE);
            }
        };
        for d in decisions {
            rows.push(serde_json::json!({
                "task": task.name,
                "name": d.name.to_string(),
                "keep": d.keep(),
                "reasons": d.reasons.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            }));
        }
    }
    if args.json {
        println!("{}", serde_json::Value::Array(rows));
    } else if rows.is_empty() {
        println!("no snapshots yet");
    } else {
        for r in rows {
            let keep = r["keep"].as_bool().unwrap_or(true);
            let reasons: Vec<&str> = r["reasons"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            println!(
                "{:<20} {:<18} {}",
                r["task"].as_str().unwrap_or(""),
                r["name"].as_str().unwrap_or(""),
                if keep {
                    format!("keep  ({})", reasons.join(", "))
                } else {
                    "prune".to_string()
                }
            );
        }
    }
    ExitCode::SUCCESS
}
