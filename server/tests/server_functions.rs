//! The server functions as a browser or a script reaches them: HTTP requests to the real
//! router, on SQLite and on PostgreSQL. Rights are checked here even for calls no page makes.
use app::rules::accounts::AccountError;
use app::rules::sessions::SessionError;
use app::rules::Failure;
use app::storage::Db;
use app::test_both_dbs;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{create_session, link_token, router, Client};
use http_body_util::BodyExt;
use tower::ServiceExt;

mod common;

async fn sign_up_and_log_in(db: Db) {
    let router = router(db.clone());
    let mut ada = Client::signed_up(&router, "Ada@Example.org").await;
    let me: Option<app::functions::accounts::Account> = ada.call("me", &[]).await.json();
    assert_eq!(me.unwrap().email, "ada@example.org");

    // Signing up with an address that has an account answers as a new account does, tells
    // nobody the address is taken, logs nobody in, and mails the owner.
    let mut again = Client::anonymous(&router);
    let reply = again
        .call("sign_up", &[("email", "ada@example.org"), ("display_name", "Ada"), ("password", "another one!")])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(again.cookie.is_none(), "not logged in");
    let mails = db.mail_to("ada@example.org").await.unwrap();
    assert!(mails.iter().any(|m| m.kind == Some(app::rules::mail::MailKind::SignUpAttempt)), "{mails:?}");
    let reply = again.call("log_in", &[("email", "ada@example.org"), ("password", "another one!")]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "the password stays as it was");
    for (email, password, error) in [
        ("not-an-email", "long enough", AccountError::InvalidEmail),
        ("new@example.org", "short", AccountError::WeakPassword),
    ] {
        let reply = again.call("sign_up", &[("email", email), ("display_name", "X"), ("password", password)]).await;
        assert_eq!(reply.json::<AccountError>(), error);
        assert!(again.cookie.is_none());
    }

    let reply = again.call("log_in", &[("email", "ada@example.org"), ("password", "wrong password")]).await;
    assert_eq!(reply.json::<AccountError>(), AccountError::WrongCredentials);
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = again.call("log_in", &[("email", "nobody@example.org"), ("password", "long enough")]).await;
    assert_eq!(reply.json::<AccountError>(), AccountError::WrongCredentials);
    assert!(again.cookie.is_none());
    let reply =
        again.call("log_in", &[("email", "ADA@example.org"), ("password", "long enough"), ("next", "/sessions")]).await;
    assert!(reply.status.is_success(), "{} {}", reply.status, reply.body);
    assert!(again.cookie.is_some());

    // Logging out ends that login in storage, not only in the browser.
    let old_cookie = ada.cookie.clone();
    ada.call("log_out", &[]).await;
    assert!(ada.cookie.is_none());
    ada.cookie = old_cookie;
    assert_eq!(ada.call("me", &[]).await.json::<Option<app::functions::accounts::Account>>(), None);
}
test_both_dbs!(sign_up_and_log_in);

async fn the_owner_creates_and_opens_or_closes(db: Db) {
    let router = router(db);
    let mut ada = Client::signed_up(&router, "ada@example.org").await;

    let reply = ada.call("create_session", &[("title", "   ")]).await;
    assert_eq!(reply.json::<SessionError>(), SessionError::InvalidTitle);
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    let id = create_session(&mut ada, "  Monday all-hands ").await;
    let list: Vec<app::functions::sessions::SessionSummary> = ada.call("my_sessions", &[]).await.json();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].title, "Monday all-hands");
    assert!(list[0].is_open, "sessions are open when created");

    let reply = ada.call("set_session_open", &[("id", &id), ("open", "false")]).await;
    assert!(!reply.json::<bool>());
    let host: app::functions::sessions::SessionForHost = ada.call("host_session", &[("id", &id)]).await.json();
    assert!(!host.is_open);
    ada.call("set_session_open", &[("id", &id), ("open", "true")]).await;
    let host: app::functions::sessions::SessionForHost = ada.call("host_session", &[("id", &id)]).await.json();
    assert!(host.is_open);
}
test_both_dbs!(the_owner_creates_and_opens_or_closes);

