//! `/metrics` (METRICS_ADDR), on SQLite and PostgreSQL: what happens is counted, and it is
//! served on its own listener, never beside the pages.
use app::storage::Db;
use app::test_both_dbs;
use axum::http::StatusCode;
use common::{create_session, router_with, Client};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;

async fn scrape(addr: std::net::SocketAddr) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: metrics\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    answer
}

async fn metrics_count_what_happens_and_are_served_apart(db: Db) {
    server::metrics_export::install();
    let sqlite = db.backend() == sea_orm::DbBackend::Sqlite;
    let mut ctx = app::services::ServerContext::new(db, "http://127.0.0.1:3000", Vec::new());
    ctx.limits = std::sync::Arc::new(app::services::limits::Limits::default().with_frozen_clock());
    let router = router_with(ctx.clone());
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Counted").await;
    let host: app::functions::sessions::SessionForHost = ada.call("host_session", &[("id", &id)]).await.json();
    let mut zoe = Client::from(&router, [198, 51, 100, 1]);
    zoe.call("join_by_code", &[("code", &host.ways_in.code)]).await.json::<String>();
    let mut eve = Client::from(&router, [198, 51, 100, 2]);
    assert_eq!(eve.call("join_by_code", &[("code", "000 000")]).await.status, StatusCode::NOT_FOUND);
    Client::anonymous(&router).call("no_such_function", &[]).await;

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    server::metrics_export::serve(addr, ctx).await.unwrap();
    let text = scrape(addr).await;
    for expected in [
        r#"ruche_joins_total{outcome="joined"}"#,
        r#"ruche_joins_total{outcome="unknown_code"}"#,
        r#"ruche_server_function_calls_total{name="join_by_code",status="404"}"#,
        r#"ruche_server_function_calls_total{name="host_session",status="200"}"#,
        r#"ruche_server_function_calls_total{name="other",status="#,
        "# HELP ruche_outbox_waiting Mails waiting",
        "ruche_outbox_waiting ",
        "ruche_database_connections{pool=",
    ] {
        assert!(text.contains(expected), "{expected} is not in:\n{text}");
    }
    // The most each pool opens, beside those in use: all in use means requests wait.
    let max = if sqlite {
        [r#"ruche_database_connections_max{pool="writer"} 1"#, r#"ruche_database_connections_max{pool="readers"} 4"#]
    } else {
        [r#"ruche_database_connections_max{pool="postgres"} "#; 2]
    };
    for expected in max {
        assert!(text.contains(expected), "{expected} is not in:\n{text}");
    }
    assert!(!text.contains("no_such_function"), "unknown paths are `other`, so the series stay few");

    // Never beside the pages.
    assert_eq!(Client::anonymous(&router).page("/metrics").await.status, StatusCode::NOT_FOUND);
}
test_both_dbs!(metrics_count_what_happens_and_are_served_apart);
