//! A session's life beyond sharing, over HTTP on SQLite and PostgreSQL: renaming, duplicating
//! and deleting, who may do each, and what a deleted session's code and link answer.
use app::functions::joining::ParticipantScreen;
use app::functions::sessions::{SessionForHost, SessionSummary};
use app::ids::SessionId;
use app::rules::joining::JoinError;
use app::rules::session_code::SessionCode;
use app::rules::sessions::{Role, SessionError, MAX_SESSIONS_PER_ACCOUNT, TITLE_MAX_CHARS};
use app::states::{PublicView, SlideContent};
use app::storage::{Db, WayIn, WayInKind};
use app::test_both_dbs;
use axum::http::StatusCode;
use common::{create_session, router, Client};

mod common;

async fn host(client: &mut Client, id: &str) -> SessionForHost {
    client.call("host_session", &[("id", id)]).await.json()
}

fn token(host: &SessionForHost) -> String {
    common::link_token(&host.ways_in.link)
}

/// A facilitator who accepted, through storage with the rule the mailed link uses.
async fn add_facilitator(db: &Db, id: &str, owner: &str, email: &str) {
    let owner = db.user_by_email(owner).await.unwrap().unwrap().user.id;
    let token = app::rules::secrets::new_login_token();
    let digest = app::rules::secrets::login_token_digest(&token);
    db.invite_facilitators(
        id.parse().unwrap(),
        owner,
        vec![app::storage::NewFacilitator { email: email.into(), token_digest: digest.clone(), token }],
        3_600_000_000,
    )
    .await
    .unwrap()
    .unwrap();
    let user = db.user_by_email(email).await.unwrap().unwrap().user;
    assert!(db.accept_facilitation(&digest, &user).await.unwrap().is_ok());
}

async fn renaming_follows_the_rules_of_creation(db: Db) {
    let router = router(db.clone());
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let mut fay = Client::signed_up(&router, "fay@example.org").await;
    add_facilitator(&db, &id, "ada@example.org", "fay@example.org").await;
    let mut bob = Client::signed_up(&router, "bob@example.org").await;
    let mut nobody = Client::anonymous(&router);
    let mut zoe = Client::from(&router, [198, 51, 100, 1]);
    let code = host(&mut ada, &id).await.ways_in.code.clone();
    zoe.call("join_by_code", &[("code", &code)]).await.json::<String>();

    let reply = ada.call("rename_session", &[("id", &id), ("title", "  Physics 101 \n")]).await;
    assert_eq!(reply.json::<String>(), "Physics 101");
    assert_eq!(host(&mut ada, &id).await.title, "Physics 101");
    assert_eq!(host(&mut fay, &id).await.title, "Physics 101");
    let screen: ParticipantScreen = zoe.call("participant_view", &[("id", &id)]).await.json();
    assert!(matches!(&screen.public.view, PublicView::Open { title, .. } if title == "Physics 101"));

    for bad in ["   ", &"é".repeat(TITLE_MAX_CHARS + 1), "a\u{7}b"] {
        let reply = ada.call("rename_session", &[("id", &id), ("title", bad)]).await;
        assert_eq!((reply.status, reply.json::<SessionError>()), (StatusCode::BAD_REQUEST, SessionError::InvalidTitle));
    }
    assert!(ada
        .call("rename_session", &[("id", &id), ("title", &"é".repeat(TITLE_MAX_CHARS))])
        .await
        .status
        .is_success());

    for (client, status, error) in [
        (&mut fay, StatusCode::FORBIDDEN, SessionError::OwnerOnlyRename),
        (&mut bob, StatusCode::FORBIDDEN, SessionError::NoAccess),
        (&mut nobody, StatusCode::UNAUTHORIZED, SessionError::NotLoggedIn),
    ] {
        let reply = client.call("rename_session", &[("id", &id), ("title", "Mine now")]).await;
        assert_eq!((reply.status, reply.json::<SessionError>()), (status, error));
    }
    assert_eq!(host(&mut ada, &id).await.title, "é".repeat(TITLE_MAX_CHARS), "the refused calls changed nothing");
}
test_both_dbs!(renaming_follows_the_rules_of_creation);

