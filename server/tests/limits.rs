//! The bounds an anonymous client or a free account meets, over HTTP on both databases: failed
//! joins (a guesser against a room), failed log-ins, sign-ups, the password-hashing gate, the caps
//! on sessions, slides and participants, and arguments that do not decode.
use app::functions::sessions::SessionForHost;
use app::rules::accounts::AccountError;
use app::rules::joining::JoinError;
use app::rules::limits::*;
use app::rules::sessions::{SessionError, MAX_SESSIONS_PER_ACCOUNT};
use app::rules::slides::MAX_SLIDES_PER_SESSION;
use app::services::limits::{HashGate, Limits};
use app::services::ServerContext;
use app::storage::Db;
use app::test_both_dbs;
use axum::http::{header, StatusCode};
use common::{create_session, link_token, router, router_with, Client};
use futures_util::future::join_all;
use std::sync::Arc;

mod common;

async fn ways_in(ada: &mut Client, id: &str) -> (String, String) {
    let host: SessionForHost = ada.call("host_session", &[("id", id)]).await.json();
    let token = link_token(&host.state.ways_in.link);
    (host.state.ways_in.code.replace(' ', ""), token)
}

fn wrong_code(code: &str) -> &'static str {
    if code == "000000" {
        "000001"
    } else {
        "000000"
    }
}

async fn a_guesser_is_stopped_and_a_room_behind_the_same_address_is_not(db: Db) {
    let router = router(db);
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let (code, token) = ways_in(&mut ada, &id).await;
    let wrong = wrong_code(&code);
    let school = [203, 0, 113, 1];

    // The host has not opened the session yet: the room tries, and is told so, which costs nothing.
    ada.call("set_session_open", &[("id", &id), ("open", "false")]).await;
    let mut room: Vec<Client> = (0..100).map(|_| Client::from(&router, school)).collect();
    for person in room.iter_mut() {
        let reply = person.call("join_by_code", &[("code", &code)]).await;
        assert_eq!((reply.status, reply.json::<JoinError>()), (StatusCode::FORBIDDEN, JoinError::Closed));
    }
    ada.call("set_session_open", &[("id", &id), ("open", "true")]).await;

    // A guesser in the room uses up their own budget, no more.
    let mut guesser = Client::from(&router, school);
    for _ in 0..JOIN_FAILURES_PER_VISITOR.burst {
        let reply = guesser.call("join_by_code", &[("code", wrong)]).await;
        assert_eq!((reply.status, reply.json::<JoinError>()), (StatusCode::NOT_FOUND, JoinError::UnknownCode));
    }
    let reply = guesser.call("join_by_code", &[("code", wrong)]).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    let seconds = match reply.json::<JoinError>() {
        JoinError::TooManyAttempts(s) => s,
        other => panic!("{other:?}"),
    };
    assert!((1..=60).contains(&seconds));
    assert_eq!(reply.headers[header::RETRY_AFTER], seconds.to_string().as_str());
    // The right link is never refused: it cannot be guessed.
    assert_eq!(guesser.call("join_by_link", &[("token", &token)]).await.json::<String>(), id);

    // Everyone in the room mistypes once, then gets in.
    for person in room.iter_mut() {
        assert_eq!(person.call("join_by_code", &[("code", wrong)]).await.status, StatusCode::NOT_FOUND);
        assert_eq!(person.call("join_by_code", &[("code", &code)]).await.json::<String>(), id);
    }

    // A guesser making up a new visitor for each guess is held by the address.
    let mut fresh = Client::from(&router, [203, 0, 113, 2]);
    for _ in 0..JOIN_FAILURES_PER_ADDRESS.burst {
        fresh.visitor = None;
        assert_eq!(fresh.call("join_by_code", &[("code", wrong)]).await.status, StatusCode::NOT_FOUND);
    }
    fresh.visitor = None;
    assert_eq!(fresh.call("join_by_code", &[("code", wrong)]).await.status, StatusCode::TOO_MANY_REQUESTS);
    fresh.visitor = None;
    assert_eq!(fresh.call("join_by_link", &[("token", "not-a-link")]).await.status, StatusCode::TOO_MANY_REQUESTS);
    fresh.visitor = None;
    assert_eq!(
        fresh.call("join_by_link", &[("token", &token)]).await.json::<String>(),
        id,
        "a right link still goes in"
    );
}
test_both_dbs!(a_guesser_is_stopped_and_a_room_behind_the_same_address_is_not);

