//! `GET /language?lang=fr&back=/p/…`: the language switch of the top bar and the participant
//! page. A link, so it works without JavaScript: it sets the `ruche_lang` cookie (a year) and
//! sends the browser back to the page it was on, which renders again in that language.
use app::rules::accounts::is_local_path;
use app::rules::language::{Lang, LANGUAGE_COOKIE, LANGUAGE_COOKIE_MAX_AGE_SECS};
use app::services::{language_of, ServerContext};
use axum::extract::Query;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;

pub fn routes<S: Clone + Send + Sync + 'static>(ctx: ServerContext) -> Router<S> {
    Router::new().route(
        "/language",
        get(move |Query(query): Query<HashMap<String, String>>, headers: HeaderMap| {
            let secure = ctx.secure_cookies();
            let lang = language_of(&headers, ctx.default_language);
            async move { switch(query.get("lang"), query.get("back"), secure, lang) }
        }),
    )
}

/// `current` is the language the request is in, for the refusal of one Ruche does not speak.
fn switch(lang: Option<&String>, back: Option<&String>, secure: bool, current: Lang) -> Response {
    let Some(lang) = lang.and_then(|l| Lang::parse(l)) else {
        return (StatusCode::BAD_REQUEST, app::texts::plain_languages(current)).into_response();
    };
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!(
        "{LANGUAGE_COOKIE}={}; Path=/; Max-Age={LANGUAGE_COOKIE_MAX_AGE_SECS}; SameSite=Lax{secure}",
        lang.as_str()
    );
    let back = back.map(String::as_str).filter(|path| is_local_path(path)).unwrap_or("/");
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let (Ok(cookie), Ok(location)) = (HeaderValue::from_str(&cookie), HeaderValue::from_str(back)) {
        headers.insert(header::SET_COOKIE, cookie);
        headers.insert(header::LOCATION, location);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_sets_the_cookie_and_goes_back_only_to_a_page_of_this_site() {
        let answer = switch(Some(&"fr".into()), Some(&"/p/abc?x=1".into()), false, Lang::En);
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        assert_eq!(answer.headers()[header::LOCATION], "/p/abc?x=1");
        assert_eq!(answer.headers()[header::SET_COOKIE], "ruche_lang=fr; Path=/; Max-Age=31536000; SameSite=Lax");
        for elsewhere in ["//evil.example", "https://evil.example", "/\\evil.example"] {
            assert_eq!(
                switch(Some(&"en".into()), Some(&elsewhere.into()), true, Lang::En).headers()[header::LOCATION],
                "/"
            );
        }
        assert!(switch(Some(&"en".into()), None, true, Lang::En).headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .ends_with("; Secure"));
        assert_eq!(switch(Some(&"de".into()), None, false, Lang::En).status(), StatusCode::BAD_REQUEST);
        assert_eq!(switch(None, None, false, Lang::Fr).status(), StatusCode::BAD_REQUEST);
    }
}
