//! When the backup runs: `schedule.cron`, a standard 5-field cron expression read in the configured
//! IANA zone (SPEC §2 `schedule`).
//!
//! [`Cron`] is the one meaning of that text: the configuration check ([`Cron::parse`], refusing an
//! expression that is wrong or can never fire, with the field and the fix), the server's scheduler
//! ([`Cron::due_at`], once a minute) and the schedule page ([`Cron::describe`], [`Cron::upcoming`]
//! and [`PRESETS`]) all go through it, so the page's "next runs" are exactly the minutes the
//! scheduler fires.
//!
//! Invariants: the meaning is Vixie cron's and cronie's (names, `@daily`-style shorthands,
//! day-of-month *or* day-of-week when both are restricted; `@reboot` is refused). The module reads
//! no clock: every function takes the instant it reasons about. Daylight saving: a local time in a
//! spring-forward gap runs at the first instant after it (late, never skipped); a time that happens
//! twice runs once, at its earlier instant, wildcard fields included; equal instants are merged.
//! [`Cron::upcoming`] walks local days, at most one 400-year cycle, which always holds a match for an
//! expression that parses. [`Cron::due_at`] is "the first of `upcoming` after the previous minute is
//! this minute", so the two never disagree. The syntax for owners is in the README (*Cron*).

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

/// Ready-made schedules for the schedule page: (label, expression).
pub const PRESETS: &[(&str, &str)] = &[
    ("Daily at 02:00", "0 2 * * *"),
    ("Weekly, Sunday 03:00", "0 3 * * 0"),
    ("Monthly, the 1st at 04:00", "0 4 1 * *"),
    ("Every 6 hours", "0 */6 * * *"),
];

/// The `@` shorthands and the five fields each stands for.
const MACROS: [(&str, &str); 7] = [
    ("@hourly", "0 * * * *"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@weekly", "0 0 * * 0"),
    ("@monthly", "0 0 1 * *"),
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
];

/// One Gregorian cycle (400 years) of days, plus the day before the start.
const SEARCH_DAYS: u32 = 146_097 + 1;

/// How far past a nonexistent local time to look for the end of its gap. Real gaps are an hour or
/// less; Samoa skipped a whole day in 2011.
const GAP_SEARCH_MINUTES: i64 = 2 * 24 * 60;

/// Day counts per month, February with its leap day: what "can this ever fire?" is checked against.
const MONTH_DAYS: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Indexed by cron's number: 0 is Sunday.
const DAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

// ---------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------

/// One of the five fields, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

const FIELDS: [Field; 5] = [
    Field::Minute,
    Field::Hour,
    Field::DayOfMonth,
    Field::Month,
    Field::DayOfWeek,
];

impl Field {
    /// The smallest and largest value written in this field (day-of-week: 7 is Sunday again).
    fn bounds(self) -> (u32, u32) {
        match self {
            Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::DayOfMonth => (1, 31),
            Field::Month => (1, 12),
            Field::DayOfWeek => (0, 7),
        }
    }

    /// The range as the messages show it.
    fn range(self) -> String {
        let (min, max) = self.bounds();
        match self {
            Field::DayOfWeek => format!("{min}-{max} (0 and 7 are both Sunday)"),
            _ => format!("{min}-{max}"),
        }
    }

    /// What a value of this field looks like, for "is not ..." messages.
    fn expected(self) -> &'static str {
        match self {
            Field::Minute => "a number 0-59",
            Field::Hour => "a number 0-23",
            Field::DayOfMonth => "a number 1-31",
            Field::Month => "a number 1-12 or a month name jan-dec",
            Field::DayOfWeek => "a number 0-7 (0 and 7 are Sunday) or a day name sun-sat",
        }
    }

    /// The period a step of this field repeats in.
    fn period(self) -> &'static str {
        match self {
            Field::Minute => "hour",
            Field::Hour => "day",
            Field::DayOfMonth => "month",
            Field::Month => "year",
            Field::DayOfWeek => "week",
        }
    }

    fn position(self) -> &'static str {
        match self {
            Field::Minute => "1st",
            Field::Hour => "2nd",
            Field::DayOfMonth => "3rd",
            Field::Month => "4th",
            Field::DayOfWeek => "5th",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
        })
    }
}

/// Why an expression was refused. Shown after `schedule.cron "<text>": ` by [`CronError`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CronProblem {
    #[error(
        "write 5 fields (minute hour day-of-month month day-of-week), e.g. \"0 2 * * *\" for 02:00 \
         every day"
    )]
    Empty,
    #[error(
        "has {count} field(s) but needs 5: minute hour day-of-month month day-of-week, e.g. \
         \"0 2 * * *\" for 02:00 every day"
    )]
    FieldCount { count: usize },
    #[error(
        "{word} is not a known shorthand: use @hourly, @daily (or @midnight), @weekly, @monthly, \
         @yearly (or @annually), or 5 fields such as \"0 2 * * *\""
    )]
    UnknownMacro { word: String },
    #[error(
        "@reboot is not supported: a backup schedule names times, e.g. \"0 2 * * *\" for 02:00 every \
         day"
    )]
    Reboot,
    #[error("{word} stands for all 5 fields and must be written alone, e.g. \"@daily\"")]
    MacroNotAlone { word: String },
    #[error(
        "{field} \"{text}\" has an empty item: remove the extra comma (and write no spaces inside a \
         field)"
    )]
    EmptyItem { field: Field, text: String },
    #[error(
        "{field} \"{item}\" is not valid: write a value, a range a-b, a step */n, a-b/n or a/n, or a \
         comma list of these"
    )]
    Malformed { field: Field, item: String },
    #[error("{field} \"{value}\" is not {}", .field.expected())]
    NotAValue { field: Field, value: String },
    #[error("{field} {value} is out of range {}", .field.range())]
    OutOfRange { field: Field, value: String },
    #[error(
        "{field} \"{name}\" is a {belongs} name: it belongs in the {belongs} field (the {} of 5)",
        .belongs.position()
    )]
    NameInWrongField {
        field: Field,
        name: String,
        belongs: Field,
    },
    #[error("{field} \"{item}\" has step 0: a step must be at least 1, e.g. */15")]
    ZeroStep { field: Field, item: String },
    #[error(
        "{field} \"{item}\" has step {step}, larger than the field: a step repeats within each {}, so \
         it must be 1-{max}",
        .field.period()
    )]
    StepTooLarge {
        field: Field,
        item: String,
        step: String,
        max: u32,
    },
    #[error(
        "{field} range \"{item}\" goes backwards: write the smaller value first; to wrap around, list \
         two ranges separated by a comma"
    )]
    Reversed { field: Field, item: String },
    #[error("never runs: {why}")]
    NeverRuns { why: String },
}

