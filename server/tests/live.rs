//! The live channel over real WebSockets on loopback, on SQLite and PostgreSQL: what hosts and
//! participants receive after each change, who is refused, a removed facilitator losing the host
//! view, a phone that stops reading, reconnecting after a restart, the Discussion's events, and
//! (PostgreSQL) two instances sharing one database.
use app::functions::sessions::SessionForHost;
use app::live_protocol::{
    DiscussionEvent, DiscussionMessage, HostMessage, Keepalive, ParticipantMessage, CLOSE_DENIED, CLOSE_LOGGED_OUT,
    CLOSE_RESTARTING,
};
use app::rules::discussion::DiscussionSettings;
use app::rules::joining::JoinError;
use app::services::ways_in::WaysInCache;
use app::services::ServerContext;
use app::states::HostState;
use app::states::MessageView;
use app::states::SlideContent;
use app::states::{PublicState, PublicView};
use app::storage::Db;
use app::test_both_dbs;
use common::{create_session, link_token, router_with, Client};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

mod common;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One server instance on a loopback port, as `main.rs` runs it.
struct Instance {
    ctx: ServerContext,
    router: axum::Router,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Instance {
    async fn start(db: Db) -> Self {
        Self::start_on(db, "127.0.0.1:0".parse().unwrap()).await
    }

    async fn start_on(db: Db, addr: SocketAddr) -> Self {
        Self::serve(ServerContext::new(db, "http://127.0.0.1:3000", Vec::new()), addr).await
    }

    /// With the ways in it looks up trusted for minutes, so that a join it refuses was refused
    /// because the session's change was heard, not because an entry expired.
    async fn start_remembering_ways_in(db: Db) -> Self {
        let mut ctx = ServerContext::new(db, "http://127.0.0.1:3000", Vec::new());
        ctx.ways_in = Arc::new(WaysInCache::trusting_for(Duration::from_secs(600)));
        Self::serve(ctx, "127.0.0.1:0".parse().unwrap()).await
    }

    async fn serve(ctx: ServerContext, addr: SocketAddr) -> Self {
        server::peer_bridge::spawn_peer_bridge(ctx.clone());
        let router = router_with(ctx.clone());
        let listener = server::serve::listen(addr).unwrap();
        let addr = listener.local_addr().unwrap();
        let bounds = server::serve::Bounds::new(ctx.trusted_proxies.clone());
        let task = tokio::spawn(server::serve::serve(listener, router.clone(), bounds, std::future::pending()));
        Self { ctx, router, addr, task }
    }

    /// As a restart does: every socket is told, then the process is gone.
    async fn stop(self) {
        self.ctx.live.shut_down();
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.task.abort();
        let _ = self.task.await;
    }

    /// A socket of a phone that reads little: a receive buffer of a few KB, which the server's
    /// writes fill while the test does not read it.
    async fn stalled_socket(&self, path: &str, cookie: Option<&str>) -> Socket {
        let request = self.socket_request(path, cookie);
        let tcp = tokio::net::TcpSocket::new_v4().unwrap();
        tcp.set_recv_buffer_size(4096).unwrap();
        let stream = tcp.connect(self.addr).await.unwrap();
        tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream)).await.expect("the live socket opens").0
    }

    async fn socket(&self, path: &str, cookie: Option<&str>) -> Socket {
        tokio_tungstenite::connect_async(self.socket_request(path, cookie)).await.expect("the live socket opens").0
    }

    fn socket_request(
        &self,
        path: &str,
        cookie: Option<&str>,
    ) -> tokio_tungstenite::tungstenite::handshake::client::Request {
        let mut request = format!("ws://{}{path}", self.addr).into_client_request().unwrap();
        if let Some(cookie) = cookie {
            request.headers_mut().insert("cookie", cookie.parse().unwrap());
        }
        request
    }
}

/// The next text message, answering nothing (tungstenite answers pings itself).
async fn next_text(socket: &mut Socket) -> String {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a live message within 10 s")
            .expect("the socket is open")
            .expect("a readable message");
        match message {
            Message::Text(text) => return text.to_string(),
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => {}
        }
    }
}

/// What a participant's socket starts with, in either order: the state and the Discussion's
/// snapshot. Returns the state.
async fn started(socket: &mut Socket) -> PublicState {
    let (mut state, mut snapshot) = (None, false);
    while state.is_none() || !snapshot {
        match serde_json::from_str(&next_text(socket).await).unwrap() {
            ParticipantMessage::State(s) => state = Some(s),
            ParticipantMessage::Discussion(DiscussionMessage::Snapshot { .. }) => snapshot = true,
            ParticipantMessage::Discussion(other) => panic!("a snapshot first, not {other:?}"),
        }
    }
    state.expect("a state")
}

/// The next public state, past the Discussion's messages.
async fn next_public(socket: &mut Socket) -> PublicState {
    loop {
        if let ParticipantMessage::State(state) = serde_json::from_str(&next_text(socket).await).unwrap() {
            return state;
        }
    }
}

async fn next_host_state(socket: &mut Socket) -> HostState {
    loop {
        if let HostMessage::State(state) = serde_json::from_str(&next_text(socket).await).unwrap() {
            return state;
        }
    }
}

/// Waits until the host socket reports `n` participants.
async fn presence_reaches(socket: &mut Socket, n: u32) {
    loop {
        if let HostMessage::Presence { participants } = serde_json::from_str(&next_text(socket).await).unwrap() {
            if participants == n {
                return;
            }
        }
    }
}

async fn close_code(socket: &mut Socket) -> u16 {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("closed within 10 s") {
            Some(Ok(Message::Close(Some(frame)))) => return frame.code.into(),
            Some(Ok(Message::Close(None))) | None | Some(Err(_)) => panic!("closed without a code"),
            Some(Ok(_)) => {}
        }
    }
}

fn open_title(state: &PublicState) -> Option<&str> {
    match &state.view {
        PublicView::Open { title, .. } => Some(title),
        PublicView::Closed | PublicView::Deleted => None,
    }
}

fn shown_code(state: &PublicState) -> Option<String> {
    match &state.view {
        PublicView::Open { slide: Some(slide), .. } => match &slide.content {
            SlideContent::LinkAndQr(ways_in) => Some(ways_in.code.clone()),
            SlideContent::Text { .. } => None,
        },
        _ => None,
    }
}

