//! Ruche's domain rules, as plain Rust: no storage, no components. Each rule lives in the file
//! named after what it governs, with its unit tests beside it.
pub mod accounts;
pub mod joining;
pub mod limits;
pub mod mail;
pub mod secrets;
pub mod session_code;
pub mod sessions;
pub mod sharing;
pub mod slides;

/// The HTTP status a domain error answers with, so that scripts, proxies and logs tell a refused
/// request (4xx) from a failure of Ruche's (5xx). Each error enum implements it beside the
/// server functions that return it.
pub trait HttpStatus {
    fn http_status(&self) -> u16;

    /// Seconds after which trying again makes sense, for a refusal that passes (429, 503): sent
    /// as `Retry-After`.
    fn retry_after(&self) -> Option<u64> {
        (self.http_status() == 503).then_some(UNAVAILABLE_RETRY_SECS)
    }
}

/// What a 503 asks a client to wait: a full queue of password hashes (tens of milliseconds
/// each) drains within seconds, and the database pool retries its connections as often.
pub const UNAVAILABLE_RETRY_SECS: u64 = 5;