/// A refused expression: its text and the problem, shown as
/// `schedule.cron "0 25 * * *": hour 25 is out of range 0-23`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", message(.text, .problem))]
pub struct CronError {
    pub text: String,
    pub problem: CronProblem,
}

fn message(text: &str, problem: &CronProblem) -> String {
    match problem {
        CronProblem::Empty => format!("schedule.cron is empty: {problem}"),
        _ => format!("schedule.cron {}: {problem}", shown(text)),
    }
}

/// The expression quoted, cut short if it is long.
fn shown(text: &str) -> String {
    if text.chars().count() > 60 {
        let head: String = text.chars().take(57).collect();
        format!("{:?}", head + "...")
    } else {
        format!("{text:?}")
    }
}

// ---------------------------------------------------------------------------------------------------
// The expression
// ---------------------------------------------------------------------------------------------------

/// A parsed cron expression. It keeps the text it was parsed from (shown by `Display`).
///
/// Each field is a bit set: bit `v` is set when value `v` matches (day-of-week: bit 0 is Sunday, a 7
/// in the text sets bit 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cron {
    text: String,
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    /// The day-of-month field starts with `*` (Vixie cron's test for "unrestricted").
    days_star: bool,
    /// The day-of-week field starts with `*`.
    weekdays_star: bool,
}

impl Cron {
    /// Reads an expression: 5 fields or one `@` shorthand, surrounding spaces ignored.
    pub fn parse(text: &str) -> Result<Cron, CronError> {
        let fail = |problem| CronError {
            text: text.to_string(),
            problem,
        };
        let trimmed = text.trim();
        let words: Vec<&str> = trimmed.split_whitespace().collect();
        let Some(first) = words.first() else {
            return Err(fail(CronProblem::Empty));
        };
        let fields: Vec<&str> = if first.starts_with('@') {
            let word = first.to_ascii_lowercase();
            if word == "@reboot" {
                return Err(fail(CronProblem::Reboot));
            }
            let Some((_, expansion)) = MACROS.iter().find(|(name, _)| *name == word) else {
                return Err(fail(CronProblem::UnknownMacro {
                    word: first.to_string(),
                }));
            };
            if words.len() > 1 {
                return Err(fail(CronProblem::MacroNotAlone { word }));
            }
            expansion.split_whitespace().collect()
        } else {
            words
        };
        if fields.len() != 5 {
            return Err(fail(CronProblem::FieldCount {
                count: fields.len(),
            }));
        }
        let mut sets = [0u64; 5];
        for ((set, field), source) in sets.iter_mut().zip(FIELDS).zip(&fields) {
            *set = parse_field(field, source).map_err(fail)?;
        }
        let [minutes, hours, days, months, mut weekdays] = sets;
        // 7 is Sunday again.
        if weekdays & (1 << 7) != 0 {
            weekdays = (weekdays & !(1 << 7)) | 1;
        }
        let cron = Cron {
            text: trimmed.to_string(),
            minutes,
            hours,
            days,
            months,
            weekdays,
            days_star: fields[2].starts_with('*'),
            weekdays_star: fields[4].starts_with('*'),
        };
        cron.check_can_fire().map_err(fail)?;
        Ok(cron)
    }

