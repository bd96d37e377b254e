//! The live channel in the browser: one WebSocket per tab, kept open while the page that asked
//! for it is shown. After any disconnect (server restart, network change, a phone waking) it
//! reconnects with backoff, at once when the network or the tab comes back; the server then
//! sends the whole state again, and the Discussion's events the tab missed (it says where it was
//! in the path it connects to), so nothing missed meanwhile stays missed.
use leptos::prelude::*;
use serde::de::DeserializeOwned;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
// Only the browser ever connects.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum LiveStatus {
    /// Before the first connection (and on the server).
    Connecting,
    Connected,
    /// Lost; trying again.
    Reconnecting,
    /// The server said this tab may not follow the session (`CLOSE_DENIED`); it stops trying.
    Denied,
    /// The login this tab followed with ended (`CLOSE_LOGGED_OUT`); it stops trying.
    LoggedOut,
}

/// Follows `path` (`crate::live_protocol::host_path` or `participant_path`, asked again at each
/// connection) while the calling component lives, handing each message to `on_message`.
pub fn use_live<M: DeserializeOwned + 'static>(
    path: impl Fn() -> String + 'static,
    on_message: impl Fn(M) + 'static,
) -> ReadSignal<LiveStatus> {
    let (status, set_status) = signal(LiveStatus::Connecting);
    #[cfg(feature = "hydrate")]
    browser::follow(path, on_message, set_status);
    #[cfg(not(feature = "hydrate"))]
    let _ = (path, on_message, set_status);
    status
}

/// A line saying the live updates are interrupted, shown only then.
#[component]
pub fn LiveNotice(status: ReadSignal<LiveStatus>) -> impl IntoView {
    let lang = super::page_language();
    move || {
        (status.get() == LiveStatus::Reconnecting).then(|| {
            view! { <p class="live-notice" role="status">{crate::texts::live_reconnecting(lang)}</p> }
        })
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::LiveStatus;
    use crate::live_protocol::{CLOSE_DENIED, CLOSE_LOGGED_OUT};
    use leptos::prelude::*;
    use send_wrapper::SendWrapper;
    use serde::de::DeserializeOwned;
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;
    use web_sys::wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{CloseEvent, MessageEvent, WebSocket};

    const FIRST_RETRY_MS: f64 = 500.0;
    const LAST_RETRY_MS: f64 = 15_000.0;

    struct Conn {
        /// The socket's address, written when it connects.
        url: Box<dyn Fn() -> String>,
        socket: Option<WebSocket>,
        failures: u32,
        stopped: bool,
        on_text: Box<dyn Fn(String)>,
        set_status: WriteSignal<LiveStatus>,
        // Kept alive as long as the socket that calls them.
        handlers: Vec<Box<dyn std::any::Any>>,
    }

    type Shared = Rc<RefCell<Conn>>;

    pub fn follow<M: DeserializeOwned + 'static>(
        path: impl Fn() -> String + 'static,
        on_message: impl Fn(M) + 'static,
        set_status: WriteSignal<LiveStatus>,
    ) {
        let location = window().location();
        let scheme = if location.protocol().as_deref() == Ok("https:") { "wss" } else { "ws" };
        let host = location.host().unwrap_or_default();
        let url = Box::new(move || format!("{scheme}://{host}{}", path()));
        let on_text = Box::new(move |text: String| match serde_json::from_str::<M>(&text) {
            Ok(message) => on_message(message),
            Err(e) => leptos::logging::warn!("live: unreadable message: {e}"),
        });
        let conn: Shared = Rc::new(RefCell::new(Conn {
            url,
            socket: None,
            failures: 0,
            stopped: false,
            on_text,
            set_status,
            handlers: Vec::new(),
        }));
        open(&conn);
        // Back online, or a phone's tab shown again: try now rather than at the next backoff.
        let (online, visible) = (conn.clone(), conn.clone());
        let online = window_event_listener_untyped("online", move |_| open(&online));
        // Fired at the document, whose events also pass through the window.
        let visible = window_event_listener_untyped("visibilitychange", move |_| {
            if document().visibility_state() == web_sys::VisibilityState::Visible {
                open(&visible);
            }
        });
        let cleanup = SendWrapper::new((conn, online, visible));
        on_cleanup(move || {
            let (conn, online, visible) = cleanup.take();
            online.remove();
            visible.remove();
            let mut conn = conn.borrow_mut();
            conn.stopped = true;
            if let Some(socket) = conn.socket.take() {
                detach(&socket);
                let _ = socket.close();
            }
            conn.handlers.clear();
        });
    }

    /// Opens the socket unless one is open or opening.
    fn open(conn: &Shared) {
        let mut c = conn.borrow_mut();
        if c.stopped || c.socket.as_ref().is_some_and(|s| s.ready_state() <= WebSocket::OPEN) {
            return;
        }
        // A closing socket's events would call the handlers dropped below.
        if let Some(old) = c.socket.take() {
            detach(&old);
        }
        let Ok(socket) = WebSocket::new(&(c.url)()) else {
            drop(c);
            return retry(conn);
        };
        let on_message = {
            let conn = conn.clone();
            Closure::<dyn Fn(MessageEvent)>::new(move |e: MessageEvent| {
                let Some(text) = e.data().as_string() else { return };
                let c = conn.borrow();
                (c.on_text)(text);
            })
        };
        let on_open = {
            let conn = conn.clone();
            Closure::<dyn Fn()>::new(move || {
                let mut c = conn.borrow_mut();
                c.failures = 0;
                c.set_status.set(LiveStatus::Connected);
            })
        };
        let on_close = {
            let conn = conn.clone();
            let this = socket.clone();
            Closure::<dyn Fn(CloseEvent)>::new(move |e: CloseEvent| {
                let mut c = conn.borrow_mut();
                // Only the current socket's end matters; an older one may close late.
                if c.stopped || !c.socket.as_ref().is_some_and(|s| s == &this) {
                    return;
                }
                c.socket = None;
                let stop = match e.code() {
                    CLOSE_DENIED => Some(LiveStatus::Denied),
                    CLOSE_LOGGED_OUT => Some(LiveStatus::LoggedOut),
                    _ => None,
                };
                if let Some(status) = stop {
                    c.stopped = true;
                    c.set_status.set(status);
                    return;
                }
                c.set_status.set(LiveStatus::Reconnecting);
                drop(c);
                retry(&conn);
            })
        };
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        c.handlers = vec![Box::new(on_message), Box::new(on_open), Box::new(on_close)];
        c.socket = Some(socket);
    }

    /// Unhooks a socket from its handlers before they are dropped: its close event comes later,
    /// and would otherwise call a dropped closure (a console error on every log-out from a host
    /// page, whose socket the server then closes).
    fn detach(socket: &WebSocket) {
        socket.set_onmessage(None);
        socket.set_onopen(None);
        socket.set_onclose(None);
    }

    /// Waits 0.5 s, 1 s, 2 s… up to 15 s, each between half and all of it, so that a room of
    /// phones does not come back in one burst after a restart.
    fn retry(conn: &Shared) {
        let delay = {
            let mut c = conn.borrow_mut();
            let full = (FIRST_RETRY_MS * 2f64.powi(c.failures.min(10) as i32)).min(LAST_RETRY_MS);
            c.failures += 1;
            full * (0.5 + js_sys::Math::random() * 0.5)
        };
        let conn = conn.clone();
        set_timeout(move || open(&conn), Duration::from_millis(delay as u64));
    }
}
