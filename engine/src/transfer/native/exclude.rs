//! rsync-style exclude patterns for the native snapshotter: a task's `excludes` (SPEC §2) must
//! leave out exactly what `rsync --exclude=PATTERN … src/ dst/` leaves out, so that switching
//! between the rsync and the native transfer never changes what a snapshot contains.
//!
//! [`ExcludeSet`] is a port of rsync's own matcher (`exclude.c`: `parse_rule_tok`, `add_rule`,
//! `rule_matches`; `lib/wildmatch.c`), restricted to what `--exclude` accepts: `*`, `**`, `?`,
//! classes, `\` escapes (only in patterns with a wildcard, as rsync), a trailing `/` for directories
//! only, a leading `/` anchored at the transfer root, inner slashes, `dir/***`, the `- `/`+ `
//! prefixes (the first matching rule wins) and a lone `!` that clears the rules before it.
//!
//! Invariants: where rsync rejects a pattern (`- ` or `+ ` alone, a pattern of
//! `MAXPATHLEN` bytes or more) it is an error here; where rsync accepts a malformed wildcard (an
//! unterminated `[`) it matches nothing here too; an empty pattern is ignored. Matching is on raw
//! bytes, case-sensitive, with ASCII character classes. The tests below and
//! `engine/tests/native_vs_rsync.rs` check it against the rsync binary; for owners: rsync(1).

/// rsync discards patterns of `MAXPATHLEN` bytes or more.
const MAX_PATTERN_LEN: usize = 4096;

/// A set of exclude patterns, matched as rsync `--exclude` matches them.
#[derive(Clone, Debug, Default)]
pub struct ExcludeSet {
    /// The rules in order: the first that matches decides.
    rules: Vec<Rule>,
}

impl ExcludeSet {
    /// Compiles the patterns of a task's `excludes`.
    pub fn new(patterns: &[String]) -> Result<Self, String> {
        let mut rules = Vec::new();
        for raw in patterns {
            let bytes = raw.as_bytes();
            if bytes.contains(&0) {
                return Err(format!("exclude pattern {raw:?} contains a NUL character"));
            }
            // `--exclude` reads the old-style prefixes: "- " and "+ ", and "!" to clear the list.
            let (include, pattern) = match bytes {
                [] => continue,
                [b'!'] => {
                    rules.clear();
                    continue;
                }
                [b'-', b' ', rest @ ..] => (false, rest),
                [b'+', b' ', rest @ ..] => (true, rest),
                _ => (false, bytes),
            };
            if pattern.is_empty() {
                return Err(format!(
                    "exclude pattern {raw:?} has nothing after its \"- \" or \"+ \" prefix"
                ));
            }
            if pattern.len() >= MAX_PATTERN_LEN {
                return Err(format!(
                    "exclude pattern {:?}… is too long ({} bytes; rsync accepts fewer than {MAX_PATTERN_LEN})",
                    raw.chars().take(40).collect::<String>(),
                    pattern.len()
                ));
            }
            rules.push(Rule::new(pattern, include));
        }
        Ok(Self { rules })
    }

    /// Whether the entry at `rel` (relative to the transfer root, components joined by `/`, no
    /// leading `/`; raw bytes, names need not be UTF-8) is excluded. `is_dir` for directories.
    pub fn is_excluded(&self, rel: &[u8], is_dir: bool) -> bool {
        if rel.is_empty() {
            return false;
        }
        let last = match rel.iter().rposition(|&b| b == b'/') {
            Some(i) => &rel[i + 1..],
            None => rel,
        };
        self.rules
            .iter()
            .find(|rule| rule.matches(rel, last, is_dir))
            .is_some_and(|rule| !rule.include)
    }
}

/// One compiled pattern: rsync's `filter_rule` with the flags `add_rule` derives.
#[derive(Clone, Debug)]
struct Rule {
    /// The pattern without its trailing `/` and without the anchoring leading `/`.
    pattern: Box<[u8]>,
    /// `+ PAT`: a match keeps the entry.
    include: bool,
    /// A leading `/`: match from the transfer root.
    anchored: bool,
    /// A trailing `/`: directories only.
    dir_only: bool,
    /// The number of `/` in the pattern (the anchoring one included, the trailing one not).
    slash_cnt: usize,
    /// Contains `*`, `?` or `[`: matched by [`dowild`], else compared as plain text.
    wild: bool,
    /// Contains `**`.
    wild2: bool,
    /// Starts with `**`.
    wild2_prefix: bool,
    /// Contains `**` and ends with `***`.
    wild3_suffix: bool,
}

