//! How participants get in: what each failed way in answers and the nickname rule. How many
//! failures a visitor and an address may make is in `limits.rs`.
use super::failure::{Failure, HttpStatus};
use super::language::{Lang, Sentence};
use serde::{Deserialize, Serialize};

pub const NICKNAME_MAX_CHARS: usize = 40;
/// Participants one session may hold unless `MAX_PARTICIPANTS` says otherwise: well above the
/// 19,500 live sockets one process serves, so that only abuse meets it.
pub const DEFAULT_MAX_PARTICIPANTS: u64 = 100_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JoinError {
    MalformedCode,
    /// Worded to reveal nothing about other sessions.
    UnknownCode,
    UnknownLink,
    /// A code or link replaced by "Generate a new code".
    Retired,
    Closed,
    /// Its owner deleted it: its code and link say so for `sessions::DELETED_WAYS_IN_KEPT_DAYS`.
    Deleted,
    TooManyAttempts(u64),
    /// `MAX_PARTICIPANTS`: a session holds at most this many participants.
    Full,
    NotJoined,
    InvalidNickname,
    /// A host banned this browser from the session's Discussion (`rules::discussion`).
    Banned,
    /// What can go wrong with any request (`rules::failure`).
    Failed(Failure),
}

super::language::error_in_words!(JoinError, with Failed);

impl Sentence for JoinError {
    fn sentence(&self, lang: Lang) -> String {
        use crate::texts as t;
        match self {
            Self::MalformedCode => t::join_error_malformed_code(lang).into(),
            Self::UnknownCode => t::join_error_unknown_code(lang).into(),
            Self::UnknownLink => t::join_error_unknown_link(lang).into(),
            Self::Retired => t::join_error_retired(lang).into(),
            Self::Closed => t::join_error_closed(lang).into(),
            Self::Deleted => t::join_error_deleted(lang).into(),
            Self::TooManyAttempts(seconds) => t::join_error_too_many_attempts(lang, seconds),
            Self::Full => t::join_error_full(lang).into(),
            Self::NotJoined => t::join_error_not_joined(lang).into(),
            Self::InvalidNickname => t::join_error_invalid_nickname(lang).into(),
            Self::Banned => t::join_error_banned(lang).into(),
            Self::Failed(failure) => failure.sentence(lang),
        }
    }
}

impl HttpStatus for JoinError {
    fn http_status(&self) -> u16 {
        match self {
            Self::MalformedCode | Self::InvalidNickname => 400,
            Self::UnknownCode | Self::UnknownLink => 404,
            Self::Retired | Self::Deleted => 410,
            Self::Closed | Self::NotJoined | Self::Full | Self::Banned => 403,
            Self::TooManyAttempts(_) => 429,
            Self::Failed(failure) => failure.http_status(),
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyAttempts(seconds) => Some(*seconds),
            Self::Failed(failure) => failure.retry_after(),
            _ => None,
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_has_its_sentence_in_each_language_the_english_one_as_displayed() {
        let all = [
            JoinError::MalformedCode,
            JoinError::UnknownCode,
            JoinError::UnknownLink,
            JoinError::Retired,
            JoinError::Closed,
            JoinError::Deleted,
            JoinError::TooManyAttempts(42),
            JoinError::Full,
            JoinError::NotJoined,
            JoinError::InvalidNickname,
            JoinError::Banned,
            JoinError::Failed(Failure::Unavailable),
        ];
        for error in all {
            assert_ne!(error.sentence(Lang::Fr), error.to_string(), "{error:?} in French");
        }
        assert_eq!(
            JoinError::TooManyAttempts(42).sentence(Lang::Fr),
            "Trop de tentatives. Réessayez dans 42 secondes."
        );
    }

    #[test]
    fn nicknames_are_optional_and_bounded() {
        assert_eq!(clean_nickname("  "), Ok(None));
        assert_eq!(clean_nickname(" Zoé "), Ok(Some("Zoé".into())));
        assert!(clean_nickname(&"é".repeat(40)).is_ok());
        assert_eq!(clean_nickname(&"é".repeat(41)), Err(JoinError::InvalidNickname));
    }

    #[test]
    fn messages_follow_the_product_wording() {
        assert_eq!(JoinError::UnknownCode.to_string(), "No session has this code. Check the code and try again.");
        assert_eq!(JoinError::Retired.to_string(), "This code is no longer valid. Ask the host for the new one.");
        assert_eq!(JoinError::TooManyAttempts(12).to_string(), "Too many attempts. Try again in 12 seconds.");
    }
}