async fn parallel_guesses_cannot_pass_the_limit_together(db: Db) {
    let router = router(db);
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let (code, _) = ways_in(&mut ada, &id).await;
    let wrong = wrong_code(&code);
    // One visitor, 60 guesses at once.
    let mut first = Client::from(&router, [203, 0, 113, 9]);
    first.call("join_by_code", &[("code", &code)]).await.json::<String>();
    let mut guessers: Vec<Client> =
        (0..60).map(|_| Client { visitor: first.visitor.clone(), ..Client::from(&router, [203, 0, 113, 9]) }).collect();
    let replies =
        join_all(guessers.iter_mut().map(|g| async move { g.call("join_by_code", &[("code", wrong)]).await })).await;
    let answered = replies.iter().filter(|r| r.status == StatusCode::NOT_FOUND).count();
    let refused = replies.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(
        (answered, refused),
        (JOIN_FAILURES_PER_VISITOR.burst as usize, 60 - JOIN_FAILURES_PER_VISITOR.burst as usize)
    );
}
test_both_dbs!(parallel_guesses_cannot_pass_the_limit_together);

async fn an_ipv6_network_counts_as_one_address(db: Db) {
    let router = router(db);
    let mut guesser = Client::anonymous(&router);
    for n in 0..=JOIN_FAILURES_PER_ADDRESS.burst {
        guesser.visitor = None;
        guesser.ip = format!("2001:db8:7:7::{:x}", n + 1).parse().unwrap();
        let reply = guesser.call("join_by_code", &[("code", "123456")]).await;
        let expected =
            if n < JOIN_FAILURES_PER_ADDRESS.burst { StatusCode::NOT_FOUND } else { StatusCode::TOO_MANY_REQUESTS };
        assert_eq!(reply.status, expected, "guess {n}");
    }
    guesser.ip = "2001:db8:7:8::1".parse().unwrap();
    assert_eq!(guesser.call("join_by_code", &[("code", "123456")]).await.status, StatusCode::NOT_FOUND, "another /64");
}
test_both_dbs!(an_ipv6_network_counts_as_one_address);

/// A router whose hashing gate lets a test's whole burst through, whatever the machine's cores.
fn roomy_router(db: Db) -> axum::Router {
    let mut ctx = ServerContext::new(db, "http://127.0.0.1:3000", Vec::new());
    ctx.limits = Arc::new(Limits::with_hash_gate(HashGate::new(2, 100)).with_frozen_clock());
    router_with(ctx)
}

