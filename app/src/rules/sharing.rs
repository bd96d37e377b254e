//! Sharing a session by e-mail: how address lists are read, and the limits that keep an open
//! sign-up from turning Ruche into a spam relay.
use super::accounts::clean_email;
use super::failure::{Failure, HttpStatus};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Addresses one "Send invitations" (or "+Add") may carry.
pub const MAX_ADDRESSES_PER_SEND: usize = 100;
/// Participant invitation mails one account may cause per 24 hours.
pub const MAX_INVITATIONS_PER_DAY: u64 = 500;
/// Co-facilitators of one session, invited or active: a session is run by a handful of people,
/// and "+Add" must not become a way to mail a list through one session.
pub const MAX_FACILITATORS_PER_SESSION: u64 = 20;
/// Co-facilitator invitation mails one account may cause per 24 hours, over all its sessions.
pub const MAX_FACILITATOR_INVITATIONS_PER_DAY: u64 = 50;
/// The window of both daily limits, and how long a pending co-facilitator invitation is not
/// mailed again when its address is added again.
pub const DAY_MICROS: i64 = 24 * 3600 * 1_000_000;
/// A co-facilitator invitation can be accepted for this long.
pub const FACILITATOR_INVITATION_DAYS: i64 = 14;
/// Refused addresses a report lists; the others are only counted ("and 12 more").
pub const MAX_REFUSED_SHOWN: usize = 20;
/// A refused address longer than this is listed cut short: the reply stays small whatever was
/// pasted.
pub const REFUSED_SHOWN_CHARS: usize = 80;

/// An address list as people paste it: separated by commas, semicolons, spaces or new lines.
/// Valid addresses come back cleaned and once each, in the order given; the others verbatim.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressList {
    pub valid: Vec<String>,
    pub invalid: Vec<String>,
}

/// Reads an address list. More than `MAX_ADDRESSES_PER_SEND` items is refused after one cheap
/// pass that only counts them: no address of an oversized paste is lowercased or checked.
pub fn parse_addresses(input: &str) -> Result<AddressList, SharingError> {
    parse_with(input, |item| clean_email(item).ok())
}

fn parse_with(input: &str, mut clean: impl FnMut(&str) -> Option<String>) -> Result<AddressList, SharingError> {
    let items = || input.split(|c: char| c == ',' || c == ';' || c.is_whitespace()).filter(|s| !s.is_empty());
    let count = items().count();
    if count > MAX_ADDRESSES_PER_SEND {
        return Err(SharingError::TooManyAddresses(count));
    }
    let mut list = AddressList::default();
    let (mut valid, mut invalid) = (HashSet::new(), HashSet::new());
    for item in items() {
        match clean(item) {
            Some(email) => {
                if valid.insert(email.clone()) {
                    list.valid.push(email);
                }
            }
            None => {
                if invalid.insert(item) {
                    list.invalid.push(item.to_owned());
                }
            }
        }
    }
    Ok(list)
}

