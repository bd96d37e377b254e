//! How participants get in: what each failed way in answers, the nickname rule, and the limit on
//! failed attempts per client address.
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

pub const NICKNAME_MAX_CHARS: usize = 40;
/// Failed lookups (unknown or retired code or link) allowed per client address per window.
pub const MAX_FAILURES: usize = 20;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum JoinError {
    #[error("A session code has 6 digits, like 123 456.")]
    MalformedCode,
    /// Worded to reveal nothing about other sessions.
    #[error("No session has this code. Check the code and try again.")]
    UnknownCode,
    #[error("This link leads to no session. Check the link and try again.")]
    UnknownLink,
    /// A code or link replaced by "Generate a new code".
    #[error("This code is no longer valid. Ask the host for the new one.")]
    Retired,
    #[error("This session is closed.")]
    Closed,
    #[error("Too many attempts. Try again in {0} seconds.")]
    TooManyAttempts(u64),
    #[error("Join this session with its code or link first.")]
    NotJoined,
    #[error("A nickname has at most 40 characters.")]
    InvalidNickname,
    /// Details are in the server log, never shown.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    #[error("Ruche could not be reached. Check your connection and try again.")]
    Unreachable(String),
}

crate::server_fn_error!(JoinError);

/// An empty nickname means none; otherwise trimmed, at most 40 characters, no control characters.
pub fn clean_nickname(input: &str) -> Result<Option<String>, JoinError> {
    let nickname = input.trim();
    if nickname.is_empty() {
        Ok(None)
    } else if nickname.chars().count() > NICKNAME_MAX_CHARS || nickname.chars().any(char::is_control) {
        Err(JoinError::InvalidNickname)
    } else {
        Ok(Some(nickname.to_owned()))
    }
}

/// Counts failed lookups per client address over a sliding window. Only failures count, so a
/// whole room behind one school or office address can join; once an address has failed
/// `MAX_FAILURES` times in the window, its lookups are refused until the oldest failure ages
/// out (otherwise guessing codes would go on at full speed, each guess told apart by its answer).
#[derive(Debug, Default)]
pub struct FailureLimiter {
    failures: HashMap<IpAddr, VecDeque<Instant>>,
}

impl FailureLimiter {
    /// `Some(wait)` when `ip` must wait before trying again.
    pub fn retry_after(&mut self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let failures = self.failures.get_mut(&ip)?;
        while failures.front().is_some_and(|t| now.duration_since(*t) >= FAILURE_WINDOW) {
            failures.pop_front();
        }
        if failures.is_empty() {
            self.failures.remove(&ip);
            return None;
        }
        (failures.len() >= MAX_FAILURES).then(|| FAILURE_WINDOW - now.duration_since(failures[0]))
    }

    pub fn record_failure(&mut self, ip: IpAddr, now: Instant) {
        let failures = self.failures.entry(ip).or_default();
        failures.push_back(now);
        // Past the limit only the newest failures matter.
        while failures.len() > MAX_FAILURES {
            failures.pop_front();
        }
    }

    /// Forgets addresses whose failures have all aged out, so memory follows recent abuse only.
    pub fn prune(&mut self, now: Instant) {
        self.failures
            .retain(|_, f| f.back().is_some_and(|t| now.duration_since(*t) < FAILURE_WINDOW));
    }
}

/// Seconds to tell a person: rounded up, never 0.
pub fn whole_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nicknames_are_optional_and_bounded() {
        assert_eq!(clean_nickname("  "), Ok(None));
        assert_eq!(clean_nickname(" Zoé "), Ok(Some("Zoé".into())));
        assert!(clean_nickname(&"é".repeat(40)).is_ok());
        assert_eq!(clean_nickname(&"é".repeat(41)), Err(JoinError::InvalidNickname));
    }

    #[test]
    fn the_limit_trips_after_the_allowed_failures_and_frees_after_the_window() {
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let other: IpAddr = "203.0.113.8".parse().unwrap();
        let start = Instant::now();
        let mut limiter = FailureLimiter::default();
        for i in 0..MAX_FAILURES {
            assert_eq!(limiter.retry_after(ip, start), None, "refused after {i} failures");
            limiter.record_failure(ip, start + Duration::from_secs(i as u64));
        }
        let now = start + Duration::from_secs(30);
        assert_eq!(limiter.retry_after(ip, now), Some(Duration::from_secs(30)));
        assert_eq!(limiter.retry_after(other, now), None, "other addresses are not affected");
        // The first failure ages out at 60 s: one more attempt is allowed.
        assert_eq!(limiter.retry_after(ip, start + FAILURE_WINDOW), None);
        limiter.prune(start + Duration::from_secs(200));
        assert!(limiter.failures.is_empty());
    }

    #[test]
    fn waits_are_told_in_whole_seconds() {
        assert_eq!(whole_seconds(Duration::from_millis(29_001)), 30);
        assert_eq!(whole_seconds(Duration::from_secs(30)), 30);
    }

    #[test]
    fn messages_follow_the_product_wording() {
        assert_eq!(JoinError::UnknownCode.to_string(), "No session has this code. Check the code and try again.");
        assert_eq!(JoinError::Retired.to_string(), "This code is no longer valid. Ask the host for the new one.");
        assert_eq!(JoinError::TooManyAttempts(12).to_string(), "Too many attempts. Try again in 12 seconds.");
    }
}