async fn failed_log_ins_are_limited_per_address_and_per_account(db: Db) {
    let router = roomy_router(db);
    Client::signed_up(&router, "ada@example.org").await;
    let wrong = [("email", "ada@example.org"), ("password", "not the password")];
    let right = [("email", "ada@example.org"), ("password", "long enough")];

    // Right passwords never use the address's budget of failures up (an office logging in to
    // its accounts from one address).
    Client::signed_up(&router, "bob@example.org").await;
    Client::signed_up(&router, "cy@example.org").await;
    let mut office = Client::from(&router, [198, 51, 100, 1]);
    for n in 0..LOGIN_FAILURES_PER_ADDRESS.burst + 5 {
        let email = ["ada@example.org", "bob@example.org", "cy@example.org"][n as usize % 3];
        assert!(office.call("log_in", &[("email", email), ("password", "long enough")]).await.status.is_success());
    }

    // One address guessing passwords, many at once: only its budget gets an answer.
    let mut guessers: Vec<Client> = (0..40).map(|_| Client::from(&router, [198, 51, 100, 2])).collect();
    let accounts: Vec<String> = (0..40).map(|n| format!("someone{n}@example.org")).collect();
    let replies = join_all(guessers.iter_mut().zip(&accounts).map(|(g, email)| async move {
        g.call("log_in", &[("email", email.as_str()), ("password", "guess guess")]).await
    }))
    .await;
    let statuses: Vec<StatusCode> = replies.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count(),
        LOGIN_FAILURES_PER_ADDRESS.burst as usize
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count(),
        40 - LOGIN_FAILURES_PER_ADDRESS.burst as usize
    );
    let refused = replies.iter().find(|r| r.status == StatusCode::TOO_MANY_REQUESTS).unwrap();
    assert!(matches!(refused.json::<AccountError>(), AccountError::TooManyLogIns(s) if s >= 1));
    assert!(refused.headers.contains_key(header::RETRY_AFTER));

    // One account guessed from everywhere is slowed down...
    for n in 0..LOGIN_FAILURES_PER_ACCOUNT.burst {
        let mut from = Client::from(&router, [198, 51, 101, n as u8]);
        assert_eq!(from.call("log_in", &wrong).await.status, StatusCode::UNAUTHORIZED);
    }
    let mut owner = Client::from(&router, [198, 51, 102, 1]);
    let reply = owner.call("log_in", &right).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    // ...for a minute at most.
    assert!(
        matches!(reply.json::<AccountError>(), AccountError::TooManyLogIns(s) if s <= LOGIN_FAILURES_PER_ACCOUNT.every.as_secs())
    );
    // Other accounts are not affected.
    let reply = owner.call("log_in", &[("email", "bob@example.org"), ("password", "long enough")]).await;
    assert!(reply.status.is_success(), "{} {}", reply.status, reply.body);
}
test_both_dbs!(failed_log_ins_are_limited_per_address_and_per_account);

async fn sign_ups_are_limited_per_address(db: Db) {
    let router = router(db);
    let mut office = Client::from(&router, [192, 0, 2, 50]);
    for n in 0..SIGNUPS_PER_ADDRESS.burst {
        let email = format!("staff{n}@example.org");
        let reply =
            office.call("sign_up", &[("email", &email), ("display_name", "Staff"), ("password", "long enough")]).await;
        assert!(reply.status.is_success(), "{} {}", reply.status, reply.body);
    }
    let reply = office
        .call("sign_up", &[("email", "one-more@example.org"), ("display_name", "X"), ("password", "long enough")])
        .await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(matches!(reply.json::<AccountError>(), AccountError::TooManySignUps(_)));
    let mut elsewhere = Client::from(&router, [192, 0, 2, 51]);
    let reply = elsewhere
        .call("sign_up", &[("email", "one-more@example.org"), ("display_name", "X"), ("password", "long enough")])
        .await;
    assert!(reply.status.is_success());
}
test_both_dbs!(sign_ups_are_limited_per_address);

