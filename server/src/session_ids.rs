//! Sessions stored under a hash of their id (SPEC §11: a copy of the database is no live session).
//!
//! tower-sessions' SQLite store keeps each session under the id its cookie carries, so anyone who
//! can read `mnemosynce.db` could sign in by copying a row's id into a cookie. [`HashedIds`] wraps
//! the store: every id is replaced by the first 128 bits of its SHA-256 before it reaches the
//! store, and the record handed back carries the cookie's id again. Rows from before this wrapper
//! no longer match any cookie: those browsers sign in once more.

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Result, SessionStore};

/// A session store that sees only hashed ids.
#[derive(Clone, Debug)]
pub struct HashedIds<S> {
    inner: S,
}

impl<S> HashedIds<S> {
    pub fn new(inner: S) -> HashedIds<S> {
        HashedIds { inner }
    }
}

/// The id a session is stored under.
pub fn stored_id(id: &Id) -> Id {
    let digest = Sha256::digest(id.0.to_le_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    Id(i128::from_le_bytes(first))
}

fn hashed(record: &Record) -> Record {
    Record {
        id: stored_id(&record.id),
        data: record.data.clone(),
        expiry_date: record.expiry_date,
    }
}

#[async_trait]
impl<S: SessionStore + Clone> SessionStore for HashedIds<S> {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // A fresh random id whose hash is not taken yet (a collision of 128 random bits is not
        // expected, but cheap to rule out).
        while self.inner.load(&stored_id(&record.id)).await?.is_some() {
            record.id = Id::default();
        }
        self.inner.save(&hashed(record)).await
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.inner.save(&hashed(record)).await
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        Ok(self.inner.load(&stored_id(id)).await?.map(|mut r| {
            r.id = *id;
            r
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.inner.delete(&stored_id(id)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_id_is_not_the_cookie_id_and_is_stable() {
        let id = Id::default();
        assert_ne!(stored_id(&id), id);
        assert_eq!(stored_id(&id), stored_id(&id));
        assert_ne!(stored_id(&id), stored_id(&Id::default()));
    }
}
