//! What server functions get from the running server: storage and configuration, provided as
//! Leptos context by the `server` crate for both page rendering and server-function calls.
pub mod auth;
pub mod client_ip;
pub mod discussion_writes;
pub mod group_commit;
pub mod joining;
pub mod joins;
pub mod limits;
pub mod live_hub;
pub mod metrics;
pub mod speakers;
pub mod states_from_storage;
pub mod visitor;
pub mod ways_in;

use crate::rules::Failure;
use crate::storage::Db;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct ServerContext {
    pub db: Db,
    /// `PUBLIC_URL` without a trailing slash: every link Ruche shows or mails starts with it.
    pub public_url: Arc<str>,
    /// `TRUSTED_PROXIES`.
    pub trusted_proxies: Arc<[IpAddr]>,
    /// What clients may try now, and the password hashing gate (per process).
    pub limits: Arc<limits::Limits>,
    /// `MAX_PARTICIPANTS`: participants one session may hold.
    pub max_participants: u64,
    /// `SIGNUP`: who may create an account.
    pub signup: crate::rules::accounts::SignUpPolicy,
    /// `DEFAULT_LANGUAGE`: the language of a visitor who chose none and whose browser asks for
    /// none Ruche speaks (`rules::language::negotiate`).
    pub default_language: crate::rules::language::Lang,
    /// When the mail worker last showed a sign of life (microseconds; 0: not started), for
    /// `/readyz`.
    pub mail_heartbeat: Arc<std::sync::atomic::AtomicI64>,
    /// `AUTO_CLOSE_DAYS`: when forgotten sessions close by themselves.
    pub auto_close: crate::rules::sessions::AutoClose,
    /// Wakes the mail worker when something was queued, so mail goes out at once.
    pub mail_wakeup: Arc<tokio::sync::Notify>,
    /// The live channel of this instance: server functions tell it what changed.
    pub live: live_hub::Live,
    /// Codes and links that lead to a session, forgotten when the live channel hears it changed.
    pub ways_in: Arc<ways_in::WaysInCache>,
    /// Participant inserts, grouped into one write while another is under way.
    pub joins: Arc<joins::Joins>,
    /// Posts and likes, grouped into one write while another is under way.
    pub discussion_writes: Arc<discussion_writes::DiscussionWriter>,
    /// Who calls the Discussion, looked up in one query for the callers of the moment.
    pub speakers: Arc<speakers::Speakers>,
    /// What this instance tells the others sharing the database, queued and sent in order.
    pub notices: Arc<live_hub::NoticeSender>,
    /// When live sockets are pinged, and let go once silent.
    pub keepalive: crate::live_protocol::Keepalive,
    /// How long a request's headers and body may take to arrive.
    pub deadlines: crate::rules::limits::RequestDeadlines,
}

impl ServerContext {
    pub fn new(db: Db, public_url: &str, trusted_proxies: Vec<IpAddr>) -> Self {
        Self {
            joins: Arc::new(joins::Joins::new(db.clone())),
            discussion_writes: Arc::new(discussion_writes::DiscussionWriter::new(db.clone())),
            speakers: Arc::new(speakers::Speakers::new(db.clone())),
            notices: Arc::new(live_hub::NoticeSender::new(db.clone())),
            db,
            public_url: public_url.trim_end_matches('/').into(),
            trusted_proxies: trusted_proxies.into(),
            limits: Arc::default(),
            max_participants: crate::rules::joining::DEFAULT_MAX_PARTICIPANTS,
            signup: Default::default(),
            default_language: Default::default(),
            mail_heartbeat: Arc::default(),
            auto_close: crate::rules::sessions::AutoClose::default(),
            mail_wakeup: Arc::default(),
            live: live_hub::Live::default(),
            ways_in: Arc::default(),
            keepalive: crate::live_protocol::Keepalive::default(),
            deadlines: crate::rules::limits::RequestDeadlines::default(),
        }
    }

    pub fn wake_mailer(&self) {
        self.mail_wakeup.notify_one();
    }

    /// The link in a co-facilitator invitation.
    pub fn facilitation_link(&self, token: &str) -> String {
        format!("{}/facilitate/{token}", self.public_url)
    }

    /// The link in a password-reset mail.
    pub fn password_reset_link(&self, token: &str) -> String {
        format!("{}/account/reset/{token}", self.public_url)
    }

    /// The language of the request being handled: the switch's cookie, else `Accept-Language`,
    /// else `DEFAULT_LANGUAGE`.
    pub fn request_language() -> crate::rules::language::Lang {
        let default =
            leptos::reactive::owner::with_context::<ServerContext, _>(|ctx| ctx.default_language).unwrap_or_default();
        leptos::reactive::owner::with_context::<axum::http::request::Parts, _>(|parts| {
            language_of(&parts.headers, default)
        })
        .unwrap_or(default)
    }