async fn password_hashing_is_bounded_and_says_when_busy(db: Db) {
    let mut ctx = ServerContext::new(db, "http://127.0.0.1:3000", Vec::new());
    // One hash at a time, one waiting: a burst of log-ins from many addresses meets the gate.
    ctx.limits = Arc::new(Limits::with_hash_gate(HashGate::new(1, 1)).with_frozen_clock());
    let router = router_with(ctx);
    let mut clients: Vec<Client> = (0..20).map(|n| Client::from(&router, [198, 18, 0, n])).collect();
    let replies = join_all(clients.iter_mut().enumerate().map(|(n, c)| {
        let email = format!("flood{n}@example.org");
        async move { c.call("log_in", &[("email", email.as_str()), ("password", "a guess")]).await }
    }))
    .await;
    let busy: Vec<_> = replies.iter().filter(|r| r.status == StatusCode::SERVICE_UNAVAILABLE).collect();
    assert!(!busy.is_empty(), "20 hashes at once cannot all run or wait");
    assert!(replies
        .iter()
        .all(|r| r.status == StatusCode::SERVICE_UNAVAILABLE || r.status == StatusCode::UNAUTHORIZED));
    assert_eq!(busy[0].json::<AccountError>(), AccountError::Busy);
    assert_eq!(busy[0].headers[header::RETRY_AFTER], "5");
    // A busy refusal is not a failed log-in: the account is not slowed by it.
    let mut again = Client::from(&router, [198, 18, 1, 1]);
    for _ in 0..3 {
        assert_ne!(
            again.call("log_in", &[("email", "flood0@example.org"), ("password", "a guess")]).await.status,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
}
test_both_dbs!(password_hashing_is_bounded_and_says_when_busy);

async fn sessions_and_slides_are_capped(db: Db) {
    // More changes in a row than an account may make: this test is about the caps.
    let mut ctx = ServerContext::new(db, "http://127.0.0.1:3000", Vec::new());
    let changes = Budget { burst: 1_000, every: std::time::Duration::from_millis(1) };
    ctx.limits = Arc::new(Limits::default().with_frozen_clock().with_changes_per_account(changes));
    let router = router_with(ctx);
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    // In parallel, so that a count read before another request's insert would let both through.
    let titles: Vec<String> = (0..MAX_SESSIONS_PER_ACCOUNT + 10).map(|n| format!("Session {n}")).collect();
    let mut callers: Vec<Client> =
        titles.iter().map(|_| Client { cookie: ada.cookie.clone(), ..Client::anonymous(&router) }).collect();
    let replies = join_all(
        callers
            .iter_mut()
            .zip(&titles)
            .map(|(c, t)| async move { c.call("create_session", &[("title", t.as_str())]).await }),
    )
    .await;
    assert_eq!(replies.iter().filter(|r| r.status.is_success()).count() as u64, MAX_SESSIONS_PER_ACCOUNT);
    let refused = replies.iter().find(|r| !r.status.is_success()).unwrap();
    assert_eq!((refused.status, refused.json::<SessionError>()), (StatusCode::CONFLICT, SessionError::TooManySessions));
    let list: Vec<app::functions::sessions::SessionSummary> = ada.call("my_sessions", &[]).await.json();
    assert_eq!(list.len() as u64, MAX_SESSIONS_PER_ACCOUNT);

    let id = list[0].id.to_string();
    for _ in 0..MAX_SLIDES_PER_SESSION {
        assert!(ada.call("add_slide", &[("id", &id), ("kind", "Text")]).await.status.is_success());
    }
    let reply = ada.call("add_slide", &[("id", &id), ("kind", "Text")]).await;
    assert_eq!((reply.status, reply.json::<SessionError>()), (StatusCode::CONFLICT, SessionError::TooManySlides));
}
test_both_dbs!(sessions_and_slides_are_capped);

/// A script joining again and again from one address, a fresh browser each time and no socket
/// ever opened, neither fills the session (people in the room are those following it) nor adds
/// rows for ever; a phone elsewhere still gets in. (The room full of people: `live_hub.rs`.)
async fn joins_without_sockets_from_one_address_fill_no_session(db: Db) {
    let mut ctx = ServerContext::new(db.clone(), "http://127.0.0.1:3000", Vec::new());
    ctx.limits = Arc::new(Limits::default().with_frozen_clock());
    ctx.max_participants = 5;
    let router = router_with(ctx);
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let (code, _) = ways_in(&mut ada, &id).await;
    let burst = NEW_PARTICIPANTS_PER_ADDRESS.burst as usize;
    let mut statuses = Vec::new();
    for _ in 0..(burst + 50).div_ceil(100) {
        let calls = (0..100).map(|_| {
            let (router, code) = (router.clone(), code.clone());
            async move { Client::from(&router, [203, 0, 113, 9]).call("join_by_code", &[("code", &code)]).await.status }
        });
        statuses.extend(join_all(calls).await);
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), burst, "a room's worth get in");
    assert!(statuses[burst..].iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS), "then one a second");
    assert_eq!(db.participant_count(id.parse().unwrap()).await.unwrap(), burst as u64);
    let mut phone = Client::from(&router, [198, 51, 100, 1]);
    assert_eq!(phone.call("join_by_code", &[("code", &code)]).await.json::<String>(), id, "the session is not full");
    // Someone already inside comes back without counting again.
    let mut back = Client::from(&router, [203, 0, 113, 9]);
    back.visitor = phone.visitor.clone();
    assert_eq!(back.call("join_by_code", &[("code", &code)]).await.json::<String>(), id);
}
test_both_dbs!(joins_without_sockets_from_one_address_fill_no_session);