impl Rule {
    fn new(pattern: &[u8], include: bool) -> Self {
        let mut pattern = pattern;
        let mut dir_only = false;
        if pattern.len() > 1 && pattern.ends_with(b"/") {
            pattern = &pattern[..pattern.len() - 1];
            dir_only = true;
        }
        let slash_cnt = pattern.iter().filter(|&&b| b == b'/').count();
        let wild = pattern.iter().any(|b| matches!(b, b'*' | b'[' | b'?'));
        let star2 = pattern.windows(2).position(|w| w == b"**");
        let wild2 = wild && star2.is_some();
        let wild2_prefix = wild && star2 == Some(0);
        let wild3_suffix = wild2 && pattern.ends_with(b"***");
        let anchored = pattern.first() == Some(&b'/');
        let pattern = if anchored { &pattern[1..] } else { pattern };
        Self {
            pattern: pattern.into(),
            include,
            anchored,
            dir_only,
            slash_cnt,
            wild,
            wild2,
            wild2_prefix,
            wild3_suffix,
        }
    }

    /// rsync's `rule_matches` for a name relative to the transfer root; `last` is its final
    /// component.
    fn matches(&self, rel: &[u8], last: &[u8], is_dir: bool) -> bool {
        if self.dir_only && !is_dir {
            return false;
        }
        // Without a slash and without "**" (which could match one) only the final component counts.
        let whole_path = self.slash_cnt > 0 || self.wild2;
        let name = if whole_path { rel } else { last };
        let pattern = &self.pattern[..];

        if !self.wild {
            // A pattern without wildcards is compared as plain text (no escapes).
            return if self.anchored {
                name == pattern
            } else {
                name.ends_with(pattern)
                    && (name.len() == pattern.len() || name[name.len() - pattern.len() - 1] == b'/')
            };
        }

        let text = Text {
            // "**/x" may match at the start: rsync matches it against "/" + name.
            lead_slash: whole_path && self.wild2_prefix,
            name,
            // "dir/***" matches the directory itself: rsync matches it against name + "/".
            trail_slash: is_dir && self.wild3_suffix,
        };
        let where_ = if !self.anchored && self.slash_cnt > 0 && !self.wild2 {
            // An inner slash and no "**": match the last slash_cnt + 1 components.
            Where::Trailing(self.slash_cnt + 1)
        } else if !self.anchored && self.wild2 && !self.wild2_prefix {
            // An inner or trailing "**": try at the start and after every slash.
            Where::AnySlash
        } else {
            Where::Start
        };
        wildmatch_array(pattern, &text, where_)
    }
}

/// The text a pattern is matched against: `name`, optionally between two extra slashes (rsync
/// matches against an array of strings joined virtually; this is that join without allocating).
struct Text<'a> {
    lead_slash: bool,
    name: &'a [u8],
    trail_slash: bool,
}

impl Text<'_> {
    fn len(&self) -> usize {
        usize::from(self.lead_slash) + self.name.len() + usize::from(self.trail_slash)
    }

    /// The byte at `i`, or 0 past the end (file names contain no NUL, so 0 is the C terminator).
    fn at(&self, i: usize) -> u8 {
        let i = match (self.lead_slash, i) {
            (true, 0) => return b'/',
            (true, i) => i - 1,
            (false, i) => i,
        };
        match self.name.get(i) {
            Some(&b) => b,
            None if self.trail_slash && i == self.name.len() => b'/',
            None => 0,
        }
    }
}

/// Where in the text a match may start (`wildmatch_array`'s `where`).
#[derive(Clone, Copy)]
enum Where {
    /// At the start only.
    Start,
    /// At the start or right after any `/`.
    AnySlash,
    /// Exactly the last N components.
    Trailing(usize),
}

/// The outcome of [`dowild`], as in rsync's wildmatch.c.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wild {
    True,
    False,
    /// No match here, nor at any later start.
    AbortAll,
    /// No match up to the next `**`.
    AbortToStarStar,
}

/// The pattern byte at `i`, or 0 past the end (patterns contain no NUL: `new` rejects it).
fn at(p: &[u8], i: usize) -> u8 {
    p.get(i).copied().unwrap_or(0)
}

/// rsync's `wildmatch_array`.
fn wildmatch_array(p: &[u8], t: &Text, where_: Where) -> bool {
    let start = match where_ {
        Where::Trailing(n) => match trailing_n_elements(t, n) {
            Some(start) => start,
            None => return false,
        },
        Where::Start | Where::AnySlash => 0,
    };
    let mut matched = dowild(p, 0, t, start);
    if matched != Wild::True && matches!(where_, Where::AnySlash) && matched != Wild::AbortAll {
        let mut ti = start;
        loop {
            if ti >= t.len() {
                return false;
            }
            let c = t.at(ti);
            ti += 1;
            if c == b'/' {
                matched = dowild(p, 0, t, ti);
                if matched != Wild::False && matched != Wild::AbortToStarStar {
                    break;
                }
            }
        }
    }
    matched == Wild::True
}

