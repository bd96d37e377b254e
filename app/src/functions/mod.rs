//! Server functions, one file per domain. Each checks who is calling before doing anything:
//! they are public HTTP endpoints (`/api/<name>`), whatever the pages show.
pub mod accounts;
pub mod joining;
pub mod sessions;
pub mod sharing;
pub mod slides;