async fn strangers_and_anonymous_callers_are_refused(db: Db) {
    let router = router(db);
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Ada's class").await;
    let mut bob = Client::signed_up(&router, "bob@example.org").await;
    let mut anonymous = Client::anonymous(&router);

    for (client, error, status) in [
        (&mut bob, SessionError::NoAccess, StatusCode::FORBIDDEN),
        (&mut anonymous, SessionError::NotLoggedIn, StatusCode::UNAUTHORIZED),
    ] {
        let reply = client.call("host_session", &[("id", &id)]).await;
        assert_eq!(reply.json::<SessionError>(), error);
        assert_eq!(reply.status, status);
        let reply = client.call("set_session_open", &[("id", &id), ("open", "false")]).await;
        assert_eq!(reply.json::<SessionError>(), error);
    }
    assert!(bob.call("my_sessions", &[]).await.json::<Vec<serde_json::Value>>().is_empty());
    assert_eq!(anonymous.call("my_sessions", &[]).await.json::<SessionError>(), SessionError::NotLoggedIn);
    assert_eq!(
        anonymous.call("create_session", &[("title", "Mine")]).await.json::<SessionError>(),
        SessionError::NotLoggedIn
    );

    let host: app::functions::sessions::SessionForHost = ada.call("host_session", &[("id", &id)]).await.json();
    assert!(host.is_open, "the refused calls changed nothing");

    // A forged cookie is nobody.
    let mut forged = Client { cookie: Some("ruche_login=00ff".into()), ..Client::anonymous(&router) };
    assert_eq!(forged.call("host_session", &[("id", &id)]).await.json::<SessionError>(), SessionError::NotLoggedIn);
}
test_both_dbs!(strangers_and_anonymous_callers_are_refused);

async fn login_cookie_is_httponly_and_lax(db: Db) {
    let router = router(db);
    let mut client = Client::anonymous(&router);
    let reply = client
        .call("sign_up", &[("email", "ada@example.org"), ("display_name", "Ada"), ("password", "long enough")])
        .await;
    let cookie = reply.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.starts_with("ruche_login="), "{cookie}");
}
test_both_dbs!(login_cookie_is_httponly_and_lax);

use app::functions::joining::ParticipantScreen;
use app::functions::sessions::SessionForHost;
use app::rules::joining::JoinError;
use app::states::PublicView;

async fn host(client: &mut Client, id: &str) -> SessionForHost {
    client.call("host_session", &[("id", id)]).await.json()
}

