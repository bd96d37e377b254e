//! Which language a page, a sentence or a mail is in: the visitor's choice (a cookie set by the
//! switch in the top bar), else the browser's `Accept-Language`, else `DEFAULT_LANGUAGE`.
use serde::{Deserialize, Serialize};

/// The languages Ruche speaks; the catalogues are `app/locales/<code>.json`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    #[serde(rename = "en")]
    En,
    #[serde(rename = "fr")]
    Fr,
}

/// The cookie the language switch sets (a year), read before `Accept-Language`.
pub const LANGUAGE_COOKIE: &str = "ruche_lang";
pub const LANGUAGE_COOKIE_MAX_AGE_SECS: u64 = 365 * 24 * 3600;

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    /// The code `<html lang>`, the cookie and `DEFAULT_LANGUAGE` use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fr => "fr",
        }
    }

    /// A language code (`fr`, `fr-CA`, `EN`): its primary language, if Ruche speaks it.
    pub fn parse(code: &str) -> Option<Self> {
        let primary = code.trim().split(['-', '_']).next().unwrap_or_default();
        Self::ALL.into_iter().find(|lang| primary.eq_ignore_ascii_case(lang.as_str()))
    }

    /// The language's own name, as the switch offers it.
    pub fn own_name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Fr => "Français",
        }
    }

    /// A number as the language writes it: "10,000" in English, "10 000" in French (a narrow
    /// no-break space, so that it never breaks across lines).
    pub fn number(self, n: u64) -> String {
        let separator = match self {
            Self::En => ',',
            Self::Fr => '\u{202f}',
        };
        let digits = n.to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(separator);
            }
            out.push(digit);
        }
        out
    }

    /// The other language: what the switch offers.
    pub fn other(self) -> Self {
        match self {
            Self::En => Self::Fr,
            Self::Fr => Self::En,
        }
    }
}

/// A domain error as people read it, in their language, from the catalogues. Its `Display` is
/// the English sentence (logs, the API's JSON), read from the same place (`error_in_words!`).
pub trait Sentence: std::fmt::Display {
    fn sentence(&self, lang: Lang) -> String;
}

/// Makes a domain error an error whose `Display` is its English `Sentence`, so that each
/// sentence is written once, in the catalogues; `with Failed` adds `From<Failure>` for an enum
/// whose `Failed` variant carries what can fail in any request.
macro_rules! error_in_words {
    ($error:ty) => {
        impl std::fmt::Display for $error {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&$crate::rules::language::Sentence::sentence(self, $crate::rules::language::Lang::En))
            }
        }

        impl std::error::Error for $error {}
    };
    ($error:ty, with Failed) => {
        $crate::rules::language::error_in_words!($error);

        impl From<$crate::rules::Failure> for $error {
            fn from(failure: $crate::rules::Failure) -> Self {
                Self::Failed(failure)
            }
        }
    };
}
pub(crate) use error_in_words;

/// The language of a request: the cookie's if it names one Ruche speaks, else the first of
/// `Accept-Language` by preference (`q`), else `default`. Bounded: a header is read up to its
/// first 32 entries.
pub fn negotiate(cookie: Option<&str>, accept_language: Option<&str>, default: Lang) -> Lang {
    if let Some(lang) = cookie.and_then(Lang::parse) {
        return lang;
    }
    let mut offered: Vec<(u16, usize, Lang)> = accept_language
        .unwrap_or_default()
        .split(',')
        .take(32)
        .enumerate()
        .filter_map(|(order, item)| {
            let mut parts = item.split(';');
            let lang = Lang::parse(parts.next()?)?;
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (q > 0.0).then_some(((q.clamp(0.0, 1.0) * 1000.0) as u16, order, lang))
        })
        .collect();
    offered.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    offered.first().map_or(default, |(_, _, lang)| *lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_wins_then_the_browser_then_the_default() {
        assert_eq!(negotiate(Some("fr"), Some("en-US,en;q=0.9"), Lang::En), Lang::Fr);
        assert_eq!(
            negotiate(Some("de"), Some("fr-FR,fr;q=0.9,en;q=0.8"), Lang::En),
            Lang::Fr,
            "a cookie naming no language of Ruche's"
        );
        assert_eq!(negotiate(None, Some("de-DE,de;q=0.9,en;q=0.5,fr;q=0.7"), Lang::En), Lang::Fr, "by q, not by order");
        assert_eq!(negotiate(None, Some("fr;q=0, en"), Lang::Fr), Lang::En, "q=0 refuses");
        assert_eq!(negotiate(None, Some("de, es"), Lang::Fr), Lang::Fr);
        assert_eq!(negotiate(None, None, Lang::Fr), Lang::Fr);
        assert_eq!(negotiate(None, Some("*"), Lang::En), Lang::En);
    }

    #[test]
    fn numbers_are_grouped_by_thousands_as_each_language_writes_them() {
        assert_eq!(Lang::En.number(1000), "1,000");
        assert_eq!(Lang::En.number(999), "999");
        assert_eq!(Lang::En.number(1_234_567), "1,234,567");
        assert_eq!(Lang::Fr.number(10_000), "10\u{202f}000");
        assert_eq!(Lang::Fr.number(0), "0");
    }

    #[test]
    fn codes_read_their_primary_language() {
        assert_eq!(Lang::parse("fr-CA"), Some(Lang::Fr));
        assert_eq!(Lang::parse(" EN_gb"), Some(Lang::En));
        assert_eq!(Lang::parse("frr"), None);
        assert_eq!(Lang::parse(""), None);
        for lang in Lang::ALL {
            assert_eq!(Lang::parse(lang.as_str()), Some(lang));
            assert_ne!(lang.other(), lang);
        }
    }
}