    /// The text the expression was parsed from (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The next `n` start times strictly after `after`, in zone `tz`, earliest first. See the module
    /// documentation for the daylight-saving rules. Fewer than `n` only at the edge of the calendar
    /// `chrono` can represent or after 400 years of days.
    pub fn upcoming(&self, tz: Tz, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Tz>> {
        let mut found: Vec<DateTime<Utc>> = Vec::new();
        if n == 0 {
            return Vec::new();
        }
        // Start a day early: cheap, and safe against any zone whose changes cross midnight.
        let start = after.with_timezone(&tz).date_naive();
        let mut day = start.pred_opt().unwrap_or(start);
        for _ in 0..SEARCH_DAYS {
            if self.day_matches(day) {
                for hour in values(self.hours) {
                    for minute in values(self.minutes) {
                        let Some(local) = day.and_hms_opt(hour, minute, 0) else {
                            continue;
                        };
                        if let Some(at) = instant(tz, local) {
                            if at > after {
                                found.push(at);
                            }
                        }
                    }
                }
                found.sort_unstable();
                found.dedup();
                // A later local day never yields an earlier instant, so the first n are final.
                if found.len() >= n {
                    break;
                }
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        found.truncate(n);
        found.into_iter().map(|t| t.with_timezone(&tz)).collect()
    }

    /// The first start after `since` that came before `before`, if any: a start that was missed
    /// when nothing ran between `since` (the newest run) and now. The scheduler's catch-up asks it
    /// with `before` = the current minute (that one is the ordinary tick's).
    pub fn missed(
        &self,
        tz: Tz,
        since: DateTime<Utc>,
        before: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        self.upcoming(tz, since, 1)
            .first()
            .map(|t| t.with_timezone(&Utc))
            .filter(|t| *t < before)
    }

    /// Whether a run is due in the minute starting at `minute` (UTC, seconds = 0): exactly when the
    /// first of `upcoming(tz, minute - 1 minute, 1)` is `minute`. The server's scheduler calls this
    /// once a minute.
    pub fn due_at(&self, tz: Tz, minute: DateTime<Utc>) -> bool {
        let Some(before) = minute.checked_sub_signed(TimeDelta::minutes(1)) else {
            return false;
        };
        self.upcoming(tz, before, 1)
            .first()
            .is_some_and(|next| next.with_timezone(&Utc) == minute)
    }

    /// The expression in English: "every day at 02:00", "every Sunday at 03:00", "on day 1 of every
    /// month at 04:00", "every 6 hours, at minute 0 (00:00, 06:00, 12:00, 18:00)", "every minute",
    /// and for anything else the minutes, hours, days, months and weekdays spelled out.
    pub fn describe(&self) -> String {
        let minutes = values(self.minutes);
        let hours = values(self.hours);
        let day = self.describe_days();
        let all_minutes = minutes.len() == 60;
        let all_hours = hours.len() == 24;

        // A rhythm within the day: "every 15 minutes", "every hour, at minute 30", ...
        let rhythm = if all_minutes {
            Some(if all_hours {
                "every minute".to_string()
            } else {
                format!("every minute {}", hour_windows(&hours))
            })
        } else if let Some(step) = even_step(&minutes, 60) {
            Some(if all_hours {
                format!("every {step} minutes")
            } else {
                format!("every {step} minutes {}", hour_windows(&hours))
            })
        } else if let [minute] = minutes[..] {
            if all_hours {
                Some(format!("every hour, at minute {minute}"))
            } else {
                even_step(&hours, 24).map(|step| {
                    let times: Vec<String> = hours.iter().map(|&h| clock(h, minute)).collect();
                    format!(
                        "every {step} hours, at minute {minute} ({})",
                        times.join(", ")
                    )
                })
            }
        } else {
            None
        };
        if let Some(rhythm) = rhythm {
            return match day {
                Some(day) => format!("{rhythm}, {day}"),
                None => rhythm,
            };
        }

        // A few fixed times of day: "every day at 02:00".
        if minutes.len() * hours.len() <= 6 {
            let times: Vec<String> = hours
                .iter()
                .flat_map(|&h| minutes.iter().map(move |&m| clock(h, m)))
                .collect();
            let day = day.unwrap_or_else(|| "every day".to_string());
            return format!("{day} at {}", join(&times, "and"));
        }

        // Anything else, spelled out.
        let minute_part = match minutes.len() {
            1 => format!("at minute {}", list_numbers(&minutes, "and")),
            _ => format!("at minutes {}", list_numbers(&minutes, "and")),
        };
        let hour_part = if all_hours {
            "every hour".to_string()
        } else if hours.len() == 1 {
            format!("hour {}", list_numbers(&hours, "and"))
        } else {
            format!("hours {}", list_numbers(&hours, "and"))
        };
        let text = format!("{minute_part} past {hour_part}");
        match day {
            Some(day) => format!("{text}, {day}"),
            None => text,
        }
    }

    /// The days the expression runs on, or `None` for every day of every month.
    fn describe_days(&self) -> Option<String> {
        let months = values(self.months);
        let months = (months.len() < 12).then(|| list_months(&months));
        let all_days = values(self.days).len() == 31;
        let all_weekdays = self.weekdays == 0x7f;
        let both_must_match = self.days_star || self.weekdays_star;
        let (by_day, by_weekday) = if both_must_match {
            (!all_days, !all_weekdays)
        } else if all_days || all_weekdays {
            // Either may match and one matches every day.
            (false, false)
        } else {
            (true, true)
        };
        let days = values(self.days);
        let weekdays = values(self.weekdays);
        let phrase = match (by_day, by_weekday) {
            (false, false) => return months.map(|m| format!("every day in {m}")),
            (false, true) => {
                let mut p = format!("every {}", list_weekdays(&weekdays, "and"));
                if let Some(m) = &months {
                    p += &format!(" in {m}");
                }
                p
            }
            (true, false) => format!(
                "on {} of {}",
                list_days(&days, "and"),
                months.as_deref().unwrap_or("every month")
            ),
            (true, true) if both_must_match => {
                let mut p = format!(
                    "every {} that is day {} of the month",
                    list_weekdays(&weekdays, "or"),
                    list_numbers(&days, "or")
                );
                if let Some(m) = &months {
                    p += &format!(", in {m}");
                }
                p
            }
            (true, true) => match &months {
                Some(m) => format!(
                    "in {m}, on {} and every {}",
                    list_days(&days, "and"),
                    list_weekdays(&weekdays, "and")
                ),
                None => format!(
                    "on {} of every month and every {}",
                    list_days(&days, "and"),
                    list_weekdays(&weekdays, "and")
                ),
            },
        };
        Some(phrase)
    }

    /// Whether the expression runs on this local date (any time of it).
    fn day_matches(&self, date: NaiveDate) -> bool {
        if !has(self.months, date.month()) {
            return false;
        }
        let by_day = has(self.days, date.day());
        let by_weekday = has(self.weekdays, date.weekday().num_days_from_sunday());
        if self.days_star || self.weekdays_star {
            by_day && by_weekday
        } else {
            by_day || by_weekday
        }
    }

    /// Refuses an expression no date satisfies. With the "either" rule the weekdays alone give days in
    /// every month; with "both", a month and day that exist together suffice, because each date falls
    /// on every weekday in some year (February 29 too, within 400 years).
    fn check_can_fire(&self) -> Result<(), CronProblem> {
        if !(self.days_star || self.weekdays_star) {
            return Ok(());
        }
        let months = values(self.months);
        let days = values(self.days);
        let possible = months
            .iter()
            .any(|&m| days.iter().any(|&d| d <= MONTH_DAYS[m as usize - 1]));
        if possible {
            return Ok(());
        }
        let names: Vec<String> = months
            .iter()
            .map(|&m| MONTH_NAMES[m as usize - 1].to_string())
            .collect();
        let verb = if months.len() == 1 { "has" } else { "have" };
        Err(CronProblem::NeverRuns {
            why: format!(
                "{} {verb} no day {}",
                join(&names, "and"),
                list_numbers(&days, "or")
            ),
        })
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The instant a local time names: itself; the earlier of two in a repeated hour; the end of the gap
/// for a time the clock skips.
fn instant(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let exact = |t: NaiveDateTime| {
        tz.from_local_datetime(&t)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    };
    exact(local).or_else(|| {
        (1..=GAP_SEARCH_MINUTES).find_map(|k| {
            local
                .checked_add_signed(TimeDelta::minutes(k))
                .and_then(exact)
        })
    })
}

// ---------------------------------------------------------------------------------------------------
// Parsing one field
// ---------------------------------------------------------------------------------------------------

fn parse_field(field: Field, text: &str) -> Result<u64, CronProblem> {
    let (min, max) = field.bounds();
    let mut set = 0u64;
    for item in text.split(',') {
        if item.is_empty() {
            return Err(CronProblem::EmptyItem {
                field,
                text: text.to_string(),
            });
        }
        let malformed = || CronProblem::Malformed {
            field,
            item: item.to_string(),
        };
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(step)),
            None => (item, None),
        };
        let step = match step {
            None => None,
            Some(step) => {
                if step.is_empty() || !step.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(malformed());
                }
                let span = max - min + 1;
                match step.parse::<u32>() {
                    Ok(0) => {
                        return Err(CronProblem::ZeroStep {
                            field,
                            item: item.to_string(),
                        })
                    }
                    Ok(n) if n <= span => Some(n),
                    _ => {
                        return Err(CronProblem::StepTooLarge {
                            field,
                            item: item.to_string(),
                            step: step.to_string(),
                            max: span,
                        })
                    }
                }
            }
        };
        let (low, high) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            let (a, b) = (value(field, a, item)?, value(field, b, item)?);
            if a > b {
                return Err(CronProblem::Reversed {
                    field,
                    item: item.to_string(),
                });
            }
            (a, b)
        } else {
            let a = value(field, range, item)?;
            // `a/n` runs from a to the field's last value.
            (a, if step.is_some() { max } else { a })
        };
        let step = step.unwrap_or(1);
        let mut v = low;
        while v <= high {
            set |= 1 << v;
            v += step;
        }
    }
    Ok(set)
}

/// One value of a field: a number in range, or a name where names belong.
fn value(field: Field, token: &str, item: &str) -> Result<u32, CronProblem> {
    let (min, max) = field.bounds();
    if token.is_empty() || token.contains(['*', '-', '/']) {
        return Err(CronProblem::Malformed {
            field,
            item: item.to_string(),
        });
    }
    if token.bytes().all(|b| b.is_ascii_digit()) {
        return match token.parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(CronProblem::OutOfRange {
                field,
                value: token.to_string(),
            }),
        };
    }
    let lower = token.to_ascii_lowercase();
    let named = |names: &[&str]| {
        names.iter().position(|name| {
            let name = name.to_ascii_lowercase();
            lower == name || (lower.len() == 3 && name.starts_with(&lower))
        })
    };
    let month = named(&MONTH_NAMES);
    let weekday = named(&DAY_NAMES);
    match (field, month, weekday) {
        (Field::Month, Some(m), _) => Ok(m as u32 + 1),
        (Field::DayOfWeek, _, Some(d)) => Ok(d as u32),
        (_, Some(_), _) if field != Field::Month => Err(CronProblem::NameInWrongField {
            field,
            name: token.to_string(),
            belongs: Field::Month,
        }),
        (_, _, Some(_)) if field != Field::DayOfWeek => Err(CronProblem::NameInWrongField {
            field,
            name: token.to_string(),
            belongs: Field::DayOfWeek,
        }),
        _ => Err(CronProblem::NotAValue {
            field,
            value: token.to_string(),
        }),
    }
}