async fn get(router: &axum::Router, path: &str) -> (StatusCode, String, Vec<u8>) {
    let response = router.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let kind = response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, kind, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

async fn joining_by_code_and_link_and_a_new_code(db: Db) {
    let router = router(db);
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let before = host(&mut ada, &id).await;
    let old_code = before.ways_in.code.clone();
    let old_token = link_token(&before.ways_in.link);
    assert_eq!(before.ways_in.link, format!("http://127.0.0.1:3000/j/{old_token}"), "links are absolute");

    let mut zoe = Client::from(&router, [198, 51, 100, 1]);
    let reply = zoe.call("join_by_code", &[("code", &old_code.replace(' ', "-"))]).await;
    assert_eq!(reply.json::<String>(), id);
    assert!(zoe.visitor.is_some(), "a participant is known by a cookie");
    let screen: ParticipantScreen = zoe.call("participant_view", &[("id", &id)]).await.json();
    assert!(matches!(&screen.public.view, PublicView::Open { title, .. } if title == "Class"));
    assert_eq!(
        zoe.call("set_nickname", &[("id", &id), ("nickname", " Zoé ")]).await.json::<Option<String>>(),
        Some("Zoé".into())
    );
    assert_eq!(
        zoe.call("set_nickname", &[("id", &id), ("nickname", &"x".repeat(41))]).await.json::<JoinError>(),
        JoinError::InvalidNickname
    );

    let mut max = Client::from(&router, [198, 51, 100, 2]);
    assert_eq!(max.call("join_by_link", &[("token", &old_token)]).await.json::<String>(), id);

    // Only the owner generates a new code.
    let mut bob = Client::signed_up(&router, "bob@example.org").await;
    let reply = bob.call("generate_new_code", &[("id", &id)]).await;
    assert_eq!((reply.status, reply.json::<SessionError>()), (StatusCode::FORBIDDEN, SessionError::NoAccess));
    let new_code: String = ada.call("generate_new_code", &[("id", &id)]).await.json();
    let after = host(&mut ada, &id).await;
    assert_eq!(after.ways_in.code, new_code);
    assert_ne!(after.ways_in.link, before.ways_in.link);

    let mut late = Client::from(&router, [198, 51, 100, 3]);
    for (name, key, value) in
        [("join_by_code", "code", old_code.as_str()), ("join_by_link", "token", old_token.as_str())]
    {
        let reply = late.call(name, &[(key, value)]).await;
        assert_eq!((reply.status, reply.json::<JoinError>()), (StatusCode::GONE, JoinError::Retired));
    }
    assert_eq!(late.call("join_by_code", &[("code", &new_code)]).await.json::<String>(), id);
    // People already inside stay inside.
    let screen: ParticipantScreen = zoe.call("participant_view", &[("id", &id)]).await.json();
    assert_eq!(screen.nickname.as_deref(), Some("Zoé"));
    // Someone who never joined does not get in by knowing the session's id.
    let mut stranger = Client::from(&router, [198, 51, 100, 4]);
    let reply = stranger.call("participant_view", &[("id", &id)]).await;
    assert_eq!((reply.status, reply.json::<JoinError>()), (StatusCode::FORBIDDEN, JoinError::NotJoined));

    // The QR downloads follow the link: the old one is gone with it.
    let new_token = link_token(&after.ways_in.link);
    let (status, kind, png) = get(&router, &format!("/j/{new_token}/qr.png")).await;
    assert_eq!((status, kind.as_str()), (StatusCode::OK, "image/png"));
    assert!(png.starts_with(b"\x89PNG"));
    let (status, kind, _) = get(&router, &format!("/j/{new_token}/qr.svg")).await;
    assert_eq!((status, kind.as_str()), (StatusCode::OK, "image/svg+xml"));
    assert_eq!(get(&router, &format!("/j/{old_token}/qr.svg")).await.0, StatusCode::NOT_FOUND);
}
test_both_dbs!(joining_by_code_and_link_and_a_new_code);

/// People join at `/join?code=…` (the banner) and `/j/<token>` (the link): let in, they are sent
/// on at once (303, no page); refused, they get the banner saying why, with the error's status,
/// and the failure counts against their budget once.
async fn the_join_pages_let_in_at_once_or_say_why(db: Db) {
    use app::rules::limits::JOIN_FAILURES_PER_VISITOR;
    let router = router(db);
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let ways_in = host(&mut ada, &id).await.ways_in.clone();
    let token = link_token(&ways_in.link);

    let mut zoe = Client::from(&router, [198, 51, 100, 1]);
    let reply = zoe.page(&format!("/join?code={}", common::encode(&ways_in.code))).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.headers[header::LOCATION], format!("/p/{id}").as_str());
    assert!(reply.body.is_empty(), "no page is rendered for a redirect: {}", reply.body);
    let visitor = zoe.visitor.clone().expect("a participant is known by a cookie");
    let page = zoe.page(&format!("/p/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Class"), "{}", page.body);
    // Known already: let in again, with the same cookie.
    let reply = zoe.page(&format!("/join?code={}", ways_in.code.replace(' ', ""))).await;
    assert_eq!((reply.status, reply.headers.get(header::SET_COOKIE)), (StatusCode::SEE_OTHER, None));
    assert_eq!(zoe.visitor.as_ref(), Some(&visitor));

    // The public link answers with the participant page itself: a phone that scanned the QR code
    // saves a round trip before its page.
    let mut max = Client::from(&router, [198, 51, 100, 2]);
    let reply = max.page(&format!("/j/{token}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("Class") && reply.body.contains("Nickname (optional)"), "{}", reply.body);
    assert!(max.visitor.is_some(), "a participant is known by a cookie");
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store", "one visitor's page and cookie");
    assert_eq!(max.page(&format!("/p/{id}")).await.status, StatusCode::OK);

    // Refused: the page says why, with the status of the reason.
    let wrong = if ways_in.code.replace(' ', "") == "000000" { "000001" } else { "000000" };
    let mut guesser = Client::from(&router, [198, 51, 100, 3]);
    for (path, status, error) in [
        (format!("/join?code={wrong}"), StatusCode::NOT_FOUND, JoinError::UnknownCode),
        ("/join?code=12".to_owned(), StatusCode::BAD_REQUEST, JoinError::MalformedCode),
        ("/join?code=%ZZ".to_owned(), StatusCode::BAD_REQUEST, JoinError::MalformedCode),
        ("/join".to_owned(), StatusCode::BAD_REQUEST, JoinError::MalformedCode),
        ("/j/not-a-link".to_owned(), StatusCode::NOT_FOUND, JoinError::UnknownLink),
    ] {
        let reply = guesser.page(&path).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
        assert!(reply.body.contains(&error.to_string()), "{path}: {}", reply.body);
        assert!(reply.body.contains("Join a session"), "{path}: the banner, to try again");
    }
    // The unknown code and the unknown link were two failures; malformed codes are not guesses.
    for _ in 2..JOIN_FAILURES_PER_VISITOR.burst {
        assert_eq!(guesser.page(&format!("/join?code={wrong}")).await.status, StatusCode::NOT_FOUND);
    }
    let reply = guesser.page(&format!("/join?code={wrong}")).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{}", reply.body);
    assert!(reply.body.contains("Too many attempts."), "{}", reply.body);

    ada.call("set_session_open", &[("id", &id), ("open", "false")]).await;
    let mut late = Client::from(&router, [198, 51, 100, 4]);
    for path in [format!("/join?code={}", common::encode(&ways_in.code)), format!("/j/{token}")] {
        let reply = late.page(&path).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}: {}", reply.body);
        assert!(reply.body.contains(&JoinError::Closed.to_string()), "{path}: {}", reply.body);
    }
    assert_eq!(late.page(&format!("/p/{id}")).await.status, StatusCode::FORBIDDEN, "refused, not let in");
}
test_both_dbs!(the_join_pages_let_in_at_once_or_say_why);

/// After "Generate a new code", the old public link still brings back a participant who came in
/// by it (their page is at that link without JavaScript), and nobody else.
async fn an_old_link_brings_back_its_participants_only(db: Db) {
    let router = router(db);
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let old = host(&mut ada, &id).await.ways_in.clone();
    let token = link_token(&old.link);
    let mut zoe = Client::from(&router, [198, 51, 100, 1]);
    assert_eq!(zoe.page(&format!("/j/{token}")).await.status, StatusCode::OK);
    ada.call("generate_new_code", &[("id", &id)]).await.json::<String>();

    let back = zoe.page(&format!("/j/{token}")).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    assert!(back.body.contains("Nickname (optional)"), "{}", back.body);
    let mut eve = Client::from(&router, [198, 51, 100, 2]);
    let refused = eve.page(&format!("/j/{token}")).await;
    assert_eq!(refused.status, StatusCode::GONE, "{}", refused.body);
    assert!(refused.body.contains(&JoinError::Retired.to_string()), "{}", refused.body);
    assert_eq!(eve.page(&format!("/p/{id}")).await.status, StatusCode::FORBIDDEN, "not let in");
    // An old code brings nobody back: the banner's page is never at it.
    let by_code = zoe.page(&format!("/join?code={}", common::encode(&old.code))).await;
    assert!(by_code.body.contains(&JoinError::Retired.to_string()), "{}", by_code.body);

    // Closed, the link shows its participant their page saying so, and refuses everyone else.
    ada.call("set_session_open", &[("id", &id), ("open", "false")]).await;
    let closed = zoe.page(&format!("/j/{token}")).await;
    assert_eq!(closed.status, zoe.page(&format!("/p/{id}")).await.status, "the page /p/<id> is");
    assert!(closed.body.contains("The host has closed this session."), "{}", closed.body);
    assert_eq!(eve.page(&format!("/j/{token}")).await.status, StatusCode::GONE);
}
test_both_dbs!(an_old_link_brings_back_its_participants_only);

/// A room joining at once loads its pages at once. Each page is rendered with a reactive arena of
/// its own, and leptos_axum writes the `<title>` after the page, outside that arena: a title read
/// from one of the page's signals then looked in another request's arena and panicked ("already
/// been disposed"), and those phones got no page (seen with `scripts/bench-live.sh`). Hosts'
/// pages and the projection screen have such titles too.
async fn pages_loaded_at_once_each_come_whole(db: Db) {
    let router = router(db);
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let code = host(&mut ada, &id).await.ways_in.code.replace(' ', "");
    let mut phones = Vec::new();
    for i in 0..24 {
        let mut phone = Client::from(&router, [198, 51, 100, i]);
        assert_eq!(phone.page(&format!("/join?code={code}")).await.status, StatusCode::SEE_OTHER);
        phones.push((phone, format!("/p/{id}"), "Class · Ruche"));
    }
    for (path, title) in
        [(format!("/s/{id}"), "Class · Ruche"), (format!("/s/{id}/screen"), "Projection screen · Class")]
    {
        for _ in 0..4 {
            let tab =
                Client { router: router.clone(), cookie: ada.cookie.clone(), visitor: None, device: None, ip: ada.ip };
            phones.push((tab, path.clone(), title));
        }
    }
    let pages = futures_util::future::join_all(phones.iter_mut().map(|(client, path, _)| client.page(path))).await;
    for ((_, path, title), page) in phones.iter().zip(pages) {
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert!(page.body.contains(&format!("<title>{title}</title>")), "{path}: {}", page.body);
    }
}
test_both_dbs!(pages_loaded_at_once_each_come_whole);

/// Pages go out compressed to browsers that take it: brotli where it is accepted (every phone's
/// browser), gzip otherwise, at the fastest level (`server::router`).
async fn pages_go_out_compressed(db: Db) {
    let router = router(db);
    for (accepted, encoding) in [("gzip, deflate, br, zstd", "br"), ("gzip", "gzip")] {
        let request = Request::get("/").header(header::ACCEPT, "text/html").header(header::ACCEPT_ENCODING, accepted);
        let response = router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_ENCODING], encoding, "{accepted}");
        let sent = response.into_body().collect().await.unwrap().to_bytes();
        let mut page = Vec::new();
        match encoding {
            "br" => std::io::Read::read_to_end(&mut brotli_decompressor::Decompressor::new(&sent[..], 4096), &mut page)
                .unwrap(),
            _ => std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&sent[..]), &mut page).unwrap(),
        };
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains("Join a session"), "{page}");
        assert!(sent.len() * 2 < page.len(), "{encoding}: {} bytes for {}", sent.len(), page.len());
    }
}
test_both_dbs!(pages_go_out_compressed);

