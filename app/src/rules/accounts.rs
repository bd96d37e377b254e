//! What makes a valid account: e-mail, display name, password; the single-use links mailed to
//! it, and what an account may do before its address is verified.
use super::failure::{Failure, HttpStatus, UNAVAILABLE_RETRY_SECS};
use serde::{Deserialize, Serialize};

/// A password-reset link works for an hour: long enough to reach the mailbox, short enough that
/// a mail read later by someone else is worthless.
pub const PASSWORD_RESET_LIFETIME_SECS: i64 = 3600;
/// A verification link works for a week: people sign up and read the mail days later.
pub const EMAIL_VERIFICATION_LIFETIME_SECS: i64 = 7 * 24 * 3600;

/// The single-use links mailed to an account. One of each per account: asking again replaces the
/// earlier link; using one ends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenPurpose {
    PasswordReset,
    EmailVerification,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::EmailVerification => "email_verification",
        }
    }

    pub fn lifetime_micros(self) -> i64 {
        1_000_000
            * match self {
                Self::PasswordReset => PASSWORD_RESET_LIFETIME_SECS,
                Self::EmailVerification => EMAIL_VERIFICATION_LIFETIME_SECS,
            }
    }
}

/// Whether a link made to expire at `expires_at` still works at `now` (microseconds).
pub fn token_works(expires_at: i64, now: i64) -> bool {
    now < expires_at
}

/// What an account does that matters to whether its address is its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountAction {
    CreateSessions,
    /// By link, code and QR: nothing is sent to anyone's mailbox.
    ShareSessions,
    /// "Send invitations": Ruche mails strangers in the account's name.
    SendInvitations,
    /// "+Add": Ruche mails an invitation to co-host.
    AddCoFacilitators,
    /// Whoever accepts gets the rights meant for the invited address's owner.
    AcceptCoFacilitation,
}

/// An unverified account works at once for its own sessions, but cannot make Ruche mail anyone
/// nor take what was meant for an address (someone could sign up with another person's address).
pub fn may(action: AccountAction, email_verified: bool) -> bool {
    match action {
        AccountAction::CreateSessions | AccountAction::ShareSessions => true,
        AccountAction::SendInvitations | AccountAction::AddCoFacilitators | AccountAction::AcceptCoFacilitation => {
            email_verified
        }
    }
}

/// Browsers logged in to one account at once: a person's phones, laptops and projection
/// machines fit; a script logging in again and again does not grow the table. Past it, a new
/// log-in ends the oldest login.
pub const MAX_LOGINS_PER_ACCOUNT: u64 = 50;

/// Browsers remembered per account as ones it logged in from (device cookies); past it, the
/// oldest is forgotten, and a log-in from it counts as one from a new browser.
pub const MAX_DEVICES_PER_ACCOUNT: u64 = 20;

pub const PASSWORD_MIN_CHARS: usize = 8;
pub const DISPLAY_NAME_MAX_CHARS: usize = 60;
const EMAIL_MAX_CHARS: usize = 254;

/// Lower-cases and checks an e-mail address. Deliberately simple: one `@`, a dotted domain,
/// no spaces or control characters (so it can never break a mail header later).
pub fn clean_email(input: &str) -> Result<String, AccountError> {
    let email = input.trim().to_lowercase();
    let valid = email.chars().count() <= EMAIL_MAX_CHARS
        && !email.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, ',' | ';' | '<' | '>' | '"'))
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains("..")
            }
            None => false,
        };
    // And what lettre's own parser takes, so that no address Ruche accepts is refused later by
    // the mail worker (quoted or dotted local parts, over-long labels, odd domains). Server
    // only: the browser never needs to decide.
    #[cfg(feature = "ssr")]
    let valid = valid && email.parse::<lettre::Address>().is_ok();
    if valid {
        Ok(email)
    } else {
        Err(AccountError::InvalidEmail)
    }
}