async fn a_duplicate_has_the_slides_and_nothing_else(db: Db) {
    let router = router(db.clone());
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Weekly sync").await;
    let first: String = ada.call("add_slide", &[("id", &id), ("kind", "Text")]).await.json();
    ada.call("update_slide", &[("id", &id), ("slide", &first), ("title", "Agenda"), ("body", "1. News")])
        .await
        .json::<()>();
    let qr: String = ada.call("add_slide", &[("id", &id), ("kind", "LinkAndQr")]).await.json();
    let last: String = ada.call("add_slide", &[("id", &id), ("kind", "Text")]).await.json();
    ada.call("update_slide", &[("id", &id), ("slide", &last), ("title", "Questions"), ("body", "")]).await.json::<()>();
    // The order is the one the owner made, not the order of creation.
    ada.call("move_slide", &[("id", &id), ("slide", &qr), ("direction", "Up")]).await.json::<()>();
    ada.call("show_slide", &[("id", &id), ("slide", &last)]).await.json::<()>();
    let mut fay = Client::signed_up(&router, "fay@example.org").await;
    add_facilitator(&db, &id, "ada@example.org", "fay@example.org").await;
    let mut zoe = Client::from(&router, [198, 51, 100, 1]);
    let original = host(&mut ada, &id).await;
    zoe.call("join_by_code", &[("code", &original.ways_in.code)]).await.json::<String>();

    let copy: String = ada.call("duplicate_session", &[("id", &id)]).await.json();
    assert_ne!(copy, id);
    let list: Vec<SessionSummary> = ada.call("my_sessions", &[]).await.json();
    assert_eq!(list[0].id.to_string(), copy, "the copy comes first");
    assert_eq!((list[0].title.as_str(), list[0].is_open, list[0].role), ("Copy of Weekly sync", true, Role::Owner));
    let duplicate = host(&mut ada, &copy).await;
    let contents = |h: &SessionForHost| h.slides.iter().map(|s| s.content.clone()).collect::<Vec<_>>();
    assert_eq!(duplicate.slides.len(), 3);
    assert!(matches!(&duplicate.slides[0].content, SlideContent::LinkAndQr(w) if *w == duplicate.ways_in));
    assert_eq!(contents(&duplicate)[1..], contents(&original)[1..], "same slides, same order");
    assert!(
        duplicate.slides.iter().all(|s| original.slides.iter().all(|o| o.id != s.id)),
        "copies, not the same slides"
    );
    assert_ne!(duplicate.ways_in.code, original.ways_in.code);
    assert_ne!(token(&duplicate), token(&original));
    assert!(duplicate.facilitators.is_empty());
    assert_eq!(db.participant_count(copy.parse().unwrap()).await.unwrap(), 0);
    assert_eq!(host(&mut ada, &id).await.state.slides, original.state.slides, "the original is untouched");

    // The new code leads into the copy, the original's into the original.
    let mut yan = Client::from(&router, [198, 51, 100, 2]);
    assert_eq!(yan.call("join_by_code", &[("code", &duplicate.ways_in.code)]).await.json::<String>(), copy);
    assert_eq!(yan.call("join_by_code", &[("code", &original.ways_in.code)]).await.json::<String>(), id);

    // A facilitator sees the original but may not copy it; strangers and nobody neither.
    let listed: Vec<SessionSummary> = fay.call("my_sessions", &[]).await.json();
    assert_eq!(
        listed.iter().map(|s| (s.id.to_string(), s.role)).collect::<Vec<_>>(),
        vec![(id.clone(), Role::Facilitator)]
    );
    let mut bob = Client::signed_up(&router, "bob@example.org").await;
    let mut nobody = Client::anonymous(&router);
    for (client, status, error) in [
        (&mut fay, StatusCode::FORBIDDEN, SessionError::OwnerOnlyDuplicate),
        (&mut bob, StatusCode::FORBIDDEN, SessionError::NoAccess),
        (&mut nobody, StatusCode::UNAUTHORIZED, SessionError::NotLoggedIn),
    ] {
        let reply = client.call("duplicate_session", &[("id", &id)]).await;
        assert_eq!((reply.status, reply.json::<SessionError>()), (status, error));
    }
    assert!(bob.call("my_sessions", &[]).await.json::<Vec<SessionSummary>>().is_empty());
    assert_eq!(ada.call("my_sessions", &[]).await.json::<Vec<SessionSummary>>().len(), 2);
}
test_both_dbs!(a_duplicate_has_the_slides_and_nothing_else);