/// Links mailed or printed before tokens became base64url (160-bit hex) keep working.
async fn old_hex_links_still_lead_in(db: Db) {
    let router = router(db.clone());
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let link = host(&mut ada, &id).await.ways_in.link.clone();
    let token = link_token(&link);
    assert_eq!(token.len(), 22, "{link}");
    assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{link}");

    let hex = "0123456789abcdef0123456789abcdef01234567";
    let sql = format!("UPDATE sessions SET link_token = '{hex}' WHERE link_token = '{token}'");
    assert_eq!(db.execute_for_tests(&sql).await.unwrap(), 1);
    assert_eq!(host(&mut ada, &id).await.ways_in.link, format!("http://127.0.0.1:3000/j/{hex}"));
    let mut zoe = Client::from(&router, [198, 51, 100, 1]);
    assert_eq!(zoe.call("join_by_link", &[("token", hex)]).await.json::<String>(), id);
    assert_eq!(get(&router, &format!("/j/{hex}/qr.svg")).await.0, StatusCode::OK);

    // A new code gives a short token and retires the hex one like any other.
    ada.call("generate_new_code", &[("id", &id)]).await;
    assert_eq!(link_token(&host(&mut ada, &id).await.ways_in.link).len(), 22);
    let reply = Client::from(&router, [198, 51, 100, 2]).call("join_by_link", &[("token", hex)]).await;
    assert_eq!((reply.status, reply.json::<JoinError>()), (StatusCode::GONE, JoinError::Retired));
}
test_both_dbs!(old_hex_links_still_lead_in);