/// The address a log-in looks up: only trimmed and lower-cased, never judged, so that an account
/// made under older, looser rules can still log in. Unknown addresses simply find no account.
pub fn login_email(input: &str) -> String {
    input.trim().to_lowercase()
}

pub fn clean_display_name(input: &str) -> Result<String, AccountError> {
    let name = input.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > DISPLAY_NAME_MAX_CHARS || name.chars().any(char::is_control) {
        Err(AccountError::InvalidName)
    } else {
        Ok(name.to_owned())
    }
}

pub fn check_password(password: &str) -> Result<(), AccountError> {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        Err(AccountError::WeakPassword)
    } else {
        Ok(())
    }
}

/// Where to go after logging in: only a path on this site, so a crafted link cannot bounce a
/// freshly logged-in person to another site.
pub fn safe_next(next: Option<&str>) -> &str {
    next.filter(|path| is_local_path(path)).unwrap_or("/sessions")
}

/// Whether `path` is a path on this site and nothing else (not `//elsewhere`, not `/\elsewhere`,
/// which browsers read as another host): where Ruche may send a browser back to.
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') && !path.chars().any(char::is_control)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountError {
    InvalidEmail,
    InvalidName,
    WeakPassword,
    WrongCredentials,
    WrongOldPassword,
    /// A password-reset or verification link used already, replaced by a newer one, or expired.
    LinkExpired,
    NotLoggedIn,
    /// `limits::ACCOUNT_MAILS_PER_RECIPIENT` or `ACCOUNT_MAILS_PER_ADDRESS` is used up.
    TooManyMails(u64),
    /// `limits::LOGIN_FAILURES_PER_ADDRESS` or `LOGIN_FAILURES_PER_ACCOUNT` is used up.
    TooManyLogIns(u64),
    /// `SIGNUP=closed`.
    SignUpClosed,
    /// `SIGNUP=invite`, and no invitation came with the form.
    SignUpByInvitation,
    /// An administrator disabled the account (`rules::administration`).
    Disabled,
    /// `SIGNUP=domains`: the address is at none of `SIGNUP_DOMAINS` (listed).
    SignUpDomain(String),
    /// `limits::SIGNUPS_PER_ADDRESS` is used up.
    TooManySignUps(u64),
    /// Every password-hashing slot and its queue are taken (`limits::HASH_QUEUE_PER_CORE`).
    Busy,
    /// What can go wrong with any request (`rules::failure`).
    Failed(Failure),
}

super::language::error_in_words!(AccountError, with Failed);

impl super::language::Sentence for AccountError {
    fn sentence(&self, lang: super::language::Lang) -> String {
        use crate::texts as t;
        match self {
            Self::InvalidEmail => t::account_error_invalid_email(lang).into(),
            Self::InvalidName => t::account_error_invalid_name(lang).into(),
            Self::WeakPassword => t::account_error_weak_password(lang).into(),
            Self::WrongCredentials => t::account_error_wrong_credentials(lang).into(),
            Self::WrongOldPassword => t::account_error_wrong_old_password(lang).into(),
            Self::LinkExpired => t::account_error_link_expired(lang).into(),
            Self::NotLoggedIn => t::account_error_not_logged_in(lang).into(),
            Self::TooManyMails(seconds) => t::account_error_too_many_mails(lang, seconds),
            Self::TooManyLogIns(seconds) => t::account_error_too_many_log_ins(lang, seconds),
            Self::SignUpClosed => t::account_error_sign_up_closed(lang).into(),
            Self::SignUpByInvitation => t::account_error_sign_up_by_invitation(lang).into(),
            Self::Disabled => t::account_error_disabled(lang).into(),
            Self::SignUpDomain(domains) => t::account_error_sign_up_domain(lang, domains),
            Self::TooManySignUps(seconds) => t::account_error_too_many_sign_ups(lang, seconds),
            Self::Busy => t::account_error_busy(lang).into(),
            Self::Failed(failure) => super::language::Sentence::sentence(failure, lang),
        }
    }
}

