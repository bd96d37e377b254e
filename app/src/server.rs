//! What server functions get from the running server: storage and configuration, provided as
//! Leptos context by the `server` crate for both page rendering and server-function calls.
pub mod auth;

use crate::storage::Db;

#[derive(Clone, Debug)]
pub struct ServerContext {
    pub db: Db,
    /// Cookies get `Secure` when Ruche is served over HTTPS (`PUBLIC_URL` starts with https).
    pub secure_cookies: bool,
}

impl ServerContext {
    /// Missing context is a wiring bug in the server, not a user error: it is logged and the
    /// caller reports an internal error.
    pub fn get() -> Option<Self> {
        let ctx = leptos::prelude::use_context::<Self>();
        if ctx.is_none() {
            tracing::error!("ServerContext was not provided to this request");
        }
        ctx
    }
}
