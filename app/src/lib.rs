#![recursion_limit = "512"]
//! Ruche's application crate: pages and components, server functions by domain, the domain
//! rules, and (behind the `ssr` feature) storage and login sessions.

pub mod functions;
pub mod ids;
pub mod live_protocol;
mod pages;
pub mod rules;
#[cfg(feature = "ssr")]
pub mod services;
pub mod states;
#[cfg(feature = "ssr")]
pub mod storage;
pub mod texts;

pub use pages::{islands::page_started, shell, App};
