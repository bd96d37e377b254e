//! Who may do what with a session, and what a session's title may be.
use super::failure::{Failure, HttpStatus};
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

const DAY_MICROS: i64 = 24 * 3600 * 1_000_000;

/// Session codes one account may draw in 24 hours: each new session, copy and "Generate a new
/// code" takes one out of a shared million (and a deleted session's stays reserved
/// `DELETED_WAYS_IN_KEPT_DAYS`). Plenty for a person; a script looping on "Generate a new code"
/// stops here instead of reserving the whole space.
pub const CODE_DRAWS_PER_ACCOUNT_PER_DAY: u64 = 300;
/// The window `CODE_DRAWS_PER_ACCOUNT_PER_DAY` counts over: the last 24 hours.
pub const CODE_DRAWS_WINDOW_MICROS: i64 = DAY_MICROS;

/// Whether an account that drew `drawn` codes in the last 24 hours may draw one more.
pub fn may_draw_code(drawn: u64) -> bool {
    drawn < CODE_DRAWS_PER_ACCOUNT_PER_DAY
}

/// Old codes and links a session keeps after "Generate a new code" (two per generation), which
/// answer "This code is no longer valid." (410); older ones are forgotten (404), so that
/// generating in a loop cannot grow storage without bound.
pub const RETIRED_WAYS_IN_KEPT_PER_SESSION: u64 = 100;

/// A session nobody has hosted for this many days closes by itself (`AUTO_CLOSE_DAYS`), so a
/// forgotten session is not open to the world for ever.
pub const DEFAULT_AUTO_CLOSE_DAYS: u32 = 30;

/// Host activity (the host page, a host socket, reopening) is written at most this often per
/// session: closing counts in days, and a write per page load would cost every host a write.
pub const HOST_ACTIVITY_EVERY_MICROS: i64 = 3600 * 1_000_000;

/// When sessions close by themselves: `after_days` days after their last host activity, or
/// never when it is 0. Closing this way is the padlock's close: the owner can open it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AutoClose {
    pub after_days: u32,
}

impl Default for AutoClose {
    fn default() -> Self {
        Self { after_days: DEFAULT_AUTO_CLOSE_DAYS }
    }
}

impl AutoClose {
    /// When an open session last hosted at `last_hosted_at` closes, if ever.
    pub fn closes_at(self, last_hosted_at: i64) -> Option<i64> {
        (self.after_days > 0)
            .then(|| last_hosted_at.saturating_add(i64::from(self.after_days).saturating_mul(DAY_MICROS)))
    }

    /// Open sessions last hosted before this instant are due to close at `now`.
    pub fn cutoff(self, now: i64) -> Option<i64> {
        (self.after_days > 0).then(|| now.saturating_sub(i64::from(self.after_days).saturating_mul(DAY_MICROS)))
    }

    pub fn is_due(self, is_open: bool, last_hosted_at: i64, now: i64) -> bool {
        is_open && self.closes_at(last_hosted_at).is_some_and(|at| at <= now)
    }
}

/// Whether host activity at `now` is worth writing over the `last_hosted_at` stored.
pub fn host_activity_is_news(last_hosted_at: i64, now: i64) -> bool {
    now - last_hosted_at >= HOST_ACTIVITY_EVERY_MICROS
}

/// A day as the host page writes it ("31 December 2026"), in UTC: the server's clock and the
/// host's may disagree by a time zone, never by more than the day shown.
pub fn day_in_words(micros: i64) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let (year, month, day) = civil_date(micros);
    format!("{day} {} {year}", MONTHS[(month - 1) as usize])
}

/// `day_in_words`, in `lang`: "5 janvier 2027", "1er janvier 2027" in French.
pub fn day_in_words_in(lang: super::language::Lang, micros: i64) -> String {
    const MOIS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    match lang {
        super::language::Lang::En => day_in_words(micros),
        super::language::Lang::Fr => {
            let (year, month, day) = civil_date(micros);
            let day = if day == 1 { "1er".to_owned() } else { day.to_string() };
            format!("{day} {} {year}", MOIS[(month - 1) as usize])
        }
    }
}

