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

    /// The other language: what the switch offers.
    pub fn other(self) -> Self {
        match self {
            Self::En => Self::Fr,
            Self::Fr => Self::En,
        }
    }
}

/// A domain error as people read it, in their language. `Display` stays the English sentence
/// (logs, the API's JSON); an error whose sentences are not translated yet keeps this default,
/// its English one.
pub trait Sentence: std::fmt::Display {
    fn sentence(&self, lang: Lang) -> String {
        let _ = lang;
        self.to_string()
    }
}

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
