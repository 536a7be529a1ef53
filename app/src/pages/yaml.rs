//! [`yaml_spans`]: the configuration editor's colours, one line of YAML at a time. Display only —
//! the engine validates; this is a light tokenizer that colours what a reader sees, never a second
//! YAML parser. [`yaml_html`] makes the whole text one HTML string (every piece escaped), which the
//! editor sets as its `<pre>`'s content: one node to hydrate and one write per keystroke, instead of
//! a view node per coloured piece (which made the page's hydration the slowest of the app).

/// Splits one line of YAML into `(class, text)` pieces for the editor's colours: comments, keys, list
/// dashes, quoted strings, the rest. Display only (the engine validates): a light tokenizer that
/// colours what a reader sees, never a second YAML parser.
pub fn yaml_spans(line: &str) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    if !indent.is_empty() {
        out.push(("", indent.to_string()));
    }
    let mut rest = trimmed;
    if rest.starts_with('#') {
        out.push(("comment", rest.to_string()));
        return out;
    }
    while let Some(after) = rest.strip_prefix("- ") {
        out.push(("punct", "- ".into()));
        rest = after;
    }
    // A key: text up to the first `: ` (or a final `:`), not starting with a quote, bracket or `#`.
    if !rest.starts_with(['"', '\'', '{', '[', '#']) {
        let colon = rest
            .char_indices()
            .find(|&(i, c)| {
                c == ':' && rest[i + 1..].chars().next().is_none_or(char::is_whitespace)
            })
            .map(|(i, _)| i);
        if let Some(i) = colon.filter(|&i| !rest[..i].contains(" #")) {
            out.push(("key", rest[..i].to_string()));
            out.push(("punct", ":".into()));
            rest = &rest[i + 1..];
        }
    }
    // The value: quoted strings, a comment after whitespace, the rest plain.
    let mut plain = String::new();
    let mut chars = rest.char_indices().peekable();
    let mut prev_space = true;
    while let Some((i, c)) = chars.next() {
        if c == '#' && prev_space {
            if !plain.is_empty() {
                out.push(("", std::mem::take(&mut plain)));
            }
            out.push(("comment", rest[i..].to_string()));
            return out;
        }
        if (c == '"' || c == '\'') && prev_space {
            if !plain.is_empty() {
                out.push(("", std::mem::take(&mut plain)));
            }
            let mut end = rest.len();
            let mut escaped = false;
            for (j, d) in rest[i + 1..].char_indices() {
                if c == '"' && d == '\\' && !escaped {
                    escaped = true;
                    continue;
                }
                if d == c && !escaped {
                    end = i + 1 + j + 1;
                    break;
                }
                escaped = false;
            }
            out.push(("string", rest[i..end].to_string()));
            while chars.peek().is_some_and(|&(j, _)| j < end) {
                chars.next();
            }
            prev_space = false;
            continue;
        }
        prev_space = c.is_whitespace() || c == '[' || c == '{' || c == ',';
        plain.push(c);
    }
    if !plain.is_empty() {
        out.push(("", plain));
    }
    out
}

/// The whole text as HTML: a `<span class="…">` per coloured piece, a newline after each line.
/// Every piece is escaped ([`escape_into`]), so the text can never become markup.
pub fn yaml_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for line in text.split('\n') {
        for (class, piece) in yaml_spans(line) {
            if class.is_empty() {
                escape_into(&mut out, &piece);
            } else {
                out.push_str("<span class=\"");
                out.push_str(class);
                out.push_str("\">");
                escape_into(&mut out, &piece);
                out.push_str("</span>");
            }
        }
        out.push('\n');
    }
    out
}

/// Appends `text` to `out` as HTML text or attribute value (`& < > " '` escaped).
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{yaml_html, yaml_spans};

    #[test]
    fn the_html_of_a_text_escapes_every_piece() {
        let html = yaml_html("name: \"<script>alert('x')</script>\" # a & b");
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"comment\"># a &amp; b</span>"),
            "{html}"
        );
        assert!(
            html.starts_with("<span class=\"key\">name</span>"),
            "{html}"
        );
        assert!(html.ends_with('\n'));
    }

    #[test]
    fn a_yaml_line_is_split_into_what_a_reader_sees() {
        assert_eq!(
            yaml_spans("  - name: Photos   # the family"),
            vec![
                ("", "  ".to_string()),
                ("punct", "- ".into()),
                ("key", "name".into()),
                ("punct", ":".into()),
                ("", " Photos   ".into()),
                ("comment", "# the family".into()),
            ]
        );
        assert_eq!(
            yaml_spans("  cron: \"0 2 * * *\" # nightly"),
            vec![
                ("", "  ".to_string()),
                ("key", "cron".into()),
                ("punct", ":".into()),
                ("", " ".into()),
                ("string", "\"0 2 * * *\"".into()),
                ("", " ".into()),
                ("comment", "# nightly".into()),
            ]
        );
        assert_eq!(
            yaml_spans("# only a comment"),
            vec![("comment", "# only a comment".to_string())]
        );
        // A `#` inside a value, or a colon inside a word, is neither a comment nor a key.
        assert_eq!(
            yaml_spans("dir_source: me@nas:/srv/a#b"),
            vec![
                ("key", "dir_source".to_string()),
                ("punct", ":".into()),
                ("", " me@nas:/srv/a#b".into()),
            ]
        );
        // Every byte of the line is in exactly one piece, in order.
        for line in [
            "a: 'it''s'",
            "- [1, \"x\"]",
            "key:",
            "  ",
            "x: \"unterminated",
            "é: \"\\\"\"",
        ] {
            let joined: String = yaml_spans(line).into_iter().map(|(_, t)| t).collect();
            assert_eq!(joined, line);
        }
    }
}