/// An owner with a session showing its "Link and QR code" slide, and a participant inside.
async fn session_with_participant(instance: &Instance) -> (Client, String, Client) {
    let mut ada = Client::signed_up(&instance.router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let slide: String = ada.call("add_slide", &[("id", &id), ("kind", "LinkAndQr")]).await.json();
    ada.call("show_slide", &[("id", &id), ("slide", &slide)]).await.json::<()>();
    let host: SessionForHost = ada.call("host_session", &[("id", &id)]).await.json();
    let mut zoe = Client::from(&instance.router, [198, 51, 100, 1]);
    assert_eq!(zoe.call("join_by_code", &[("code", &host.ways_in.code)]).await.json::<String>(), id);
    (ada, id, zoe)
}

/// The participant page, as it is loaded now: its status, and whether it holds `text`.
async fn page_shows(client: &mut Client, id: &str, status: u16, text: &str) {
    let page = client.page(&format!("/p/{id}")).await;
    assert_eq!(page.status, status, "{}", page.body);
    assert!(page.body.contains(text), "{text:?} in {}", page.body);
}

/// Every change reaches hosts' and participants' sockets, and the participant page loaded right
/// after it shows it too (while sockets follow the session, the page is made from the state the
/// hub holds for them).
async fn every_change_reaches_hosts_and_participants(db: Db) {
    let instance = Instance::start(db).await;
    let (mut ada, id, mut zoe) = session_with_participant(&instance).await;
    let mut participant = instance.socket(&format!("/live/p/{id}"), zoe.visitor.as_deref()).await;
    let first = next_public(&mut participant).await;
    assert_eq!(open_title(&first), Some("Class"), "the whole state comes first");
    let old_code = shown_code(&first).expect("the Link and QR code slide is shown");
    let session = id.parse().unwrap();
    assert_eq!(
        instance.ctx.live.public_state(session),
        Some(first),
        "the page is made from what the sockets were sent"
    );
    page_shows(&mut zoe, &id, 200, &old_code).await;

    let mut host = instance.socket(&format!("/live/s/{id}"), ada.cookie.as_deref()).await;
    assert!(next_host_state(&mut host).await.is_open);
    presence_reaches(&mut host, 1).await;

    ada.call("set_session_open", &[("id", &id), ("open", "false")]).await.json::<bool>();
    page_shows(&mut zoe, &id, 403, "This session is closed.").await;
    assert_eq!(next_public(&mut participant).await.view, PublicView::Closed);
    assert!(!next_host_state(&mut host).await.is_open);
    ada.call("set_session_open", &[("id", &id), ("open", "true")]).await.json::<bool>();
    page_shows(&mut zoe, &id, 200, "Save nickname").await;
    assert_eq!(open_title(&next_public(&mut participant).await), Some("Class"), "reopened: the view comes back");
    assert!(next_host_state(&mut host).await.is_open);

    let new_code: String = ada.call("generate_new_code", &[("id", &id)]).await.json();
    page_shows(&mut zoe, &id, 200, &new_code).await;
    assert_eq!(shown_code(&next_public(&mut participant).await), Some(new_code.clone()));
    assert_ne!(new_code, old_code);
    assert_eq!(next_host_state(&mut host).await.ways_in.code, new_code);

    // Slide edits reach hosts; participants hear of them only when their screen changes.
    let text: String = ada.call("add_slide", &[("id", &id), ("kind", "Text")]).await.json();
    assert_eq!(next_host_state(&mut host).await.slides.len(), 2);
    ada.call("update_slide", &[("id", &id), ("slide", &text), ("title", "Question"), ("body", "Why?")])
        .await
        .json::<()>();
    next_host_state(&mut host).await;
    ada.call("show_slide", &[("id", &id), ("slide", &text)]).await.json::<()>();
    page_shows(&mut zoe, &id, 200, "Why?").await;
    let shown = next_public(&mut participant).await;
    assert!(
        matches!(&shown.view, PublicView::Open { slide: Some(s), .. } if matches!(&s.content, SlideContent::Text { title, .. } if title == "Question")),
        "{shown:?}"
    );

    // A participant's tab going away is counted at once.
    participant.close(None).await.unwrap();
    presence_reaches(&mut host, 0).await;
    instance.stop().await;
}
test_both_dbs!(every_change_reaches_hosts_and_participants);

/// A session is full once `MAX_PARTICIPANTS` people follow it: a newcomer is refused, someone
/// inside comes back, and once someone leaves, the newcomer gets in.
async fn a_session_full_of_people_lets_no_newcomer_in(db: Db) {
    let mut ctx = ServerContext::new(db, "http://127.0.0.1:3000", Vec::new());
    ctx.max_participants = 3;
    let instance = Instance::serve(ctx, "127.0.0.1:0".parse().unwrap()).await;
    let mut ada = Client::signed_up(&instance.router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let host_view: SessionForHost = ada.call("host_session", &[("id", &id)]).await.json();
    let (code, token) = (host_view.ways_in.code.replace(' ', ""), link_token(&host_view.ways_in.link));
    let mut host = instance.socket(&format!("/live/s/{id}"), ada.cookie.as_deref()).await;
    next_host_state(&mut host).await;
    let mut inside = Vec::new();
    let mut sockets = Vec::new();
    for n in 1..=3 {
        let mut person = Client::from(&instance.router, [198, 51, 100, n]);
        assert_eq!(person.call("join_by_code", &[("code", &code)]).await.json::<String>(), id);
        sockets.push(instance.socket(&format!("/live/p/{id}"), person.visitor.as_deref()).await);
        inside.push(person);
    }
    presence_reaches(&mut host, 3).await;
    let mut late = Client::from(&instance.router, [198, 51, 100, 4]);
    for (name, key, value) in [("join_by_code", "code", &code), ("join_by_link", "token", &token)] {
        let reply = late.call(name, &[(key, value.as_str())]).await;
        assert_eq!((reply.status, reply.json::<JoinError>()), (axum::http::StatusCode::FORBIDDEN, JoinError::Full));
    }
    assert_eq!(
        inside[0].call("join_by_link", &[("token", &token)]).await.json::<String>(),
        id,
        "someone inside comes back"
    );
    sockets.pop().unwrap().close(None).await.unwrap();
    presence_reaches(&mut host, 2).await;
    assert_eq!(late.call("join_by_code", &[("code", &code)]).await.json::<String>(), id, "there is room again");
    instance.stop().await;
}
test_both_dbs!(a_session_full_of_people_lets_no_newcomer_in);

/// A room of 1,000 phones behind one school's address, each with its own cookie and socket:
/// every one gets in, and hosts count the people.
async fn a_room_of_a_thousand_behind_one_address_all_get_in(db: Db) {
    let instance = Instance::start(db).await;
    let mut ada = Client::signed_up(&instance.router, "ada@example.org").await;
    let id = create_session(&mut ada, "Assembly").await;
    let host_view: SessionForHost = ada.call("host_session", &[("id", &id)]).await.json();
    let code = host_view.ways_in.code.replace(' ', "");
    let mut host = instance.socket(&format!("/live/s/{id}"), ada.cookie.as_deref()).await;
    next_host_state(&mut host).await;
    let school = [203, 0, 113, 50];
    let mut phones = Vec::new();
    for _ in 0..10 {
        let joins = (0..100).map(|_| {
            let (router, code, id) = (instance.router.clone(), code.clone(), id.clone());
            async move {
                let mut phone = Client::from(&router, school);
                assert_eq!(phone.page(&format!("/join?code={code}")).await.status, axum::http::StatusCode::SEE_OTHER);
                assert_eq!(phone.page(&format!("/p/{id}")).await.status, axum::http::StatusCode::OK);
                phone
            }
        });
        phones.extend(futures_util::future::join_all(joins).await);
    }
    // Their sockets, all from this machine's one address too.
    let path = format!("/live/p/{id}");
    let sockets =
        futures_util::future::join_all(phones.iter().map(|phone| instance.socket(&path, phone.visitor.as_deref())))
            .await;
    presence_reaches(&mut host, 1_000).await;
    drop(sockets);
    instance.stop().await;
}
test_both_dbs!(a_room_of_a_thousand_behind_one_address_all_get_in);

/// A new title reaches every tab at once; a deletion sends every tab, hosts' and participants',
/// its last state ("deleted"), then closes their sockets for good.
async fn a_rename_then_a_deletion_reach_every_tab(db: Db) {
    let instance = Instance::start(db).await;
    let (mut ada, id, mut zoe) = session_with_participant(&instance).await;
    let mut participant = instance.socket(&format!("/live/p/{id}"), zoe.visitor.as_deref()).await;
    next_public(&mut participant).await;
    let mut host = instance.socket(&format!("/live/s/{id}"), ada.cookie.as_deref()).await;
    next_host_state(&mut host).await;

    assert_eq!(
        ada.call("rename_session", &[("id", &id), ("title", "  Physics 101 ")]).await.json::<String>(),
        "Physics 101"
    );
    page_shows(&mut zoe, &id, 200, "<title>Physics 101 · Ruche</title>").await;
    assert_eq!(open_title(&next_public(&mut participant).await), Some("Physics 101"));
    assert_eq!(next_host_state(&mut host).await.title, "Physics 101");

    ada.call("delete_session", &[("id", &id)]).await.json::<()>();
    page_shows(&mut zoe, &id, 410, "This session no longer exists.").await;
    assert_eq!(next_public(&mut participant).await.view, PublicView::Deleted);
    assert_eq!(close_code(&mut participant).await, CLOSE_DENIED);
    while serde_json::from_str::<HostMessage>(&next_text(&mut host).await).unwrap() != HostMessage::Deleted {}
    assert_eq!(close_code(&mut host).await, CLOSE_DENIED);
    // A tab that tries again hears the same, and nothing else.
    let mut again = instance.socket(&format!("/live/p/{id}"), zoe.visitor.as_deref()).await;
    assert_eq!(next_public(&mut again).await.view, PublicView::Deleted);
    assert_eq!(close_code(&mut again).await, CLOSE_DENIED);
    let mut host_again = instance.socket(&format!("/live/s/{id}"), ada.cookie.as_deref()).await;
    assert_eq!(close_code(&mut host_again).await, CLOSE_DENIED);
    instance.stop().await;
}
test_both_dbs!(a_rename_then_a_deletion_reach_every_tab);

/// The hub writes a new state to participants' sockets itself, 256 per task: in a room larger
/// than that, every socket gets every change.
async fn every_socket_of_a_room_larger_than_a_writing_task_gets_each_change(db: Db) {
    let instance = Instance::start(db).await;
    let (mut ada, id, _) = session_with_participant(&instance).await;
    let host: SessionForHost = ada.call("host_session", &[("id", &id)]).await.json();
    let mut sockets = Vec::new();
    for i in 0..300u32 {
        let mut phone = Client::from(&instance.router, [10, 1, (i / 200) as u8, (i % 200 + 1) as u8]);
        assert_eq!(phone.call("join_by_code", &[("code", &host.ways_in.code)]).await.json::<String>(), id);
        let mut socket = instance.socket(&format!("/live/p/{id}"), phone.visitor.as_deref()).await;
        assert_eq!(open_title(&next_public(&mut socket).await), Some("Class"));
        sockets.push(socket);
    }
    ada.call("set_session_open", &[("id", &id), ("open", "false")]).await.json::<bool>();
    for socket in &mut sockets {
        assert_eq!(next_public(socket).await.view, PublicView::Closed);
    }
    ada.call("set_session_open", &[("id", &id), ("open", "true")]).await.json::<bool>();
    for socket in &mut sockets {
        assert_eq!(open_title(&next_public(socket).await), Some("Class"));
    }
    instance.stop().await;
}
test_both_dbs!(every_socket_of_a_room_larger_than_a_writing_task_gets_each_change);

/// The shown text slide's body, in a participant's state.
fn shown_body(state: &PublicState) -> Option<&str> {
    match &state.view {
        PublicView::Open { slide: Some(slide), .. } => match &slide.content {
            SlideContent::Text { body, .. } => Some(body),
            SlideContent::LinkAndQr(_) => None,
        },
        _ => None,
    }
}

/// A phone that stops reading holds up no other tab. Once it reads again it gets the newest state,
/// having skipped those it had no room for, and never an older state after a newer one.
async fn a_phone_that_stops_reading_gets_the_newest_state_once_it_reads_again(db: Db) {
    // The kernel grows the server's send buffer up to tcp_wmem's largest size (4 MiB by
    // default), however little the phone reads: the edits add up to twice that.
    let wmem = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem").unwrap_or_default();
    let largest: usize = wmem.split_whitespace().nth(2).and_then(|n| n.parse().ok()).unwrap_or(4 << 20);
    let edits = (2 * largest / 8000).max(100);
    // More edits than one account may make in a row: this test is about the socket.
    let mut ctx = ServerContext::new(db, "http://127.0.0.1:3000", Vec::new());
    let changes = app::rules::limits::Budget { burst: 10 * edits as u32, every: Duration::from_millis(1) };
    ctx.limits = Arc::new(app::services::limits::Limits::default().with_changes_per_account(changes));
    let instance = Instance::serve(ctx, "127.0.0.1:0".parse().unwrap()).await;
    let (mut ada, id, zoe) = session_with_participant(&instance).await;
    let text: String = ada.call("add_slide", &[("id", &id), ("kind", "Text")]).await.json();
    ada.call("show_slide", &[("id", &id), ("slide", &text)]).await.json::<()>();
    let path = format!("/live/p/{id}");
    let mut reading = instance.socket(&path, zoe.visitor.as_deref()).await;
    assert_eq!(shown_body(&next_public(&mut reading).await), Some(""));
    let mut stalled = instance.stalled_socket(&path, zoe.visitor.as_deref()).await;
    assert_eq!(shown_body(&next_public(&mut stalled).await), Some(""));

    // States of about 8 KB.
    let edit = |i: usize| format!("{i:04} {}", "🐝".repeat(1990));
    for i in 0..edits {
        ada.call("update_slide", &[("id", &id), ("slide", &text), ("title", "Question"), ("body", &edit(i))])
            .await
            .json::<()>();
        assert_eq!(
            shown_body(&next_public(&mut reading).await),
            Some(edit(i).as_str()),
            "the reading phone gets every state"
        );
    }
    let mut got = Vec::new();
    while got.last() != Some(&(edits - 1)) {
        let state = next_public(&mut stalled).await;
        got.push(shown_body(&state).and_then(|b| b[..4].parse::<usize>().ok()).expect("an edited body"));
    }
    assert!(got.windows(2).all(|w| w[0] < w[1]), "newer states only: {got:?}");
    assert!(got.len() < edits, "the states it had no room for are skipped: {} of {edits} received", got.len());
    instance.stop().await;
}
test_both_dbs!(a_phone_that_stops_reading_gets_the_newest_state_once_it_reads_again);

/// A host's tab that stops reading cannot pin large states: once a state waits longer than
/// `Keepalive::write_within` to be taken, the server lets the socket go.
async fn a_host_tab_that_stops_reading_is_let_go(db: Db) {
    let mut ctx = ServerContext::new(db, "http://127.0.0.1:3000", Vec::new());
    ctx.keepalive = Keepalive { write_within: Duration::from_millis(500), ..Keepalive::default() };
    let instance = Instance::serve(ctx, "127.0.0.1:0".parse().unwrap()).await;
    let mut ada = Client::signed_up(&instance.router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    // States of about 80 KB: ten slides of 8 KB.
    let mut slides = Vec::new();
    for i in 0..10 {
        let slide: String = ada.call("add_slide", &[("id", &id), ("kind", "Text")]).await.json();
        let body = format!("{i:04} {}", "🐝".repeat(1990));
        ada.call("update_slide", &[("id", &id), ("slide", &slide), ("title", "Question"), ("body", &body)])
            .await
            .json::<()>();
        slides.push(slide);
    }
    let mut stalled = instance.stalled_socket(&format!("/live/s/{id}"), ada.cookie.as_deref()).await;
    next_host_state(&mut stalled).await;
    // Twice what the server's send buffer may grow to (tcp_wmem, 4 MiB by default), none of it read.
    for i in 0..100 {
        ada.call("show_slide", &[("id", &id), ("slide", &slides[i % 10])]).await.json::<()>();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    // What was buffered arrives, then the socket ends instead of delivering on.
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(Ok(message)) = stalled.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the server let the stalled host socket go");
    instance.stop().await;
}
test_both_dbs!(a_host_tab_that_stops_reading_is_let_go);

/// Closing by itself is the padlock's close: every tab sees it at once, and the owner's reopening.
async fn a_session_closing_by_itself_reaches_every_tab(db: Db) {
    let instance = Instance::start(db).await;
    let (mut ada, id, zoe) = session_with_participant(&instance).await;
    let mut participant = instance.socket(&format!("/live/p/{id}"), zoe.visitor.as_deref()).await;
    assert!(open_title(&next_public(&mut participant).await).is_some());
    let mut host = instance.socket(&format!("/live/s/{id}"), ada.cookie.as_deref()).await;
    assert!(next_host_state(&mut host).await.closes_by_itself_on.is_some());

    let month_later = app::storage::now_micros() + 31 * 24 * 3600 * 1_000_000;
    assert_eq!(server::close_forgotten_sessions(&instance.ctx, month_later).await.unwrap(), 1);
    assert_eq!(next_public(&mut participant).await.view, PublicView::Closed);
    let closed = next_host_state(&mut host).await;
    assert_eq!((closed.is_open, closed.closes_by_itself_on), (false, None));

    assert!(ada.call("set_session_open", &[("id", &id), ("open", "true")]).await.json::<bool>());
    assert_eq!(open_title(&next_public(&mut participant).await), Some("Class"));
    assert!(next_host_state(&mut host).await.closes_by_itself_on.is_some());
    instance.stop().await;
}
test_both_dbs!(a_session_closing_by_itself_reaches_every_tab);

/// Another login of the same account, as another browser makes.
async fn log_in_again(instance: &Instance, email: &str) -> Client {
    let mut client = Client::anonymous(&instance.router);
    let reply = client.call("log_in", &[("email", email), ("password", "long enough")]).await;
    assert!(reply.status.is_success() && client.cookie.is_some(), "{} {}", reply.status, reply.body);
    client
}

/// A login that ends ("Log out everywhere", a new password, logging out) closes the host sockets
/// opened with it, and only those: other browsers' tabs stop following the session.
async fn ended_logins_close_their_host_sockets(db: Db) {
    let instance = Instance::start(db).await;
    let (mut ada, id, _zoe) = session_with_participant(&instance).await;
    let path = format!("/live/s/{id}");
    let (laptop, phone) =
        (log_in_again(&instance, "ada@example.org").await, log_in_again(&instance, "ada@example.org").await);
    let mut laptop_tab = instance.socket(&path, laptop.cookie.as_deref()).await;
    let mut phone_tab = instance.socket(&path, phone.cookie.as_deref()).await;
    let mut own_tab = instance.socket(&path, ada.cookie.as_deref()).await;
    for tab in [&mut laptop_tab, &mut phone_tab, &mut own_tab] {
        next_host_state(tab).await;
    }

    ada.call("log_out_everywhere", &[]).await.json::<String>();
    assert_eq!(close_code(&mut laptop_tab).await, CLOSE_LOGGED_OUT);
    assert_eq!(close_code(&mut phone_tab).await, CLOSE_LOGGED_OUT);
    // The login kept keeps its tab.
    ada.call("rename_session", &[("id", &id), ("title", "Still here")]).await.json::<String>();
    assert_eq!(next_host_state(&mut own_tab).await.title, "Still here");

    let mut tablet = log_in_again(&instance, "ada@example.org").await;
    let mut tablet_tab = instance.socket(&path, tablet.cookie.as_deref()).await;
    next_host_state(&mut tablet_tab).await;
    let reply =
        tablet.call("change_password", &[("old_password", "long enough"), ("new_password", "another long one")]).await;
    reply.json::<String>();
    assert_eq!(close_code(&mut own_tab).await, CLOSE_LOGGED_OUT, "a new password shuts out the other logins");
    tablet.call("rename_session", &[("id", &id), ("title", "Tablet")]).await.json::<String>();
    assert_eq!(next_host_state(&mut tablet_tab).await.title, "Tablet");

    // Logging out closes this browser's own tabs too: they share its cookie.
    tablet.call("log_out", &[]).await;
    assert_eq!(close_code(&mut tablet_tab).await, CLOSE_LOGGED_OUT);
    instance.stop().await;
}
test_both_dbs!(ended_logins_close_their_host_sockets);

async fn only_hosts_and_participants_get_a_socket(db: Db) {
    let instance = Instance::start(db).await;
    let (_ada, id, zoe) = session_with_participant(&instance).await;
    let stranger = Client::signed_up(&instance.router, "eve@example.org").await;
    for (path, cookie) in [
        (format!("/live/s/{id}"), stranger.cookie.as_deref()),
        (format!("/live/s/{id}"), None),
        // A participant's cookie opens no host socket.
        (format!("/live/s/{id}"), zoe.visitor.as_deref()),
        (format!("/live/p/{id}"), None),
        (format!("/live/p/{id}"), stranger.cookie.as_deref()),
        ("/live/p/not-a-session".to_owned(), zoe.visitor.as_deref()),
    ] {
        let mut socket = instance.socket(&path, cookie).await;
        assert_eq!(close_code(&mut socket).await, CLOSE_DENIED, "{path} with {cookie:?}");
    }
    // Another site's page cannot open one in a host's name.
    let mut request = format!("ws://{}/live/p/{id}", instance.addr).into_client_request().unwrap();
    request.headers_mut().insert("cookie", zoe.visitor.as_deref().unwrap().parse().unwrap());
    request.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
    let refused = tokio_tungstenite::connect_async(request).await.expect_err("refused");
    assert!(refused.to_string().contains("403"), "{refused}");
    instance.stop().await;
}
test_both_dbs!(only_hosts_and_participants_get_a_socket);

async fn a_browser_and_a_host_hold_a_handful_of_sockets(db: Db) {
    use app::rules::limits::{LIVE_SOCKETS_PER_USER, LIVE_SOCKETS_PER_VISITOR};
    let instance = Instance::start(db).await;
    let (ada, id, zoe) = session_with_participant(&instance).await;
    let connect = |path: String, cookie: String| {
        let mut request = format!("ws://{}{path}", instance.addr).into_client_request().unwrap();
        request.headers_mut().insert("cookie", cookie.parse().unwrap());
        tokio_tungstenite::connect_async(request)
    };
    let (phone, host) = (zoe.visitor.clone().unwrap(), ada.cookie.clone().unwrap());
    let mut tabs = Vec::new();
    for _ in 0..LIVE_SOCKETS_PER_VISITOR {
        tabs.push(connect(format!("/live/p/{id}"), phone.clone()).await.expect("within the cap").0);
    }
    let refused = connect(format!("/live/p/{id}"), phone.clone()).await.expect_err("one tab too many");
    assert!(refused.to_string().contains("429"), "{refused}");
    // A tab closed frees its place.
    let mut closed = tabs.pop().unwrap();
    closed.close(None).await.unwrap();
    while closed.next().await.is_some() {}
    let mut reopened = None;
    for _ in 0..50 {
        if let Ok((socket, _)) = connect(format!("/live/p/{id}"), phone.clone()).await {
            reopened = Some(socket);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(reopened.is_some(), "a closed tab's place is given back");

    let mut host_tabs = Vec::new();
    for _ in 0..LIVE_SOCKETS_PER_USER {
        host_tabs.push(connect(format!("/live/s/{id}"), host.clone()).await.expect("within the cap").0);
    }
    let refused = connect(format!("/live/s/{id}"), host.clone()).await.expect_err("one tab too many");
    assert!(refused.to_string().contains("429"), "{refused}");
    instance.stop().await;
}
test_both_dbs!(a_browser_and_a_host_hold_a_handful_of_sockets);

async fn a_removed_facilitator_loses_the_host_view_in_every_tab(db: Db) {
    let instance = Instance::start(db.clone()).await;
    let mut ada = Client::signed_up(&instance.router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let mut fac = Client::signed_up(&instance.router, "fac@example.org").await;
    let token = app::rules::secrets::new_login_token();
    let owner = db.user_by_email("ada@example.org").await.unwrap().unwrap().user.id;
    let invitee = app::storage::NewFacilitator {
        email: "fac@example.org".into(),
        token_digest: app::rules::secrets::login_token_digest(&token),
        token: token.clone(),
    };
    db.invite_facilitators(id.parse().unwrap(), owner, vec![invitee], 3_600_000_000).await.unwrap().unwrap();
    let mut owner_tab = instance.socket(&format!("/live/s/{id}"), ada.cookie.as_deref()).await;
    assert!(!next_host_state(&mut owner_tab).await.facilitators[0].active);
    assert_eq!(fac.call("accept_facilitation", &[("token", &token)]).await.json::<String>(), id);
    assert!(next_host_state(&mut owner_tab).await.facilitators[0].active, "the owner sees the invitation accepted");

    let mut tabs = [
        instance.socket(&format!("/live/s/{id}"), fac.cookie.as_deref()).await,
        instance.socket(&format!("/live/s/{id}"), fac.cookie.as_deref()).await,
    ];
    for tab in &mut tabs {
        next_host_state(tab).await;
    }
    let facilitator = next_host_state_after(&mut ada, &id).await.facilitators[0].id.to_string();
    ada.call("remove_facilitator", &[("id", &id), ("facilitator", &facilitator)]).await.json::<()>();
    for tab in &mut tabs {
        assert_eq!(close_code(tab).await, CLOSE_DENIED);
    }
    assert!(next_host_state(&mut owner_tab).await.facilitators.is_empty());
    instance.stop().await;
}
test_both_dbs!(a_removed_facilitator_loses_the_host_view_in_every_tab);

async fn next_host_state_after(client: &mut Client, id: &str) -> SessionForHost {
    client.call("host_session", &[("id", id)]).await.json()
}

/// A restart closes every socket with "restarting"; a tab that reconnects gets the whole state,
/// changes made while it was away included.
async fn a_reconnecting_tab_gets_the_state_it_missed(db: Db) {
    let instance = Instance::start(db.clone()).await;
    let addr = instance.addr;
    let (mut ada, id, zoe) = session_with_participant(&instance).await;
    let mut participant = instance.socket(&format!("/live/p/{id}"), zoe.visitor.as_deref()).await;
    assert!(open_title(&next_public(&mut participant).await).is_some());
    instance.stop().await;
    assert_eq!(close_code(&mut participant).await, CLOSE_RESTARTING);

    // The session is closed while the tab is away (through a second instance, as the first is down).
    let other = Instance::start(db.clone()).await;
    ada.router = other.router.clone();
    ada.call("set_session_open", &[("id", &id), ("open", "false")]).await.json::<bool>();
    other.stop().await;

    let restarted = Instance::start_on(db, addr).await;
    let mut participant = restarted.socket(&format!("/live/p/{id}"), zoe.visitor.as_deref()).await;
    assert_eq!(next_public(&mut participant).await.view, PublicView::Closed);
    restarted.stop().await;
}
test_both_dbs!(a_reconnecting_tab_gets_the_state_it_missed);

/// A quiet tab is pinged, so that proxies keep its socket, and keeps it while it answers (the
/// client answers each ping as it reads it); a tab that answers nothing for the silence limit is
/// let go. Both on a short clock, as a server could be configured.
async fn quiet_tabs_are_pinged_and_silent_ones_let_go(db: Db) {
    let mut ctx = ServerContext::new(db, "http://127.0.0.1:3000", Vec::new());
    ctx.keepalive = Keepalive {
        ping_every: Duration::from_millis(250),
        silence_limit: Duration::from_secs(2),
        ..Keepalive::default()
    };
    let instance = Instance::serve(ctx, "127.0.0.1:0".parse().unwrap()).await;
    let (_ada, id, zoe) = session_with_participant(&instance).await;
    let mut participant = instance.socket(&format!("/live/p/{id}"), zoe.visitor.as_deref()).await;
    started(&mut participant).await;

    // Reading, and so answering: open past twice the silence limit, pinged all along.
    let reading = std::time::Instant::now();
    let mut pings = 0;
    while reading.elapsed() < Duration::from_millis(4500) {
        match tokio::time::timeout(Duration::from_secs(2), participant.next()).await {
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            other => panic!("a ping every 250 ms while the tab answers, got {other:?}"),
        }
    }
    assert!(pings >= 8, "{pings} pings in 4.5 s");

    // Reading nothing, so answering nothing: the pings sent meanwhile, then the socket is gone.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let gone = async {
        loop {
            match participant.next().await {
                Some(Ok(Message::Ping(_))) => {}
                None | Some(Err(_)) => return,
                other => panic!("let go without a word, got {other:?}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(3), gone).await.expect("let go after 2 s of silence");
    instance.stop().await;
}
test_both_dbs!(quiet_tabs_are_pinged_and_silent_ones_let_go);

/// A tab sends only pongs and a close frame, but a socket takes any frame up to 4 KiB, however
/// small its read buffer; past that, the socket is let go before the frame is read.
async fn a_socket_reads_frames_up_to_4_kib_and_lets_go_of_larger_ones(db: Db) {
    let instance = Instance::start(db).await;
    let (mut ada, id, zoe) = session_with_participant(&instance).await;
    let mut participant = instance.socket(&format!("/live/p/{id}"), zoe.visitor.as_deref()).await;
    next_public(&mut participant).await;

    participant.send(Message::text("x".repeat(4000))).await.unwrap();
    ada.call("set_session_open", &[("id", &id), ("open", "false")]).await.json::<bool>();
    assert_eq!(next_public(&mut participant).await.view, PublicView::Closed, "still following after 4,000 bytes");

    participant.send(Message::text("x".repeat(5000))).await.unwrap();
    let gone = async {
        loop {
            match participant.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), gone).await.expect("let go after a 5,000-byte frame");
    instance.stop().await;
}
test_both_dbs!(a_socket_reads_frames_up_to_4_kib_and_lets_go_of_larger_ones);

/// Two server processes sharing one PostgreSQL database deliver each other's events; the count
/// of participants adds up over both. Two instances here have their own hub and their own pool.
#[tokio::test]
async fn two_instances_share_events_through_postgres() {
    let Some(test_db) = app::storage::testing::TestDb::postgres().await else { return };
    let second_db = test_db.connect_again().await;
    let a = Instance::start(test_db.db.clone()).await;
    let b = Instance::start(second_db.clone()).await;
    let (mut ada, id, zoe) = session_with_participant(&a).await;
    // Wait until both instances listen.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut on_b = b.socket(&format!("/live/p/{id}"), zoe.visitor.as_deref()).await;
    assert!(open_title(&next_public(&mut on_b).await).is_some());
    let mut host_on_a = a.socket(&format!("/live/s/{id}"), ada.cookie.as_deref()).await;
    next_host_state(&mut host_on_a).await;
    presence_reaches(&mut host_on_a, 1).await;

    let mut max = Client::from(&a.router, [198, 51, 100, 2]);
    let code = next_host_state_after(&mut ada, &id).await.state.ways_in.code;
    max.call("join_by_code", &[("code", &code)]).await.json::<String>();
    let mut on_a = a.socket(&format!("/live/p/{id}"), max.visitor.as_deref()).await;
    next_public(&mut on_a).await;
    presence_reaches(&mut host_on_a, 2).await;

    ada.call("set_session_open", &[("id", &id), ("open", "false")]).await.json::<bool>();
    assert_eq!(next_public(&mut on_b).await.view, PublicView::Closed, "a close on A reaches B");
    assert_eq!(next_public(&mut on_a).await.view, PublicView::Closed);
    assert!(!next_host_state(&mut host_on_a).await.is_open);

    // And the other way round: a host on B, a change through B.
    let mut host_on_b = b.socket(&format!("/live/s/{id}"), ada.cookie.as_deref()).await;
    next_host_state(&mut host_on_b).await;
    presence_reaches(&mut host_on_b, 2).await;
    ada.router = b.router.clone();
    ada.call("set_session_open", &[("id", &id), ("open", "true")]).await.json::<bool>();
    assert!(open_title(&next_public(&mut on_a).await).is_some(), "a reopen on B reaches A");
    assert!(next_host_state(&mut host_on_a).await.is_open);

    on_b.send(Message::Close(None)).await.ok();
    presence_reaches(&mut host_on_a, 1).await;

    // A logout everywhere through A closes the host tabs of the ended logins on B.
    let mut laptop = log_in_again(&a, "ada@example.org").await;
    let mut laptop_on_b = b.socket(&format!("/live/s/{id}"), laptop.cookie.as_deref()).await;
    next_host_state(&mut laptop_on_b).await;
    laptop.call("log_out_everywhere", &[]).await.json::<String>();
    assert_eq!(close_code(&mut host_on_b).await, CLOSE_LOGGED_OUT, "the logout on A reaches B");
    a.stop().await;
    b.stop().await;
    second_db.close().await.ok();
    test_db.finish().await;
}

/// Someone new to the session, from an address of their own (refusals use the address's budget).
async fn newcomer_joins(instance: &Instance, n: u8, way: &str, value: &str) -> common::Reply {
    let (name, field) = if way == "code" { ("join_by_code", "code") } else { ("join_by_link", "token") };
    Client::from(&instance.router, [203, 0, 113, n]).call(name, &[(field, value)]).await
}

/// Codes and links are held in memory once they led someone in (`app::services::ways_in`); the
/// instance that makes a change refuses the old way in as soon as the change has answered.
async fn a_way_in_held_in_memory_is_refused_as_soon_as_its_session_changes(db: Db) {
    let instance = Instance::start_remembering_ways_in(db).await;
    let mut ada = Client::signed_up(&instance.router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let old = next_host_state_after(&mut ada, &id).await.state.ways_in;
    assert_eq!(newcomer_joins(&instance, 1, "code", &old.code).await.json::<String>(), id);
    assert_eq!(newcomer_joins(&instance, 2, "link", &link_token(&old.link)).await.json::<String>(), id);

    ada.call("generate_new_code", &[("id", &id)]).await.json::<String>();
    assert_eq!(newcomer_joins(&instance, 3, "code", &old.code).await.json::<JoinError>(), JoinError::Retired);
    assert_eq!(
        newcomer_joins(&instance, 3, "link", &link_token(&old.link)).await.json::<JoinError>(),
        JoinError::Retired
    );
    let new = next_host_state_after(&mut ada, &id).await.state.ways_in;
    assert_eq!(newcomer_joins(&instance, 4, "code", &new.code).await.json::<String>(), id);

    ada.call("set_session_open", &[("id", &id), ("open", "false")]).await.json::<bool>();
    assert_eq!(newcomer_joins(&instance, 5, "code", &new.code).await.json::<JoinError>(), JoinError::Closed);
    ada.call("set_session_open", &[("id", &id), ("open", "true")]).await.json::<bool>();
    assert_eq!(newcomer_joins(&instance, 6, "code", &new.code).await.json::<String>(), id);

    ada.call("delete_session", &[("id", &id)]).await.json::<()>();
    assert_eq!(newcomer_joins(&instance, 7, "code", &new.code).await.json::<JoinError>(), JoinError::Deleted);
    instance.stop().await;
}
test_both_dbs!(a_way_in_held_in_memory_is_refused_as_soon_as_its_session_changes);

/// The same across two instances sharing PostgreSQL: a new code, a close or a deletion made on A
/// is refused on B within 100 ms, though B held the way in.
#[tokio::test]
async fn a_way_in_changed_on_one_instance_is_refused_on_the_other_within_100_ms() {
    let Some(test_db) = app::storage::testing::TestDb::postgres().await else { return };
    let second_db = test_db.connect_again().await;
    let a = Instance::start_remembering_ways_in(test_db.db.clone()).await;
    let b = Instance::start_remembering_ways_in(second_db.clone()).await;
    let mut ada = Client::signed_up(&a.router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    // Wait until both instances listen.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let heard = Duration::from_millis(100);

    let old = next_host_state_after(&mut ada, &id).await.state.ways_in;
    assert_eq!(newcomer_joins(&b, 1, "code", &old.code).await.json::<String>(), id);
    assert_eq!(newcomer_joins(&b, 2, "link", &link_token(&old.link)).await.json::<String>(), id);
    ada.call("generate_new_code", &[("id", &id)]).await.json::<String>();
    tokio::time::sleep(heard).await;
    assert_eq!(
        newcomer_joins(&b, 3, "code", &old.code).await.json::<JoinError>(),
        JoinError::Retired,
        "a new code on A"
    );
    assert_eq!(newcomer_joins(&b, 3, "link", &link_token(&old.link)).await.json::<JoinError>(), JoinError::Retired);

    let new = next_host_state_after(&mut ada, &id).await.state.ways_in;
    assert_eq!(newcomer_joins(&b, 4, "code", &new.code).await.json::<String>(), id);
    ada.call("set_session_open", &[("id", &id), ("open", "false")]).await.json::<bool>();
    tokio::time::sleep(heard).await;
    assert_eq!(newcomer_joins(&b, 5, "code", &new.code).await.json::<JoinError>(), JoinError::Closed, "a close on A");

    ada.call("delete_session", &[("id", &id)]).await.json::<()>();
    tokio::time::sleep(heard).await;
    assert_eq!(
        newcomer_joins(&b, 6, "code", &new.code).await.json::<JoinError>(),
        JoinError::Deleted,
        "a deletion on A"
    );
    a.stop().await;
    b.stop().await;
    second_db.close().await.ok();
    test_db.finish().await;
}

/// The next Discussion message a socket receives, past states and counts.
async fn next_discussion(socket: &mut Socket) -> DiscussionMessage {
    loop {
        let text = next_text(socket).await;
        if let Ok(ParticipantMessage::Discussion(message)) = serde_json::from_str(&text) {
            return message;
        }
        if let Ok(HostMessage::Discussion(message)) = serde_json::from_str(&text) {
            return message;
        }
    }
}

/// The next Discussion event, with its number.
async fn next_event(socket: &mut Socket) -> (u64, DiscussionEvent) {
    match next_discussion(socket).await {
        DiscussionMessage::Event { seq, event } => (seq, event),
        other => panic!("an event, not {other:?}"),
    }
}

async fn snapshot_seq(socket: &mut Socket) -> (u64, Vec<MessageView>) {
    match next_discussion(socket).await {
        DiscussionMessage::Snapshot { seq, messages, .. } => (seq, messages),
        other => panic!("a snapshot first, not {other:?}"),
    }
}

/// The Discussion goes as numbered events: participants get published messages only, hosts every
/// one; likes are counted; a ban closes the banned phone's socket and refuses it again.
async fn discussion_events_reach_hosts_and_participants_in_order(db: Db) {
    let instance = Instance::start(db).await;
    let (mut ada, id, mut zoe) = session_with_participant(&instance).await;
    let mut tom = Client::from(&instance.router, [198, 51, 100, 2]);
    let code = next_host_state_after(&mut ada, &id).await.state.ways_in.code;
    tom.call("join_by_code", &[("code", &code)]).await.json::<String>();
    let mut host = instance.socket(&format!("/live/s/{id}"), ada.cookie.as_deref()).await;
    let mut phone = instance.socket(&format!("/live/p/{id}"), zoe.visitor.as_deref()).await;
    let mut other = instance.socket(&format!("/live/p/{id}"), tom.visitor.as_deref()).await;
    let (host_seq, _) = snapshot_seq(&mut host).await;
    let (seq, empty) = snapshot_seq(&mut phone).await;
    assert!(empty.is_empty());
    snapshot_seq(&mut other).await;

    let posted: MessageView =
        zoe.call("post_message", &[("id", &id), ("text", "First!"), ("nickname", "Zoé")]).await.json();
    assert_eq!(next_event(&mut phone).await, (seq + 1, DiscussionEvent::Message(posted.clone())));
    assert_eq!(next_event(&mut host).await, (host_seq + 1, DiscussionEvent::Message(posted.clone())));

    // Review first: the host hears of the waiting post; participants only once it is approved.
    ada.call("set_discussion", &[("id", &id), ("open", "true"), ("review_first", "true"), ("anonymous", "false")])
        .await
        .json::<DiscussionSettings>();
    assert!(matches!(next_event(&mut phone).await, (s, DiscussionEvent::Settings(_)) if s == seq + 2));
    assert!(matches!(next_event(&mut host).await.1, DiscussionEvent::Settings(_)));
    let waiting: MessageView =
        tom.call("post_message", &[("id", &id), ("text", "Second"), ("nickname", "Tom")]).await.json();
    assert_eq!(next_event(&mut host).await.1, DiscussionEvent::Message(waiting.clone()));
    let approved: MessageView = ada
        .call("moderate_message", &[("id", &id), ("message", &waiting.id.to_string()), ("decision", "Approve")])
        .await
        .json();
    assert_eq!(next_event(&mut phone).await, (seq + 3, DiscussionEvent::Message(approved)), "nothing in between");

    // Likes from two phones: the counts that go out end with the stored one.
    for client in [&mut zoe, &mut tom] {
        client
            .call("like_message", &[("id", &id), ("message", &posted.id.to_string()), ("like", "true")])
            .await
            .json::<u32>();
    }
    loop {
        let (_, event) = next_event(&mut phone).await;
        let DiscussionEvent::Likes(counts) = event else { panic!("likes, not {event:?}") };
        if counts.contains(&(posted.id, 2)) {
            break;
        }
    }

    // A ban: the phone's socket closes, its messages go from every tab, and it cannot follow again.
    ada.call("ban_author", &[("id", &id), ("message", &posted.id.to_string())]).await.json::<usize>();
    assert_eq!(close_code(&mut phone).await, CLOSE_DENIED);
    loop {
        if let (_, DiscussionEvent::Removed(ids)) = next_event(&mut other).await {
            assert_eq!(ids, vec![posted.id]);
            break;
        }
    }
    let mut again = instance.socket(&format!("/live/p/{id}"), zoe.visitor.as_deref()).await;
    assert_eq!(close_code(&mut again).await, CLOSE_DENIED, "a banned phone cannot follow again");
    page_shows(&mut zoe, &id, 403, "A host removed you from this session.").await;
}
test_both_dbs!(discussion_events_reach_hosts_and_participants_in_order);

/// A phone that reconnects says where it was, and is sent what it missed in one message, then
/// follows on; one that is up to date is sent nothing of the Discussion; one at a position this
/// log does not hold gets a snapshot.
async fn a_reconnecting_phone_gets_what_it_missed_in_one_message(db: Db) {
    let instance = Instance::start(db).await;
    let (mut ada, id, mut zoe) = session_with_participant(&instance).await;
    // The host's socket keeps the session's log in memory while the phone is away.
    let _host = instance.socket(&format!("/live/s/{id}"), ada.cookie.as_deref()).await;
    let mut phone = instance.socket(&format!("/live/p/{id}"), zoe.visitor.as_deref()).await;
    let (seq, _) = snapshot_seq(&mut phone).await;
    drop(phone);
    let mut posted = Vec::new();
    for text in ["One", "Two", "Three"] {
        let message: MessageView =
            zoe.call("post_message", &[("id", &id), ("text", text), ("nickname", "Zoé")]).await.json();
        posted.push(DiscussionEvent::Message(message));
    }

    let mut back = instance.socket(&format!("/live/p/{id}?since={seq}"), zoe.visitor.as_deref()).await;
    assert_eq!(next_discussion(&mut back).await, DiscussionMessage::Since { seq, events: posted });
    let settings = [("id", id.as_str()), ("open", "true"), ("review_first", "false"), ("anonymous", "true")];
    ada.call("set_discussion", &settings).await.json::<DiscussionSettings>();
    assert!(matches!(next_event(&mut back).await, (s, DiscussionEvent::Settings(_)) if s == seq + 4));

    let mut current = instance.socket(&format!("/live/p/{id}?since={}", seq + 4), zoe.visitor.as_deref()).await;
    ada.call("set_discussion", &settings).await.json::<DiscussionSettings>();
    assert!(
        matches!(next_discussion(&mut current).await, DiscussionMessage::Event { seq: s, .. } if s == seq + 5),
        "up to date: no snapshot, the next event"
    );
    let mut lost = instance.socket(&format!("/live/p/{id}?since=12"), zoe.visitor.as_deref()).await;
    assert_eq!(snapshot_seq(&mut lost).await.1.len(), 3, "a position of another log");
    let mut ahead = instance.socket(&format!("/live/p/{id}?since={}", seq + 99), zoe.visitor.as_deref()).await;
    assert_eq!(snapshot_seq(&mut ahead).await.0, seq + 5, "a position this log never reached");
}
test_both_dbs!(a_reconnecting_phone_gets_what_it_missed_in_one_message);

/// Messages and likes made through one instance reach the phones of the other.
#[tokio::test]
async fn two_instances_share_the_discussion_through_postgres() {
    let Some(test_db) = app::storage::testing::TestDb::postgres().await else { return };
    let second_db = test_db.connect_again().await;
    let a = Instance::start(test_db.db.clone()).await;
    let b = Instance::start(second_db.clone()).await;
    let (mut ada, id, mut zoe) = session_with_participant(&a).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut on_b = b.socket(&format!("/live/p/{id}"), zoe.visitor.as_deref()).await;
    let mut host_on_b = b.socket(&format!("/live/s/{id}"), ada.cookie.as_deref()).await;
    snapshot_seq(&mut on_b).await;
    snapshot_seq(&mut host_on_b).await;
    let posted: MessageView =
        zoe.call("post_message", &[("id", &id), ("text", "Across"), ("nickname", "Zoé")]).await.json();
    assert_eq!(next_event(&mut on_b).await.1, DiscussionEvent::Message(posted.clone()), "a post on A reaches B");
    assert_eq!(next_event(&mut host_on_b).await.1, DiscussionEvent::Message(posted.clone()));
    let mut tom = Client::from(&b.router, [198, 51, 100, 2]);
    let code = next_host_state_after(&mut ada, &id).await.state.ways_in.code;
    tom.call("join_by_code", &[("code", &code)]).await.json::<String>();
    zoe.call("like_message", &[("id", &id), ("message", &posted.id.to_string()), ("like", "true")]).await.json::<u32>();
    tom.call("like_message", &[("id", &id), ("message", &posted.id.to_string()), ("like", "true")]).await.json::<u32>();
    loop {
        let (_, event) = next_event(&mut on_b).await;
        if matches!(&event, DiscussionEvent::Likes(counts) if counts.contains(&(posted.id, 2))) {
            break;
        }
    }
    a.stop().await;
    b.stop().await;
    second_db.close().await.ok();
    test_db.finish().await;
}