/// A web page can make its visitors' browsers ask for `/join?code=…` as images: those are not
/// joins, so they spend nothing, and a pupil behind the same school address typing the right
/// code gets in.
async fn a_page_elsewhere_cannot_spend_a_schools_budget(db: Db) {
    let router = router(db);
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let (code, _) = ways_in(&mut ada, &id).await;
    let wrong = wrong_code(&code);
    let school = [203, 0, 113, 1];
    let image = [("sec-fetch-dest", "image"), ("sec-fetch-mode", "no-cors"), ("sec-fetch-site", "cross-site")];
    for _ in 0..=JOIN_FAILURES_PER_ADDRESS.burst + 10 {
        let reply = Client::from(&router, school).page_with(&format!("/join?code={wrong}"), &image).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert!(reply.body.contains("Open this address in your browser"), "{}", reply.body);
        assert!(!reply.headers.contains_key(header::SET_COOKIE), "no visitor is made");
    }
    let visit = [("sec-fetch-dest", "document"), ("sec-fetch-mode", "navigate"), ("sec-fetch-site", "same-origin")];
    let pupil = Client::from(&router, school).page_with(&format!("/join?code={code}"), &visit).await;
    assert_eq!(pupil.status, StatusCode::SEE_OTHER);
    assert_eq!(pupil.headers[header::LOCATION], format!("/p/{id}").as_str());
}
test_both_dbs!(a_page_elsewhere_cannot_spend_a_schools_budget);

