//! The mails Ruche sends, as plain text and HTML. User text (titles, names) is escaped in the
//! HTML part; header values never carry a line break, so no input can add a header.
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MailKind {
    /// "Send invitations": a participant is invited to join with the public link.
    ParticipantInvitation,
    /// "+Add": someone is invited to co-host the session.
    FacilitatorInvitation,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ParticipantInvitation => "participant_invitation",
            Self::FacilitatorInvitation => "facilitator_invitation",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "participant_invitation" => Some(Self::ParticipantInvitation),
            "facilitator_invitation" => Some(Self::FacilitatorInvitation),
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
    let text = format!("{lead}\n\n{action}: {link}\n\n-- \nRuche\n");
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><p>{}</p>\
         <p><a href=\"{}\" style=\"display:inline-block;padding:12px 20px;background:#2b2250;color:#fff;text-decoration:none;border-radius:8px\">{action}</a></p>\
         <p style=\"color:#5b5870\">{}</p></body></html>",
        escape_html(&lead),
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
        let mail = compose(MailKind::ParticipantInvitation, "Eve\r\nBcc: all@example.org", "<script>x</script>", "http://127.0.0.1:3000/j/abc");
        assert!(!mail.subject.contains('\n') && !mail.subject.contains('\r'));
        assert!(!mail.html.contains("<script>"));
        assert!(mail.html.contains("&lt;script&gt;"));
        assert!(mail.text.contains("http://127.0.0.1:3000/j/abc"));
        assert!(mail.html.contains("href=\"http://127.0.0.1:3000/j/abc\""));
    }

    #[test]
    fn kinds_round_trip() {
        for kind in [MailKind::ParticipantInvitation, MailKind::FacilitatorInvitation] {
            assert_eq!(MailKind::parse(kind.as_str()), Some(kind));
        }
    }
}