async fn duplicates_count_against_the_cap_and_keep_to_the_title_limit(db: Db) {
    let router = router(db.clone());
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let long = "x".repeat(TITLE_MAX_CHARS);
    let id = create_session(&mut ada, &long).await;
    let copy: String = ada.call("duplicate_session", &[("id", &id)]).await.json();
    let title = host(&mut ada, &copy).await.title.clone();
    assert_eq!(title.chars().count(), TITLE_MAX_CHARS);
    assert!(title.starts_with("Copy of xxx"), "{title}");

    let owner = db.user_by_email("ada@example.org").await.unwrap().unwrap().user.id;
    for _ in 2..MAX_SESSIONS_PER_ACCOUNT {
        db.create_session(owner, "Filler").await.unwrap().unwrap();
    }
    let reply = ada.call("duplicate_session", &[("id", &id)]).await;
    assert_eq!((reply.status, reply.json::<SessionError>()), (StatusCode::CONFLICT, SessionError::TooManySessions));
    assert_eq!(ada.call("my_sessions", &[]).await.json::<Vec<SessionSummary>>().len() as u64, MAX_SESSIONS_PER_ACCOUNT);
    // Deleting one makes room again.
    ada.call("delete_session", &[("id", &copy)]).await.json::<()>();
    assert!(ada.call("duplicate_session", &[("id", &id)]).await.status.is_success());
}
test_both_dbs!(duplicates_count_against_the_cap_and_keep_to_the_title_limit);

async fn a_deleted_session_is_gone_and_says_so(db: Db) {
    let router = router(db.clone());
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let session: SessionId = id.parse().unwrap();
    ada.call("add_slide", &[("id", &id), ("kind", "Text")]).await.json::<String>();
    let mut fay = Client::signed_up(&router, "fay@example.org").await;
    add_facilitator(&db, &id, "ada@example.org", "fay@example.org").await;
    common::verify(&db, "ada@example.org").await; // "+Add" needs a proven address
    ada.call("add_facilitators", &[("id", &id), ("addresses", "pending@example.org")]).await;
    let retired = host(&mut ada, &id).await;
    ada.call("generate_new_code", &[("id", &id)]).await.json::<String>();
    let current = host(&mut ada, &id).await;
    let mut zoe = Client::from(&router, [198, 51, 100, 1]);
    zoe.call("join_by_code", &[("code", &current.ways_in.code)]).await.json::<String>();
    let other = create_session(&mut ada, "Other").await;

    // Nobody but the owner may delete it.
    let mut bob = Client::signed_up(&router, "bob@example.org").await;
    let mut nobody = Client::anonymous(&router);
    for (client, status, error) in [
        (&mut fay, StatusCode::FORBIDDEN, SessionError::OwnerOnlyDelete),
        (&mut bob, StatusCode::FORBIDDEN, SessionError::NoAccess),
        (&mut nobody, StatusCode::UNAUTHORIZED, SessionError::NotLoggedIn),
    ] {
        let reply = client.call("delete_session", &[("id", &id)]).await;
        assert_eq!((reply.status, reply.json::<SessionError>()), (status, error));
    }
    assert_eq!(host(&mut ada, &id).await.title, "Class");

    assert!(ada.call("delete_session", &[("id", &id)]).await.status.is_success());
    assert!(db.slides(session).await.unwrap().is_empty());
    assert!(db.facilitators(session).await.unwrap().is_empty(), "active and pending facilitators go");
    assert_eq!(db.participant_count(session).await.unwrap(), 0);
    assert!(db.session(session).await.unwrap().is_none());
    let listed = |list: Vec<SessionSummary>| list.into_iter().map(|s| s.id.to_string()).collect::<Vec<_>>();
    assert_eq!(listed(ada.call("my_sessions", &[]).await.json()), vec![other.clone()]);
    assert!(listed(fay.call("my_sessions", &[]).await.json()).is_empty());

    // Every way in says so, with 410: current and retired codes and links, the host page, and
    // the participant inside.
    let gone = JoinError::Deleted;
    assert_eq!(gone.to_string(), "This session no longer exists.");
    let mut yan = Client::from(&router, [198, 51, 100, 2]);
    for (name, field, value) in [
        ("join_by_code", "code", current.ways_in.code.clone()),
        ("join_by_link", "token", token(&current)),
        ("join_by_code", "code", retired.ways_in.code.clone()),
        ("join_by_link", "token", token(&retired)),
    ] {
        let reply = yan.call(name, &[(field, &value)]).await;
        assert_eq!((reply.status, reply.json::<JoinError>()), (StatusCode::GONE, gone.clone()), "{name} {value}");
    }
    let reply = zoe.call("participant_view", &[("id", &id)]).await;
    assert_eq!((reply.status, reply.json::<JoinError>()), (StatusCode::GONE, JoinError::Deleted));
    for client in [&mut ada, &mut fay] {
        let reply = client.call("host_session", &[("id", &id)]).await;
        assert_eq!((reply.status, reply.json::<SessionError>()), (StatusCode::GONE, SessionError::Deleted));
    }
    assert_eq!(SessionError::Deleted.to_string(), "This session no longer exists.");
    // Deleting again, or someone else's deleted session: nothing to delete, nothing revealed.
    assert_eq!(bob.call("delete_session", &[("id", &id)]).await.json::<SessionError>(), SessionError::NoAccess);
    assert!(host(&mut ada, &other).await.is_open, "the other session is untouched");
}
test_both_dbs!(a_deleted_session_is_gone_and_says_so);