/// Guesses spread over many addresses (each within its budget) sweep an instance: past its
/// budget of failures, every failure is answered late, while a right code still goes in at once.
async fn a_swept_instance_answers_failures_late_and_right_codes_at_once(db: Db) {
    let mut ctx = ServerContext::new(db, "http://127.0.0.1:3000", Vec::new());
    let sweep = Budget { burst: 3, every: std::time::Duration::from_secs(3600) };
    ctx.limits = Arc::new(Limits::default().with_frozen_clock().with_instance_join_failures(sweep));
    let router = router_with(ctx);
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let (code, _) = ways_in(&mut ada, &id).await;
    let wrong = wrong_code(&code);
    for n in 0..3 {
        let started = std::time::Instant::now();
        assert_eq!(
            Client::from(&router, [198, 51, 100, n]).call("join_by_code", &[("code", wrong)]).await.status,
            StatusCode::NOT_FOUND
        );
        assert!(started.elapsed() < SWEPT_FAILURE_DELAY);
    }
    let started = std::time::Instant::now();
    assert_eq!(
        Client::from(&router, [198, 51, 100, 10]).call("join_by_code", &[("code", wrong)]).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(started.elapsed() >= SWEPT_FAILURE_DELAY, "answered late: {:?}", started.elapsed());
    let started = std::time::Instant::now();
    assert_eq!(
        Client::from(&router, [198, 51, 100, 11]).call("join_by_code", &[("code", &code)]).await.json::<String>(),
        id
    );
    assert!(started.elapsed() < SWEPT_FAILURE_DELAY, "a right code is not slowed: {:?}", started.elapsed());
}
test_both_dbs!(a_swept_instance_answers_failures_late_and_right_codes_at_once);

/// A right password still costs a hash and a login: log-ins into one account from one address
/// are limited whatever their outcome, and an account keeps a bounded number of logins.
async fn right_log_ins_in_a_loop_are_limited_too(db: Db) {
    let router = roomy_router(db.clone());
    Client::signed_up(&router, "ada@example.org").await;
    let right = [("email", "ada@example.org"), ("password", "long enough")];
    let mut script = Client::from(&router, [198, 51, 100, 9]);
    for _ in 0..LOGINS_PER_ACCOUNT_AND_ADDRESS.burst {
        assert!(script.call("log_in", &right).await.status.is_success());
    }
    let reply = script.call("log_in", &right).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(matches!(reply.json::<AccountError>(), AccountError::TooManyLogIns(_)));
    // The owner, elsewhere, is not held back.
    assert!(Client::from(&router, [198, 51, 100, 10]).call("log_in", &right).await.status.is_success());
    // From many addresses: the account keeps its newest logins, the oldest end.
    let mut browsers = Vec::new();
    for n in 0..app::rules::accounts::MAX_LOGINS_PER_ACCOUNT + 5 {
        let mut browser = Client::from(&router, [10, 0, (n / 250) as u8, (n % 250) as u8]);
        assert!(browser.call("log_in", &right).await.status.is_success());
        browsers.push(browser);
    }
    assert_eq!(browsers[0].call("me", &[]).await.json::<Option<serde_json::Value>>(), None, "the oldest login ended");
    assert!(browsers.last_mut().unwrap().call("me", &[]).await.json::<Option<serde_json::Value>>().is_some());
}
test_both_dbs!(right_log_ins_in_a_loop_are_limited_too);

/// Every change queues on one writer: an account's changes are limited, generously.
async fn changes_by_one_account_are_limited(db: Db) {
    let router = router(db);
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    for n in 1..CHANGES_PER_ACCOUNT.burst {
        let reply =
            ada.call("set_session_open", &[("id", &id), ("open", if n % 2 == 0 { "true" } else { "false" })]).await;
        assert!(reply.status.is_success(), "{} {}", reply.status, reply.body);
    }
    let reply = ada.call("rename_session", &[("id", &id), ("title", "Renamed")]).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(matches!(reply.json::<SessionError>(), SessionError::TooManyChanges(s) if s >= 1));
    assert!(reply.headers.contains_key(header::RETRY_AFTER));
    // Reading is not a change; another account is not held back.
    assert!(ada.call("my_sessions", &[]).await.status.is_success());
    let mut bob = Client::signed_up(&router, "bob@example.org").await;
    create_session(&mut bob, "Bob's").await;
}
test_both_dbs!(changes_by_one_account_are_limited);

/// A browser the account logged in from before is not locked out by failures from elsewhere:
/// neither someone guessing the password (the account's budget) nor colleagues mistyping theirs
/// behind the same address (the address's).
async fn a_known_browser_is_not_locked_out_by_failures_from_elsewhere(db: Db) {
    let router = roomy_router(db);
    Client::signed_up(&router, "ada@example.org").await;
    let right = [("email", "ada@example.org"), ("password", "long enough")];
    let wrong = [("email", "ada@example.org"), ("password", "not the password")];
    let office = [198, 51, 100, 20];
    let mut laptop = Client::from(&router, office);
    assert!(laptop.call("log_in", &right).await.status.is_success());
    assert!(laptop.device.is_some(), "a log-in gives the browser a device cookie");
    laptop.call("log_out", &[]).await;
    for n in 0..LOGIN_FAILURES_PER_ACCOUNT.burst {
        assert_eq!(
            Client::from(&router, [198, 51, 101, n as u8]).call("log_in", &wrong).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    for n in 0..LOGIN_FAILURES_PER_ADDRESS.burst {
        let email = format!("colleague{n}@example.org");
        let reply =
            Client::from(&router, office).call("log_in", &[("email", email.as_str()), ("password", "mistyped")]).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        Client::from(&router, office).call("log_in", &right).await.status,
        StatusCode::TOO_MANY_REQUESTS,
        "a new browser is held back"
    );
    assert!(laptop.call("log_in", &right).await.status.is_success(), "her own browser is not");
    // Its own failures are bounded too.
    let refused = join_all((0..LOGIN_FAILURES_PER_DEVICE.burst + 1).map(|_| {
        let mut laptop = Client { device: laptop.device.clone(), ..Client::from(&router, [198, 51, 104, 1]) };
        async move { laptop.call("log_in", &wrong).await.status }
    }))
    .await;
    assert!(refused.contains(&StatusCode::TOO_MANY_REQUESTS), "{refused:?}");
}
test_both_dbs!(a_known_browser_is_not_locked_out_by_failures_from_elsewhere);
