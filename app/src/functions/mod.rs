//! Server functions, one file per domain. Each checks who is calling before doing anything:
//! they are public HTTP endpoints (`/api/<name>`), whatever the pages show.
pub mod accounts;
pub mod administration;
pub mod discussion;
pub mod joining;
pub mod sessions;
pub mod sharing;
pub mod slides;

/// Makes a domain error enum (with its `Failed(rules::Failure)` variant) a server function's
/// error: arguments that do not decode become `Failure::Malformed` (400: the caller's mistake, not
/// Ruche's), other transport failures `Failure::Unreachable`; on the server, storage errors become
/// `Unavailable` (503) when the database cannot be reached and are otherwise logged and become
/// `Internal`, so no internal detail ever reaches a browser.
macro_rules! server_fn_error {
    ($error:ty) => {
        impl leptos::server_fn::error::FromServerFnError for $error {
            type Encoder = leptos::server_fn::codec::JsonEncoding;
            fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
                #[cfg(feature = "ssr")]
                return Self::Failed($crate::services::failure_of(value));
                #[cfg(not(feature = "ssr"))]
                Self::Failed($crate::rules::Failure::Unreachable(value.to_string()))
            }
        }

        #[cfg(feature = "ssr")]
        impl From<sea_orm::DbErr> for $error {
            fn from(err: sea_orm::DbErr) -> Self {
                Self::Failed(err.into())
            }
        }
    };
}
pub(crate) use server_fn_error;