/// A deleted session's code is not drawn again while it answers "no longer exists", neither for
/// a new session nor by "Generate a new code".
async fn deleted_codes_are_not_drawn_again(db: Db) {
    let router = router(db.clone());
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let owner = db.user_by_email("ada@example.org").await.unwrap().unwrap().user.id;
    let id = create_session(&mut ada, "Class").await;
    let deleted = SessionCode::parse(&host(&mut ada, &id).await.ways_in.code).unwrap();
    ada.call("delete_session", &[("id", &id)]).await.json::<()>();

    let fresh = SessionCode::parse("123456").unwrap();
    let draws = |codes: Vec<SessionCode>| {
        let mut codes = codes.into_iter();
        move || codes.next().expect("no more codes to draw")
    };
    let created = db
        .create_session_drawing_codes(owner, "New", draws(vec![deleted.clone(), fresh.clone()]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(created.code, fresh);
    let other = SessionCode::parse("654321").unwrap();
    let rotated = db
        .rotate_ways_in_drawing_codes(created.id, draws(vec![deleted.clone(), other.clone()]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rotated.code, other);
    assert_eq!(db.find_way_in(WayInKind::Code, deleted.as_str()).await.unwrap(), WayIn::Deleted);
    assert_eq!(db.forget_deleted_ways_in(app::storage::now_micros()).await.unwrap(), 0, "kept for 30 days");

    // 30 days on, the code is free again: unknown, drawn for a new session, and its rows gone.
    let kept = app::rules::sessions::DELETED_WAYS_IN_KEPT_MICROS;
    let aged = format!("UPDATE deleted_ways_in SET deleted_at = deleted_at - {}", kept + 1);
    assert_eq!(db.execute_for_tests(&aged).await.unwrap(), 2, "its code and its link");
    assert_eq!(db.find_way_in(WayInKind::Code, deleted.as_str()).await.unwrap(), WayIn::Unknown);
    let again = db.create_session_drawing_codes(owner, "Again", draws(vec![deleted.clone()])).await.unwrap().unwrap();
    assert_eq!(again.code, deleted);
    assert_eq!(db.forget_deleted_ways_in(app::storage::now_micros()).await.unwrap(), 2);
    assert_eq!(db.find_way_in(WayInKind::Code, deleted.as_str()).await.unwrap(), WayIn::Current(again));
}
test_both_dbs!(deleted_codes_are_not_drawn_again);

const DAY: i64 = 24 * 3600 * 1_000_000;

async fn last_hosted_at(db: &Db, id: &str) -> i64 {
    db.session(id.parse().unwrap()).await.unwrap().unwrap().last_hosted_at
}

/// As if nobody had hosted the session titled `title` for `days` days.
async fn forget_for(db: &Db, title: &str, days: i64) {
    let at = app::storage::now_micros() - days * DAY;
    let sql = format!("UPDATE sessions SET last_hosted_at = {at} WHERE title = '{title}'");
    assert_eq!(db.execute_for_tests(&sql).await.unwrap(), 1);
}

/// `AUTO_CLOSE_DAYS` after the last host activity, a session closes by itself as the padlock
/// would; the host page says when; hosting moves the day on; the owner can open it again.
async fn forgotten_sessions_close_by_themselves(db: Db) {
    let ctx = app::services::ServerContext::new(db.clone(), "http://127.0.0.1:3000", Vec::new());
    let router = common::router_with(ctx.clone());
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let other = create_session(&mut ada, "Other").await;
    let mut fay = Client::signed_up(&router, "fay@example.org").await;
    add_facilitator(&db, &id, "ada@example.org", "fay@example.org").await;
    let created = last_hosted_at(&db, &id).await;
    let now = app::storage::now_micros();
    assert!(now - created < DAY, "a new session counts from its creation");
    let day = app::rules::sessions::day_in_words(created + 30 * DAY);
    let closes_on = host(&mut ada, &id).await.closes_by_itself_on;
    assert_eq!(closes_on.map(app::rules::sessions::day_in_words), Some(day));
    // Hosting writes at most once an hour: a page load just after creation writes nothing.
    assert_eq!(last_hosted_at(&db, &id).await, created);
    assert_eq!(server::close_forgotten_sessions(&ctx, now + 29 * DAY).await.unwrap(), 0);
    assert!(host(&mut ada, &id).await.is_open);

    // Participants coming and going is not hosting.
    forget_for(&db, "Class", 31).await;
    forget_for(&db, "Other", 31).await;
    let mut zoe = Client::from(&router, [198, 51, 100, 1]);
    let code = db.session(id.parse().unwrap()).await.unwrap().unwrap().code;
    assert_eq!(zoe.call("join_by_code", &[("code", code.as_str())]).await.json::<String>(), id);
    // A co-facilitator opening the host page is: `id` stays open, `other` closes.
    let seen = host(&mut fay, &id).await;
    assert!(last_hosted_at(&db, &id).await >= now);
    assert_eq!(
        seen.closes_by_itself_on.map(app::rules::sessions::day_in_words),
        Some(app::rules::sessions::day_in_words(last_hosted_at(&db, &id).await + 30 * DAY))
    );
    assert_eq!(server::close_forgotten_sessions(&ctx, app::storage::now_micros()).await.unwrap(), 1);
    assert!(host(&mut ada, &id).await.is_open);
    let closed = host(&mut ada, &other).await;
    assert!(!closed.is_open, "closed by itself");
    assert_eq!(closed.closes_by_itself_on, None, "a closed session has nothing to close");
    let mine: Vec<SessionSummary> = ada.call("my_sessions", &[]).await.json();
    assert!(mine.iter().any(|s| s.title == "Other" && !s.is_open));
    let screen: ParticipantScreen = zoe.call("participant_view", &[("id", &id)]).await.json();
    assert!(matches!(screen.public.view, PublicView::Open { .. }));

    // Closed as the padlock closes: the owner opens it again, and it counts from then.
    forget_for(&db, "Other", 40).await;
    assert!(ada.call("set_session_open", &[("id", &other), ("open", "true")]).await.json::<bool>());
    let reopened = last_hosted_at(&db, &other).await;
    assert!(reopened >= now);
    assert_eq!(server::close_forgotten_sessions(&ctx, reopened + 29 * DAY).await.unwrap(), 0);
    assert_eq!(server::close_forgotten_sessions(&ctx, reopened + 30 * DAY + 1).await.unwrap(), 2);
    assert!(!host(&mut ada, &other).await.is_open);

    // `AUTO_CLOSE_DAYS=0`: never.
    assert!(ada.call("set_session_open", &[("id", &other), ("open", "true")]).await.json::<bool>());
    let mut never = ctx.clone();
    never.auto_close = app::rules::sessions::AutoClose { after_days: 0 };
    assert_eq!(server::close_forgotten_sessions(&never, i64::MAX).await.unwrap(), 0);
    let mut ada_never = Client {
        router: common::router_with(never),
        cookie: ada.cookie.clone(),
        visitor: None,
        device: None,
        ip: ada.ip,
    };
    assert_eq!(host(&mut ada_never, &other).await.closes_by_itself_on, None);
}
test_both_dbs!(forgotten_sessions_close_by_themselves);

/// "Generate a new code" in a loop keeps the latest old codes and links only: storage stays
/// bounded, and the oldest lead nowhere (as codes never drawn).
async fn old_codes_are_kept_within_a_bound(db: Db) {
    let owner = db.create_user("ada@example.org", "Ada", "hash").await.unwrap();
    let session = db.create_session(owner.id, "Class").await.unwrap().unwrap();
    let kept = app::rules::sessions::RETIRED_WAYS_IN_KEPT_PER_SESSION as usize / 2;
    let mut codes = vec![session.code.clone()];
    for _ in 0..kept + 3 {
        codes.push(db.rotate_ways_in(session.id).await.unwrap().unwrap().code);
    }
    let current = codes.pop().unwrap();
    let answer = |code: &SessionCode| {
        let db = db.clone();
        let code = code.clone();
        async move { db.find_way_in(WayInKind::Code, code.as_str()).await.unwrap() }
    };
    assert!(matches!(answer(&current).await, WayIn::Current(_)));
    for old in &codes[codes.len() - kept..] {
        assert!(matches!(answer(old).await, WayIn::Retired(_)), "the latest {kept} old codes say so");
    }
    for old in &codes[..codes.len() - kept] {
        assert_eq!(answer(old).await, WayIn::Unknown, "older ones are forgotten");
    }
}
test_both_dbs!(old_codes_are_kept_within_a_bound);
