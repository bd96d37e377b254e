//! Ruche's domain rules, as plain Rust: no storage, no components. Each rule lives in the file
//! named after what it governs, with its unit tests beside it.
pub mod accounts;
pub mod secrets;
pub mod session_code;
pub mod sessions;
