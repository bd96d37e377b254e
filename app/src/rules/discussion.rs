//! The Discussion: what participants may post, who sees which message, and what hosts may do
//! with it. How fast a participant may post and like is in `limits.rs`.
use super::failure::{Failure, HttpStatus};
use serde::{Deserialize, Serialize};

/// A message has at most this many characters.
pub const MESSAGE_MAX_CHARS: usize = 500;
/// Messages one session may hold, whatever their state: past it, "This Discussion is full".
pub const MAX_MESSAGES_PER_SESSION: u64 = 10_000;
/// Newest messages the participant page renders and a (re)connecting tab receives; older ones are
/// read a page at a time (`MESSAGES_PER_PAGE`), by a cursor.
pub const MESSAGES_PER_PAGE: u64 = 50;

/// Where a message stands. Participants see `Published` messages only (and their own, whatever
/// their state, so that an author sees "Waiting for moderation"); hosts see every one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessageState {
    Published,
    /// "Review first": waiting for a host to approve or refuse it.
    Pending,
    /// A host refused it before it was ever published.
    Refused,
    /// A host took it off the Discussion after it was published.
    Hidden,
}

impl MessageState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Published => "published",
            Self::Pending => "pending",
            Self::Refused => "refused",
            Self::Hidden => "hidden",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "published" => Self::Published,
            "pending" => Self::Pending,
            "refused" => Self::Refused,
            "hidden" => Self::Hidden,
            _ => return None,
        })
    }

    /// What the participant's and the host's lists say, in `lang`.
    pub fn label(self, lang: super::language::Lang) -> &'static str {
        use crate::texts as t;
        match self {
            Self::Published => t::message_state_published(lang),
            Self::Pending => t::message_state_pending(lang),
            Self::Refused => t::message_state_refused(lang),
            Self::Hidden => t::message_state_hidden(lang),
        }
    }

    /// The state a new message starts in.
    pub fn of_new(settings: &DiscussionSettings) -> Self {
        if settings.review_first {
            Self::Pending
        } else {
            Self::Published
        }
    }
}

/// A host's decision on a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Moderation {
    Approve,
    Refuse,
    Hide,
    Pin,
    Unpin,
    MarkAnswered,
    MarkUnanswered,
}

impl Moderation {
    /// The state a message moves to, or `None` when this decision does not apply to its state
    /// (approving a published message, hiding a pending one). Pins and answers keep the state.
    pub fn next_state(self, now: MessageState) -> Option<MessageState> {
        use MessageState::*;
        match (self, now) {
            (Self::Approve, Pending | Refused | Hidden) => Some(Published),
            (Self::Refuse, Pending) => Some(Refused),
            (Self::Hide, Published) => Some(Hidden),
            (Self::Pin | Self::Unpin | Self::MarkAnswered | Self::MarkUnanswered, state) => Some(state),
            _ => None,
        }
    }
}

/// How a session's Discussion runs, chosen by its hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DiscussionSettings {
    /// Closed: participants read, nobody posts or likes.
    pub open: bool,
    /// "Review first": a new message waits for a host; otherwise it is published at once.
    pub review_first: bool,
    /// Messages appear without a name; otherwise under the participant's nickname, asked for
    /// before their first message.
    pub anonymous: bool,
    /// What the projection screen shows of the Discussion.
    pub on_screen: OnScreen,
}

impl Default for DiscussionSettings {
    fn default() -> Self {
        Self { open: true, review_first: false, anonymous: false, on_screen: OnScreen::Nothing }
    }
}

/// What the projection screen shows of the Discussion, as a host chooses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OnScreen {
    #[default]
    Nothing,
    /// The pinned messages.
    Pinned,
    /// The `SCREEN_MOST_LIKED` most liked messages.
    MostLiked,
}

/// Messages the projection screen shows when it shows the most liked.
pub const SCREEN_MOST_LIKED: usize = 5;

impl OnScreen {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nothing => "nothing",
            Self::Pinned => "pinned",
            Self::MostLiked => "most_liked",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "pinned" => Self::Pinned,
            "most_liked" => Self::MostLiked,
            _ => Self::Nothing,
        }
    }
}

/// A message's text as stored: trimmed, line ends as `\n`, 1 to `MESSAGE_MAX_CHARS` characters,
/// no control characters but line ends and tabs. It is always shown as text, never as markup.
pub fn clean_message(text: &str) -> Result<String, DiscussionError> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.trim();
    let chars = text.chars().count();
    if chars == 0 {
        return Err(DiscussionError::EmptyMessage);
    }
    if chars > MESSAGE_MAX_CHARS {
        return Err(DiscussionError::MessageTooLong);
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(DiscussionError::InvalidMessage);
    }
    Ok(text.to_owned())
}

