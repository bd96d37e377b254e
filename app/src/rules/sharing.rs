//! Sharing a session by e-mail: how address lists are read, and the limits that keep an open
//! sign-up from turning Ruche into a spam relay.
use super::accounts::clean_email;
use serde::{Deserialize, Serialize};

/// Addresses one "Send invitations" (or "+Add") may carry.
pub const MAX_ADDRESSES_PER_SEND: usize = 100;
/// Participant invitation mails one account may cause per 24 hours.
pub const MAX_INVITATIONS_PER_DAY: u64 = 500;
/// A co-facilitator invitation can be accepted for this long.
pub const FACILITATOR_INVITATION_DAYS: i64 = 14;

/// An address list as people paste it: separated by commas, semicolons, spaces or new lines.
/// Valid addresses come back cleaned and once each, in the order given; the others verbatim.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressList {
    pub valid: Vec<String>,
    pub invalid: Vec<String>,
}

pub fn parse_addresses(input: &str) -> AddressList {
    let mut list = AddressList::default();
    for item in input.split(|c: char| c == ',' || c == ';' || c.is_whitespace()).filter(|s| !s.is_empty()) {
        match clean_email(item) {
            Ok(email) if !list.valid.contains(&email) => list.valid.push(email),
            Ok(_) => {}
            Err(_) if !list.invalid.iter().any(|i| i == item) => list.invalid.push(item.to_owned()),
            Err(_) => {}
        }
    }
    list
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum SharingError {
    #[error("Log in to continue.")]
    NotLoggedIn,
    #[error("You don't have access to this session.")]
    NoAccess,
    #[error("Only the owner of the session can add or remove co-facilitators.")]
    OwnerOnly,
    #[error("Enter at least one e-mail address.")]
    NoAddress,
    #[error("Send to at most 100 addresses at a time; you gave {0}.")]
    TooManyAddresses(usize),
    #[error("You can send at most 500 invitations a day; {0} more can go out today.")]
    DailyLimit(u64),
    #[error("This co-facilitator is no longer in the session.")]
    NoSuchFacilitator,
    #[error("This invitation is no longer valid. Ask the session's owner for a new one.")]
    InvitationInvalid,
    #[error("This invitation has expired. Ask the session's owner for a new one.")]
    InvitationExpired,
    #[error("This invitation was sent to another e-mail address: log in with that address to accept it.")]
    WrongAccount,
    /// Details are in the server log, never shown.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    #[error("Ruche could not be reached. Check your connection and try again.")]
    Unreachable(String),
}

crate::server_fn_error!(SharingError);

impl super::HttpStatus for SharingError {
    fn http_status(&self) -> u16 {
        match self {
            Self::NotLoggedIn => 401,
            Self::NoAccess | Self::OwnerOnly | Self::WrongAccount => 403,
            Self::NoAddress | Self::TooManyAddresses(_) => 400,
            Self::DailyLimit(_) => 429,
            Self::NoSuchFacilitator | Self::InvitationInvalid => 404,
            Self::InvitationExpired => 410,
            Self::Internal | Self::Unreachable(_) => 500,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lists_however_they_are_separated() {
        let list = parse_addresses("ada@example.org, Bob@Example.org;carl@example.org\n dee@example.org\tada@example.org");
        assert_eq!(list.valid, ["ada@example.org", "bob@example.org", "carl@example.org", "dee@example.org"]);
        assert!(list.invalid.is_empty());
    }

    #[test]
    fn invalid_addresses_come_back_one_by_one() {
        let list = parse_addresses("ada@example.org, not-an-address, x@y, not-an-address");
        assert_eq!(list.valid, ["ada@example.org"]);
        assert_eq!(list.invalid, ["not-an-address", "x@y"]);
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