    /// The link in an administrator's invitation to create an account.
    pub fn account_invitation_link(&self, token: &str) -> String {
        format!("{}/invitation/{token}", self.public_url)
    }

    /// The log-in page, in the mail about a sign-up with an address that has an account.
    pub fn log_in_link(&self) -> String {
        format!("{}/login", self.public_url)
    }

    /// The link in an address-verification mail.
    pub fn email_verification_link(&self, token: &str) -> String {
        format!("{}/account/verify/{token}", self.public_url)
    }

    /// Cookies get `Secure` when Ruche is served over HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The public link of a session.
    pub fn join_link(&self, link_token: &str) -> String {
        format!("{}/j/{link_token}", self.public_url)
    }

    /// The address of the client making the current request.
    pub fn client_ip(&self) -> IpAddr {
        leptos::reactive::owner::with_context::<axum::http::request::Parts, _>(|parts| self.client_ip_of(parts))
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    /// The address of the client that sent a request handled outside Leptos.
    pub fn client_ip_of(&self, parts: &axum::http::request::Parts) -> IpAddr {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        client_ip::client_ip(peer, &parts.headers, &self.trusted_proxies)
    }

    /// Missing context is a wiring bug in the server, not a user error: it is logged and the
    /// caller answers with an internal error.
    pub fn get() -> Result<Self, Failure> {
        leptos::prelude::use_context::<Self>().ok_or_else(|| {
            tracing::error!("ServerContext was not provided to this request");
            Failure::Internal
        })
    }
}

/// Whether the request comes from a browser wanting a page (a page load, or a form posted
/// without JavaScript) rather than from the hydrated app's server-function client.
pub(crate) fn accepts_html() -> bool {
    // Borrowed (`use_context` would clone the request's headers and extensions, on every call).
    leptos::reactive::owner::with_context::<axum::http::request::Parts, _>(|p| {
        p.headers.get(axum::http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
    })
    .unwrap_or(false)
}

fn set_status(status: axum::http::StatusCode) {
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
}

/// Redirects to `path` after a successful action: 303 See Other for a page or a plain form
/// (so the browser follows with a GET), the server-function redirect header for hydrated calls.
/// What `leptos_axum::redirect` does, without its copy of the request's headers.
pub fn see_other(path: &str) {
    use axum::http::{header, HeaderName, HeaderValue};
    let (Some(response), Ok(location)) =
        (leptos::prelude::use_context::<leptos_axum::ResponseOptions>(), HeaderValue::from_str(path))
    else {
        tracing::error!(path, "a redirect was asked for outside a request, or to an unusable path");
        return;
    };
    response.insert_header(header::LOCATION, location);
    if accepts_html() {
        response.set_status(axum::http::StatusCode::SEE_OTHER);
    } else {
        response.insert_header(
            HeaderName::from_static(leptos::server_fn::redirect::REDIRECT_HEADER),
            HeaderValue::from_static(""),
        );
    }
}

/// Gives a server function's error its status. Browsers posting a form without JavaScript are
/// left alone: they must get the redirect back to their page that carries the error.
pub fn reply<T, E: crate::rules::HttpStatus>(result: Result<T, E>) -> Result<T, E> {
    if let Err(error) = &result {
        if !accepts_html() {
            set_status(status_code(error));
            if let (Some(seconds), Some(response)) =
                (error.retry_after(), leptos::prelude::use_context::<leptos_axum::ResponseOptions>())
            {
                response.insert_header(axum::http::header::RETRY_AFTER, seconds.into());
            }
        }
    }
    result
}

/// What a server function's failure before its body ran means: arguments that do not decode, a
/// missing one or a body that cannot be read are the caller's (400, not the 500 server_fn gives
/// every error by default); anything else is the transport's.
pub fn failure_of(error: leptos::server_fn::error::ServerFnErrorErr) -> Failure {
    use leptos::server_fn::error::ServerFnErrorErr as E;
    if matches!(error, E::Args(_) | E::MissingArg(_) | E::Deserialization(_)) {
        tracing::debug!(%error, "malformed server function request");
        if !accepts_html() {
            set_status(axum::http::StatusCode::BAD_REQUEST);
        }
        return Failure::Malformed;
    }
    Failure::Unreachable(error.to_string())
}

pub fn status_code(error: &impl crate::rules::HttpStatus) -> axum::http::StatusCode {
    axum::http::StatusCode::from_u16(error.http_status()).unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR)
}

/// The language a request's headers ask for (`rules::language::negotiate`): what
/// `ServerContext::request_language` reads, for the axum handlers outside server functions (the
/// guard, the QR code, the export) too.
pub fn language_of(
    headers: &axum::http::HeaderMap,
    default: crate::rules::language::Lang,
) -> crate::rules::language::Lang {
    use crate::rules::language::{negotiate, LANGUAGE_COOKIE};
    let cookie = auth::cookie(headers, LANGUAGE_COOKIE);
    let accept = headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    negotiate(cookie.as_deref(), accept, default)
}