/// The refused addresses a report lists: the first `MAX_REFUSED_SHOWN`, each cut to
/// `REFUSED_SHOWN_CHARS`; and how many more were refused.
pub fn shown_refusals(mut refused: Vec<String>) -> (Vec<String>, usize) {
    let more = refused.len().saturating_sub(MAX_REFUSED_SHOWN);
    refused.truncate(MAX_REFUSED_SHOWN);
    for item in &mut refused {
        if let Some((cut, _)) = item.char_indices().nth(REFUSED_SHOWN_CHARS) {
            item.truncate(cut);
            item.push('…');
        }
    }
    (refused, more)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SharingError {
    NotLoggedIn,
    NoAccess,
    OwnerOnly,
    NoAddress,
    TooManyAddresses(usize),
    DailyLimit(u64),
    TooManyFacilitators(u64),
    FacilitatorDailyLimit(u64),
    NoSuchFacilitator,
    InvitationInvalid,
    InvitationExpired,
    WrongAccount,
    /// The account's address is not proven yet (`rules::accounts::may`): anyone can sign up with
    /// someone else's address, so Ruche mails no one in its name until it is.
    EmailUnverified,
    /// `limits::CHANGES_PER_ACCOUNT` is used up.
    TooManyChanges(u64),
    /// What can go wrong with any request (`rules::failure`).
    Failed(Failure),
}

super::language::error_in_words!(SharingError, with Failed);

impl super::language::Sentence for SharingError {
    fn sentence(&self, lang: super::language::Lang) -> String {
        use crate::texts as t;
        match self {
            Self::NotLoggedIn => t::sharing_error_not_logged_in(lang).into(),
            Self::NoAccess => t::sharing_error_no_access(lang).into(),
            Self::OwnerOnly => t::sharing_error_owner_only(lang).into(),
            Self::NoAddress => t::sharing_error_no_address(lang).into(),
            Self::TooManyAddresses(count) => t::sharing_error_too_many_addresses(lang, count),
            Self::DailyLimit(count) => t::sharing_error_daily_limit(lang, count),
            Self::TooManyFacilitators(count) => {
                t::sharing_error_too_many_facilitators(lang, count, MAX_FACILITATORS_PER_SESSION)
            }
            Self::FacilitatorDailyLimit(count) => {
                t::sharing_error_facilitator_daily_limit(lang, count, MAX_FACILITATOR_INVITATIONS_PER_DAY)
            }
            Self::NoSuchFacilitator => t::sharing_error_no_such_facilitator(lang).into(),
            Self::InvitationInvalid => t::sharing_error_invitation_invalid(lang).into(),
            Self::InvitationExpired => t::sharing_error_invitation_expired(lang).into(),
            Self::WrongAccount => t::sharing_error_wrong_account(lang).into(),
            Self::EmailUnverified => t::sharing_error_email_unverified(lang).into(),
            Self::TooManyChanges(seconds) => t::sharing_error_too_many_changes(lang, seconds),
            Self::Failed(failure) => super::language::Sentence::sentence(failure, lang),
        }
    }
}

impl HttpStatus for SharingError {
    fn http_status(&self) -> u16 {
        match self {
            Self::NotLoggedIn => 401,
            // Who is asking is known; they may not, yet. Verifying lifts it.
            Self::NoAccess | Self::OwnerOnly | Self::WrongAccount | Self::EmailUnverified => 403,
            Self::NoAddress | Self::TooManyAddresses(_) => 400,
            Self::DailyLimit(_) | Self::FacilitatorDailyLimit(_) | Self::TooManyChanges(_) => 429,
            // The request is well formed; the session's present state refuses it, and removing a
            // co-facilitator changes that. 400 would say the request itself is wrong; 429 that
            // waiting helps, which it does not.
            Self::TooManyFacilitators(_) => 409,
            Self::NoSuchFacilitator | Self::InvitationInvalid => 404,
            Self::InvitationExpired => 410,
            Self::Failed(failure) => failure.http_status(),
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyChanges(seconds) => Some(*seconds),
            Self::Failed(failure) => failure.retry_after(),
            _ => None,
        }
    }
}

/// Checks one send against the per-send and per-day limits, given what was already sent today.
pub fn check_send(addresses: usize, sent_today: u64) -> Result<(), SharingError> {
    if addresses == 0 {
        return Err(SharingError::NoAddress);
    }
    if addresses > MAX_ADDRESSES_PER_SEND {
        return Err(SharingError::TooManyAddresses(addresses));
    }
    let left = MAX_INVITATIONS_PER_DAY.saturating_sub(sent_today);
    if addresses as u64 > left {
        return Err(SharingError::DailyLimit(left));
    }
    Ok(())
}

/// One "+Add" as its transaction sees it, for the co-facilitator limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FacilitatorSend {
    /// Co-facilitators the session has, invited or active.
    pub in_session: u64,
    /// Addresses this send adds to the session.
    pub new: u64,
    /// Invitations it would mail: the new addresses, and pending ones mailed over a day ago.
    pub mails: u64,
    /// Co-facilitator invitations the account mailed in the last 24 hours.
    pub mailed_today: u64,
}

