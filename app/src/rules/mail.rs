//! The mails Ruche sends, as plain text and HTML. User text (titles, names) is escaped in the
//! HTML part; header values never carry a line break, so no input can add a header.
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

/// `link` is absolute and made by Ruche (never user text); `inviter` and `title` are user text.
pub fn compose(kind: MailKind, inviter: &str, title: &str, link: &str) -> Mail {
    let (subject, lead, action) = match kind {
        MailKind::PasswordReset | MailKind::EmailVerification | MailKind::SignUpAttempt => {
            return compose_account(kind, inviter, link)
        }
        MailKind::AccountInvitation => (
            format!("{} invites you to create a Ruche account", header_safe(inviter)),
            format!(
                "{inviter} invites you to create an account on Ruche, to host live sessions. \
                 The link works once, for 14 days, for this e-mail address."
            ),
            "Create my account",
        ),
        MailKind::ParticipantInvitation => (
            format!("{} invites you to join \u{201c}{}\u{201d}", header_safe(inviter), header_safe(title)),
            format!("{inviter} invites you to join the session \u{201c}{title}\u{201d} on Ruche."),
            "Join the session",
        ),
        MailKind::FacilitatorInvitation => (
            format!("{} invites you to co-host \u{201c}{}\u{201d}", header_safe(inviter), header_safe(title)),
            format!(
                "{inviter} invites you to co-create and co-host the session \u{201c}{title}\u{201d} on Ruche as a facilitator. \
                 Accept with an account using this e-mail address; the invitation is valid for 14 days."
            ),
            "Accept the invitation",
        ),
    };
    layout(subject, &lead, action, link)
}

/// A mail to the account's own address; `name` is its display name (user text).
pub fn compose_account(kind: MailKind, name: &str, link: &str) -> Mail {
    let (subject, lead, action) = match kind {
        MailKind::PasswordReset => (
            "Choose a new password for Ruche".to_owned(),
            format!(
                "Hello {name}, someone (hopefully you) asked to choose a new password for your Ruche account. \
                 The link works once, for one hour. If you did not ask, ignore this mail: your password stays as it is."
            ),
            "Choose a new password",
        ),
        MailKind::SignUpAttempt => (
            "Someone tried to sign up to Ruche with your address".to_owned(),
            format!(
                "Hello {name}, someone (perhaps you) tried to create a Ruche account with this address, which already \
                 has one. If it was you, log in instead; if you forgot your password, the log-in page lets you choose \
                 a new one. If it was not you, ignore this mail: nothing changed."
            ),
            "Log in",
        ),
        _ => (
            "Confirm your e-mail address for Ruche".to_owned(),
            format!(
                "Hello {name}, confirm that this address is yours to send invitations and co-host sessions on Ruche. \
                 The link works once, for 7 days."
            ),
            "Confirm my address",
        ),
    };
    layout(subject, &lead, action, link)
}

fn layout(subject: String, lead: &str, action: &str, link: &str) -> Mail {
    let text = format!("{lead}\n\n{action}: {link}\n\n-- \nRuche\n");
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><p>{}</p>\
         <p><a href=\"{}\" style=\"display:inline-block;padding:12px 20px;background:#2b2250;color:#fff;text-decoration:none;border-radius:8px\">{action}</a></p>\
         <p style=\"color:#5b5870\">{}</p></body></html>",
        escape_html(lead),
        escape_html(link),
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
        let mail =
            compose(MailKind::AccountInvitation, "Ada\r\nBcc: x@y.z", "", "http://127.0.0.1:3000/invitation/abc");
        assert!(!mail.subject.contains('\n') && mail.subject.contains("create a Ruche account"));
        assert!(mail.text.contains("http://127.0.0.1:3000/invitation/abc") && mail.text.contains("14 days"));
        assert!(mail.html.contains("href=\"http://127.0.0.1:3000/invitation/abc\""));
    }

    #[test]
    fn account_mails_carry_their_link_and_escape_the_name() {
        let mail = compose_account(MailKind::PasswordReset, "<b>Ada</b>", "http://127.0.0.1:3000/reset/abc");
        assert!(mail.text.contains("http://127.0.0.1:3000/reset/abc") && mail.text.contains("one hour"));
        assert!(mail.html.contains("&lt;b&gt;Ada") && !mail.html.contains("<b>Ada"));
        let mail = compose_account(MailKind::EmailVerification, "Ada", "http://127.0.0.1:3000/verify/abc");
        assert!(mail.text.contains("/verify/abc") && mail.subject.contains("Confirm"));
        let mail = compose_account(MailKind::SignUpAttempt, "Ada", "http://127.0.0.1:3000/login");
        assert!(mail.text.contains("http://127.0.0.1:3000/login") && mail.subject.contains("tried to sign up"));
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
