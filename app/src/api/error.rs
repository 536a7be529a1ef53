//! [`ApiError`]: the one error type of every server function, the same on both ends.
//!
//! Leptos carries it as JSON ([`FromServerFnError`]): the server picks the variant and the sentence
//! (the engine's words, naming the field or file and the fix) and the matching HTTP status; the page
//! gets the variant back and shows the sentence as it is, with what to do next (sign in again,
//! reload) — no message text to strip. Leptos's own failures (the request never reached the server,
//! an answer that could not be read) become [`ApiError::Unreachable`]. The server's session guard
//! answers signed-out calls with [`ApiError::SignedOut`] in the same encoding
//! (`server/src/security.rs`, [`ApiError::signed_out_body`]).

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Why a server function did not do what it was asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    /// The request has no signed-in session (it ended, or was signed out elsewhere).
    #[error("your session has ended: sign in again")]
    SignedOut,
    /// The request was refused as it is: which value, and how to fix it.
    #[error("{0}")]
    Invalid(String),
    /// The configuration file changed since the page read it; nothing was saved.
    #[error("{0}")]
    Conflict(String),
    /// The server could not do it (the disk, the database, a process): the engine's sentence.
    #[error("{0}")]
    Failed(String),
    /// The call did not reach the server, or its answer could not be read.
    #[error("the server did not answer ({0}); check that it is running, then try again")]
    Unreachable(String),
}

impl ApiError {
    /// A failure in the engine's words.
    pub fn failed(e: impl std::fmt::Display) -> Self {
        Self::Failed(e.to_string())
    }

    /// A refused value, in the engine's words.
    pub fn invalid(e: impl std::fmt::Display) -> Self {
        Self::Invalid(e.to_string())
    }

    /// The HTTP status the server answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::SignedOut => 401,
            Self::Invalid(_) => 400,
            Self::Conflict(_) => 409,
            Self::Failed(_) | Self::Unreachable(_) => 500,
        }
    }

    /// The body of a 401 for a server function called without a session.
    pub fn signed_out_body() -> String {
        serde_json::to_string(&Self::SignedOut).unwrap_or_default()
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Raised inside a server function by Leptos itself (an extractor): the server's words.
            ServerFnErrorErr::ServerError(m) | ServerFnErrorErr::MiddlewareError(m) => {
                Self::Failed(m)
            }
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => Self::Invalid(m),
            other => Self::Unreachable(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_gets_back_the_variant_the_server_chose() {
        for e in [
            ApiError::SignedOut,
            ApiError::Conflict("backup_config.yml changed; reload the page".into()),
            ApiError::Invalid("cron: 5 fields expected".into()),
        ] {
            assert_eq!(ApiError::de(e.ser()), e);
        }
        assert_eq!(
            ApiError::de(ApiError::signed_out_body().into()),
            ApiError::SignedOut
        );
        // A body that is not ours (a proxy's error page) still becomes a sentence.
        let e = ApiError::de("<html>Bad gateway</html>".into());
        assert!(matches!(e, ApiError::Unreachable(_)), "{e:?}");
    }
}