pub fn check_facilitator_send(send: FacilitatorSend) -> Result<(), SharingError> {
    if send.in_session + send.new > MAX_FACILITATORS_PER_SESSION {
        return Err(SharingError::TooManyFacilitators(MAX_FACILITATORS_PER_SESSION.saturating_sub(send.in_session)));
    }
    let left = MAX_FACILITATOR_INVITATIONS_PER_DAY.saturating_sub(send.mailed_today);
    if send.mails > left {
        return Err(SharingError::FacilitatorDailyLimit(left));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_sharing_refusal_reads_in_each_language_the_english_one_as_displayed() {
        use crate::rules::language::{Lang, Sentence};
        let all = [
            SharingError::NotLoggedIn,
            SharingError::NoAccess,
            SharingError::OwnerOnly,
            SharingError::NoAddress,
            SharingError::TooManyAddresses(120),
            SharingError::DailyLimit(3),
            SharingError::TooManyFacilitators(2),
            SharingError::FacilitatorDailyLimit(4),
            SharingError::NoSuchFacilitator,
            SharingError::InvitationInvalid,
            SharingError::InvitationExpired,
            SharingError::WrongAccount,
            SharingError::EmailUnverified,
            SharingError::TooManyChanges(5),
            SharingError::Failed(Failure::Internal),
        ];
        for error in all {
            assert_ne!(error.sentence(Lang::Fr), error.to_string(), "{error:?} in French");
        }
    }

    #[test]
    fn reads_lists_however_they_are_separated() {
        let list =
            parse_addresses("ada@example.org, Bob@Example.org;carl@example.org\n dee@example.org\tada@example.org")
                .unwrap();
        assert_eq!(list.valid, ["ada@example.org", "bob@example.org", "carl@example.org", "dee@example.org"]);
        assert!(list.invalid.is_empty());
    }

    #[test]
    fn invalid_addresses_come_back_one_by_one() {
        let list = parse_addresses("ada@example.org, not-an-address, x@y, not-an-address").unwrap();
        assert_eq!(list.valid, ["ada@example.org"]);
        assert_eq!(list.invalid, ["not-an-address", "x@y"]);
    }

    #[test]
    fn an_oversized_list_is_refused_before_any_address_is_checked() {
        let words: Vec<String> = (0..60_000).map(|i| format!("w{i}@example.org")).collect();
        let mut checked = 0;
        let reply = parse_with(&words.join(" "), |item| {
            checked += 1;
            clean_email(item).ok()
        });
        assert_eq!((reply, checked), (Err(SharingError::TooManyAddresses(60_000)), 0));
        // Counted as pasted, duplicates and all: the count costs no per-address work.
        assert_eq!(parse_addresses(&"a@example.org ".repeat(101)), Err(SharingError::TooManyAddresses(101)));
        let hundred: Vec<String> = (0..100).map(|i| format!("w{i}@example.org")).collect();
        let list = parse_addresses(&format!(",;\n{}\n", hundred.join(" ,"))).unwrap();
        assert_eq!(list.valid, hundred);
    }

    #[test]
    fn refusals_are_listed_capped() {
        let refused: Vec<String> = (0..100).map(|i| format!("bad{i}")).collect();
        let (shown, more) = shown_refusals(refused.clone());
        assert_eq!((shown.as_slice(), more), (&refused[..MAX_REFUSED_SHOWN], 80));
        let (shown, more) = shown_refusals(vec!["x".repeat(5000), "é".repeat(REFUSED_SHOWN_CHARS)]);
        assert_eq!(shown[0], format!("{}…", "x".repeat(REFUSED_SHOWN_CHARS)));
        assert_eq!((shown[1].chars().count(), more), (REFUSED_SHOWN_CHARS, 0), "a refusal at the limit is shown whole");
    }

    #[test]
    fn co_facilitator_limits_per_session_and_per_day() {
        let send = |in_session, new, mails, mailed_today| {
            check_facilitator_send(FacilitatorSend { in_session, new, mails, mailed_today })
        };
        assert_eq!(send(0, 20, 20, 0), Ok(()));
        assert_eq!(send(15, 6, 6, 0), Err(SharingError::TooManyFacilitators(5)));
        assert_eq!(send(25, 1, 1, 0), Err(SharingError::TooManyFacilitators(0)));
        // Re-mailing pending invitations adds nobody to the session, but counts as mail.
        assert_eq!(send(20, 0, 3, 0), Ok(()));
        assert_eq!(send(0, 10, 10, 45), Err(SharingError::FacilitatorDailyLimit(5)));
        assert_eq!(send(0, 5, 5, 45), Ok(()));
        assert_eq!(send(10, 0, 0, 50), Ok(()), "adding nothing new mails nothing");
        assert_eq!(
            SharingError::TooManyFacilitators(2).to_string(),
            "A session can have at most 20 co-facilitators, invited or active; 2 more can be added."
        );
    }

    #[test]
    fn unverified_accounts_are_told_what_to_do_with_a_403() {
        use super::super::HttpStatus;
        assert_eq!(SharingError::EmailUnverified.to_string(), "Verify your e-mail address first: we sent you a link.");
        assert_eq!(SharingError::EmailUnverified.http_status(), 403);
    }

    #[test]
    fn limits_per_send_and_per_day() {
        assert_eq!(check_send(0, 0), Err(SharingError::NoAddress));
        assert_eq!(check_send(100, 0), Ok(()));
        assert_eq!(check_send(101, 0), Err(SharingError::TooManyAddresses(101)));
        assert_eq!(check_send(10, 495), Err(SharingError::DailyLimit(5)));
        assert_eq!(check_send(5, 495), Ok(()));
        assert_eq!(check_send(1, 600), Err(SharingError::DailyLimit(0)));
    }
}
