//! [`InnerPath`]: a path inside a snapshot, as components of raw bytes. Made from what a user typed
//! (`photos/2026/beach.jpg`) or from a web key (each component percent-encoded, joined by `/`), it
//! never holds `..`, `.`, an empty component or a NUL byte, so joining it beneath a folder cannot
//! leave that folder.

use crate::model::files::{decode_key, display_name, encode_key};

/// Why a path cannot name something inside a snapshot.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PathError {
    #[error("{0:?}: `..` is not allowed in a path inside a snapshot; write the path from the snapshot's top")]
    Parent(String),
    #[error("{0:?}: a path cannot contain a NUL byte")]
    Nul(String),
    #[error("{0:?} is not a valid path key (a `%` must be followed by two hex digits)")]
    BadKey(String),
}

/// A path inside a snapshot; empty for the snapshot's top folder.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct InnerPath(Vec<Vec<u8>>);

impl InnerPath {
    /// The top folder of the snapshot.
    pub fn top() -> InnerPath {
        InnerPath(Vec::new())
    }

    /// A path as typed: `/`-separated, a leading `/` optional, `.` and empty parts skipped.
    pub fn parse(raw: &[u8]) -> Result<InnerPath, PathError> {
        let shown = || display_name(raw);
        if raw.contains(&0) {
            return Err(PathError::Nul(shown()));
        }
        let mut parts = Vec::new();
        for part in raw.split(|&b| b == b'/') {
            match part {
                b"" | b"." => {}
                b".." => return Err(PathError::Parent(shown())),
                p => parts.push(p.to_vec()),
            }
        }
        Ok(InnerPath(parts))
    }

    /// A path from its key ([`InnerPath::key`]): components percent-encoded, joined by `/`.
    pub fn from_key(key: &str) -> Result<InnerPath, PathError> {
        let mut raw = Vec::new();
        for (i, part) in key.split('/').enumerate() {
            let bytes = decode_key(part).ok_or_else(|| PathError::BadKey(key.to_string()))?;
            // A decoded `/` inside one component would be a second component: refuse it.
            if bytes.contains(&b'/') {
                return Err(PathError::BadKey(key.to_string()));
            }
            if i > 0 {
                raw.push(b'/');
            }
            raw.extend_from_slice(&bytes);
        }
        InnerPath::parse(&raw)
    }

    pub fn components(&self) -> &[Vec<u8>] {
        &self.0
    }

    pub fn is_top(&self) -> bool {
        self.0.is_empty()
    }

    /// This path with one more component (a name read from a folder: no `/`, never `..`).
    pub fn join(&self, name: &[u8]) -> InnerPath {
        let mut parts = self.0.clone();
        parts.push(name.to_vec());
        InnerPath(parts)
    }

    /// The folder this path is in (the top for the top).
    pub fn parent(&self) -> InnerPath {
        let mut parts = self.0.clone();
        parts.pop();
        InnerPath(parts)
    }

    /// As shown: `/` then the components made safe to show.
    pub fn display(&self) -> String {
        let mut out = String::from("/");
        let parts: Vec<String> = self.0.iter().map(|p| display_name(p)).collect();
        out.push_str(&parts.join("/"));
        out
    }

    /// The path's key: each component percent-encoded, joined by `/` (empty for the top).
    pub fn key(&self) -> String {
        let parts: Vec<String> = self.0.iter().map(|p| encode_key(p)).collect();
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_never_climbs_out_and_every_name_round_trips_through_its_key() {
        assert_eq!(
            InnerPath::parse(b"/photos//./2026/").unwrap().display(),
            "/photos/2026"
        );
        assert!(matches!(
            InnerPath::parse(b"photos/../../etc/passwd"),
            Err(PathError::Parent(_))
        ));
        assert!(matches!(InnerPath::parse(b"a\0b"), Err(PathError::Nul(_))));
        let odd = InnerPath::top().join(b"two\nlines").join(b"\xff<b>.html");
        assert_eq!(InnerPath::from_key(&odd.key()).unwrap(), odd);
        assert_eq!(odd.display(), "/two\\nlines/\\xff<b>.html");
        // A `/` smuggled inside one component, or `..` as a key, is refused.
        assert!(InnerPath::from_key("a%2F..%2Fb").is_err());
        assert!(matches!(
            InnerPath::from_key("%2E%2E"),
            Err(PathError::Parent(_))
        ));
        assert!(InnerPath::from_key("").unwrap().is_top());
    }
}