/// The UTC date of a time (µs since the epoch) as (year, month 1–12, day 1–31).
pub fn civil_date(micros: i64) -> (i64, i64, i64) {
    // Howard Hinnant's days-to-civil: the proleptic Gregorian calendar without a date crate.
    let z = micros.div_euclid(DAY_MICROS) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

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

    /// The name shown in "My sessions", in `lang`.
    pub fn label(self, lang: super::language::Lang) -> &'static str {
        match self {
            Role::Owner => crate::texts::role_owner(lang),
            Role::Facilitator => crate::texts::role_facilitator(lang),
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
    if allowed(role) {
        Ok(role)
    } else {
        Err(refused)
    }
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionError {
    NotLoggedIn,
    NoAccess,
    OwnerOnly,
    OwnerOnlyCode,
    OwnerOnlyRename,
    OwnerOnlyDuplicate,
    OwnerOnlyDelete,
    /// Deleted by its owner (for `DELETED_WAYS_IN_KEPT_DAYS`, then it is simply unknown).
    Deleted,
    InvalidTitle,
    InvalidSlide,
    NoSuchSlide,
    TooManySessions,
    TooManySlides,
    /// `CODE_DRAWS_PER_ACCOUNT_PER_DAY` codes drawn in the last 24 hours.
    TooManyCodes,
    /// Every code drawn belongs to a session: the million codes are (nearly) all in use.
    NoFreeCode,
    /// `limits::CHANGES_PER_ACCOUNT` is used up.
    TooManyChanges(u64),
    /// What can go wrong with any request (`rules::failure`).
    Failed(Failure),
}

super::language::error_in_words!(SessionError, with Failed);

impl super::language::Sentence for SessionError {
    fn sentence(&self, lang: super::language::Lang) -> String {
        use crate::texts as t;
        match self {
            Self::NotLoggedIn => t::session_error_not_logged_in(lang).into(),
            Self::NoAccess => t::session_error_no_access(lang).into(),
            Self::OwnerOnly => t::session_error_owner_only(lang).into(),
            Self::OwnerOnlyCode => t::session_error_owner_only_code(lang).into(),
            Self::OwnerOnlyRename => t::session_error_owner_only_rename(lang).into(),
            Self::OwnerOnlyDuplicate => t::session_error_owner_only_duplicate(lang).into(),
            Self::OwnerOnlyDelete => t::session_error_owner_only_delete(lang).into(),
            Self::Deleted => t::session_error_deleted(lang).into(),
            Self::InvalidTitle => t::session_error_invalid_title(lang).into(),
            Self::InvalidSlide => t::session_error_invalid_slide(lang).into(),
            Self::NoSuchSlide => t::session_error_no_such_slide(lang).into(),
            Self::TooManySessions => t::session_error_too_many_sessions(lang).into(),
            Self::TooManySlides => t::session_error_too_many_slides(lang).into(),
            Self::TooManyCodes => t::session_error_too_many_codes(lang, CODE_DRAWS_PER_ACCOUNT_PER_DAY),
            Self::NoFreeCode => t::session_error_no_free_code(lang).into(),
            Self::TooManyChanges(seconds) => t::session_error_too_many_changes(lang, seconds),
            Self::Failed(failure) => super::language::Sentence::sentence(failure, lang),
        }
    }
}

impl HttpStatus for SessionError {
    fn http_status(&self) -> u16 {
        match self {
            Self::NotLoggedIn => 401,
            Self::NoAccess | Self::OwnerOnly | Self::OwnerOnlyCode => 403,
            Self::OwnerOnlyRename | Self::OwnerOnlyDuplicate | Self::OwnerOnlyDelete => 403,
            Self::Deleted => 410,
            Self::InvalidTitle | Self::InvalidSlide => 400,
            Self::NoSuchSlide => 404,
            Self::TooManySessions | Self::TooManySlides => 409,
            Self::TooManyCodes | Self::TooManyChanges(_) => 429,
            Self::NoFreeCode => 503,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_session_refusal_reads_in_each_language_the_english_one_as_displayed() {
        use crate::rules::language::{Lang, Sentence};
        let all = [
            SessionError::NotLoggedIn,
            SessionError::NoAccess,
            SessionError::OwnerOnly,
            SessionError::OwnerOnlyCode,
            SessionError::OwnerOnlyRename,
            SessionError::OwnerOnlyDuplicate,
            SessionError::OwnerOnlyDelete,
            SessionError::Deleted,
            SessionError::InvalidTitle,
            SessionError::InvalidSlide,
            SessionError::NoSuchSlide,
            SessionError::TooManySessions,
            SessionError::TooManySlides,
            SessionError::TooManyCodes,
            SessionError::NoFreeCode,
            SessionError::TooManyChanges(7),
            SessionError::Failed(Failure::Malformed),
        ];
        for error in all {
            assert_ne!(error.sentence(Lang::Fr), error.to_string(), "{error:?} in French");
        }
    }

    #[test]
    fn sessions_close_by_themselves_after_the_days_set_or_never() {
        let day = 24 * 3600 * 1_000_000;
        let thirty = AutoClose::default();
        assert_eq!(thirty.after_days, 30);
        assert_eq!(thirty.closes_at(0), Some(30 * day));
        assert!(!thirty.is_due(true, 0, 30 * day - 1));
        assert!(thirty.is_due(true, 0, 30 * day));
        assert!(!thirty.is_due(false, 0, 300 * day), "a closed session has nothing to close");
        assert_eq!(thirty.cutoff(31 * day), Some(day));
        let never = AutoClose { after_days: 0 };
        assert_eq!((never.closes_at(0), never.cutoff(i64::MAX)), (None, None));
        assert!(!never.is_due(true, 0, i64::MAX));
        assert_eq!(AutoClose { after_days: u32::MAX }.closes_at(i64::MAX - 1), Some(i64::MAX), "no overflow");
    }

    #[test]
    fn host_activity_is_written_at_most_hourly() {
        let hour = 3600 * 1_000_000;
        assert!(!host_activity_is_news(0, hour - 1));
        assert!(host_activity_is_news(0, hour));
    }

    #[test]
    fn days_read_as_words_in_utc() {
        let day = 24 * 3600 * 1_000_000;
        assert_eq!(day_in_words(0), "1 January 1970");
        assert_eq!(day_in_words(day - 1), "1 January 1970");
        // 2024-02-29 is day 19,782; 2026-12-31 is day 20,818.
        assert_eq!(day_in_words(19_782 * day), "29 February 2024");
        assert_eq!(day_in_words(20_818 * day + 5), "31 December 2026");
        assert_eq!(day_in_words(20_819 * day), "1 January 2027");
        use crate::rules::language::Lang;
        assert_eq!(day_in_words_in(Lang::Fr, 20_819 * day), "1er janvier 2027");
        assert_eq!(day_in_words_in(Lang::Fr, 20_823 * day), "5 janvier 2027");
        assert_eq!(day_in_words_in(Lang::Fr, 19_782 * day), "29 février 2024");
        assert_eq!(day_in_words_in(Lang::En, 20_819 * day), "1 January 2027");
    }

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
    fn an_account_draws_a_bounded_number_of_codes_a_day() {
        assert!(may_draw_code(0));
        assert!(may_draw_code(CODE_DRAWS_PER_ACCOUNT_PER_DAY - 1));
        assert!(!may_draw_code(CODE_DRAWS_PER_ACCOUNT_PER_DAY));
        // An account can fill its sessions in a day; a few hundred, not the code space.
        const {
            assert!(
                CODE_DRAWS_PER_ACCOUNT_PER_DAY >= MAX_SESSIONS_PER_ACCOUNT && CODE_DRAWS_PER_ACCOUNT_PER_DAY <= 1_000
            )
        };
    }

    #[test]
    fn errors_read_as_sentences() {
        assert_eq!(SessionError::NoAccess.to_string(), "You don't have access to this session.");
        assert!(SessionError::TooManySessions.to_string().contains(&MAX_SESSIONS_PER_ACCOUNT.to_string()));
        assert!(SessionError::TooManySlides
            .to_string()
            .contains(&crate::rules::slides::MAX_SLIDES_PER_SESSION.to_string()));
    }
}
