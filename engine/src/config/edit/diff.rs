//! The line diff the configuration editor shows before a save.
//!
//! Before a save the editor shows what will change. [`line_diff`] is `similar`'s Myers diff on lines,
//! so it is minimal (the fewest added + removed lines); the common first and last lines are matched
//! first, so a 2 000-line file with one change costs one comparison per line. The middle that is left
//! is only diffed up to [`MAX_DIFF_CELLS`] pairs of lines (4 000 × 4 000); beyond that it is shown as
//! "all old lines removed, all new lines added": still correct, just not minimal. No configuration is
//! that big.
//!
//! Lines are compared without their line endings. [`diff_hunks`] cuts a diff into the hunks the page
//! shows, the changed lines with [`DIFF_CONTEXT`] unchanged lines around them, and
//! [`line_diff_context`] gives those hunks as one list (the line numbers jump between hunks).

use std::ops::Range;

use crate::model::diff::{DiffKind, DiffLine};

/// Unchanged lines shown before and after each change in [`diff_hunks`], as `diff -u` does.
pub const DIFF_CONTEXT: usize = 3;

/// The largest middle part (old lines × new lines, after the common first and last lines are taken
/// off) that [`line_diff`] diffs minimally; beyond it the middle is shown as removed + added.
pub const MAX_DIFF_CELLS: usize = 4_000 * 4_000;

// ---------------------------------------------------------------------------------------------------
// The line diff
// ---------------------------------------------------------------------------------------------------

/// Every line of `old` and `new`, each as [`DiffKind::Same`], [`DiffKind::Removed`] or
/// [`DiffKind::Added`], with the fewest changed lines (see the module docs for the size limit).
/// A changed line comes out as the removed old line followed by the added new one.
pub fn line_diff(old: &str, new: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a_mid, b_mid) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);

    let mut out = Vec::with_capacity(a.len().max(b.len()) + a_mid.len().min(b_mid.len()));
    let (mut i, mut j) = (0, 0);
    let mut push = |kind: DiffKind, out: &mut Vec<DiffLine>| {
        let line = match kind {
            DiffKind::Same => {
                i += 1;
                j += 1;
                DiffLine {
                    kind,
                    old_line: Some(number(i)),
                    new_line: Some(number(j)),
                    text: a[i - 1].to_string(),
                }
            }
            DiffKind::Removed => {
                i += 1;
                DiffLine {
                    kind,
                    old_line: Some(number(i)),
                    new_line: None,
                    text: a[i - 1].to_string(),
                }
            }
            DiffKind::Added => {
                j += 1;
                DiffLine {
                    kind,
                    old_line: None,
                    new_line: Some(number(j)),
                    text: b[j - 1].to_string(),
                }
            }
        };
        out.push(line);
    };

    for _ in 0..prefix {
        push(DiffKind::Same, &mut out);
    }
    for kind in middle_diff(a_mid, b_mid) {
        push(kind, &mut out);
    }
    for _ in 0..suffix {
        push(DiffKind::Same, &mut out);
    }
    out
}

/// A 1-based line number for the page (a file of 4 billion lines shows the last number repeated).
pub(super) fn number(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The edit script for the middle part: `similar`'s Myers diff; a changed block reads as its old
/// lines, then its new ones. Beyond [`MAX_DIFF_CELLS`], all removed then all added.
pub(super) fn middle_diff(a: &[&str], b: &[&str]) -> Vec<DiffKind> {
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 || n.checked_mul(m).is_none_or(|cells| cells > MAX_DIFF_CELLS) {
        let mut ops = vec![DiffKind::Removed; n];
        ops.extend(std::iter::repeat_n(DiffKind::Added, m));
        return ops;
    }
    let mut ops = Vec::with_capacity(n + m);
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, a, b) {
        let (tag, old, new) = op.as_tag_tuple();
        let (same, removed, added) = match tag {
            similar::DiffTag::Equal => (old.len(), 0, 0),
            similar::DiffTag::Delete => (0, old.len(), 0),
            similar::DiffTag::Insert => (0, 0, new.len()),
            similar::DiffTag::Replace => (0, old.len(), new.len()),
        };
        ops.extend(std::iter::repeat_n(DiffKind::Same, same));
        ops.extend(std::iter::repeat_n(DiffKind::Removed, removed));
        ops.extend(std::iter::repeat_n(DiffKind::Added, added));
    }
    ops
}

/// The hunks of a diff, as the editor shows them: each changed line with up to `context` unchanged
/// lines before and after it; hunks whose context would touch or overlap are one hunk. No changes: no
/// hunks. The page draws a "⋯" between hunks; the line numbers say how much is skipped.
pub fn diff_hunks(lines: &[DiffLine], context: usize) -> Vec<Vec<DiffLine>> {
    let mut hunks = Vec::new();
    let mut current: Option<Range<usize>> = None;
    for (k, _) in lines.iter().enumerate().filter(|(_, l)| l.is_change()) {
        let start = k.saturating_sub(context);
        let end = k.saturating_add(context).saturating_add(1).min(lines.len());
        current = match current {
            Some(r) if start <= r.end => Some(r.start..end),
            Some(r) => {
                hunks.push(lines[r].to_vec());
                Some(start..end)
            }
            None => Some(start..end),
        };
    }
    if let Some(r) = current {
        hunks.push(lines[r].to_vec());
    }
    hunks
}

/// The diff as the editor shows it in one list: only the hunks of [`diff_hunks`] (changed lines with
/// `context` unchanged lines around them), one after the other. Where a hunk ends and the next begins,
/// the line numbers jump; the page may draw a "⋯" there. Empty when nothing changed.
pub fn line_diff_context(old: &str, new: &str, context: usize) -> Vec<DiffLine> {
    diff_hunks(&line_diff(old, new), context)
        .into_iter()
        .flatten()
        .collect()
}
