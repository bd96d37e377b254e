//! What the HTTP-level tests share: a client that calls server functions as a hydrated page
//! does, keeping its cookies, from an address of its choosing.
#![allow(dead_code)]
use app::services::ServerContext;
use app::storage::Db;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use serde::de::DeserializeOwned;
use tower::ServiceExt;

pub struct Client {
    pub router: axum::Router,
    pub cookie: Option<String>,
    pub visitor: Option<String>,
    /// The device cookie a log-in gives the browser (`auth::DEVICE_COOKIE_NAME`).
    pub device: Option<String>,
    pub ip: std::net::IpAddr,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {} {}", self.status, self.body))
    }
}

/// The server as `main.rs` builds it, with the budgets' clock stopped: an emptied budget stays
/// empty however long a test's requests take on a loaded machine (200 lookups have outlasted
/// the 3 s refill), and none refills midway.
pub fn router(db: Db) -> axum::Router {
    let mut ctx = ServerContext::new(db, "http://127.0.0.1:3000", Vec::new());
    ctx.limits = std::sync::Arc::new(app::services::limits::Limits::default().with_frozen_clock());
    router_with(ctx)
}

pub fn router_with(ctx: ServerContext) -> axum::Router {
    let options = LeptosOptions::builder().output_name("ruche").build();
    server::router(options, ctx)
}

impl Client {
    pub fn anonymous(router: &axum::Router) -> Self {
        Self { router: router.clone(), cookie: None, visitor: None, device: None, ip: [192, 0, 2, 1].into() }
    }

    pub fn from(router: &axum::Router, ip: [u8; 4]) -> Self {
        Self { ip: ip.into(), ..Self::anonymous(router) }
    }

    pub async fn signed_up(router: &axum::Router, email: &str) -> Self {
        let mut client = Self::anonymous(router);
        let reply =
            client.call("sign_up", &[("email", email), ("display_name", "Someone"), ("password", "long enough")]).await;
        assert!(reply.status.is_success() || reply.status.is_redirection(), "{} {}", reply.status, reply.body);
        assert!(client.cookie.is_some(), "sign-up sets a login cookie");
        client
    }

    /// Signs up and proves the address, as someone who opened the sign-up mail: what sending
    /// e-mail invitations and "+Add" need (`rules::accounts::may`).
    pub async fn signed_up_verified(router: &axum::Router, db: &Db, email: &str) -> Self {
        let client = Self::signed_up(router, email).await;
        verify(db, email).await;
        client
    }

    /// Opens a page as a browser does (HTML wanted, redirects not followed), with this client's
    /// cookies.
    pub async fn page(&mut self, path: &str) -> Reply {
        self.page_with(path, &[]).await
    }

    /// `page`, with more headers (those a browser adds: `Sec-Fetch-Dest`, …).
    pub async fn page_with(&mut self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = Request::get(path).header(header::ACCEPT, "text/html");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let cookies: Vec<&str> =
            [&self.cookie, &self.visitor, &self.device].into_iter().flatten().map(String::as_str).collect();
        if !cookies.is_empty() {
            request = request.header(header::COOKIE, cookies.join("; "));
        }
        let mut request = request.body(Body::empty()).unwrap();
        request.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::new(self.ip, 40000)));
        self.send(request).await
    }

    /// Calls `/api/<name>` the way a hydrated page does (form-encoded, JSON back), keeping the
    /// login cookie it is given.
    pub async fn call(&mut self, name: &str, form: &[(&str, &str)]) -> Reply {
        let body: String = form.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&");
        self.post_raw(name, body.into_bytes()).await
    }

    /// Posts any bytes as a form to `/api/<name>`, as a script or an attacker may.
    pub async fn post_raw(&mut self, name: &str, body: Vec<u8>) -> Reply {
        self.post_accepting(name, body, "application/json").await
    }

    /// Posts a form to `/api/<name>` as a browser without JavaScript does (a page wanted back).
    pub async fn submit(&mut self, name: &str, form: &[(&str, &str)]) -> Reply {
        let body: String = form.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&");
        self.post_accepting(name, body.into_bytes(), "text/html").await
    }

    async fn post_accepting(&mut self, name: &str, body: Vec<u8>, accept: &str) -> Reply {
        let mut request = Request::post(format!("/api/{name}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, accept);
        let cookies: Vec<&str> =
            [&self.cookie, &self.visitor, &self.device].into_iter().flatten().map(String::as_str).collect();
        if !cookies.is_empty() {
            request = request.header(header::COOKIE, cookies.join("; "));
        }
        let mut request = request.body(Body::from(body)).unwrap();
        request.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::new(self.ip, 40000)));
        self.send(request).await
    }

    /// Sends a request as this client, keeping the cookies it is given, as a browser does.
    async fn send(&mut self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for set in headers.get_all(header::SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            let bare = pair.trim_start_matches("__Host-");
            let value = pair.split_once('=').filter(|(_, v)| !v.is_empty()).map(|_| pair.clone());
            if bare.starts_with("ruche_visitor=") {
                self.visitor = value;
            } else if bare.starts_with("ruche_device=") {
                self.device = value;
            } else {
                self.cookie = value;
            }
        }
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Reply { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }
}

/// Proves the address of the account `email` as its verification link would, straight in
/// storage: tests that are not about verification start from a verified owner.
pub async fn verify(db: &Db, email: &str) {
    let user =
        db.user_by_email(&email.trim().to_lowercase()).await.unwrap().expect("an account with this address").user.id;
    db.mark_email_verified(user).await.unwrap();
}

pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The token a link ends with: a session's public link (`…/j/<token>`), an invitation's.
pub fn link_token(link: &str) -> String {
    link.rsplit('/').next().unwrap().to_owned()
}

pub async fn create_session(client: &mut Client, title: &str) -> String {
    let reply = client.call("create_session", &[("title", title)]).await;
    assert!(reply.status.is_success(), "{} {}", reply.status, reply.body);
    reply.json::<String>()
}
