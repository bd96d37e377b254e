//! Administering an instance: who may, what the account list shows, and the invitations to
//! create an account (`SIGNUP=invite`). The first account of an instance is its administrator;
//! `server admin add <email>` names others.
use super::failure::{Failure, HttpStatus};
use serde::{Deserialize, Serialize};

/// Accounts the list shows at once, newest first: a search narrows it down. Bounds the page and
/// its query whatever the number of accounts.
pub const ACCOUNTS_SHOWN: u64 = 50;
/// A search longer than any address or name is a mistake or a probe.
pub const SEARCH_MAX_CHARS: usize = 100;
/// An invitation to create an account works for 14 days, as a co-facilitator's does.
pub const INVITATION_LIFETIME_SECS: i64 = 14 * 24 * 3600;
/// Invitations waiting to be used, on the whole instance: the table stays small whatever an
/// administrator's script does.
pub const MAX_PENDING_INVITATIONS: u64 = 1000;

/// The search as the list uses it: trimmed and lower-cased (addresses are stored lower-case;
/// names are compared lower-cased).
pub fn clean_search(input: &str) -> Result<String, AdminError> {
    let search = input.trim().to_lowercase();
    if search.chars().count() > SEARCH_MAX_CHARS || search.chars().any(char::is_control) {
        Err(AdminError::SearchTooLong)
    } else {
        Ok(search)
    }
}

/// An administrator never disables nor deletes their own account: the instance would be left
/// without the person who just meant to act on it.
pub fn check_target(administrator: uuid::Uuid, target: uuid::Uuid) -> Result<(), AdminError> {
    if administrator == target {
        Err(AdminError::OwnAccount)
    } else {
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminError {
    NotLoggedIn,
    NotAdmin,
    NoSuchAccount,
    OwnAccount,
    SearchTooLong,
    InvalidEmail,
    AlreadyAnAccount,
    /// `SIGNUP=closed`: the accounts there are all there will be.
    InvitationsOff,
    /// `MAX_PENDING_INVITATIONS` are waiting.
    TooManyInvitations,
    Failed(Failure),
}

super::language::error_in_words!(AdminError, with Failed);

impl super::language::Sentence for AdminError {
    fn sentence(&self, lang: super::language::Lang) -> String {
        use crate::texts as t;
        match self {
            Self::NotLoggedIn => t::admin_error_not_logged_in(lang).into(),
            Self::NotAdmin => t::admin_error_not_admin(lang).into(),
            Self::NoSuchAccount => t::admin_error_no_such_account(lang).into(),
            Self::OwnAccount => t::admin_error_own_account(lang).into(),
            Self::SearchTooLong => t::admin_error_search_too_long(lang, SEARCH_MAX_CHARS),
            Self::InvalidEmail => t::admin_error_invalid_email(lang).into(),
            Self::AlreadyAnAccount => t::admin_error_already_an_account(lang).into(),
            Self::InvitationsOff => t::admin_error_invitations_off(lang).into(),
            Self::TooManyInvitations => t::admin_error_too_many_invitations(lang, lang.number(MAX_PENDING_INVITATIONS)),
            Self::Failed(failure) => super::language::Sentence::sentence(failure, lang),
        }
    }
}

impl HttpStatus for AdminError {
    fn http_status(&self) -> u16 {
        match self {
            Self::SearchTooLong | Self::InvalidEmail => 400,
            Self::NotLoggedIn => 401,
            Self::NotAdmin | Self::OwnAccount | Self::InvitationsOff => 403,
            Self::NoSuchAccount => 404,
            Self::AlreadyAnAccount | Self::TooManyInvitations => 409,
            Self::Failed(failure) => failure.http_status(),
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Failed(failure) => failure.retry_after(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_trimmed_lowercased_and_bounded() {
        assert_eq!(clean_search("  Ada@Example "), Ok("ada@example".into()));
        assert_eq!(clean_search(""), Ok(String::new()));
        assert_eq!(clean_search(&"a".repeat(SEARCH_MAX_CHARS)).map(|s| s.len()), Ok(SEARCH_MAX_CHARS));
        let refused = clean_search(&"a".repeat(SEARCH_MAX_CHARS + 1)).unwrap_err();
        assert_eq!((refused.to_string().as_str(), refused.http_status()), ("Search with at most 100 characters.", 400));
        assert!(clean_search("a\u{0}b").is_err());
    }

    #[test]
    fn an_administrator_cannot_act_on_their_own_account() {
        let (me, other) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2));
        assert_eq!(check_target(me, other), Ok(()));
        assert_eq!(check_target(me, me), Err(AdminError::OwnAccount));
        assert_eq!(AdminError::OwnAccount.http_status(), 403);
    }

    #[test]
    fn each_refusal_reads_in_each_language_the_english_one_as_displayed() {
        use crate::rules::language::{Lang, Sentence};
        let all = [
            AdminError::NotLoggedIn,
            AdminError::NotAdmin,
            AdminError::NoSuchAccount,
            AdminError::OwnAccount,
            AdminError::SearchTooLong,
            AdminError::InvalidEmail,
            AdminError::AlreadyAnAccount,
            AdminError::InvitationsOff,
            AdminError::TooManyInvitations,
            AdminError::Failed(Failure::Unavailable),
        ];
        for error in all {
            assert_ne!(error.sentence(Lang::Fr), error.to_string(), "{error:?} in French");
        }
        assert!(AdminError::TooManyInvitations.sentence(Lang::Fr).starts_with("1\u{202f}000 "));
    }

    #[test]
    fn the_sentences_match_the_bounds() {
        assert!(AdminError::TooManyInvitations.to_string().starts_with("1,000 "));
        assert_eq!(MAX_PENDING_INVITATIONS, 1000);
        assert!(AdminError::SearchTooLong.to_string().contains(&SEARCH_MAX_CHARS.to_string()));
    }
}
