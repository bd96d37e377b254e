//! Who may do what with a session, and what a session's title may be.
use serde::{Deserialize, Serialize};

pub const TITLE_MAX_CHARS: usize = 120;
/// Sessions one account may own. Each holds a code out of a million; without a cap, one account
/// could hold them all, and nobody could create a session or a new code any more.
pub const MAX_SESSIONS_PER_ACCOUNT: u64 = 200;
/// A deleted session's code and link answer "This session no longer exists." this long, and its
/// code is not drawn again meanwhile: an old link or a printed code never leads into another
/// session that drew the same code later.
pub const DELETED_WAYS_IN_KEPT_DAYS: i64 = 30;
pub const DELETED_WAYS_IN_KEPT_MICROS: i64 = DELETED_WAYS_IN_KEPT_DAYS * 24 * 3600 * 1_000_000;

/// A person's part in a session. Anyone without a role gets nothing of the host view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Owner,
    /// Added by the owner to co-create and co-host the session.
    Facilitator,
}

impl Role {
    /// Only the owner of the session can open or close it (help article, "Alert").
    pub fn may_open_or_close(self) -> bool {
        matches!(self, Role::Owner)
    }

    /// A new code (and link) breaks every invitation already sent: the owner's call alone.
    pub fn may_generate_code(self) -> bool {
        matches!(self, Role::Owner)
    }

    /// Hosts edit slides, choose the active one and show the QR code.
    pub fn may_edit_slides(self) -> bool {
        true
    }

    /// Hosts copy the link and send participant invitations.
    pub fn may_invite_participants(self) -> bool {
        true
    }

    /// Who co-hosts is the owner's call.
    pub fn may_manage_facilitators(self) -> bool {
        matches!(self, Role::Owner)
    }

    /// The title is the owner's, like opening and closing.
    pub fn may_rename(self) -> bool {
        matches!(self, Role::Owner)
    }

    /// A copy is a new session owned by the caller, counted against their cap: the owner's call.
    pub fn may_duplicate(self) -> bool {
        matches!(self, Role::Owner)
    }

    /// Deleting takes every participant out for good.
    pub fn may_delete(self) -> bool {
        matches!(self, Role::Owner)
    }

    /// The name shown in "My sessions".
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Facilitator => "Facilitator",
        }
    }
}

/// Checks a host-view action against the caller's role; `None` is anyone who is not a host.
pub fn require_host(role: Option<Role>) -> Result<Role, SessionError> {
    role.ok_or(SessionError::NoAccess)
}

/// A host whose role allows the action, or the sentence saying why not.
fn require(role: Option<Role>, allowed: fn(Role) -> bool, refused: SessionError) -> Result<Role, SessionError> {
    let role = require_host(role)?;
    if allowed(role) { Ok(role) } else { Err(refused) }
}

pub fn require_open_or_close(role: Option<Role>) -> Result<Role, SessionError> {
    require(role, Role::may_open_or_close, SessionError::OwnerOnly)
}

pub fn require_generate_code(role: Option<Role>) -> Result<Role, SessionError> {
    require(role, Role::may_generate_code, SessionError::OwnerOnlyCode)
}

pub fn require_edit_slides(role: Option<Role>) -> Result<Role, SessionError> {
    require(role, Role::may_edit_slides, SessionError::NoAccess)
}

pub fn require_rename(role: Option<Role>) -> Result<Role, SessionError> {
    require(role, Role::may_rename, SessionError::OwnerOnlyRename)
}

pub fn require_duplicate(role: Option<Role>) -> Result<Role, SessionError> {
    require(role, Role::may_duplicate, SessionError::OwnerOnlyDuplicate)
}

pub fn require_delete(role: Option<Role>) -> Result<Role, SessionError> {
    require(role, Role::may_delete, SessionError::OwnerOnlyDelete)
}

/// The title of a duplicate: "Copy of <title>", cut to the title limit (in characters, and
/// without a trailing space where the cut falls after one).
pub fn copy_title(title: &str) -> String {
    let full = format!("Copy of {title}");
    full.chars().take(TITLE_MAX_CHARS).collect::<String>().trim_end().to_owned()
}

/// Trims the title and checks its length in characters, not bytes.
pub fn clean_title(input: &str) -> Result<String, SessionError> {
    let title = input.trim();
    let chars = title.chars().count();
    if chars == 0 || chars > TITLE_MAX_CHARS || title.chars().any(char::is_control) {
        Err(SessionError::InvalidTitle)
    } else {
        Ok(title.to_owned())
    }
}

