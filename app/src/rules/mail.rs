//! The mails Ruche sends, as plain text and HTML. User text (titles, names) is escaped in the
//! HTML part; header values never carry a line break, so no input can add a header.
use super::language::Lang;
use crate::texts as t;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MailKind {
    /// "Send invitations": a participant is invited to join with the public link.
    ParticipantInvitation,
    /// "+Add": someone is invited to co-host the session.
    FacilitatorInvitation,
    /// "Forgot your password?": a single-use link to choose a new one.
    PasswordReset,
    /// Sent at sign-up (and on "Send the verification mail again"): proves the address.
    EmailVerification,
    /// Someone tried to sign up with an address that has an account: its owner is told, and
    /// nobody else learns that the address has an account.
    SignUpAttempt,
    /// An administrator invites someone to create an account (`SIGNUP=invite`).
    AccountInvitation,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ParticipantInvitation => "participant_invitation",
            Self::FacilitatorInvitation => "facilitator_invitation",
            Self::PasswordReset => "password_reset",
            Self::EmailVerification => "email_verification",
            Self::SignUpAttempt => "sign_up_attempt",
            Self::AccountInvitation => "account_invitation",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "participant_invitation" => Some(Self::ParticipantInvitation),
            "facilitator_invitation" => Some(Self::FacilitatorInvitation),
            "password_reset" => Some(Self::PasswordReset),
            "email_verification" => Some(Self::EmailVerification),
            "sign_up_attempt" => Some(Self::SignUpAttempt),
            "account_invitation" => Some(Self::AccountInvitation),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Text safe in a mail header: line breaks and other control characters become spaces.
pub fn header_safe(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_owned()
}

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The language a mail is written in: its recipient's when they have an account that knows it,
/// else its sender's (the language they read Ruche in), else the instance's `DEFAULT_LANGUAGE`.
pub fn mail_language(recipient: Option<Lang>, sender: Option<Lang>, default: Lang) -> Lang {
    recipient.or(sender).unwrap_or(default)
}

/// `link` is absolute and made by Ruche (never user text); `inviter` and `title` are user text.
pub fn compose(kind: MailKind, lang: Lang, inviter: &str, title: &str, link: &str) -> Mail {
    let (safe_inviter, safe_title) = (header_safe(inviter), header_safe(title));
    let (subject, lead, action) = match kind {
        MailKind::PasswordReset | MailKind::EmailVerification | MailKind::SignUpAttempt => {
            return compose_account(kind, lang, inviter, link)
        }
        MailKind::AccountInvitation => (
            t::mail_account_invitation_subject(lang, safe_inviter),
            t::mail_account_invitation_lead(lang, inviter),
            t::mail_account_invitation_action(lang),
        ),
        MailKind::ParticipantInvitation => (
            t::mail_participant_subject(lang, safe_inviter, safe_title),
            t::mail_participant_lead(lang, inviter, title),
            t::mail_participant_action(lang),
        ),
        MailKind::FacilitatorInvitation => (
            t::mail_facilitator_subject(lang, safe_inviter, safe_title),
            t::mail_facilitator_lead(lang, inviter, title),
            t::mail_facilitator_action(lang),
        ),
    };
    layout(lang, subject, &lead, action, link)
}

/// A mail to the account's own address; `name` is its display name (user text).
pub fn compose_account(kind: MailKind, lang: Lang, name: &str, link: &str) -> Mail {
    let (subject, lead, action) = match kind {
        MailKind::PasswordReset => {
            (t::mail_reset_subject(lang), t::mail_reset_lead(lang, name), t::mail_reset_action(lang))
        }
        MailKind::SignUpAttempt => {
            (t::mail_attempt_subject(lang), t::mail_attempt_lead(lang, name), t::mail_attempt_action(lang))
        }
        _ => (t::mail_verify_subject(lang), t::mail_verify_lead(lang, name), t::mail_verify_action(lang)),
    };
    layout(lang, subject.to_owned(), &lead, action, link)
}

fn layout(lang: Lang, subject: String, lead: &str, action: &str, link: &str) -> Mail {
    let text = format!("{lead}\n\n{}\n\n-- \nRuche\n", t::mail_link_line(lang, action, link));
    let html = format!(
        "<!DOCTYPE html><html lang=\"{}\"><body style=\"font-family:sans-serif\"><p>{}</p>\
         <p><a href=\"{}\" style=\"display:inline-block;padding:12px 20px;background:#2b2250;color:#fff;text-decoration:none;border-radius:8px\">{}</a></p>\
         <p style=\"color:#5b5870\">{}</p></body></html>",
        lang.as_str(),
        escape_html(lead),
        escape_html(link),
        escape_html(action),
        escape_html(link)
    );
    Mail { subject, text, html }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_escaped_in_html_and_cannot_break_headers() {
        let mail = compose(
            MailKind::ParticipantInvitation,
            Lang::En,
            "Eve\r\nBcc: all@example.org",
            "<script>x</script>",
            "http://127.0.0.1:3000/j/abc",
        );
        assert!(!mail.subject.contains('\n') && !mail.subject.contains('\r'));
        assert!(!mail.html.contains("<script>"));
        assert!(mail.html.contains("&lt;script&gt;"));
        assert!(mail.text.contains("http://127.0.0.1:3000/j/abc"));
        assert!(mail.html.contains("href=\"http://127.0.0.1:3000/j/abc\""));
    }

    #[test]
    fn an_account_invitation_names_its_administrator_and_carries_its_link() {
        let mail = compose(
            MailKind::AccountInvitation,
            Lang::En,
            "Ada\r\nBcc: x@y.z",
            "",
            "http://127.0.0.1:3000/invitation/abc",
        );
        assert!(!mail.subject.contains('\n') && mail.subject.contains("create a Ruche account"));
        assert!(mail.text.contains("http://127.0.0.1:3000/invitation/abc") && mail.text.contains("14 days"));
        assert!(mail.html.contains("href=\"http://127.0.0.1:3000/invitation/abc\""));
    }

    #[test]
    fn account_mails_carry_their_link_and_escape_the_name() {
        let mail = compose_account(MailKind::PasswordReset, Lang::En, "<b>Ada</b>", "http://127.0.0.1:3000/reset/abc");
        assert!(mail.text.contains("http://127.0.0.1:3000/reset/abc") && mail.text.contains("one hour"));
        assert!(mail.html.contains("&lt;b&gt;Ada") && !mail.html.contains("<b>Ada"));
        let mail = compose_account(MailKind::EmailVerification, Lang::En, "Ada", "http://127.0.0.1:3000/verify/abc");
        assert!(mail.text.contains("/verify/abc") && mail.subject.contains("Confirm"));
        let mail = compose_account(MailKind::SignUpAttempt, Lang::En, "Ada", "http://127.0.0.1:3000/login");
        assert!(mail.text.contains("http://127.0.0.1:3000/login") && mail.subject.contains("tried to sign up"));
    }

    #[test]
    fn a_mail_is_written_in_its_recipients_language_else_its_senders() {
        assert_eq!(mail_language(Some(Lang::Fr), Some(Lang::En), Lang::En), Lang::Fr);
        assert_eq!(mail_language(None, Some(Lang::Fr), Lang::En), Lang::Fr);
        assert_eq!(mail_language(None, None, Lang::Fr), Lang::Fr);
        let mail = compose(MailKind::FacilitatorInvitation, Lang::Fr, "Ada", "Rentrée", "http://127.0.0.1:3000/f/abc");
        assert_eq!(mail.subject, "Ada vous invite à co-animer «\u{202f}Rentrée\u{202f}»");
        assert!(mail.text.contains("Accepter l’invitation\u{202f}: http://127.0.0.1:3000/f/abc"), "{}", mail.text);
        assert!(mail.html.starts_with("<!DOCTYPE html><html lang=\"fr\">"));
        for kind in [MailKind::PasswordReset, MailKind::EmailVerification, MailKind::SignUpAttempt] {
            let (en, fr) = (compose_account(kind, Lang::En, "Ada", "x"), compose_account(kind, Lang::Fr, "Ada", "x"));
            assert!(fr.text.starts_with("Bonjour Ada") && en.text.starts_with("Hello Ada"), "{kind:?}");
        }
    }

    #[test]
    fn kinds_round_trip() {
        for kind in [
            MailKind::ParticipantInvitation,
            MailKind::FacilitatorInvitation,
            MailKind::PasswordReset,
            MailKind::EmailVerification,
            MailKind::SignUpAttempt,
            MailKind::AccountInvitation,
        ] {
            assert_eq!(MailKind::parse(kind.as_str()), Some(kind));
        }
    }
}
