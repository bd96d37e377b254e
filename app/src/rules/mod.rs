//! Ruche's domain rules, as plain Rust: no storage, no components. Each rule lives in the file
//! named after what it governs, with its unit tests beside it.
pub mod accounts;
pub mod administration;
pub mod discussion;
pub mod failure;
pub mod joining;
pub mod language;
pub mod limits;
pub mod mail;
pub mod secrets;
pub mod session_code;
pub mod sessions;
pub mod sharing;
pub mod slides;

pub use failure::{Failure, HttpStatus, UNAVAILABLE_RETRY_SECS};