// ---------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------

fn has(set: u64, v: u32) -> bool {
    v < 64 && set & (1 << v) != 0
}

/// The values in a bit set, smallest first.
fn values(set: u64) -> Vec<u32> {
    (0..64).filter(|&v| has(set, v)).collect()
}

/// `Some(n)` when the values are 0, n, 2n, ... covering `span` evenly with n > 1 ("every n").
fn even_step(values: &[u32], span: u32) -> Option<u32> {
    let step = *values.get(1)?;
    let even = step > 1
        && span.is_multiple_of(step)
        && values.len() as u32 == span / step
        && values
            .iter()
            .enumerate()
            .all(|(i, &v)| v == i as u32 * step);
    even.then_some(step)
}

fn clock(hour: u32, minute: u32) -> String {
    format!("{hour:02}:{minute:02}")
}

/// "a", "a and b", "a, b and c" (or "or").
fn join(items: &[String], word: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {word} {last}", init.join(", ")),
    }
}

/// Runs of consecutive values: [1,2,3,5] → [(1,3),(5,5)].
fn runs(values: &[u32]) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &v in values {
        match out.last_mut() {
            Some((_, end)) if *end + 1 == v => *end = v,
            _ => out.push((v, v)),
        }
    }
    out
}

/// Values as words, runs of three or more as "a to b": "1 to 5 and 7".
fn list_with(values: &[u32], word: &str, name: impl Fn(u32) -> String) -> String {
    let mut items = Vec::new();
    for (a, b) in runs(values) {
        if b >= a + 2 {
            items.push(format!("{} to {}", name(a), name(b)));
        } else {
            items.extend((a..=b).map(&name));
        }
    }
    join(&items, word)
}

