//! The Snapshots page's chart of one task: unique size (bars) and file count (a line) of each
//! measured snapshot over time, as inline SVG drawn on the server — no chart library, nothing in
//! the WASM. Each bar has a `<title>` with the figures (a tooltip, read by screen readers); the
//! table under it has the same numbers. Fewer than two measured snapshots draw nothing.

use engine::model::files::SnapshotSize;
use engine::model::units::human_bytes;
use leptos::prelude::*;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 140.0;
/// Room for the labels above and below the plot.
const TOP: f64 = 16.0;
const BOTTOM: f64 = 18.0;

/// One measured snapshot: its time (seconds since 1970), label and sizes.
#[derive(Clone, Debug)]
pub struct Point {
    pub at: i64,
    pub label: String,
    pub size: SnapshotSize,
}

/// The chart of `points` (any order) of task `task`.
#[component]
pub fn SizeChart(task: String, mut points: Vec<Point>) -> impl IntoView {
    if points.len() < 2 {
        return ().into_any();
    }
    points.sort_by_key(|p| p.at);
    let (first, last) = (points[0].at, points[points.len() - 1].at);
    let span = (last - first).max(1) as f64;
    let max_unique = points
        .iter()
        .map(|p| p.size.unique)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let max_files = points
        .iter()
        .map(|p| p.size.files)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let plot = HEIGHT - TOP - BOTTOM;
    let bar = (WIDTH / points.len() as f64 * 0.6).clamp(2.0, 24.0);
    let x = |at: i64| bar / 2.0 + (at - first) as f64 / span * (WIDTH - bar);
    let bars = points
        .iter()
        .map(|p| {
            let h = (p.size.unique as f64 / max_unique * plot).max(1.0);
            let tip = format!(
                "{}: unique {}, {} files, total {}",
                p.label,
                human_bytes(p.size.unique),
                p.size.files,
                human_bytes(p.size.total)
            );
            view! {
                <rect class="bar" x=format!("{:.1}", x(p.at) - bar / 2.0) y=format!("{:.1}", TOP + plot - h)
                    width=format!("{bar:.1}") height=format!("{h:.1}")>
                    <title>{tip}</title>
                </rect>
            }
        })
        .collect_view();
    let line: Vec<String> = points
        .iter()
        .map(|p| {
            let y = TOP + plot - p.size.files as f64 / max_files * plot;
            format!("{:.1},{y:.1}", x(p.at))
        })
        .collect();
    let label = format!(
        "Unique size (bars, up to {}) and file count (line, up to {}) of {task}'s snapshots from {} to {}",
        human_bytes(max_unique as u64),
        max_files as u64,
        points[0].label,
        points[points.len() - 1].label
    );
    view! {
        <figure class="size-chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=label.clone() preserveAspectRatio="none">
                <text class="axis" x="0" y="11">{format!("unique, up to {}", human_bytes(max_unique as u64))}</text>
                <text class="axis files" x=WIDTH.to_string() y="11" text-anchor="end">{format!("files, up to {}", max_files as u64)}</text>
                {bars}
                <polyline class="line" points=line.join(" ")/>
                <text class="axis" x="0" y=format!("{}", HEIGHT - 4.0)>{points[0].label.clone()}</text>
                <text class="axis" x=WIDTH.to_string() y=format!("{}", HEIGHT - 4.0) text-anchor="end">{points[points.len() - 1].label.clone()}</text>
            </svg>
            <figcaption class="muted">{label}</figcaption>
        </figure>
    }
    .into_any()
}
