#![recursion_limit = "512"]
//! Ruche's application crate: pages and components, server functions by domain, the domain
//! rules, and (behind the `ssr` feature) storage and login sessions.

pub mod functions;
pub mod ids;
pub mod live_protocol;
mod pages;
pub mod rules;
#[cfg(feature = "ssr")]
pub mod server;
pub mod states;
#[cfg(feature = "ssr")]
pub mod storage;

pub use pages::{islands::page_started, shell, App};

/// Makes a domain error enum usable as a server function's error: on the server, arguments that
/// do not decode become its `Malformed` variant (400: the caller's mistake, not Ruche's);
/// transport failures become its `Unreachable` variant; a database that cannot be reached becomes
/// `Unavailable` (503); and other storage failures are logged and become `Internal`, so no
/// internal detail ever reaches a browser. Every domain enum names these
/// variants alike, so an answer made outside its function (the body limit's `"TooLarge"`) reads
/// as the right sentence whichever function was called.
#[macro_export]
macro_rules! server_fn_error {
    ($error:ty) => {
        impl leptos::server_fn::error::FromServerFnError for $error {
            type Encoder = leptos::server_fn::codec::JsonEncoding;
            fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
                #[cfg(feature = "ssr")]
                if $crate::server::refuse_malformed(&value) {
                    return Self::Malformed;
                }
                Self::Unreachable(value.to_string())
            }
        }

        #[cfg(feature = "ssr")]
        impl From<sea_orm::DbErr> for $error {
            fn from(err: sea_orm::DbErr) -> Self {
                if $crate::storage::is_unavailable(&err) {
                    $crate::storage::report_unavailable(&err);
                    return Self::Unavailable;
                }
                tracing::error!(error = %err, "storage error");
                Self::Internal
            }
        }
    };
}
