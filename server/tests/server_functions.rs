//! The server functions as a browser or a script reaches them: HTTP requests to the real
//! router, on SQLite and on PostgreSQL. Rights are checked here even for calls no page makes.
use app::rules::accounts::AccountError;
use app::rules::sessions::SessionError;
use app::server::ServerContext;
use app::storage::Db;
use app::test_both_dbs;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use serde::de::DeserializeOwned;
use tower::ServiceExt;

struct Client {
    router: axum::Router,
    cookie: Option<String>,
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Reply {
    fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {} {}", self.status, self.body))
    }
}

fn router(db: Db) -> axum::Router {
    let options = LeptosOptions::builder().output_name("ruche").build();
    server::router(options, ServerContext { db, secure_cookies: false })
}

impl Client {
    fn anonymous(router: &axum::Router) -> Self {
        Self { router: router.clone(), cookie: None }
    }

    async fn signed_up(router: &axum::Router, email: &str) -> Self {
        let mut client = Self::anonymous(router);
        let reply = client
            .call("sign_up", &[("email", email), ("display_name", "Someone"), ("password", "long enough")])
            .await;
        assert!(reply.status.is_success() || reply.status.is_redirection(), "{} {}", reply.status, reply.body);
        assert!(client.cookie.is_some(), "sign-up sets a login cookie");
        client
    }

    /// Calls `/api/<name>` the way a hydrated page does (form-encoded, JSON back), keeping the
    /// login cookie it is given.
    async fn call(&mut self, name: &str, form: &[(&str, &str)]) -> Reply {
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut request = Request::post(format!("/api/{name}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json");
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let response = self.router.clone().oneshot(request.body(Body::from(body)).unwrap()).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for set in headers.get_all(header::SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            self.cookie = pair.split_once('=').filter(|(_, v)| !v.is_empty()).map(|_| pair.clone());
        }
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Reply { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn create_session(client: &mut Client, title: &str) -> String {
    let reply = client.call("create_session", &[("title", title)]).await;
    assert!(reply.status.is_success(), "{} {}", reply.status, reply.body);
    reply.json::<String>()
}

async fn sign_up_and_log_in(db: Db) {
    let router = router(db);
    let mut ada = Client::signed_up(&router, "Ada@Example.org").await;
    let me: Option<app::functions::accounts::Account> = ada.call("me", &[]).await.json();
    assert_eq!(me.unwrap().email, "ada@example.org");

    let mut again = Client::anonymous(&router);
    let reply = again.call("sign_up", &[("email", "ada@example.org"), ("display_name", "Ada"), ("password", "long enough")]).await;
    assert_eq!(reply.json::<AccountError>(), AccountError::EmailTaken);
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
    let reply = again.call("log_in", &[("email", "nobody@example.org"), ("password", "long enough")]).await;
    assert_eq!(reply.json::<AccountError>(), AccountError::WrongCredentials);
    assert!(again.cookie.is_none());
    let reply = again.call("log_in", &[("email", "ADA@example.org"), ("password", "long enough"), ("next", "/sessions")]).await;
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

    let id = create_session(&mut ada, "  Monday all-hands ").await;
    let list: Vec<app::functions::sessions::SessionSummary> = ada.call("my_sessions", &[]).await.json();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].title, "Monday all-hands");
    assert!(list[0].is_open, "sessions are open when created");

    let reply = ada.call("set_session_open", &[("id", &id), ("open", "false")]).await;
    assert!(reply.json::<bool>() == false);
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

    for (client, error) in [(&mut bob, SessionError::NoAccess), (&mut anonymous, SessionError::NotLoggedIn)] {
        let reply = client.call("host_session", &[("id", &id)]).await;
        assert_eq!(reply.json::<SessionError>(), error);
        assert!(!reply.status.is_success());
        let reply = client.call("set_session_open", &[("id", &id), ("open", "false")]).await;
        assert_eq!(reply.json::<SessionError>(), error);
    }
    assert!(bob.call("my_sessions", &[]).await.json::<Vec<serde_json::Value>>().is_empty());
    assert_eq!(anonymous.call("my_sessions", &[]).await.json::<SessionError>(), SessionError::NotLoggedIn);
    assert_eq!(anonymous.call("create_session", &[("title", "Mine")]).await.json::<SessionError>(), SessionError::NotLoggedIn);

    let host: app::functions::sessions::SessionForHost = ada.call("host_session", &[("id", &id)]).await.json();
    assert!(host.is_open, "the refused calls changed nothing");

    // A forged cookie is nobody.
    let mut forged = Client { router: router.clone(), cookie: Some("ruche_login=00ff".into()) };
    assert_eq!(forged.call("host_session", &[("id", &id)]).await.json::<SessionError>(), SessionError::NotLoggedIn);
}
test_both_dbs!(strangers_and_anonymous_callers_are_refused);

async fn login_cookie_is_httponly_and_lax(db: Db) {
    let router = router(db);
    let mut client = Client::anonymous(&router);
    let reply = client.call("sign_up", &[("email", "ada@example.org"), ("display_name", "Ada"), ("password", "long enough")]).await;
    let cookie = reply.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.starts_with("ruche_login="), "{cookie}");
}
test_both_dbs!(login_cookie_is_httponly_and_lax);