async fn a_closed_session_lets_nobody_in_until_reopened(db: Db) {
    let router = router(db);
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let code = host(&mut ada, &id).await.state.ways_in.code;
    let mut inside = Client::from(&router, [198, 51, 100, 1]);
    inside.call("join_by_code", &[("code", &code)]).await.json::<String>();

    ada.call("set_session_open", &[("id", &id), ("open", "false")]).await;
    let mut zoe = Client::from(&router, [198, 51, 100, 2]);
    let reply = zoe.call("join_by_code", &[("code", &code)]).await;
    assert_eq!((reply.status, reply.json::<JoinError>()), (StatusCode::FORBIDDEN, JoinError::Closed));
    let reply = zoe.call("participant_view", &[("id", &id)]).await;
    assert_eq!(reply.json::<JoinError>(), JoinError::NotJoined, "a closed session lets nobody in");
    assert_eq!(inside.call("participant_view", &[("id", &id)]).await.json::<JoinError>(), JoinError::Closed);
    // Those inside can do nothing more while it is closed.
    assert_eq!(
        inside.call("set_nickname", &[("id", &id), ("nickname", "Zoé")]).await.json::<JoinError>(),
        JoinError::Closed
    );

    ada.call("set_session_open", &[("id", &id), ("open", "true")]).await;
    assert_eq!(zoe.call("join_by_code", &[("code", &code)]).await.json::<String>(), id);
    let screen = inside.call("participant_view", &[("id", &id)]).await.json::<ParticipantScreen>();
    assert!(matches!(&screen.public.view, PublicView::Open { title, .. } if title == "Class"));
}
test_both_dbs!(a_closed_session_lets_nobody_in_until_reopened);

