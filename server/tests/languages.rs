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

/// The account pages and the administration speak French to a French browser, their refusals
/// (with their statuses) included, and so does a plain answer of the server.
async fn account_and_administration_pages_speak_french(db: Db) {
    let router = router(db, Lang::En);
    // The instance's first account: its administrator.
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let _zoe = Client::signed_up(&router, "zoe@example.org").await;
    let fr = [("accept-language", "fr-FR")];

    let admin = ada.page_with("/admin", &fr).await;
    assert_eq!(admin.status, StatusCode::OK);
    for text in [
        "<title>Comptes · Ruche</title>",
        "2 comptes.",
        "Chercher par nom ou adresse e-mail",
        "Administrateur",
        "Vous",
        "Désactiver",
        "dernière connexion le",
    ] {
        assert!(admin.body.contains(text), "{text} is not on the French account list");
    }
    // The one account Ada may delete: Zoé's.
    let zoe_id = admin.body.split("/admin/accounts/").nth(1).and_then(|rest| rest.split('/').next()).unwrap();
    let delete = ada.page_with(&format!("/admin/accounts/{zoe_id}/delete"), &fr).await;
    assert!(delete.body.contains("Supprimer le compte de Someone\u{202f}?"), "{}", delete.body);
    assert!(delete.body.contains("Someone (zoe@example.org) ne peut plus se connecter"), "{}", delete.body);
    let too_long = ada.page_with(&format!("/admin?q={}", "a".repeat(101)), &fr).await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);
    assert!(too_long.body.contains("Cherchez avec 100 caractères au plus."), "{}", too_long.body);

    let account = ada.page_with("/account", &fr).await;
    for text in [
        "<title>Mon compte · Ruche</title>",
        "Identifiant et mot de passe",
        "Ancien mot de passe",
        "Me déconnecter partout",
    ] {
        assert!(account.body.contains(text), "{text} is not on the French My account");
    }
    let mut visitor = Client::anonymous(&router);
    let forgot = visitor.page_with("/forgot-password", &fr).await;
    assert!(
        forgot.body.contains("<title>Mot de passe oublié · Ruche</title>") && forgot.body.contains("M’envoyer un lien")
    );
    let reset = visitor.page_with("/account/reset/not-a-token", &fr).await;
    assert_eq!(reset.status, StatusCode::GONE);
    assert!(reset.body.contains("Ce lien a expiré ou a déjà servi. Demandez-en un nouveau."), "{}", reset.body);
    let verify = visitor.page_with("/account/verify/not-a-token", &fr).await;
    assert_eq!(verify.status, StatusCode::GONE);
    assert!(verify.body.contains("pour recevoir un nouveau lien."), "{}", verify.body);
    let reply = ada.call("request_password_reset", &[("email", "nobody@example.org")]).await;
    assert_eq!(reply.json::<String>(), app::texts::account_reset_mail_on_its_way(Lang::En));

    let unknown = visitor.page_with("/language?lang=de", &fr).await;
    assert_eq!(
        (unknown.status, unknown.body.as_str()),
        (StatusCode::BAD_REQUEST, "Ruche parle anglais (lang=en) et français (lang=fr).")
    );
}
test_both_dbs!(account_and_administration_pages_speak_french);
