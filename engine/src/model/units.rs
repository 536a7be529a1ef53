//! How sizes and durations are written for people: the CLI, the email report and the web pages all
//! use these, so a figure reads the same everywhere.

/// Bytes in decimal units, one decimal: `950 B`, `1.2 KB`, `3.4 GB` (as disks are sold).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KB", "MB", "GB", "TB", "PB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
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
        assert_eq!(human_duration(0), "0 s");
        assert_eq!(human_duration(185), "3 min 05 s");
        assert_eq!(human_duration(7620), "2 h 07 min");
        assert_eq!(human_count(100_000), "100 000");
        assert_eq!(human_count(7), "7");
        assert_eq!(human_count(1_000), "1 000");
    }
}
