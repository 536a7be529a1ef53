//! `next=`: where the browser goes after signing in, and the only place it may go.
//!
//! A target is a path of this site ([`safe_next`]); anything else becomes `/`. Used by the sign-in
//! forms (`handlers.rs`) and the session guard that sends a signed-out browser to `/login`
//! (`security.rs`).

/// A `next=` target that stays on this site: a path of visible ASCII (browsers drop tabs and
/// newlines from a URL and read `\\` as `/`, so `/\t/evil.example` would become
/// `//evil.example`), not `//host` or a URL. Anything else is `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && n.bytes().all(|b| b.is_ascii_graphic())
                && !n.contains('\\')
                && !n[1..].starts_with(['/', '\\']) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

/// `base` with `next=` added (nothing for `/`).
pub fn with_next(base: &str, next: &str) -> String {
    if next == "/" {
        base.to_string()
    } else {
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}next={}", urlencode(next))
    }
}

/// Percent-encodes everything but unreserved characters and `/` (for `?next=` paths).
pub fn urlencode(s: &str) -> String {
    app::pages::parts::urlencode_path(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_never_leaves_the_site() {
        assert_eq!(safe_next(Some("/history?page=2")), "/history?page=2");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
        // What browsers strip or rewrite must not make another origin out of a path.
        for hostile in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/ /evil.example",
            "/\u{0}/evil.example",
            "/\u{a0}/evil.example",
            "/\u{2028}/evil.example",
            "/\\/evil.example",
            "\t//evil.example",
            " /x",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile:?}");
        }
    }
}
