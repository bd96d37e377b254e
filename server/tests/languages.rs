//! Which language a page is in: the switch's cookie, else `Accept-Language`, else
//! `DEFAULT_LANGUAGE`; `<html lang>` follows, and so do the sentences of refusals.
use app::rules::language::Lang;
use app::services::ServerContext;
use app::storage::Db;
use app::test_both_dbs;
use axum::http::StatusCode;
use common::{router_with, Client};

mod common;

fn router(db: Db, default: Lang) -> axum::Router {
    let mut ctx = ServerContext::new(db, "http://127.0.0.1:3000", Vec::new());
    ctx.limits = std::sync::Arc::new(app::services::limits::Limits::default().with_frozen_clock());
    ctx.default_language = default;
    router_with(ctx)
}

async fn pages_speak_the_visitors_language(db: Db) {
    let english_by_default = router(db.clone(), Lang::En);
    let mut visitor = Client::anonymous(&english_by_default);
    let home = visitor.page("/").await;
    assert!(home.body.contains(r#"<html lang="en""#) && home.body.contains("Join a session"));
    assert!(home.body.contains("/language?lang=fr"), "the switch offers French");

    let french = visitor.page_with("/", &[("accept-language", "de-DE,de;q=0.9,fr;q=0.8,en;q=0.5")]).await;
    assert!(french.body.contains(r#"<html lang="fr""#), "{}", &french.body[..200.min(french.body.len())]);
    for text in ["Rejoindre une session", "Code de la session", "Des sessions en direct", "Créer une session"] {
        assert!(french.body.contains(text), "{text} is not on the French home page");
    }
    assert!(!french.body.contains("Join a session"));
    assert!(french.body.contains("/language?lang=en"), "the switch offers English");

    // The switch's cookie wins over the browser.
    let chosen = visitor.page_with("/", &[("accept-language", "fr-FR"), ("cookie", "ruche_lang=en")]).await;
    assert!(chosen.body.contains(r#"<html lang="en""#) && chosen.body.contains("Join a session"));

    // A refusal is said in the page's language, with its status.
    let refused = visitor.page_with("/join?code=000000", &[("accept-language", "fr")]).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert!(refused.body.contains("Aucune session n’a ce code. Vérifiez le code et réessayez."), "{}", refused.body);
    assert!(refused.body.contains("<title>Rejoindre une session · Ruche</title>"));
    let missing = visitor.page_with("/nothing/here", &[("accept-language", "fr")]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("Page introuvable"));

    // The switch: sets the cookie for a year and comes back to the page.
    let switched = visitor.page("/language?lang=fr&back=%2Fjoin%3Fcode%3D1").await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    assert_eq!(switched.headers["location"], "/join?code=1");
    assert!(switched.headers["set-cookie"].to_str().unwrap().starts_with("ruche_lang=fr; Path=/; Max-Age=31536000"));
    let elsewhere = visitor.page("/language?lang=en&back=https%3A%2F%2Fevil.example").await;
    assert_eq!(elsewhere.headers["location"], "/");
    assert_eq!(visitor.page("/language?lang=de").await.status, StatusCode::BAD_REQUEST);

    // DEFAULT_LANGUAGE: for a browser asking for no language Ruche speaks, or none.
    let french_by_default = router(db, Lang::Fr);
    let mut other = Client::anonymous(&french_by_default);
    for headers in [vec![], vec![("accept-language", "de, es;q=0.5")]] {
        let page = other.page_with("/", &headers).await;
        assert!(page.body.contains(r#"<html lang="fr""#) && page.body.contains("Rejoindre une session"));
    }
    let page = other.page_with("/", &[("accept-language", "en-GB")]).await;
    assert!(page.body.contains(r#"<html lang="en""#));
}
test_both_dbs!(pages_speak_the_visitors_language);