/// The name a message is shown under: none in an anonymous Discussion.
pub fn shown_author(settings: &DiscussionSettings, nickname: Option<&str>) -> Result<Option<String>, DiscussionError> {
    if settings.anonymous {
        return Ok(None);
    }
    match nickname {
        Some(name) if !name.trim().is_empty() => Ok(Some(name.to_owned())),
        _ => Err(DiscussionError::NicknameNeeded),
    }
}

/// The order a list of messages is read in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Order {
    /// Newest first.
    #[default]
    Recent,
    /// Most liked first, the newest first among equals.
    MostLiked,
}

/// A cell of the CSV export: quoted when it must be, and never read as a formula by a
/// spreadsheet (a leading `=`, `+`, `-`, `@`, tab or carriage return gets a `'`, as OWASP advises).
pub fn csv_cell(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// A message as a line of the CSV export, in the language of the host who downloads it (its
/// header is `texts::discussion_csv_header`): its text, its author as shown, its likes, its
/// state and when it was posted.
pub fn csv_row(
    lang: super::language::Lang,
    body: &str,
    author: Option<&str>,
    likes: u32,
    state: MessageState,
    posted_at: i64,
) -> String {
    let (year, month, day) = super::sessions::civil_date(posted_at);
    let seconds = posted_at.div_euclid(1_000_000).rem_euclid(86_400);
    let time = format!("{year}-{month:02}-{day:02} {:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
    format!(
        "{},{},{likes},{},{time}\r\n",
        csv_cell(body),
        csv_cell(author.unwrap_or(crate::texts::discussion_anonymous(lang))),
        csv_cell(state.label(lang))
    )
}

/// Everything that can go wrong in the Discussion, each with the sentence a person reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiscussionError {
    NotJoined,
    NotLoggedIn,
    NoAccess,
    SessionClosed,
    DiscussionClosed,
    /// Enforced on every request of a banned participant, not only hidden in the page.
    Banned,
    EmptyMessage,
    MessageTooLong,
    InvalidMessage,
    NicknameNeeded,
    InvalidNickname,
    /// `MAX_MESSAGES_PER_SESSION`.
    Full,
    NoSuchMessage,
    NotYours,
    NotApplicable,
    /// `limits::POSTS_PER_PARTICIPANT` or `LIKES_PER_PARTICIPANT` is used up.
    TooFast(u64),
    /// `limits::CHANGES_PER_ACCOUNT` is used up.
    TooManyChanges(u64),
    /// What can go wrong with any request (`rules::failure`).
    Failed(Failure),
}

super::language::error_in_words!(DiscussionError, with Failed);

impl super::language::Sentence for DiscussionError {
    fn sentence(&self, lang: super::language::Lang) -> String {
        use crate::texts as t;
        match self {
            Self::NotJoined => t::discussion_error_not_joined(lang).into(),
            Self::NotLoggedIn => t::discussion_error_not_logged_in(lang).into(),
            Self::NoAccess => t::discussion_error_no_access(lang).into(),
            Self::SessionClosed => t::discussion_error_session_closed(lang).into(),
            Self::DiscussionClosed => t::discussion_closed_note(lang).into(),
            Self::Banned => t::discussion_error_banned(lang).into(),
            Self::EmptyMessage => t::discussion_error_empty_message(lang).into(),
            Self::MessageTooLong => t::discussion_error_message_too_long(lang).into(),
            Self::InvalidMessage => t::discussion_error_invalid_message(lang).into(),
            Self::NicknameNeeded => t::discussion_error_nickname_needed(lang).into(),
            Self::InvalidNickname => t::discussion_error_invalid_nickname(lang).into(),
            Self::Full => t::discussion_error_full(lang).into(),
            Self::NoSuchMessage => t::discussion_error_no_such_message(lang).into(),
            Self::NotYours => t::discussion_error_not_yours(lang).into(),
            Self::NotApplicable => t::discussion_error_not_applicable(lang).into(),
            Self::TooFast(seconds) => t::discussion_error_too_fast(lang, seconds),
            Self::TooManyChanges(seconds) => t::discussion_error_too_many_changes(lang, seconds),
            Self::Failed(failure) => failure.sentence(lang),
        }
    }
}

impl HttpStatus for DiscussionError {
    fn http_status(&self) -> u16 {
        match self {
            Self::NotLoggedIn => 401,
            Self::NotJoined | Self::NoAccess | Self::SessionClosed | Self::DiscussionClosed | Self::Banned => 403,
            Self::NotYours => 403,
            Self::EmptyMessage | Self::MessageTooLong | Self::InvalidMessage => 400,
            Self::NicknameNeeded | Self::InvalidNickname => 400,
            Self::Full | Self::NotApplicable => 409,
            Self::NoSuchMessage => 404,
            Self::TooFast(_) | Self::TooManyChanges(_) => 429,
            Self::Failed(failure) => failure.http_status(),
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooFast(seconds) | Self::TooManyChanges(seconds) => Some(*seconds),
            Self::Failed(failure) => failure.retry_after(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::language::Lang;

    #[test]
    fn each_discussion_refusal_reads_in_each_language_the_english_one_as_displayed() {
        use crate::rules::language::Sentence;
        let all = [
            DiscussionError::NotJoined,
            DiscussionError::NotLoggedIn,
            DiscussionError::NoAccess,
            DiscussionError::SessionClosed,
            DiscussionError::DiscussionClosed,
            DiscussionError::Banned,
            DiscussionError::EmptyMessage,
            DiscussionError::MessageTooLong,
            DiscussionError::InvalidMessage,
            DiscussionError::NicknameNeeded,
            DiscussionError::InvalidNickname,
            DiscussionError::Full,
            DiscussionError::NoSuchMessage,
            DiscussionError::NotYours,
            DiscussionError::NotApplicable,
            DiscussionError::TooFast(3),
            DiscussionError::TooManyChanges(4),
            DiscussionError::Failed(Failure::Internal),
        ];
        for error in all {
            assert_ne!(error.sentence(Lang::Fr), error.to_string(), "{error:?} in French");
        }
    }

    #[test]
    fn messages_are_trimmed_text_of_1_to_500_characters() {
        assert_eq!(clean_message("  Why?\r\nBecause.  ").unwrap(), "Why?\nBecause.");
        assert_eq!(clean_message(" \n "), Err(DiscussionError::EmptyMessage));
        assert_eq!(clean_message(&"é".repeat(500)).unwrap().chars().count(), 500);
        assert_eq!(clean_message(&"é".repeat(501)), Err(DiscussionError::MessageTooLong));
        assert_eq!(clean_message("bell\u{7}"), Err(DiscussionError::InvalidMessage));
        assert_eq!(clean_message("<b>kept as typed</b>").unwrap(), "<b>kept as typed</b>");
    }

    #[test]
    fn review_first_holds_new_messages_back() {
        let mut settings = DiscussionSettings::default();
        assert_eq!(MessageState::of_new(&settings), MessageState::Published);
        settings.review_first = true;
        assert_eq!(MessageState::of_new(&settings), MessageState::Pending);
    }

    #[test]
    fn each_decision_applies_to_the_states_it_makes_sense_for() {
        use MessageState::*;
        assert_eq!(Moderation::Approve.next_state(Pending), Some(Published));
        assert_eq!(Moderation::Approve.next_state(Hidden), Some(Published));
        assert_eq!(Moderation::Approve.next_state(Published), None);
        assert_eq!(Moderation::Refuse.next_state(Pending), Some(Refused));
        assert_eq!(Moderation::Refuse.next_state(Published), None);
        assert_eq!(Moderation::Hide.next_state(Published), Some(Hidden));
        assert_eq!(Moderation::Hide.next_state(Pending), None);
        assert_eq!(Moderation::Pin.next_state(Pending), Some(Pending));
        for state in [Published, Pending, Refused, Hidden] {
            assert_eq!(MessageState::parse(state.as_str()), Some(state));
        }
    }

    #[test]
    fn a_named_discussion_needs_a_nickname_and_an_anonymous_one_shows_none() {
        let named = DiscussionSettings::default();
        assert_eq!(shown_author(&named, Some("Ada")).unwrap(), Some("Ada".to_owned()));
        assert_eq!(shown_author(&named, None), Err(DiscussionError::NicknameNeeded));
        let anonymous = DiscussionSettings { anonymous: true, ..named };
        for shown in [OnScreen::Nothing, OnScreen::Pinned, OnScreen::MostLiked] {
            assert_eq!(OnScreen::parse(shown.as_str()), shown);
        }
        assert_eq!(shown_author(&anonymous, Some("Ada")).unwrap(), None);
    }

    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a, b"), "\"a, b\"");
        assert_eq!(csv_cell("say \"hi\"\nthen"), "\"say \"\"hi\"\"\nthen\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("-1"), "'-1");
    }

    #[test]
    fn an_export_line_says_what_who_how_liked_which_state_and_when() {
        // 2026-12-06 17:30:05 UTC.
        let at = 1_796_578_205_000_000;
        assert_eq!(
            csv_row(Lang::En, "Hello, all", None, 3, MessageState::Pending, at),
            "\"Hello, all\",Anonymous,3,Waiting for moderation,2026-12-06 17:30:05\r\n"
        );
        assert_eq!(
            csv_row(Lang::Fr, "Bonjour", Some("Zoé"), 1, MessageState::Published, at),
            "Bonjour,Zoé,1,Publié,2026-12-06 17:30:05\r\n"
        );
    }

    #[test]
    fn refusals_answer_4xx_with_a_wait_when_waiting_helps() {
        assert_eq!(DiscussionError::DiscussionClosed.http_status(), 403);
        assert_eq!(DiscussionError::Full.http_status(), 409);
        assert_eq!(DiscussionError::TooFast(4).retry_after(), Some(4));
        assert_eq!(DiscussionError::MessageTooLong.http_status(), 400);
    }
}