impl HttpStatus for AccountError {
    fn http_status(&self) -> u16 {
        match self {
            Self::InvalidEmail | Self::InvalidName | Self::WeakPassword => 400,
            Self::WrongCredentials | Self::NotLoggedIn => 401,
            Self::WrongOldPassword
            | Self::SignUpClosed
            | Self::SignUpByInvitation
            | Self::Disabled
            | Self::SignUpDomain(_) => 403,
            Self::LinkExpired => 410,
            Self::TooManyLogIns(_) | Self::TooManySignUps(_) | Self::TooManyMails(_) => 429,
            Self::Busy => 503,
            Self::Failed(failure) => failure.http_status(),
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyLogIns(seconds) | Self::TooManySignUps(seconds) | Self::TooManyMails(seconds) => {
                Some(*seconds)
            }
            Self::Busy => Some(UNAVAILABLE_RETRY_SECS),
            Self::Failed(failure) => failure.retry_after(),
            _ => None,
        }
    }
}

/// Who may create an account on this Ruche (`SIGNUP`, with `SIGNUP_DOMAINS`). Participants never
/// need one, whatever it says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SignUpPolicy {
    /// Anyone.
    #[default]
    Open,
    /// Only addresses at one of these domains (exactly: `school.example` does not let
    /// `staff.school.example` in unless it is listed too), lowercase.
    Domains(Vec<String>),
    /// Only those an administrator invited by e-mail (`rules::administration`).
    Invite,
    /// Nobody: the accounts there are all there will be.
    Closed,
}

impl SignUpPolicy {
    /// Reads `SIGNUP` (`open`, `domains`, `invite`, `closed`) and, for `domains`, `SIGNUP_DOMAINS` (a
    /// comma-separated list). The error says what to fix.
    pub fn parse(mode: &str, domains: &str) -> Result<Self, String> {
        match mode.trim().to_lowercase().as_str() {
            "" | "open" => Ok(Self::Open),
            "closed" => Ok(Self::Closed),
            "invite" => Ok(Self::Invite),
            "domains" => {
                let mut listed = Vec::new();
                for domain in domains.split(',').map(|d| d.trim().trim_start_matches('@').to_lowercase()) {
                    if domain.is_empty() {
                        continue;
                    }
                    if clean_email(&format!("someone@{domain}")).is_err() {
                        return Err(format!("SIGNUP_DOMAINS: {domain:?} is not a domain name"));
                    }
                    listed.push(domain);
                }
                if listed.is_empty() {
                    return Err("SIGNUP=domains needs SIGNUP_DOMAINS, e.g. school.example,staff.school.example".into());
                }
                Ok(Self::Domains(listed))
            }
            other => Err(format!("SIGNUP: {other:?} is not one of open, domains, invite, closed")),
        }
    }

    /// Whether `email` (as `clean_email` gives it) may create an account without an invitation.
    pub fn check(&self, email: &str) -> Result<(), AccountError> {
        match self {
            Self::Open => Ok(()),
            Self::Closed => Err(AccountError::SignUpClosed),
            Self::Invite => Err(AccountError::SignUpByInvitation),
            Self::Domains(domains) => {
                let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
                if domains.iter().any(|d| d == domain) {
                    Ok(())
                } else {
                    Err(AccountError::SignUpDomain(domains.join(", ")))
                }
            }
        }
    }

