//! What a slide is: its kinds and the limits on what hosts type into it.
use serde::{Deserialize, Serialize};

pub const SLIDE_TITLE_MAX_CHARS: usize = 120;
pub const SLIDE_BODY_MAX_CHARS: usize = 2000;
/// Slides one session may hold: more than any talk needs, few enough that every host and
/// participant state (which carries them all) stays small.
pub const MAX_SLIDES_PER_SESSION: u64 = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlideKind {
    /// Shows the session's QR code, code and link: always the current ones.
    LinkAndQr,
    /// A title and a text.
    Text,
}

impl SlideKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LinkAndQr => "link_qr",
            Self::Text => "text",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "link_qr" => Some(Self::LinkAndQr),
            "text" => Some(Self::Text),
            _ => None,
        }
    }

    /// The name in the "Add a slide" menu, in `lang`.
    pub fn label(self, lang: super::language::Lang) -> &'static str {
        match self {
            Self::LinkAndQr => crate::texts::slide_kind_link_and_qr(lang),
            Self::Text => crate::texts::slide_kind_text(lang),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Move {
    Up,
    Down,
}

/// Trims and bounds a text slide's title and body. Line breaks are allowed in the body only.
pub fn clean_slide_text(title: &str, body: &str) -> Result<(String, String), crate::rules::sessions::SessionError> {
    use crate::rules::sessions::SessionError::InvalidSlide;
    let title = title.trim();
    let body = body.trim();
    let bad =
        |s: &str, lines: bool| s.chars().any(|c| c.is_control() && !(lines && (c == '\n' || c == '\r' || c == '\t')));
    if title.chars().count() > SLIDE_TITLE_MAX_CHARS
        || body.chars().count() > SLIDE_BODY_MAX_CHARS
        || bad(title, false)
        || bad(body, true)
    {
        return Err(InvalidSlide);
    }
    Ok((title.to_owned(), body.replace("\r\n", "\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in [SlideKind::LinkAndQr, SlideKind::Text] {
            assert_eq!(SlideKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(SlideKind::parse("poll"), None);
    }

    #[test]
    fn slide_text_is_bounded() {
        assert_eq!(clean_slide_text(" Hi ", "a\r\nb "), Ok(("Hi".into(), "a\nb".into())));
        assert!(clean_slide_text(&"x".repeat(121), "").is_err());
        assert!(clean_slide_text("", &"x".repeat(2001)).is_err());
        assert!(clean_slide_text("a\nb", "").is_err());
    }
}
