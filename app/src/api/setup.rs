//! The server function of the setup wizard's progress: where the setup stands
//! (`engine::setup::readiness`, derived from the disk and the database).

use super::error::ApiError;
use engine::model::setup::Readiness;
use leptos::prelude::*;

/// Where the setup stands.
#[server(endpoint = "get_readiness")]
pub async fn get_readiness() -> Result<Readiness, ApiError> {
    use crate::api::server_side::{admin, fail};
    let b = admin().await?;
    engine::setup::readiness(&b.data, &b.config_path, &b.history)
        .await
        .map_err(fail)
}