    /// Whether the sign-up form is offered to anyone who comes without an invitation.
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Open | Self::Domains(_))
    }

    /// Whether an administrator's invitation lets its address in: under any setting but
    /// `closed`, whatever the address's domain.
    pub fn takes_invitations(&self) -> bool {
        *self != Self::Closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_may_sign_up_is_read_from_the_setting_and_checked_on_the_address() {
        assert_eq!(SignUpPolicy::parse("", ""), Ok(SignUpPolicy::Open));
        assert_eq!(SignUpPolicy::parse("Closed", ""), Ok(SignUpPolicy::Closed));
        let school = SignUpPolicy::parse("domains", " School.example, @staff.school.example ,").unwrap();
        assert_eq!(school, SignUpPolicy::Domains(vec!["school.example".into(), "staff.school.example".into()]));
        assert!(SignUpPolicy::parse("domains", "").is_err(), "domains without a list");
        assert!(SignUpPolicy::parse("domains", "not a domain").is_err());
        assert!(SignUpPolicy::parse("invite-only", "").is_err());
        assert_eq!(SignUpPolicy::parse(" Invite", ""), Ok(SignUpPolicy::Invite));
        assert_eq!(SignUpPolicy::Invite.check("anyone@example.org"), Err(AccountError::SignUpByInvitation));
        assert!(!SignUpPolicy::Invite.is_open() && SignUpPolicy::Invite.takes_invitations());
        assert!(!SignUpPolicy::Closed.takes_invitations() && school.takes_invitations());

        assert_eq!(SignUpPolicy::Open.check("anyone@example.org"), Ok(()));
        assert_eq!(SignUpPolicy::Closed.check("anyone@example.org"), Err(AccountError::SignUpClosed));
        assert_eq!(school.check("ada@staff.school.example"), Ok(()));
        let refused = school.check("ada@school.example.evil.org").unwrap_err();
        assert_eq!(refused, AccountError::SignUpDomain("school.example, staff.school.example".into()));
        assert_eq!(refused.to_string(), "Accounts here are for addresses at school.example, staff.school.example.");
        assert_eq!(refused.http_status(), 403);
        assert_eq!(school.check("ada@sub.school.example"), Err(refused), "listed domains only, not their subdomains");
        assert!(!SignUpPolicy::Closed.is_open() && school.is_open());
    }

    #[test]
    fn each_account_refusal_reads_in_each_language_the_english_one_as_displayed() {
        use crate::rules::language::{Lang, Sentence};
        let all = [
            AccountError::InvalidEmail,
            AccountError::InvalidName,
            AccountError::WeakPassword,
            AccountError::WrongCredentials,
            AccountError::WrongOldPassword,
            AccountError::LinkExpired,
            AccountError::NotLoggedIn,
            AccountError::TooManyMails(1),
            AccountError::TooManyLogIns(2),
            AccountError::SignUpClosed,
            AccountError::SignUpByInvitation,
            AccountError::Disabled,
            AccountError::SignUpDomain("school.example".into()),
            AccountError::TooManySignUps(3),
            AccountError::Busy,
            AccountError::Failed(Failure::Unavailable),
        ];
        for error in all {
            assert_ne!(error.sentence(Lang::Fr), error.to_string(), "{error:?} in French");
        }
    }

    #[test]
    fn a_reset_link_outlives_the_wait_between_two_mails_to_one_address() {
        // Past the budget, an owner is told to use the latest mail: its link must still work.
        let every = crate::rules::limits::ACCOUNT_MAILS_PER_RECIPIENT.every.as_secs();
        assert!(PASSWORD_RESET_LIFETIME_SECS as u64 > every);
    }

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(clean_email("  Ada@Example.ORG ").unwrap(), "ada@example.org");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "ada@@example.org",
            "a da@example.org",
            "ada@example..org",
            "ada@.example.org",
            "ada@example.org\r\nBcc: x@y.z",
            "a,b@example.org",
        ] {
            assert_eq!(clean_email(bad), Err(AccountError::InvalidEmail), "{bad:?}");
        }
    }

    /// Addresses the simple checks let through but SMTP (lettre's parser) cannot take.
    #[cfg(feature = "ssr")]
    #[test]
    fn addresses_smtp_cannot_take_are_refused() {
        let long_local = format!("{}@example.org", "a".repeat(65));
        let long_label = format!("ada@{}.org", "b".repeat(64));
        for bad in [
            "ada..lovelace@example.org",
            ".ada@example.org",
            "ada.@example.org",
            "a(b)@example.org",
            "ada@-example.org",
            "ada@example.org:25",
            long_local.as_str(),
            long_label.as_str(),
        ] {
            assert_eq!(clean_email(bad), Err(AccountError::InvalidEmail), "{bad:?}");
        }
        for good in ["ada.lovelace+ruche@example.org", "o'neil@example.org", "ada@sub.example.co.uk"] {
            assert_eq!(clean_email(good).as_deref(), Ok(good), "{good:?}");
        }
    }

    #[test]
    fn log_ins_look_up_any_address_as_typed() {
        assert_eq!(login_email("  A..B@Example.org "), "a..b@example.org");
    }

    #[test]
    fn passwords_need_eight_characters() {
        assert_eq!(check_password("1234567"), Err(AccountError::WeakPassword));
        assert_eq!(check_password("12345678"), Ok(()));
        assert_eq!(check_password("éééééééé"), Ok(()));
    }

    #[test]
    fn display_names_are_bounded() {
        assert_eq!(clean_display_name(" Ada "), Ok("Ada".into()));
        assert_eq!(clean_display_name("  "), Err(AccountError::InvalidName));
        assert_eq!(clean_display_name(&"x".repeat(61)), Err(AccountError::InvalidName));
    }

    #[test]
    fn reset_links_last_an_hour_and_verification_links_a_week() {
        assert_eq!(TokenPurpose::PasswordReset.lifetime_micros(), 3_600_000_000);
        assert_eq!(TokenPurpose::EmailVerification.lifetime_micros(), 7 * 24 * 3_600_000_000);
        let made = 1_000;
        let expires = made + TokenPurpose::PasswordReset.lifetime_micros();
        assert!(token_works(expires, made));
        assert!(token_works(expires, expires - 1));
        assert!(!token_works(expires, expires));
        assert_ne!(TokenPurpose::PasswordReset.as_str(), TokenPurpose::EmailVerification.as_str());
    }

    #[test]
    fn unverified_accounts_share_by_link_but_mail_no_one_and_accept_nothing() {
        use AccountAction::*;
        for action in [CreateSessions, ShareSessions] {
            assert!(may(action, false), "{action:?}");
        }
        for action in [SendInvitations, AddCoFacilitators, AcceptCoFacilitation] {
            assert!(!may(action, false), "{action:?}");
            assert!(may(action, true), "{action:?}");
        }
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/s/abc")), "/s/abc");
        for bad in [None, Some(""), Some("https://evil.example"), Some("//evil.example"), Some("/\\evil.example")] {
            assert_eq!(safe_next(bad), "/sessions", "{bad:?}");
        }
    }
}

/// Passwords are stored as argon2id hashes (PHC strings with their own salt and parameters).
#[cfg(feature = "ssr")]
pub mod passwords {
    use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
    use argon2::Argon2;

    pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
        let salt = SaltString::generate(&mut OsRng);
        Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
    }

    /// Verifies against `stored`, or against a throw-away hash when there is no such account,
    /// so that the time taken does not tell which e-mail addresses have accounts.
    pub fn verify(password: &str, stored: Option<&str>) -> bool {
        static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let dummy = DUMMY.get_or_init(|| hash("not a real password").expect("hashing a constant"));
        let matches = PasswordHash::new(stored.unwrap_or(dummy))
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false);
        matches && stored.is_some()
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn hashes_are_argon2id_and_verify() {
            let stored = super::hash("correct horse").unwrap();
            assert!(stored.starts_with("$argon2id$"));
            assert!(super::verify("correct horse", Some(&stored)));
            assert!(!super::verify("wrong horse", Some(&stored)));
            assert!(!super::verify("not a real password", None));
        }
    }
}