/// The start of the last `count` slash-separated components, or `None` if there are fewer.
fn trailing_n_elements(t: &Text, count: usize) -> Option<usize> {
    let mut count = count;
    for i in (0..t.len()).rev() {
        if t.at(i) == b'/' {
            count -= 1;
            if count == 0 {
                return Some(i + 1);
            }
        }
    }
    (count == 1).then_some(0)
}

/// rsync's `dowild`: matches pattern `p` from `pi` against text `t` from `ti`.
fn dowild(p: &[u8], mut pi: usize, t: &Text, mut ti: usize) -> Wild {
    loop {
        let p_ch = at(p, pi);
        if p_ch == 0 {
            break;
        }
        let t_ch = t.at(ti);
        if t_ch == 0 && p_ch != b'*' {
            return Wild::AbortAll;
        }
        match p_ch {
            b'\\' => {
                // A literal match with the next byte; a trailing backslash matches nothing.
                pi += 1;
                if t_ch != at(p, pi) {
                    return Wild::False;
                }
            }
            b'?' => {
                if t_ch == b'/' {
                    return Wild::False;
                }
            }
            b'*' => {
                pi += 1;
                let special = at(p, pi) == b'*';
                while at(p, pi) == b'*' {
                    pi += 1;
                }
                if pi >= p.len() {
                    // A trailing "**" matches everything, a trailing "*" only up to the next slash.
                    return if !special && (ti..t.len()).any(|i| t.at(i) == b'/') {
                        Wild::False
                    } else {
                        Wild::True
                    };
                }
                while ti < t.len() {
                    let matched = dowild(p, pi, t, ti);
                    if matched != Wild::False {
                        if !special || matched != Wild::AbortToStarStar {
                            return matched;
                        }
                    } else if !special && t.at(ti) == b'/' {
                        return Wild::AbortToStarStar;
                    }
                    ti += 1;
                }
                return Wild::AbortAll;
            }
            b'[' => match match_class(p, pi, t_ch) {
                Ok((true, end)) => pi = end,
                Ok((false, _)) => return Wild::False,
                Err(abort) => return abort,
            },
            _ => {
                if t_ch != p_ch {
                    return Wild::False;
                }
            }
        }
        pi += 1;
        ti += 1;
    }
    if ti < t.len() {
        Wild::False
    } else {
        Wild::True
    }
}

