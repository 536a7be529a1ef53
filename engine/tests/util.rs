//! Helpers the engine's test modules share (the fixtures both crates use are in `testkit`).

use engine::model::events::StepKind;
use engine::model::Status;
use engine::run::RunReport;

/// The status and message of the first task's `kind` step in a run's report.
pub fn step(report: &RunReport, kind: StepKind) -> (Status, String) {
    let s = report.tasks[0]
        .steps
        .iter()
        .find(|s| s.step == kind)
        .unwrap_or_else(|| panic!("no {kind:?} step in the report"));
    (s.status, s.message.clone().unwrap_or_default())
}
