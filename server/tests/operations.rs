//! Running Ruche for real, on SQLite and PostgreSQL: who may sign up (`SIGNUP`), and the
//! supervisor's probes (`/healthz`, `/readyz`).
use app::rules::accounts::{AccountError, SignUpPolicy};
use app::services::ServerContext;
use app::storage::Db;
use app::test_both_dbs;
use axum::http::StatusCode;
use common::{router_with, Client};
use std::sync::atomic::Ordering;

mod common;

fn context(db: Db, signup: SignUpPolicy) -> ServerContext {
    let mut ctx = ServerContext::new(db, "http://127.0.0.1:3000", Vec::new());
    ctx.limits = std::sync::Arc::new(app::services::limits::Limits::default().with_frozen_clock());
    ctx.signup = signup;
    ctx
}

async fn sign_up(router: &axum::Router, email: &str) -> common::Reply {
    let mut client = Client::anonymous(router);
    client.call("sign_up", &[("email", email), ("display_name", "Someone"), ("password", "long enough")]).await
}

async fn sign_up_follows_the_setting_and_participants_never_need_an_account(db: Db) {
    let closed = router_with(context(db.clone(), SignUpPolicy::Closed));
    let reply = sign_up(&closed, "ada@example.org").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.json::<AccountError>(), AccountError::SignUpClosed);
    assert!(db.user_by_email("ada@example.org").await.unwrap().is_none(), "no account was made");
    let page = Client::anonymous(&closed).page("/signup").await;
    assert!(page.body.contains("Sign-up is closed on this Ruche."), "the page says so");
    assert!(!page.body.contains(r#"name="password""#), "and offers no form");

    let school = SignUpPolicy::parse("domains", "school.example,staff.school.example").unwrap();
    let school = router_with(context(db.clone(), school));
    let reply = sign_up(&school, "eve@example.org").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.json::<AccountError>(), AccountError::SignUpDomain("school.example, staff.school.example".into()));
    assert!(Client::anonymous(&school)
        .page("/signup")
        .await
        .body
        .contains("An address at school.example, staff.school.example."));
    assert!(sign_up(&school, "Ada@Staff.School.example").await.status.is_success());
    assert!(db.user_by_email("ada@staff.school.example").await.unwrap().is_some());

    // An account made before the sign-up closed still logs in, and its session takes anyone in.
    let mut ada = Client::anonymous(&closed);
    let login = [("email", "ada@staff.school.example"), ("password", "long enough")];
    assert!(ada.call("log_in", &login).await.status.is_success());
    let id = common::create_session(&mut ada, "Open to all").await;
    let host: app::functions::sessions::SessionForHost = ada.call("host_session", &[("id", &id)]).await.json();
    let mut zoe = Client::from(&closed, [198, 51, 100, 1]);
    assert_eq!(zoe.call("join_by_code", &[("code", &host.ways_in.code)]).await.json::<String>(), id);
}
test_both_dbs!(sign_up_follows_the_setting_and_participants_never_need_an_account);

async fn probes_say_whether_the_instance_can_serve(db: Db) {
    let ctx = context(db, SignUpPolicy::Open);
    let router = router_with(ctx.clone());
    let mut probe = Client::anonymous(&router);
    let live = probe.page("/healthz").await;
    assert_eq!((live.status, live.body.as_str()), (StatusCode::OK, "ok\n"));
    let not_yet = probe.page("/readyz").await;
    assert_eq!(
        (not_yet.status, not_yet.body.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "the mail worker has not started\n")
    );

    server::mail::spawn_mailer(ctx.clone(), server::mail::MailConfig::new(None, "Ruche <ruche@localhost>").unwrap());
    let mut ready = probe.page("/readyz").await;
    for _ in 0..50 {
        if ready.status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        ready = probe.page("/readyz").await;
    }
    assert_eq!((ready.status, ready.body.as_str()), (StatusCode::OK, "ready\n"));
    // A probe every second from one address, for ever: never slowed.
    for _ in 0..300 {
        assert_eq!(probe.page("/readyz").await.status, StatusCode::OK);
    }
    // A mail worker silent for longer than an attempt may take is stuck.
    let stopped = ServerContext { mail_heartbeat: Default::default(), ..ctx.clone() };
    stopped.mail_heartbeat.store(app::storage::now_micros() - 3_600_000_000, Ordering::Relaxed);
    let stuck = Client::anonymous(&router_with(stopped)).page("/readyz").await;
    assert_eq!((stuck.status, stuck.body.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "the mail worker is stuck\n"));
}
test_both_dbs!(probes_say_whether_the_instance_can_serve);
