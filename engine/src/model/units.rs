//! How sizes and durations are written for people: the CLI, the email report and the web pages all
//! use these, so a figure reads the same everywhere.

/// Bytes in decimal units, one decimal: `950 B`, `1.2 KB`, `3.4 GB` (as disks are sold).
pub fn human_bytes(n: u64) -> String {
    // Integer arithmetic only: this runs in the browser too, where float formatting would bring
    // its ~15 KB of code (before compression) into the page's first download.
    const UNITS: [&str; 6] = ["B", "KB", "MB", "GB", "TB", "PB"];
    let mut unit = 0;
    let mut scale: u128 = 1;
    while u128::from(n) >= scale * 1000 && unit < UNITS.len() - 1 {
        scale *= 1000;
        unit += 1;
    }
    if unit == 0 {
        return format!("{n} B");
    }
    // Tenths of the unit, rounded half up; 999.95 KB is 1.0 MB, not 1000.0 KB.
    let mut tenths = (u128::from(n) * 10 + scale / 2) / scale;
    if tenths >= 10_000 && unit < UNITS.len() - 1 {
        scale *= 1000;
        unit += 1;
        tenths = (u128::from(n) * 10 + scale / 2) / scale;
    }
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

/// A duration in whole seconds, shortest readable form: `0 s`, `42 s`, `3 min 05 s`, `2 h 07 min`.
pub fn human_duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, (seconds / 60) % 60, seconds % 60);
    if h > 0 {
        format!("{h} h {m:02} min")
    } else if m > 0 {
        format!("{m} min {s:02} s")
    } else {
        format!("{s} s")
    }
}

/// A count with thin groups of three: `100 000`.
pub fn human_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_234_567), "1.2 MB");
        assert_eq!(human_bytes(1_000), "1.0 KB");
        assert_eq!(human_bytes(1_250), "1.3 KB");
        assert_eq!(human_bytes(999_950), "1.0 MB");
        assert_eq!(human_bytes(u64::MAX), "18446.7 PB");
        assert_eq!(human_duration(0), "0 s");
        assert_eq!(human_duration(185), "3 min 05 s");
        assert_eq!(human_duration(7620), "2 h 07 min");
        assert_eq!(human_count(100_000), "100 000");
        assert_eq!(human_count(7), "7");
        assert_eq!(human_count(1_000), "1 000");
    }
}
