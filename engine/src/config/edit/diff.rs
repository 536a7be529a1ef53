//! The line diff the configuration editor shows before a save.
//!
//!
//! Before a save the editor shows what will change. [`line_diff`] is a classic longest-common-
//! subsequence diff on lines, so it is minimal (the fewest added + removed lines), with two things
//! that keep it cheap on a server that should idle in a few MB:
//!
//! - the common first and last lines are matched first and never enter the quadratic part, so a
//!   2 000-line file with one change costs one comparison per line;
//! - what remains in the middle costs one *bit* per pair of lines (2 MB at most) and is only computed
//!   up to [`MAX_DIFF_CELLS`] pairs (4 000 × 4 000 lines). Beyond that the middle is shown as "all
//!   old lines removed, all new lines added": still correct, just not minimal. No configuration is
//!   that big.
//!
//! Lines are compared without their line endings. [`diff_hunks`] cuts a diff into the hunks the page
//! shows, the changed lines with [`DIFF_CONTEXT`] unchanged lines around them, and
//! [`line_diff_context`] gives those hunks as one list (the line numbers jump between hunks).

use std::collections::HashMap;
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

/// The edit script for the middle part: longest common subsequence by dynamic programming over the
/// suffixes, keeping only two rows of lengths and one bit per cell ("removing here is as good as
/// adding"), then one walk from the top. Equal lines are matched on the spot; on a tie the removal
/// comes first, so a changed block reads as its old lines, then its new ones.
pub(super) fn middle_diff<'s>(a: &[&'s str], b: &[&'s str]) -> Vec<DiffKind> {
    let (n, m) = (a.len(), b.len());
    let all_replaced = || {
        let mut ops = vec![DiffKind::Removed; n];
        ops.extend(std::iter::repeat_n(DiffKind::Added, m));
        ops
    };
    if n == 0 || m == 0 || n.checked_mul(m).is_none_or(|cells| cells > MAX_DIFF_CELLS) {
        return all_replaced();
    }

    // Lines as small numbers, so each comparison in the n × m loop is one integer compare.
    let mut ids: HashMap<&'s str, u32> = HashMap::new();
    let mut id = |line: &'s str| -> u32 {
        let next = number(ids.len());
        *ids.entry(line).or_insert(next)
    };
    let a: Vec<u32> = a.iter().map(|l| id(l)).collect();
    let b: Vec<u32> = b.iter().map(|l| id(l)).collect();

    // below[j] = LCS(a[i+1..], b[j..]); here[j] = LCS(a[i..], b[j..]).
    let mut below = vec![0u32; m + 1];
    let mut here = vec![0u32; m + 1];
    let mut prefer_removal = vec![0u64; (n * m).div_ceil(64)];
    for i in (0..n).rev() {
        here[m] = 0;
        for j in (0..m).rev() {
            here[j] = if a[i] == b[j] {
                below[j + 1] + 1
            } else if below[j] >= here[j + 1] {
                let cell = i * m + j;
                prefer_removal[cell / 64] |= 1 << (cell % 64);
                below[j]
            } else {
                here[j + 1]
            };
        }
        std::mem::swap(&mut below, &mut here);
    }

    let mut ops = Vec::with_capacity(n + m);
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        let cell = i * m + j;
        if a[i] == b[j] {
            ops.push(DiffKind::Same);
            i += 1;
            j += 1;
        } else if prefer_removal[cell / 64] & (1 << (cell % 64)) != 0 {
            ops.push(DiffKind::Removed);
            i += 1;
        } else {
            ops.push(DiffKind::Added);
            j += 1;
        }
    }
    ops.extend(std::iter::repeat_n(DiffKind::Removed, n - i));
    ops.extend(std::iter::repeat_n(DiffKind::Added, m - j));
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
