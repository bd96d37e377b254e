//! What can go wrong with any request whatever its domain, with its sentence and its HTTP status
//! side by side. Every domain error (`SessionError`, `JoinError`…) holds a `Failure` as its
//! `Failed` variant, so these are written once, and an answer made outside a server function
//! (the body limit's `{"Failed":"TooLarge"}`) reads as the right sentence whichever was called.
use serde::{Deserialize, Serialize};

/// The HTTP status a domain error answers with, so that scripts, proxies and logs tell a refused
/// request (4xx) from a failure of Ruche's (5xx). Each error enum implements it right below its
/// definition, so a variant's sentence and status are read together.
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Failure {
    /// Details are in the server log, never shown.
    Internal,
    /// The database cannot be reached (`storage::is_unavailable`): waiting is all one can do.
    Unavailable,
    /// Arguments that do not decode: a hand-made or outdated request, never a page of this Ruche.
    Malformed,
    /// Past the request body limit (`guard::body_limit` in the server crate).
    TooLarge,
    /// The browser could not reach Ruche, or read its answer (the detail is for the console).
    Unreachable(String),
}

super::language::error_in_words!(Failure);

impl super::language::Sentence for Failure {
    fn sentence(&self, lang: super::language::Lang) -> String {
        use crate::texts as t;
        match self {
            Self::Internal => t::failure_internal(lang),
            Self::Unavailable => t::failure_unavailable(lang),
            Self::Malformed => t::failure_malformed(lang),
            Self::TooLarge => t::failure_too_large(lang),
            Self::Unreachable(_) => t::failure_unreachable(lang),
        }
        .to_owned()
    }
}

impl HttpStatus for Failure {
    fn http_status(&self) -> u16 {
        match self {
            Self::Malformed => 400,
            Self::TooLarge => 413,
            Self::Internal | Self::Unreachable(_) => 500,
            Self::Unavailable => 503,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_of_the_caller_are_4xx_and_those_of_ruche_5xx_with_a_wait_only_when_it_helps() {
        assert_eq!((Failure::Malformed.http_status(), Failure::TooLarge.http_status()), (400, 413));
        assert_eq!(Failure::Internal.http_status(), 500);
        assert_eq!(Failure::Unavailable.retry_after(), Some(UNAVAILABLE_RETRY_SECS));
        assert_eq!(Failure::Internal.retry_after(), None);
    }

    #[test]
    fn each_failure_reads_in_each_language() {
        use super::super::language::{Lang, Sentence};
        for failure in [
            Failure::Internal,
            Failure::Unavailable,
            Failure::Malformed,
            Failure::TooLarge,
            Failure::Unreachable("detail".into()),
        ] {
            assert_eq!(failure.sentence(Lang::En), failure.to_string());
            assert_ne!(failure.sentence(Lang::Fr), failure.to_string());
        }
    }

    #[test]
    fn a_failure_travels_as_the_variant_every_domain_error_shares() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        enum Domain {
            Failed(Failure),
        }
        assert_eq!(serde_json::to_string(&Domain::Failed(Failure::TooLarge)).unwrap(), r#"{"Failed":"TooLarge"}"#);
    }
}