async fn only_hosts_edit_slides(db: Db) {
    let router = router(db);
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Talk").await;
    let slide: String = ada.call("add_slide", &[("id", &id), ("kind", "Text")]).await.json();
    let mut bob = Client::signed_up(&router, "bob@example.org").await;
    let mut anonymous = Client::anonymous(&router);
    for (client, error) in [(&mut bob, SessionError::NoAccess), (&mut anonymous, SessionError::NotLoggedIn)] {
        assert_eq!(client.call("add_slide", &[("id", &id), ("kind", "LinkAndQr")]).await.json::<SessionError>(), error);
        assert_eq!(
            client
                .call("update_slide", &[("id", &id), ("slide", &slide), ("title", "x"), ("body", "")])
                .await
                .json::<SessionError>(),
            error
        );
        assert_eq!(
            client
                .call("move_slide", &[("id", &id), ("slide", &slide), ("direction", "Up")])
                .await
                .json::<SessionError>(),
            error
        );
        assert_eq!(client.call("show_slide", &[("id", &id), ("slide", &slide)]).await.json::<SessionError>(), error);
        assert_eq!(client.call("delete_slide", &[("id", &id), ("slide", &slide)]).await.json::<SessionError>(), error);
    }
    let reply =
        ada.call("update_slide", &[("id", &id), ("slide", &slide), ("title", &"x".repeat(121)), ("body", "")]).await;
    assert_eq!(reply.json::<SessionError>(), SessionError::InvalidSlide);
    ada.call("update_slide", &[("id", &id), ("slide", &slide), ("title", "Welcome"), ("body", "Hi")])
        .await
        .json::<()>();
    let slides = host(&mut ada, &id).await.state.slides;
    assert_eq!(slides.len(), 1);
    assert!(matches!(&slides[0].content, app::states::SlideContent::Text { title, .. } if title == "Welcome"));
}
test_both_dbs!(only_hosts_edit_slides);

/// Garbage, empty, wrongly typed and oversized arguments, to every server function, logged in or
/// not: each answers 4xx with a sentence, never 5xx, and nothing stored changes.
async fn bad_arguments_answer_400_never_500(db: Db) {
    let router = router(db);
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let paths: Vec<&str> = leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path).collect();
    assert!(paths.len() >= 15, "every server function is registered: {paths:?}");
    let bodies: [&[u8]; 7] = [
        b"",
        b"\xff\xfe\x00garbage",
        b"id=not-a-uuid&kind=Nonsense&open=maybe&slide=1&facilitator=x&direction=Sideways",
        b"{\"id\": 1}",
        b"id=%ZZ&&&===",
        b"id[][]=1&id[x]=2",
        b"kind=Text&kind=Text&id=00000000-0000-0000-0000-000000000000&open=2",
    ];
    let oversized = format!("addresses={}", "a".repeat(3 * 1024 * 1024));
    for path in &paths {
        let name = path.trim_start_matches("/api/");
        for client in [&mut ada, &mut Client::anonymous(&router)] {
            if name == "log_out" && client.cookie.is_some() {
                continue; // takes no arguments: it would just log Ada out
            }
            for body in bodies.iter().copied().chain([oversized.as_bytes()]) {
                let reply = client.post_raw(name, body.to_vec()).await;
                assert!(
                    reply.status.is_client_error() || reply.status.is_success(),
                    "{name} with {:?}: {} {}",
                    String::from_utf8_lossy(&body[..body.len().min(60)]),
                    reply.status,
                    reply.body
                );
                if reply.status.is_client_error() {
                    assert!(!reply.body.contains("Unreachable") && !reply.body.is_empty(), "{name}: {}", reply.body);
                }
            }
        }
    }
    // A wrongly typed argument, as the issue found it: an unknown slide kind.
    let reply = ada.call("add_slide", &[("id", &id), ("kind", "Nonsense")]).await;
    assert_eq!(
        (reply.status, reply.json::<SessionError>()),
        (StatusCode::BAD_REQUEST, SessionError::Failed(Failure::Malformed))
    );
    // Nothing stored changed: the session is as it was.
    let host: SessionForHost = ada.call("host_session", &[("id", &id)]).await.json();
    assert_eq!((host.title.as_str(), host.slides.len(), host.is_open), ("Class", 0, true));
}
test_both_dbs!(bad_arguments_answer_400_never_500);