/// The `[...]` case of `dowild`, with `p[open]` the `[`: whether `t_ch` is in the class, and the
/// index of the closing `]`; `Err(AbortAll)` for a class without one or a bad `[:name:]`.
fn match_class(p: &[u8], open: usize, t_ch: u8) -> Result<(bool, usize), Wild> {
    let mut pi = open + 1;
    let mut p_ch = at(p, pi);
    let negated = p_ch == b'!' || p_ch == b'^';
    if negated {
        pi += 1;
        p_ch = at(p, pi);
    }
    let mut prev_ch = 0u8;
    let mut matched = false;
    // The first byte is a member even if it is `]`.
    loop {
        if p_ch == 0 {
            return Err(Wild::AbortAll);
        }
        if p_ch == b'\\' {
            pi += 1;
            p_ch = at(p, pi);
            if p_ch == 0 {
                return Err(Wild::AbortAll);
            }
            matched |= t_ch == p_ch;
        } else if p_ch == b'-' && prev_ch != 0 && at(p, pi + 1) != 0 && at(p, pi + 1) != b']' {
            pi += 1;
            p_ch = at(p, pi);
            if p_ch == b'\\' {
                pi += 1;
                p_ch = at(p, pi);
                if p_ch == 0 {
                    return Err(Wild::AbortAll);
                }
            }
            matched |= prev_ch <= t_ch && t_ch <= p_ch;
            p_ch = 0; // no range may start at a range's end
        } else if p_ch == b'[' && at(p, pi + 1) == b':' {
            let name_start = pi + 2;
            let close = match p[name_start..].iter().position(|&b| b == b']') {
                Some(off) => name_start + off,
                None => return Err(Wild::AbortAll),
            };
            if close == name_start || p[close - 1] != b':' {
                // Not "[:name:]": the `[` is an ordinary member.
                matched |= t_ch == b'[';
                p_ch = b'[';
            } else {
                let in_class = match &p[name_start..close - 1] {
                    b"alnum" => t_ch.is_ascii_alphanumeric(),
                    b"alpha" => t_ch.is_ascii_alphabetic(),
                    b"blank" => t_ch == b' ' || t_ch == b'\t',
                    b"cntrl" => t_ch.is_ascii_control(),
                    b"digit" => t_ch.is_ascii_digit(),
                    b"graph" => t_ch.is_ascii_graphic(),
                    b"lower" => t_ch.is_ascii_lowercase(),
                    b"print" => t_ch.is_ascii_graphic() || t_ch == b' ',
                    b"punct" => t_ch.is_ascii_punctuation(),
                    b"space" => matches!(t_ch, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'),
                    b"upper" => t_ch.is_ascii_uppercase(),
                    b"xdigit" => t_ch.is_ascii_hexdigit(),
                    _ => return Err(Wild::AbortAll),
                };
                matched |= in_class;
                pi = close;
                p_ch = 0;
            }
        } else {
            matched |= t_ch == p_ch;
        }
        prev_ch = p_ch;
        pi += 1;
        p_ch = at(p, pi);
        if p_ch == b']' {
            break;
        }
    }
    // A class never matches a slash.
    Ok((matched != negated && t_ch != b'/', pi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::ffi::{OsStr, OsString};
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;
    use std::process::Command;

    fn set(patterns: &[&str]) -> ExcludeSet {
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        match ExcludeSet::new(&patterns) {
            Ok(set) => set,
            Err(e) => panic!("{patterns:?} should compile: {e}"),
        }
    }

    /// Which of `paths` (a trailing `/` marks a directory) `patterns` exclude.
    fn excluded<'a>(patterns: &[&str], paths: &[&'a str]) -> Vec<&'a str> {
        let set = set(patterns);
        paths
            .iter()
            .copied()
            .filter(|p| match p.strip_suffix('/') {
                Some(dir) => set.is_excluded(dir.as_bytes(), true),
                None => set.is_excluded(p.as_bytes(), false),
            })
            .collect()
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<ExcludeSet>();
    }

    #[test]
    fn no_patterns_exclude_nothing() {
        let none = ExcludeSet::default();
        assert!(!none.is_excluded(b"a", false) && !none.is_excluded(b"a/b", true));
        assert_eq!(excluded(&[], &["a", "b/", "b/c"]), Vec::<&str>::new());
        // An empty pattern is ignored, as rsync ignores `--exclude=`.
        assert_eq!(excluded(&[""], &["a", "b/"]), Vec::<&str>::new());
    }

    #[test]
    fn star_stays_within_a_component() {
        let paths = ["a.tmp", "d/b.tmp", "d/e/c.tmp", "a.tmp.x", "tmp", "x.tmp/"];
        assert_eq!(
            excluded(&["*.tmp"], &paths),
            ["a.tmp", "d/b.tmp", "d/e/c.tmp", "x.tmp/"]
        );
        // With a slash, `*` still does not cross one.
        assert_eq!(excluded(&["/*.tmp"], &paths), ["a.tmp", "x.tmp/"]);
        assert_eq!(
            excluded(&["/d/*"], &["d/a", "d/e/", "d/e/f", "x/d/a"]),
            ["d/a", "d/e/"]
        );
    }

    #[test]
    fn question_mark_is_one_byte_but_not_a_slash() {
        assert_eq!(
            excluded(&["?.txt"], &["a.txt", "ab.txt", "d/b.txt", ".txt"]),
            ["a.txt", "d/b.txt"]
        );
        assert_eq!(excluded(&["/a?b"], &["a/b", "axb"]), ["axb"]);
        // One byte, not one character.
        let set = set(&["caf?.txt"]);
        assert!(set.is_excluded(b"caf\xff.txt", false));
        assert!(!set.is_excluded("café.txt".as_bytes(), false));
    }

    #[test]
    fn character_classes() {
        let paths = [
            "a.txt", "b.txt", "c.txt", "d.txt", "].txt", "^.txt", "!.txt",
        ];
        assert_eq!(excluded(&["[ab].txt"], &paths), ["a.txt", "b.txt"]);
        assert_eq!(
            excluded(&["[a-c].txt"], &paths),
            ["a.txt", "b.txt", "c.txt"]
        );
        assert_eq!(
            excluded(&["[!a-c].txt"], &paths),
            ["d.txt", "].txt", "^.txt", "!.txt"]
        );
        assert_eq!(
            excluded(&["[^a-c].txt"], &paths),
            ["d.txt", "].txt", "^.txt", "!.txt"]
        );
        // `]` first is a member; `-` at either end is literal; `\` escapes.
        assert_eq!(excluded(&["[]a].txt"], &paths), ["a.txt", "].txt"]);
        assert_eq!(
            excluded(&["[a-].txt"], &["a.txt", "-.txt", "b.txt"]),
            ["a.txt", "-.txt"]
        );
        assert_eq!(excluded(&["[\\^!].txt"], &paths), ["^.txt", "!.txt"]);
        assert_eq!(
            excluded(&["[[:digit:]x]*"], &["1a", "xa", "ya"]),
            ["1a", "xa"]
        );
        assert_eq!(
            excluded(&["[[:upper:][:punct:]]*"], &["Ab", "_b", "ab"]),
            ["Ab", "_b"]
        );
        // A class never matches a slash.
        assert_eq!(excluded(&["/a[!x]b"], &["a/b", "ayb"]), ["ayb"]);
        // Matching is byte-wise and case-sensitive.
        assert_eq!(excluded(&["*.TMP"], &["a.tmp", "a.TMP"]), ["a.TMP"]);
    }

    #[test]
    fn malformed_wildcards_match_nothing_as_in_rsync() {
        let paths = ["abc", "[abc", "foo[", "foo[x", "x/", "[[:bogus:]]x", "bx"];
        for pattern in [
            "[abc",
            "foo[",
            "foo[*",
            "[",
            "[]",
            "[!]",
            "[[:bogus:]]x",
            "b\\",
        ] {
            assert_eq!(
                excluded(&[pattern], &paths),
                Vec::<&str>::new(),
                "{pattern}"
            );
        }
        // A `[` that does not open "[:name:]" is an ordinary member.
        assert_eq!(excluded(&["[[:x]"], &["[", ":", "x", "y"]), ["[", ":", "x"]);
    }

    #[test]
    fn backslash_escapes_only_in_patterns_with_wildcards() {
        assert_eq!(excluded(&["\\*.txt"], &["*.txt", "a.txt"]), ["*.txt"]);
        assert_eq!(excluded(&["b\\.tm?"], &["b.tmp", "b\\.tmp"]), ["b.tmp"]);
        // Without `*`, `?` or `[`, rsync compares the text as it is, backslash included.
        assert_eq!(excluded(&["b\\.tmp"], &["b.tmp", "b\\.tmp"]), ["b\\.tmp"]);
    }

    #[test]
    fn double_star_crosses_slashes() {
        let paths = ["build", "a/build", "a/b/build/", "a/rebuild", "x/"];
        assert_eq!(
            excluded(&["**/build"], &paths),
            ["build", "a/build", "a/b/build/"]
        );
        assert_eq!(
            excluded(&["**build"], &paths),
            ["build", "a/build", "a/b/build/", "a/rebuild"]
        );
        assert_eq!(excluded(&["**"], &paths), paths);
        let paths = ["a/z", "a/b/z", "a/b/c/z", "x/a/b/z", "xa/b/z", "a/b/z/"];
        // Inner "**" matches at the start or after any slash, and needs the `/` on both sides:
        // "a/**/z" does not match "a/z".
        assert_eq!(
            excluded(&["a/**/z"], &paths),
            ["a/b/z", "a/b/c/z", "x/a/b/z", "a/b/z/"]
        );
        assert_eq!(
            excluded(&["/a/**/z"], &paths),
            ["a/b/z", "a/b/c/z", "a/b/z/"]
        );
        assert_eq!(
            excluded(&["a/**"], &["a/", "a/b", "ba/c", "x/a/c"]),
            ["a/b", "x/a/c"]
        );
    }

    #[test]
    fn trailing_slash_means_directories_only() {
        let paths = ["build", "build/", "a/build/", "a/build", "a/build/x"];
        assert_eq!(excluded(&["build/"], &paths), ["build/", "a/build/"]);
        assert_eq!(
            excluded(&["build"], &paths),
            ["build", "build/", "a/build/", "a/build"]
        );
        assert_eq!(excluded(&["a/build/"], &paths), ["a/build/"]);
        assert_eq!(
            excluded(&["*/"], &["a", "b/", "c/d/", "c/e"]),
            ["b/", "c/d/"]
        );
        // "/" alone is no directory rule and matches nothing.
        assert_eq!(excluded(&["/"], &["a", "b/"]), Vec::<&str>::new());
    }

    #[test]
    fn leading_slash_anchors_at_the_root() {
        let paths = ["build", "build/", "a/build", "a/build/", "a/b/build"];
        assert_eq!(excluded(&["/build"], &paths), ["build", "build/"]);
        assert_eq!(excluded(&["/a/build"], &paths), ["a/build", "a/build/"]);
        assert_eq!(excluded(&["/a/build/"], &paths), ["a/build/"]);
        assert_eq!(excluded(&["/*/build"], &paths), ["a/build", "a/build/"]);
    }

    #[test]
    fn an_inner_slash_matches_the_trailing_components() {
        let paths = [
            "foo/bar",
            "x/foo/bar",
            "xfoo/bar",
            "foo/bar/baz",
            "bar",
            "a/foo/bar/",
        ];
        assert_eq!(
            excluded(&["foo/bar"], &paths),
            ["foo/bar", "x/foo/bar", "a/foo/bar/"]
        );
        assert_eq!(
            excluded(&["*/bar"], &paths),
            ["foo/bar", "x/foo/bar", "xfoo/bar", "a/foo/bar/"]
        );
        assert_eq!(
            excluded(&["f*/bar"], &paths),
            ["foo/bar", "x/foo/bar", "a/foo/bar/"]
        );
        assert_eq!(excluded(&["*/*/baz"], &paths), ["foo/bar/baz"]);
    }

    #[test]
    fn a_pattern_without_slash_matches_the_final_component() {
        let paths = [
            "node_modules/",
            "a/node_modules/",
            "a/node_modules.txt",
            "a/b/node_modules",
        ];
        assert_eq!(
            excluded(&["node_modules"], &paths),
            ["node_modules/", "a/node_modules/", "a/b/node_modules"]
        );
        assert_eq!(
            excluded(&["name with spaces"], &["d/name with spaces", "name"]),
            ["d/name with spaces"]
        );
        // Trailing whitespace is part of the pattern, as in rsync.
        assert_eq!(excluded(&["*.tmp "], &["a.tmp", "a.tmp "]), ["a.tmp "]);
        assert!(set(&["*.bin"]).is_excluded(b"d/\xff\xfe.bin", false));
        assert!(set(&["new?line"]).is_excluded(b"new\nline", false));
    }

    #[test]
    fn triple_star_matches_a_directory_and_its_contents() {
        let paths = [
            "docs", "docs/", "docs/a", "docs/b/", "docs/b/c", "x/docs/", "x/docs/a", "docsy/",
        ];
        assert_eq!(
            excluded(&["docs/***"], &paths),
            ["docs/", "docs/a", "docs/b/", "docs/b/c", "x/docs/", "x/docs/a"]
        );
        assert_eq!(
            excluded(&["/docs/***"], &paths),
            ["docs/", "docs/a", "docs/b/", "docs/b/c"]
        );
        assert_eq!(excluded(&["***"], &paths), paths);
    }

    #[test]
    fn prefixes_include_and_clear() {
        let paths = ["a.tmp", "keep.tmp", "d/keep.tmp", "a.log", "- x"];
        assert_eq!(
            excluded(&["- *.tmp"], &paths),
            ["a.tmp", "keep.tmp", "d/keep.tmp"]
        );
        // The first matching rule wins: an include before an exclude keeps the entry.
        assert_eq!(excluded(&["+ keep.tmp", "*.tmp"], &paths), ["a.tmp"]);
        assert_eq!(
            excluded(&["*.tmp", "+ keep.tmp"], &paths),
            ["a.tmp", "keep.tmp", "d/keep.tmp"]
        );
        assert_eq!(excluded(&["+ *"], &paths), Vec::<&str>::new());
        // A lone "!" clears the rules before it; "!x" is an ordinary pattern.
        assert_eq!(excluded(&["*.tmp", "!", "*.log"], &paths), ["a.log"]);
        assert_eq!(excluded(&["!*.log"], &["a.log", "!a.log"]), ["!a.log"]);
        // Only "- " with its space is a prefix.
        assert_eq!(excluded(&["- - x"], &paths), ["- x"]);
        assert_eq!(excluded(&["-*.tmp"], &paths), Vec::<&str>::new());
    }

    #[test]
    fn patterns_rsync_rejects_are_errors() {
        for bad in ["- ", "+ "] {
            let err = ExcludeSet::new(&[bad.to_string()]).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
        let err = ExcludeSet::new(&["a\0b".to_string()]).unwrap_err();
        assert!(err.contains("NUL"), "{err}");
        let err = ExcludeSet::new(&["x".repeat(MAX_PATTERN_LEN)]).unwrap_err();
        assert!(err.contains("too long"), "{err}");
        assert!(ExcludeSet::new(&["x".repeat(MAX_PATTERN_LEN - 1)]).is_ok());
    }

    // ---- differential tests against the real rsync ----

    /// The files of the differential tests' source tree (their folders come with them).
    const TREE_FILES: &[&[u8]] = &[
        b"a.txt",
        b"b.tmp",
        b"B.TMP",
        b".hidden",
        b"build",
        b"ab",
        b"name with spaces.txt",
        b"[brackets].txt",
        b"]x",
        b"weird*star",
        b"q?mark",
        b"back\\slash",
        b"b\\.tmp",
        b"-dash",
        b"!bang",
        b"trailing space ",
        "café.txt".as_bytes(),
        b"bin\xff\xfe.bin",
        b"new\nline",
        b".cache/x.bin",
        b"docs/a.txt",
        b"docs/readme.md",
        b"docs/notes.tmp",
        b"docs/build.txt",
        b"docs/build/out.o",
        b"docs/build/deep/x.o",
        b"foo/bar.txt",
        b"foo/bar/baz.txt",
        b"foo/bar/build",
        b"a/z",
        b"a/b/z",
        b"a/b/c/z",
        b"a/b/z2/z",
        b"x/foo/bar/baz.txt",
        b"x/foo/qux",
        b"x/docs/a",
        b"x/a/b/z",
        b"node_modules/pkg/index.js",
        b"deep/a/b/c/d/e.txt",
        b"deep/a/b/c/node_modules/m.js",
        b"deep/build/y",
        b"Dir/File.TXT",
        b"Dir/1.txt",
    ];

    /// Builds the source tree of the differential tests; returns its path.
    fn build_tree(root: &Path) -> std::path::PathBuf {
        let src = root.join("src");
        for rel in TREE_FILES {
            let path = src.join(OsStr::from_bytes(rel));
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).unwrap();
            }
            std::fs::write(&path, rel).unwrap();
        }
        std::fs::create_dir_all(src.join("empty_dir")).unwrap();
        std::fs::create_dir_all(src.join("docs").join("empty.tmp")).unwrap();
        std::os::unix::fs::symlink("docs", src.join("link_to_docs")).unwrap();
        std::os::unix::fs::symlink("a.txt", src.join("link.tmp")).unwrap();
        src
    }

    /// The entries below `dir` (relative, `/`-joined), not descending into excluded directories.
    fn walk(dir: &Path, prefix: &[u8], excludes: &ExcludeSet, out: &mut BTreeSet<Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let mut rel = prefix.to_vec();
            if !rel.is_empty() {
                rel.push(b'/');
            }
            rel.extend_from_slice(entry.file_name().as_bytes());
            let is_dir = entry.file_type().unwrap().is_dir();
            if excludes.is_excluded(&rel, is_dir) {
                continue;
            }
            out.insert(rel.clone());
            if is_dir {
                walk(&entry.path(), &rel, excludes, out);
            }
        }
    }

    /// What `rsync -a --exclude=P… src/ dst/` copies.
    fn rsync_copies(src: &Path, dst: &Path, patterns: &[&str]) -> BTreeSet<Vec<u8>> {
        let mut src_arg = OsString::from(src);
        src_arg.push("/");
        let mut cmd = Command::new("rsync");
        cmd.arg("-a");
        for p in patterns {
            cmd.arg(format!("--exclude={p}"));
        }
        cmd.arg(src_arg).arg(dst);
        let out = match cmd.output() {
            Ok(out) => out,
            Err(e) => panic!("this test compares with the real rsync, which could not be run: {e}"),
        };
        assert!(
            out.status.success(),
            "rsync with {patterns:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut copied = BTreeSet::new();
        walk(dst, b"", &ExcludeSet::default(), &mut copied);
        copied
    }

    fn show(paths: &BTreeSet<Vec<u8>>) -> Vec<String> {
        paths
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect()
    }

    /// Runs each pattern list through rsync and through `ExcludeSet`; returns the disagreements.
    fn compare(cases: &[Vec<&str>]) -> Vec<String> {
        let tmp = tempfile::tempdir().unwrap();
        let src = build_tree(tmp.path());
        let mut failures = Vec::new();
        for (i, patterns) in cases.iter().enumerate() {
            let expected = rsync_copies(&src, &tmp.path().join(format!("dst{i}")), patterns);
            let owned: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
            let set = match ExcludeSet::new(&owned) {
                Ok(set) => set,
                Err(e) => {
                    failures.push(format!(
                        "{patterns:?}: rsync accepts it, ExcludeSet says {e}"
                    ));
                    continue;
                }
            };
            let mut ours = BTreeSet::new();
            walk(&src, b"", &set, &mut ours);
            if ours != expected {
                failures.push(format!(
                    "{patterns:?}:\n  only rsync copies: {:?}\n  only we keep: {:?}",
                    show(&expected.difference(&ours).cloned().collect()),
                    show(&ours.difference(&expected).cloned().collect()),
                ));
            }
        }
        failures
    }

    #[test]
    fn agrees_with_rsync_on_written_patterns() {
        let cases: &[&[&str]] = &[
            &[],
            &["*.tmp"],
            &["*.tmp", ".cache/"],
            &["build"],
            &["build/"],
            &["/build"],
            &["/build/"],
            &["foo/bar"],
            &["foo/bar/"],
            &["/foo/bar"],
            &["*/bar"],
            &["**/build"],
            &["docs/**"],
            &["docs/***"],
            &["/deep/a/***"],
            &["deep/**/node_modules"],
            &["**/node_modules/"],
            &["a/**/z"],
            &["a/b/c/d/e.txt"],
            &["*"],
            &["*/"],
            &["***"],
            &["?.txt", "??"],
            &["[ab].*"],
            &["[!a]*.txt"],
            &["[^a-c]*"],
            &["[[:upper:]]*", "[[:digit:]]*"],
            &["\\[brackets\\].txt"],
            &["[][]brackets]*", "[]]x"],
            &["weird\\*star", "q\\?mark"],
            &["back\\slash"],
            &["b\\.tmp"],
            &["b\\.tm?"],
            &["name with spaces.txt"],
            &["* *"],
            &["trailing space"],
            &[".*"],
            &["café.txt", "bin*"],
            &["new?line"],
            &["link_to_docs/"],
            &["link_to_docs"],
            &["*.tmp/"],
            &["*.TMP"],
            &["+ a.txt", "*.txt"],
            &["*.txt", "+ a.txt"],
            &["- *.md", "- /a/"],
            &["*.tmp", "!", "*.md"],
            &["!bang", "-dash"],
            &["foo[", "[abc", "[[:bogus:]]*"],
            &["/"],
            &["docs//"],
            &["**.txt"],
            &["/*/build"],
            &["x/**/baz.txt", "**/b/**"],
            &["deep/*/b", "**/c/*"],
        ];
        let cases: Vec<Vec<&str>> = cases.iter().map(|c| c.to_vec()).collect();
        let failures = compare(&cases);
        assert!(
            failures.is_empty(),
            "ExcludeSet disagrees with rsync:\n{}",
            failures.join("\n")
        );
    }

    /// A fixed xorshift sequence, so that a failure is reproducible.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// A pattern made from a path of the tree, some components replaced by wildcards, so that it
    /// tends to match something.
    fn pattern_from_tree(rng: &mut Rng) -> String {
        let path = String::from_utf8_lossy(TREE_FILES[rng.below(TREE_FILES.len())]).into_owned();
        let comps: Vec<&str> = path.split('/').collect();
        let first = rng.below(comps.len());
        let last = first + rng.below(comps.len() - first);
        let mut parts = Vec::new();
        for comp in &comps[first..=last] {
            let chars: Vec<char> = comp
                .chars()
                .filter(|&c| c != char::REPLACEMENT_CHARACTER)
                .collect();
            let cut = rng.below(chars.len().max(1));
            let head: String = chars[..cut].iter().collect();
            let tail: String = chars[cut..].iter().collect();
            let part = match rng.below(10) {
                0 => "*".to_string(),
                1 => "**".to_string(),
                2 => format!("{head}*"),
                3 => format!("*{tail}"),
                4 => format!("{head}?{}", chars.iter().skip(cut + 1).collect::<String>()),
                5 => format!(
                    "[{}-z]{}",
                    chars.first().copied().unwrap_or('a'),
                    chars.iter().skip(1).collect::<String>()
                ),
                6 => format!("[!.]{}", chars.iter().skip(1).collect::<String>()),
                7 => format!("{head}**"),
                _ => comp.to_string(),
            };
            parts.push(part);
        }
        let mut pattern = parts.join("/");
        if first == 0 && rng.below(3) == 0 {
            pattern.insert(0, '/');
        } else if rng.below(6) == 0 {
            pattern.insert_str(0, "**/");
        }
        if last + 1 < comps.len() {
            pattern.push_str(["", "/", "/***", "/**", "/*"][rng.below(5)]);
        }
        pattern
    }

    /// A pattern of random tokens, for the odd corners.
    fn pattern_from_tokens(rng: &mut Rng) -> String {
        const TOKENS: &[&str] = &[
            "*",
            "*",
            "**",
            "***",
            "?",
            "/",
            "/",
            "a",
            "b",
            "z",
            "build",
            "docs",
            "foo",
            "bar",
            ".",
            "txt",
            "tmp",
            "[a-c]",
            "[!b]",
            "[^.]",
            "[]x]",
            "\\*",
            "\\b",
            "[[:alpha:]]",
            "x",
            "deep",
            "node_modules",
            " ",
            "-",
        ];
        let mut pattern = String::new();
        if rng.below(4) == 0 {
            pattern.push('/');
        }
        for _ in 0..1 + rng.below(4) {
            pattern.push_str(TOKENS[rng.below(TOKENS.len())]);
        }
        if rng.below(4) == 0 {
            pattern.push('/');
        }
        pattern
    }

    #[test]
    fn agrees_with_rsync_on_generated_patterns() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut cases = Vec::new();
        while cases.len() < 200 {
            let pattern = if cases.len() % 3 == 0 {
                pattern_from_tokens(&mut rng)
            } else {
                pattern_from_tree(&mut rng)
            };
            // A leading "- ", "+ " or a lone "!" is a prefix for rsync; those have their own tests.
            if !pattern.starts_with("- ") && !pattern.starts_with("+ ") && pattern != "!" {
                cases.push(pattern);
            }
        }
        let cases: Vec<Vec<&str>> = cases.iter().map(|p| vec![p.as_str()]).collect();
        let failures = compare(&cases);
        assert!(
            failures.is_empty(),
            "ExcludeSet disagrees with rsync:\n{}",
            failures.join("\n")
        );
    }
}