fn list_numbers(values: &[u32], word: &str) -> String {
    list_with(values, word, |v| v.to_string())
}

fn list_days(days: &[u32], word: &str) -> String {
    let noun = if days.len() == 1 { "day" } else { "days" };
    format!("{noun} {}", list_numbers(days, word))
}

fn list_months(months: &[u32]) -> String {
    list_with(months, "and", |m| MONTH_NAMES[m as usize - 1].to_string())
}

/// Weekdays Monday first, so Saturday and Sunday read as the weekend they are.
fn list_weekdays(weekdays: &[u32], word: &str) -> String {
    // Position in a Monday-first week: Monday 0 ... Sunday 6.
    let mut positions: Vec<u32> = weekdays.iter().map(|&d| (d + 6) % 7).collect();
    positions.sort_unstable();
    list_with(&positions, word, |p| {
        DAY_NAMES[(p as usize + 1) % 7].to_string()
    })
}

/// "between 09:00 and 17:59" for each run of hours.
fn hour_windows(hours: &[u32]) -> String {
    let windows: Vec<String> = runs(hours)
        .into_iter()
        .map(|(a, b)| format!("between {} and {}", clock(a, 0), clock(b, 59)))
        .collect();
    join(&windows, "and")
}

// ---------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Amsterdam;

    fn cron(text: &str) -> Cron {
        Cron::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn err(text: &str) -> String {
        match Cron::parse(text) {
            Ok(c) => panic!("{text} was accepted: {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .with_timezone(&Utc)
    }

    /// `upcoming` as RFC 3339 texts in the zone's own offset.
    fn next(text: &str, tz: Tz, after: &str, n: usize) -> Vec<String> {
        cron(text)
            .upcoming(tz, utc(after), n)
            .iter()
            .map(|t| t.to_rfc3339())
            .collect()
    }

    fn bits(vs: &[u32]) -> u64 {
        vs.iter().fold(0, |set, &v| set | 1 << v)
    }

    #[test]
    fn every_form_of_field() {
        let c = cron("  5,10-12,*/20,50/4 */6 1-9/4 jan,MAR-may,December mon-FRI,sunday ");
        assert_eq!(c.minutes, bits(&[0, 5, 10, 11, 12, 20, 40, 50, 54, 58]));
        assert_eq!(c.hours, bits(&[0, 6, 12, 18]));
        assert_eq!(c.days, bits(&[1, 5, 9]));
        assert_eq!(c.months, bits(&[1, 3, 4, 5, 12]));
        assert_eq!(c.weekdays, bits(&[0, 1, 2, 3, 4, 5]));
        assert_eq!(
            c.as_str(),
            "5,10-12,*/20,50/4 */6 1-9/4 jan,MAR-may,December mon-FRI,sunday"
        );
        let c = cron("* * * * *");
        assert_eq!(
            (c.minutes, c.hours, c.days, c.months, c.weekdays),
            (
                (1 << 60) - 1,
                (1 << 24) - 1,
                bits(&(1..=31).collect::<Vec<_>>()),
                0x1ffe,
                0x7f
            )
        );
        assert!(c.days_star && c.weekdays_star);
        // A step that only reaches the first value, and a tab between fields.
        let c = cron("*/60\t0 */31 */12 */7");
        assert_eq!((c.minutes, c.days, c.months, c.weekdays), (1, 2, 2, 1));
        assert_eq!(c.to_string(), "*/60\t0 */31 */12 */7");
    }

    #[test]
    fn sunday_is_0_and_7() {
        for text in [
            "0 3 * * 0",
            "0 3 * * 7",
            "0 3 * * sun",
            "0 3 * * SUN",
            "0 3 * * 7-7",
        ] {
            assert_eq!(cron(text).weekdays, 1, "{text}");
        }
        assert_eq!(cron("0 3 * * 5-7").weekdays, bits(&[0, 5, 6]));
        assert_eq!(cron("0 3 * * 0-7").weekdays, 0x7f);
        assert_eq!(cron("0 3 * * 6/1").weekdays, bits(&[0, 6]));
        assert_eq!(
            next("0 3 * * 7", chrono_tz::UTC, "2026-06-01T00:00:00Z", 2),
            ["2026-06-07T03:00:00+00:00", "2026-06-14T03:00:00+00:00"]
        );
    }

    #[test]
    fn shorthands() {
        for (word, fields) in MACROS {
            let c = cron(word);
            let expanded = cron(fields);
            assert_eq!(
                (c.minutes, c.hours, c.days, c.months, c.weekdays),
                (
                    expanded.minutes,
                    expanded.hours,
                    expanded.days,
                    expanded.months,
                    expanded.weekdays
                ),
                "{word}"
            );
            assert_eq!(c.as_str(), word);
        }
        assert_eq!(cron(" @Daily ").describe(), "every day at 00:00");
        assert_eq!(cron("@weekly").describe(), "every Sunday at 00:00");
        assert_eq!(cron("@yearly").describe(), "on day 1 of January at 00:00");
        assert_eq!(cron("@hourly").describe(), "every hour, at minute 0");
    }

    #[test]
    fn error_messages() {
        let cases = [
            ("0 25 * * *", "schedule.cron \"0 25 * * *\": hour 25 is out of range 0-23"),
            ("", "schedule.cron is empty: write 5 fields (minute hour day-of-month month day-of-week), e.g. \"0 2 * * *\" for 02:00 every day"),
            ("   ", "schedule.cron is empty: write 5 fields"),
            ("0 2 * *", "schedule.cron \"0 2 * *\": has 4 field(s) but needs 5: minute hour day-of-month month day-of-week, e.g. \"0 2 * * *\" for 02:00 every day"),
            ("0 0 2 * * *", "has 6 field(s) but needs 5"),
            ("60 * * * *", "minute 60 is out of range 0-59"),
            ("0 0 0 * *", "day-of-month 0 is out of range 1-31"),
            ("0 0 32 * *", "day-of-month 32 is out of range 1-31"),
            ("0 0 * 13 *", "month 13 is out of range 1-12"),
            ("0 0 * 0 *", "month 0 is out of range 1-12"),
            ("0 0 * * 8", "day-of-week 8 is out of range 0-7 (0 and 7 are both Sunday)"),
            ("99999999999 * * * *", "minute 99999999999 is out of range 0-59"),
            ("*/0 * * * *", "minute \"*/0\" has step 0: a step must be at least 1, e.g. */15"),
            ("0 1-5/0 * * *", "hour \"1-5/0\" has step 0"),
            ("*/90 * * * *", "minute \"*/90\" has step 90, larger than the field: a step repeats within each hour, so it must be 1-60"),
            ("0 */25 * * *", "hour \"*/25\" has step 25, larger than the field: a step repeats within each day, so it must be 1-24"),
            ("0 5-1 * * *", "hour range \"5-1\" goes backwards: write the smaller value first; to wrap around, list two ranges separated by a comma"),
            ("0 0 * * fri-mon", "day-of-week range \"fri-mon\" goes backwards"),
            ("0 0 * dec-jan *", "month range \"dec-jan\" goes backwards"),
            ("0 0 * * jan", "day-of-week \"jan\" is a month name: it belongs in the month field (the 4th of 5)"),
            ("0 0 * mon *", "month \"mon\" is a day-of-week name: it belongs in the day-of-week field (the 5th of 5)"),
            ("jan 0 * * *", "minute \"jan\" is a month name: it belongs in the month field (the 4th of 5)"),
            ("0 0 * foo *", "month \"foo\" is not a number 1-12 or a month name jan-dec"),
            ("0 0 * * xyz", "day-of-week \"xyz\" is not a number 0-7 (0 and 7 are Sunday) or a day name sun-sat"),
            ("0 2.5 * * *", "hour \"2.5\" is not a number 0-23"),
            ("0 1-2-3 * * *", "hour \"1-2-3\" is not valid: write a value, a range a-b, a step */n, a-b/n or a/n, or a comma list of these"),
            ("0 1- * * *", "hour \"1-\" is not valid"),
            ("*/ * * * *", "minute \"*/\" is not valid"),
            ("*/x * * * *", "minute \"*/x\" is not valid"),
            ("1/2/3 * * * *", "minute \"1/2/3\" is not valid"),
            ("0 0 1,,2 * *", "day-of-month \"1,,2\" has an empty item: remove the extra comma"),
            ("0, 5 * * *", "minute \"0,\" has an empty item: remove the extra comma (and write no spaces inside a field)"),
            ("0 0 30 2 *", "schedule.cron \"0 0 30 2 *\": never runs: February has no day 30"),
            ("0 0 31 4 *", "never runs: April has no day 31"),
            ("0 0 31 4,jun,9 *", "never runs: April, June and September have no day 31"),
            ("0 0 30-31 feb *", "never runs: February has no day 30 or 31"),
            ("0 0 30 2 */7", "never runs: February has no day 30"),
            ("@reboot", "@reboot is not supported"),
            ("@sometimes", "schedule.cron \"@sometimes\": @sometimes is not a known shorthand: use @hourly, @daily (or @midnight), @weekly, @monthly, @yearly (or @annually), or 5 fields such as \"0 2 * * *\""),
            ("@daily 0", "@daily stands for all 5 fields and must be written alone"),
        ];
        for (text, expected) in cases {
            let e = err(text);
            assert!(e.contains(expected), "{text:?}: {e}");
        }
        // Long text is cut short in the message.
        let long = format!("{} * * * *", "1,".repeat(40) + "99");
        assert!(
            err(&long).starts_with("schedule.cron \"1,1,"),
            "{}",
            err(&long)
        );
        assert!(err(&long).contains("...\": minute 99 is out of range"));
        // Both day fields restricted: the weekdays alone make it possible.
        cron("0 0 30 2 1");
        cron("0 0 29 2 *");
    }

    #[test]
    fn day_of_month_or_day_of_week() {
        let after = "2026-05-31T12:00:00Z";
        // 1 June 2026 is a Monday, 1 July a Wednesday.
        assert_eq!(
            next("0 0 1 * 1", chrono_tz::UTC, after, 6),
            [
                "2026-06-01T00:00:00+00:00",
                "2026-06-08T00:00:00+00:00",
                "2026-06-15T00:00:00+00:00",
                "2026-06-22T00:00:00+00:00",
                "2026-06-29T00:00:00+00:00",
                "2026-07-01T00:00:00+00:00",
            ]
        );
        assert_eq!(
            next("0 0 1 * *", chrono_tz::UTC, after, 2),
            ["2026-06-01T00:00:00+00:00", "2026-07-01T00:00:00+00:00"]
        );
        assert_eq!(
            next("0 0 * * 1", chrono_tz::UTC, after, 2),
            ["2026-06-01T00:00:00+00:00", "2026-06-08T00:00:00+00:00"]
        );
        // A field starting with * makes both count (Vixie cron): odd days that are Mondays.
        assert_eq!(
            next("0 0 */2 * 1", chrono_tz::UTC, after, 4),
            [
                "2026-06-01T00:00:00+00:00",
                "2026-06-15T00:00:00+00:00",
                "2026-06-29T00:00:00+00:00",
                "2026-07-13T00:00:00+00:00",
            ]
        );
    }

    #[test]
    fn presets_around_the_2026_changes_in_amsterdam() {
        for (_, text) in PRESETS {
            cron(text);
        }
        // Spring: 29 March, 02:00 CET -> 03:00 CEST. 02:00 does not exist: it runs at 03:00 CEST.
        assert_eq!(
            next("0 2 * * *", Amsterdam, "2026-03-27T12:00:00Z", 3),
            [
                "2026-03-28T02:00:00+01:00",
                "2026-03-29T03:00:00+02:00",
                "2026-03-30T02:00:00+02:00",
            ]
        );
        let utc_times: Vec<DateTime<Utc>> = cron("0 2 * * *")
            .upcoming(Amsterdam, utc("2026-03-28T12:00:00Z"), 1)
            .iter()
            .map(|t| t.with_timezone(&Utc))
            .collect();
        assert_eq!(utc_times, [utc("2026-03-29T01:00:00Z")]);
        // Autumn: 25 October, 03:00 CEST -> 02:00 CET. 02:00 and 02:30 happen twice: once, the first.
        assert_eq!(
            next("0 2 * * *", Amsterdam, "2026-10-23T12:00:00Z", 3),
            [
                "2026-10-24T02:00:00+02:00",
                "2026-10-25T02:00:00+02:00",
                "2026-10-26T02:00:00+01:00",
            ]
        );
        assert_eq!(
            next("30 2 * * *", Amsterdam, "2026-10-24T12:00:00Z", 2),
            ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]
        );
        // Asked from inside the repeated hour's second pass, the 02:30 of that day is already gone.
        assert_eq!(
            next("30 2 * * *", Amsterdam, "2026-10-25T01:10:00Z", 1),
            ["2026-10-26T02:30:00+01:00"]
        );
        // Weekly: both changes are on a Sunday; 03:00 exists once on each.
        assert_eq!(
            next("0 3 * * 0", Amsterdam, "2026-03-21T00:00:00Z", 2),
            ["2026-03-22T03:00:00+01:00", "2026-03-29T03:00:00+02:00"]
        );
        assert_eq!(
            next("0 3 * * 0", Amsterdam, "2026-10-18T12:00:00Z", 2),
            ["2026-10-25T03:00:00+01:00", "2026-11-01T03:00:00+01:00"]
        );
        // Monthly.
        assert_eq!(
            next("0 4 1 * *", Amsterdam, "2026-02-15T00:00:00Z", 3),
            [
                "2026-03-01T04:00:00+01:00",
                "2026-04-01T04:00:00+02:00",
                "2026-05-01T04:00:00+02:00",
            ]
        );
        assert_eq!(
            next("0 4 1 * *", Amsterdam, "2026-10-15T00:00:00Z", 1),
            ["2026-11-01T04:00:00+01:00"]
        );
        // Every 6 hours: the UTC distances stretch and shrink with the clock, the local times do not.
        assert_eq!(
            next("0 */6 * * *", Amsterdam, "2026-03-28T12:00:00Z", 4),
            [
                "2026-03-28T18:00:00+01:00",
                "2026-03-29T00:00:00+01:00",
                "2026-03-29T06:00:00+02:00",
                "2026-03-29T12:00:00+02:00",
            ]
        );
        assert_eq!(
            next("0 */6 * * *", Amsterdam, "2026-10-24T12:00:00Z", 3),
            [
                "2026-10-24T18:00:00+02:00",
                "2026-10-25T00:00:00+02:00",
                "2026-10-25T06:00:00+01:00",
            ]
        );
    }

    #[test]
    fn every_15_minutes_across_the_changes() {
        let as_utc = |text: &str, after: &str, n| -> Vec<String> {
            cron(text)
                .upcoming(Amsterdam, utc(after), n)
                .iter()
                .map(|t| t.with_timezone(&Utc).format("%H:%M").to_string())
                .collect()
        };
        // Autumn: the repeated hour runs once (its first pass), then a 75-minute pause in UTC.
        assert_eq!(
            as_utc("*/15 * * * *", "2026-10-24T23:30:00Z", 8),
            ["23:45", "00:00", "00:15", "00:30", "00:45", "02:00", "02:15", "02:30"]
        );
        // Spring: the gap's minutes all land on 03:00 CEST, which also matches by itself: one run.
        assert_eq!(
            as_utc("*/15 * * * *", "2026-03-29T00:30:00Z", 4),
            ["00:45", "01:00", "01:15", "01:30"]
        );
        // A minute that only exists in the gap runs when the clock jumps.
        assert_eq!(
            as_utc("30 * * * *", "2026-03-29T00:00:00Z", 3),
            ["00:30", "01:00", "01:30"]
        );
    }

    #[test]
    fn due_at_agrees_with_upcoming() {
        let windows = [
            ("2026-03-28T00:00:00Z", "2026-03-30T00:00:00Z"),
            ("2026-10-24T00:00:00Z", "2026-10-26T00:00:00Z"),
            ("2026-03-31T23:00:00Z", "2026-04-01T03:00:00Z"),
        ];
        let mut texts: Vec<&str> = PRESETS.iter().map(|(_, t)| *t).collect();
        texts.extend(["*/15 * * * *", "30 2 * * *", "30 * * * *"]);
        for text in texts {
            let c = cron(text);
            let mut fired = 0;
            for (from, to) in windows {
                let (from, to) = (utc(from), utc(to));
                let expected: Vec<DateTime<Utc>> = c
                    .upcoming(Amsterdam, from - TimeDelta::minutes(1), 500)
                    .iter()
                    .map(|t| t.with_timezone(&Utc))
                    .filter(|t| *t < to)
                    .collect();
                let mut due = Vec::new();
                let mut minute = from;
                while minute < to {
                    if c.due_at(Amsterdam, minute) {
                        due.push(minute);
                    }
                    minute += TimeDelta::minutes(1);
                }
                assert_eq!(due, expected, "{text} from {from}");
                fired += due.len();
            }
            assert!(fired > 0, "{text}");
        }
        // Not on a minute boundary: never due.
        assert!(!cron("* * * * *").due_at(chrono_tz::UTC, utc("2026-01-01T00:00:30Z")));
    }

    #[test]
    fn upcoming_is_strictly_after_and_bounded() {
        assert_eq!(
            next("0 2 * * *", chrono_tz::UTC, "2026-01-01T02:00:00Z", 1),
            ["2026-01-02T02:00:00+00:00"]
        );
        assert_eq!(
            next("0 2 * * *", chrono_tz::UTC, "2026-01-01T01:59:59Z", 1),
            ["2026-01-01T02:00:00+00:00"]
        );
        assert!(cron("0 2 * * *")
            .upcoming(Amsterdam, utc("2026-01-01T00:00:00Z"), 0)
            .is_empty());
        // At the end of chrono's calendar the walk stops instead of failing.
        let end = NaiveDate::MAX
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or_else(|| panic!("the last day"));
        assert!(cron("0 0 1 1 *")
            .upcoming(chrono_tz::UTC, end, 3)
            .is_empty());
        assert_eq!(
            cron("* * * * *")
                .upcoming(Amsterdam, utc("2026-01-01T00:00:00Z"), 3)
                .len(),
            3
        );
    }

    #[test]
    fn february_29_waits_for_a_leap_year() {
        assert_eq!(
            next("0 0 29 2 *", chrono_tz::UTC, "2026-01-01T00:00:00Z", 2),
            ["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"]
        );
        // 2100 is not a leap year: eight years to the next one.
        assert_eq!(
            next("30 1 29 feb *", Amsterdam, "2096-03-01T00:00:00Z", 1),
            ["2104-02-29T01:30:00+01:00"]
        );
        // The 29th of February that is a Sunday (a day-of-week starting with * makes both count):
        // 28 years apart.
        assert_eq!(
            next("0 0 29 2 */7", chrono_tz::UTC, "2032-03-01T00:00:00Z", 2),
            ["2060-02-29T00:00:00+00:00", "2088-02-29T00:00:00+00:00"]
        );
    }

    #[test]
    fn descriptions() {
        let cases = [
            ("0 2 * * *", "every day at 02:00"),
            ("0 3 * * 0", "every Sunday at 03:00"),
            ("0 4 1 * *", "on day 1 of every month at 04:00"),
            ("0 */6 * * *", "every 6 hours, at minute 0 (00:00, 06:00, 12:00, 18:00)"),
            ("* * * * *", "every minute"),
            ("*/15 * * * *", "every 15 minutes"),
            ("30 * * * *", "every hour, at minute 30"),
            ("0 9 * * 1-5", "every Monday to Friday at 09:00"),
            ("0 10 * * sat,sun", "every Saturday and Sunday at 10:00"),
            ("0 9 * * mon,wed,fri", "every Monday, Wednesday and Friday at 09:00"),
            ("0 0 1 * 1", "on day 1 of every month and every Monday at 00:00"),
            ("0 0 1,15 * *", "on days 1 and 15 of every month at 00:00"),
            ("0 0 1 1,7 *", "on day 1 of January and July at 00:00"),
            ("5,35 8,20 * 6-8 *", "every day in June to August at 08:05, 08:35, 20:05 and 20:35"),
            ("*/15 9-17 * * 1-5", "every 15 minutes between 09:00 and 17:59, every Monday to Friday"),
            ("* 2 * * *", "every minute between 02:00 and 02:59"),
            ("0 */6 * * 0", "every 6 hours, at minute 0 (00:00, 06:00, 12:00, 18:00), every Sunday"),
            ("5-59/10 * * * *", "at minutes 5, 15, 25, 35, 45 and 55 past every hour"),
            ("0 0-12 1-7 * *", "at minute 0 past hours 0 to 12, on days 1 to 7 of every month"),
            ("0 0 */2 * 1", "every Monday that is day 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29 or 31 of the month at 00:00"),
            ("0 0 1 jan 1", "in January, on day 1 and every Monday at 00:00"),
            ("0 0 1 * 0-6", "every day at 00:00"),
            ("0 0 * jan sun", "every Sunday in January at 00:00"),
        ];
        for (text, expected) in cases {
            assert_eq!(cron(text).describe(), expected, "{text}");
        }
    }
}