/// Everything that can go wrong with a session, each with the sentence a person reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum SessionError {
    #[error("Log in to continue.")]
    NotLoggedIn,
    #[error("You don't have access to this session.")]
    NoAccess,
    #[error("Only the owner of the session can open or close the session.")]
    OwnerOnly,
    #[error("Only the owner of the session can generate a new code.")]
    OwnerOnlyCode,
    #[error("Only the owner of the session can rename it.")]
    OwnerOnlyRename,
    #[error("Only the owner of the session can duplicate it.")]
    OwnerOnlyDuplicate,
    #[error("Only the owner of the session can delete it.")]
    OwnerOnlyDelete,
    /// Deleted by its owner (for `DELETED_WAYS_IN_KEPT_DAYS`, then it is simply unknown).
    #[error("This session no longer exists.")]
    Deleted,
    #[error("Give the session a title of 1 to 120 characters.")]
    InvalidTitle,
    #[error("A slide title has at most 120 characters on one line, and its text at most 2000.")]
    InvalidSlide,
    #[error("This slide is no longer in the session.")]
    NoSuchSlide,
    #[error("You already have 200 sessions, the most one account may hold.")]
    TooManySessions,
    #[error("A session holds at most 100 slides.")]
    TooManySlides,
    /// Details are in the server log, never shown.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// Arguments that do not decode: a hand-made or outdated request, never a page of this Ruche.
    #[error("Ruche could not read this request. Reload the page and try again.")]
    Malformed,
    #[error("This is too much to send at once. Shorten it and try again.")]
    TooLarge,
    #[error("Ruche could not be reached. Check your connection and try again.")]
    Unreachable(String),
}

crate::server_fn_error!(SessionError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_owner_may_open_or_close() {
        assert_eq!(require_open_or_close(Some(Role::Owner)), Ok(Role::Owner));
        assert_eq!(require_open_or_close(Some(Role::Facilitator)), Err(SessionError::OwnerOnly));
        assert_eq!(require_generate_code(Some(Role::Facilitator)), Err(SessionError::OwnerOnlyCode));
        assert_eq!(require_edit_slides(Some(Role::Facilitator)), Ok(Role::Facilitator));
        assert!(Role::Facilitator.may_invite_participants());
        assert!(!Role::Facilitator.may_manage_facilitators());
        assert!(Role::Owner.may_manage_facilitators());
        assert_eq!(require_open_or_close(None), Err(SessionError::NoAccess));
        assert_eq!(require_generate_code(Some(Role::Owner)), Ok(Role::Owner));
        assert_eq!(require_generate_code(None), Err(SessionError::NoAccess));
        assert_eq!(require_edit_slides(None), Err(SessionError::NoAccess));
    }

    #[test]
    fn only_the_owner_renames_duplicates_or_deletes() {
        for (require, refused) in [
            (require_rename as fn(Option<Role>) -> Result<Role, SessionError>, SessionError::OwnerOnlyRename),
            (require_duplicate, SessionError::OwnerOnlyDuplicate),
            (require_delete, SessionError::OwnerOnlyDelete),
        ] {
            assert_eq!(require(Some(Role::Owner)), Ok(Role::Owner));
            assert_eq!(require(Some(Role::Facilitator)), Err(refused));
            assert_eq!(require(None), Err(SessionError::NoAccess));
        }
    }

    #[test]
    fn copies_are_named_after_their_original_within_the_limit() {
        assert_eq!(copy_title("Weekly sync"), "Copy of Weekly sync");
        let long = "é".repeat(TITLE_MAX_CHARS);
        let copy = copy_title(&long);
        assert_eq!(copy.chars().count(), TITLE_MAX_CHARS);
        assert!(copy.starts_with("Copy of éé"));
        assert_eq!(clean_title(&copy).as_deref(), Ok(copy.as_str()));
        // A cut just after a space leaves no trailing space.
        let spaced = format!("{} b", "a".repeat(TITLE_MAX_CHARS - 9));
        assert_eq!(copy_title(&spaced), format!("Copy of {}", "a".repeat(TITLE_MAX_CHARS - 9)));
    }

    #[test]
    fn people_without_a_role_have_no_host_access() {
        assert_eq!(require_host(None), Err(SessionError::NoAccess));
        assert_eq!(require_host(Some(Role::Owner)), Ok(Role::Owner));
    }

    #[test]
    fn titles_are_trimmed_and_bounded_in_characters() {
        assert_eq!(clean_title("  Weekly sync \n").unwrap(), "Weekly sync");
        assert_eq!(clean_title(""), Err(SessionError::InvalidTitle));
        assert_eq!(clean_title("   "), Err(SessionError::InvalidTitle));
        assert!(clean_title(&"é".repeat(120)).is_ok());
        assert_eq!(clean_title(&"é".repeat(121)), Err(SessionError::InvalidTitle));
        assert_eq!(clean_title("a\u{0}b"), Err(SessionError::InvalidTitle));
    }

    #[test]
    fn errors_read_as_sentences() {
        assert_eq!(SessionError::NoAccess.to_string(), "You don't have access to this session.");
        assert!(SessionError::TooManySessions.to_string().contains(&MAX_SESSIONS_PER_ACCOUNT.to_string()));
        assert!(SessionError::TooManySlides.to_string().contains(&crate::rules::slides::MAX_SLIDES_PER_SESSION.to_string()));
    }
}
