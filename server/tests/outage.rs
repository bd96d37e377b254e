//! With its database out of reach, Ruche answers the requests that need it with 503 and a
//! sentence within seconds, and recovers by itself once the database is back. PostgreSQL only:
//! it is the database on the other end of a network, here through a proxy the test cuts.
use app::functions::sessions::SessionForHost;
use app::rules::sessions::SessionError;
use app::rules::Failure;
use app::storage::testing::EmptySchema;
use app::storage::Db;
use axum::http::{header, StatusCode};
use common::{create_session, router, Client};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

mod common;

/// A TCP proxy to the database that can be cut (every connection through it closes, and new
/// ones are closed at once) and restored.
struct Cuttable {
    address: String,
    open: Arc<AtomicBool>,
    piped: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Cuttable {
    async fn to(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let (open, piped) = (Arc::new(AtomicBool::new(true)), Arc::new(Mutex::new(Vec::new())));
        let (accepting, upstream) = ((open.clone(), piped.clone()), upstream.to_owned());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { continue };
                if !accepting.0.load(Ordering::SeqCst) {
                    continue;
                }
                let upstream = upstream.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                accepting.1.lock().unwrap().push(pipe.abort_handle());
            }
        });
        Self { address, open, piped }
    }

    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for pipe in self.piped.lock().unwrap().drain(..) {
            pipe.abort();
        }
    }

    fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn without_its_database_ruche_answers_503_at_once_and_recovers_by_itself() {
    let Some(empty) = EmptySchema::postgres().await else { return };
    let proxy = Cuttable::to(empty.address()).await;
    let db = Db::connect_with(empty.options_through(&proxy.address)).await.unwrap();
    let router = router(db.clone());
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let host: SessionForHost = ada.call("host_session", &[("id", &id)]).await.json();
    let code = host.state.ways_in.code.replace(' ', "");

    proxy.cut();
    let started = Instant::now();
    let reply = ada.call("set_session_open", &[("id", &id), ("open", "false")]).await;
    assert!(started.elapsed() < Duration::from_secs(5), "answered within 5 s, not {:?}", started.elapsed());
    assert_eq!(
        (reply.status, reply.json::<SessionError>()),
        (StatusCode::SERVICE_UNAVAILABLE, SessionError::Failed(Failure::Unavailable))
    );
    assert!(reply.headers.contains_key(header::RETRY_AFTER));
    let started = Instant::now();
    let mut phone = Client::from(&router, [198, 51, 100, 7]);
    let page = phone.page(&format!("/join?code={code}")).await;
    assert!(started.elapsed() < Duration::from_secs(5), "answered within 5 s, not {:?}", started.elapsed());
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.body.contains("Ruche cannot reach its database right now."), "{}", page.body);
    let started = Instant::now();
    let probe = phone.page("/readyz").await;
    assert!(started.elapsed() < Duration::from_secs(5), "a probe answered within 5 s, not {:?}", started.elapsed());
    assert_eq!(probe.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(probe.body.starts_with("the database does not answer"), "{}", probe.body);
    assert_eq!(phone.page("/healthz").await.status, StatusCode::OK, "the process itself still answers");

    // Back: the pool connects again by itself, without a restart.
    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let reply = ada.call("set_session_open", &[("id", &id), ("open", "false")]).await;
        if reply.status.is_success() {
            break;
        }
        assert!(Instant::now() < deadline, "still {} after the database came back: {}", reply.status, reply.body);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    ada.call("set_session_open", &[("id", &id), ("open", "true")]).await;
    assert_eq!(phone.page(&format!("/join?code={code}")).await.status, StatusCode::SEE_OTHER);
    empty.holding(db).finish().await;
}
