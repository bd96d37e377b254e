//! Storage tests: each runs on SQLite and on PostgreSQL (`test_both_dbs!`).
use app::ids::{SessionId, UserId};
use app::rules::session_code::SessionCode;
use app::rules::sessions::Role;
use app::storage::{CodeRefused, CreateUserError, Db};
use app::test_both_dbs;

async fn user(db: &Db, email: &str) -> UserId {
    db.create_user(email, "Someone", "$argon2id$not-checked-here").await.unwrap().id
}

async fn an_email_has_one_account(db: Db) {
    let first = db.create_user("ada@example.org", "Ada", "hash").await.unwrap();
    assert!(matches!(db.create_user("ada@example.org", "Other Ada", "hash2").await, Err(CreateUserError::EmailTaken)));
    let found = db.user_by_email("ada@example.org").await.unwrap().unwrap();
    assert_eq!(found.user, first);
    assert_eq!(found.password_hash, "hash", "the refused sign-up changed nothing");
    assert!(db.user_by_email("nobody@example.org").await.unwrap().is_none());
}
test_both_dbs!(an_email_has_one_account);

async fn login_sessions_live_until_deleted_or_expired(db: Db) {
    let ada = user(&db, "ada@example.org").await;
    db.create_login_session(ada, "digest-live", 60_000_000).await.unwrap();
    db.create_login_session(ada, "digest-expired", -1).await.unwrap();
    assert_eq!(db.user_for_login_session("digest-live").await.unwrap().unwrap().id, ada);
    assert!(db.user_for_login_session("digest-expired").await.unwrap().is_none());
    assert!(db.user_for_login_session("digest-unknown").await.unwrap().is_none());
    // The id-only lookup most requests use agrees with the full one.
    assert_eq!(db.user_id_for_login_session("digest-live").await.unwrap(), Some(ada));
    assert_eq!(db.user_id_for_login_session("digest-expired").await.unwrap(), None);
    assert_eq!(db.user_id_for_login_session("digest-unknown").await.unwrap(), None);

    assert_eq!(db.delete_expired_login_sessions().await.unwrap(), 1);
    db.delete_login_session("digest-live").await.unwrap();
    assert!(db.user_for_login_session("digest-live").await.unwrap().is_none());
    assert_eq!(db.user_id_for_login_session("digest-live").await.unwrap(), None);
}
test_both_dbs!(login_sessions_live_until_deleted_or_expired);

async fn a_new_session_is_open_with_fresh_ways_in(db: Db) {
    let ada = user(&db, "ada@example.org").await;
    let a = db.create_session(ada, "Weekly sync").await.unwrap().unwrap();
    let b = db.create_session(ada, "Weekly sync").await.unwrap().unwrap();
    assert!(a.is_open);
    assert_eq!(a.title, "Weekly sync");
    assert_eq!(a.owner_id, ada);
    assert_eq!(SessionCode::parse(a.code.as_str()), Ok(a.code.clone()));
    // base64url: 6 bits a character.
    assert!(a.link_token.len() * 6 >= 128, "link token has at least 128 bits");
    assert!(!a.link_token.contains(&a.id.0.simple().to_string()));
    assert_ne!(a.code, b.code);
    assert_ne!(a.link_token, b.link_token);
    assert_eq!(db.session(a.id).await.unwrap(), Some(a));
}
test_both_dbs!(a_new_session_is_open_with_fresh_ways_in);

async fn a_colliding_code_is_drawn_again(db: Db) {
    let ada = user(&db, "ada@example.org").await;
    let code = |s: &str| SessionCode::parse(s).unwrap();
    let first = db.create_session_drawing_codes(ada, "First", || code("111111")).await.unwrap().unwrap();
    assert_eq!(first.code, code("111111"));

    let mut draws = vec![code("222222"), code("111111"), code("111111")];
    let second = db.create_session_drawing_codes(ada, "Second", || draws.pop().unwrap()).await.unwrap().unwrap();
    assert_eq!(second.code, code("222222"), "the taken code was skipped");
    assert!(draws.is_empty());

    // When every draw collides, creation is refused (a sentence, not a failure) rather than
    // sharing a code.
    let third = db.create_session_drawing_codes(ada, "Third", || code("111111")).await.unwrap();
    assert_eq!(third, Err(CodeRefused::NoFreeCode));
    assert_eq!(db.sessions_hosted_by(ada).await.unwrap().len(), 2);
}
test_both_dbs!(a_colliding_code_is_drawn_again);

/// A code space of two codes, made full: every draw is taken, then reserved by deleted sessions.
async fn when_codes_run_out_the_oldest_reservation_is_recycled(db: Db) {
    let ada = user(&db, "ada@example.org").await;
    let code = |s: &str| SessionCode::parse(s).unwrap();
    let mut space = [code("111111"), code("222222")].into_iter().cycle();
    let mut draw = move || space.next().unwrap();
    let first = db.create_session_drawing_codes(ada, "First", &mut draw).await.unwrap().unwrap();
    let second = db.create_session_drawing_codes(ada, "Second", &mut draw).await.unwrap().unwrap();
    assert_eq!(db.create_session_drawing_codes(ada, "Third", &mut draw).await.unwrap(), Err(CodeRefused::NoFreeCode));
    assert_eq!(db.rotate_ways_in_drawing_codes(first.id, &mut draw).await.unwrap(), Err(CodeRefused::NoFreeCode));
    assert_eq!(db.session(first.id).await.unwrap().unwrap().code, first.code, "a refused new code changes nothing");

    // Both deleted: their codes are reserved, the first one's longest.
    db.delete_session(first.id).await.unwrap();
    db.delete_session(second.id).await.unwrap();
    let third = db.create_session_drawing_codes(ada, "Third", &mut draw).await.unwrap().unwrap();
    assert_eq!(third.code, first.code, "the oldest reservation goes back into the draw");
    assert_eq!(db.find_way_in(WayInKind::Code, first.code.as_str()).await.unwrap(), WayIn::Current(third.clone()));
    assert_eq!(
        db.find_way_in(WayInKind::Code, second.code.as_str()).await.unwrap(),
        WayIn::Deleted,
        "the newer one stays reserved"
    );
    let fourth = db.create_session_drawing_codes(ada, "Fourth", &mut draw).await.unwrap().unwrap();
    assert_eq!(fourth.code, second.code, "then the next oldest");
}
test_both_dbs!(when_codes_run_out_the_oldest_reservation_is_recycled);

async fn an_account_draws_a_bounded_number_of_codes_a_day(db: Db) {
    use app::rules::sessions::CODE_DRAWS_PER_ACCOUNT_PER_DAY;
    let ada = user(&db, "ada@example.org").await;
    let session = db.create_session(ada, "Loop").await.unwrap().unwrap();
    for _ in 1..CODE_DRAWS_PER_ACCOUNT_PER_DAY {
        db.rotate_ways_in(session.id).await.unwrap().unwrap();
    }
    assert_eq!(db.rotate_ways_in(session.id).await.unwrap(), Err(CodeRefused::TooManyDraws));
    assert_eq!(db.create_session(ada, "Another").await.unwrap(), Err(CodeRefused::TooManyDraws));
    assert_eq!(db.duplicate_session(ada, session.id, "Copy").await.unwrap(), Err(CodeRefused::TooManyDraws));
    // Somebody else is not held back; the draws count for a day, then the housekeeping forgets them.
    let bob = user(&db, "bob@example.org").await;
    db.create_session(bob, "Bob's").await.unwrap().unwrap();
    let tomorrow = app::storage::now_micros() + app::rules::sessions::CODE_DRAWS_WINDOW_MICROS + 1;
    assert_eq!(db.forget_old_code_draws(tomorrow).await.unwrap(), CODE_DRAWS_PER_ACCOUNT_PER_DAY + 1);
    db.rotate_ways_in(session.id).await.unwrap().unwrap();
}
test_both_dbs!(an_account_draws_a_bounded_number_of_codes_a_day);

async fn my_sessions_are_mine_and_newest_first(db: Db) {
    let ada = user(&db, "ada@example.org").await;
    let bob = user(&db, "bob@example.org").await;
    let mut made = Vec::new();
    for title in ["One", "Two", "Three"] {
        made.push(db.create_session(ada, title).await.unwrap().unwrap().id);
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    db.create_session(bob, "Bob's").await.unwrap().unwrap();
    let titles: Vec<String> = db.sessions_hosted_by(ada).await.unwrap().into_iter().map(|(s, _)| s.title).collect();
    assert_eq!(titles, ["Three", "Two", "One"]);
    assert_eq!(db.sessions_hosted_by(bob).await.unwrap().len(), 1);
}
test_both_dbs!(my_sessions_are_mine_and_newest_first);

async fn roles_and_the_padlock(db: Db) {
    let ada = user(&db, "ada@example.org").await;
    let bob = user(&db, "bob@example.org").await;
    let s = db.create_session(ada, "Class").await.unwrap().unwrap();
    assert_eq!(db.role_in_session(s.id, ada).await.unwrap(), Some(Role::Owner));
    assert_eq!(db.role_in_session(s.id, bob).await.unwrap(), None);
    assert_eq!(db.role_in_session(SessionId::new_random(), ada).await.unwrap(), None);

    db.set_session_open(s.id, false).await.unwrap();
    assert!(!db.session(s.id).await.unwrap().unwrap().is_open);
    db.set_session_open(s.id, false).await.unwrap();
    assert!(!db.session(s.id).await.unwrap().unwrap().is_open, "closing twice keeps it closed");
    db.set_session_open(s.id, true).await.unwrap();
    assert!(db.session(s.id).await.unwrap().unwrap().is_open);
}
test_both_dbs!(roles_and_the_padlock);

#[tokio::test]
async fn sqlite_runs_in_wal_mode_and_creates_its_folder() {
    let dir = std::env::temp_dir().join(format!("ruche-wal-{}", uuid::Uuid::new_v4().simple()));
    let path = dir.join("nested").join("ruche.db");
    let db = Db::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
    db.create_user("ada@example.org", "Ada", "hash").await.unwrap();
    assert!(path.exists());
    assert!(dir.join("nested").join("ruche.db-wal").exists(), "no write-ahead log: not in WAL mode");
    db.close().await.unwrap();
    // Reopening runs the migrations again, which must be a no-op on an up-to-date schema.
    let db = Db::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
    assert!(db.user_by_email("ada@example.org").await.unwrap().is_some());
    db.close().await.unwrap();
    std::fs::remove_dir_all(dir).ok();
}

use app::rules::slides::{Move, SlideKind};
use app::storage::{WayIn, WayInKind};

async fn a_new_code_retires_the_old_code_and_link_at_once(db: Db) {
    let ada = user(&db, "ada@example.org").await;
    let old = db.create_session(ada, "Class").await.unwrap().unwrap();
    let visitor = "visitor-digest";
    let inside = db.join_session(old.id, visitor).await.unwrap();

    let new = db.rotate_ways_in(old.id).await.unwrap().unwrap();
    assert_ne!(new.code, old.code);
    assert_ne!(new.link_token, old.link_token);
    assert_eq!(db.find_way_in(WayInKind::Code, old.code.as_str()).await.unwrap(), WayIn::Retired(old.id));
    assert_eq!(db.find_way_in(WayInKind::Link, &old.link_token).await.unwrap(), WayIn::Retired(old.id));
    assert_eq!(db.find_way_in(WayInKind::Code, new.code.as_str()).await.unwrap(), WayIn::Current(new.clone()));
    assert_eq!(db.find_way_in(WayInKind::Link, &new.link_token).await.unwrap(), WayIn::Current(new.clone()));
    assert_eq!(db.find_way_in(WayInKind::Link, "unknown").await.unwrap(), WayIn::Unknown);
    // Whoever is inside stays inside.
    assert_eq!(db.participant(old.id, visitor).await.unwrap(), Some(inside));
    assert_eq!(db.rotate_ways_in(SessionId::new_random()).await.unwrap(), Err(CodeRefused::NoSuchSession));
}
test_both_dbs!(a_new_code_retires_the_old_code_and_link_at_once);

async fn a_new_code_never_takes_another_sessions_code(db: Db) {
    let ada = user(&db, "ada@example.org").await;
    let code = |s: &str| SessionCode::parse(s).unwrap();
    db.create_session_drawing_codes(ada, "A", || code("333333")).await.unwrap().unwrap();
    let b = db.create_session_drawing_codes(ada, "B", || code("444444")).await.unwrap().unwrap();
    let mut draws = vec![code("555555"), code("333333")];
    let b = db.rotate_ways_in_drawing_codes(b.id, || draws.pop().unwrap()).await.unwrap().unwrap();
    assert_eq!(b.code, code("555555"));
    // A retired code drawn again for another session belongs to that session now.
    let c = db.create_session_drawing_codes(ada, "C", || code("444444")).await.unwrap().unwrap();
    assert_eq!(db.find_way_in(WayInKind::Code, "444444").await.unwrap(), WayIn::Current(c));
}
test_both_dbs!(a_new_code_never_takes_another_sessions_code);

async fn participants_are_one_per_browser_and_session(db: Db) {
    let ada = user(&db, "ada@example.org").await;
    let one = db.create_session(ada, "One").await.unwrap().unwrap();
    let two = db.create_session(ada, "Two").await.unwrap().unwrap();
    let first = db.join_session(one.id, "browser").await.unwrap();
    assert_eq!(db.join_session(one.id, "browser").await.unwrap(), first, "joining again is the same participant");
    assert!(db.participant(two.id, "browser").await.unwrap().is_none());
    db.set_nickname(first.id, Some("Zoé")).await.unwrap();
    assert_eq!(db.participant(one.id, "browser").await.unwrap().unwrap().nickname.as_deref(), Some("Zoé"));
    db.set_nickname(first.id, None).await.unwrap();
    assert_eq!(db.participant(one.id, "browser").await.unwrap().unwrap().nickname, None);
}
test_both_dbs!(participants_are_one_per_browser_and_session);

async fn joins_grouped_in_one_write_make_each_participant_once(db: Db) {
    let ada = user(&db, "ada@example.org").await;
    let one = db.create_session(ada, "One").await.unwrap().unwrap();
    let two = db.create_session(ada, "Two").await.unwrap().unwrap();
    let before = db.join_session(one.id, "came before").await.unwrap();
    // Someone who joined before, a double tap within the batch, and one browser in two sessions.
    let joins = [(one.id, "came before"), (one.id, "new"), (one.id, "new"), (two.id, "new"), (two.id, "other")];
    db.join_sessions(&joins).await.unwrap();
    assert_eq!(db.participant_count(one.id).await.unwrap(), 2);
    assert_eq!(db.participant_count(two.id).await.unwrap(), 2);
    assert_eq!(
        db.participant(one.id, "came before").await.unwrap(),
        Some(before),
        "an earlier participant is kept as is"
    );
    db.join_sessions(&[]).await.unwrap();
    db.join_sessions(&[(one.id, "came before")]).await.unwrap();
    assert_eq!(db.participant_count(one.id).await.unwrap(), 2);
}
test_both_dbs!(joins_grouped_in_one_write_make_each_participant_once);

async fn a_room_joining_at_once_is_written_in_groups_and_every_join_answered(db: Db) {
    let ada = user(&db, "ada@example.org").await;
    let room = db.create_session(ada, "Room").await.unwrap().unwrap();
    let joins = std::sync::Arc::new(app::services::joins::Joins::new(db.clone()));
    // More than one write holds, each answered once written.
    let people = app::services::joins::JOINS_PER_WRITE + 100;
    let mut answers = tokio::task::JoinSet::new();
    for i in 0..people {
        let joins = joins.clone();
        answers.spawn(async move { joins.join(room.id, &format!("browser {i}")).await });
    }
    while let Some(answer) = answers.join_next().await {
        answer.unwrap().unwrap();
    }
    assert_eq!(db.participant_count(room.id).await.unwrap(), people as u64);
    assert!(db.participant(room.id, "browser 0").await.unwrap().is_some());
}
test_both_dbs!(a_room_joining_at_once_is_written_in_groups_and_every_join_answered);

async fn a_join_into_a_session_deleted_meanwhile_fails_alone(db: Db) {
    let ada = user(&db, "ada@example.org").await;
    let room = db.create_session(ada, "Room").await.unwrap().unwrap();
    let gone = db.create_session(ada, "Gone").await.unwrap().unwrap();
    db.delete_session(gone.id).await.unwrap();
    let joins = std::sync::Arc::new(app::services::joins::Joins::new(db.clone()));
    // Sent together, so that they land in the same write as the one that cannot be written.
    let mut answers = tokio::task::JoinSet::new();
    for i in 0..50 {
        let joins = joins.clone();
        let session = if i == 25 { gone.id } else { room.id };
        answers.spawn(async move { (session, joins.join(session, &format!("browser {i}")).await) });
    }
    let mut failed = 0;
    while let Some(answer) = answers.join_next().await {
        let (session, written) = answer.unwrap();
        match written {
            Ok(()) => assert_eq!(session, room.id),
            Err(_) => {
                assert_eq!(session, gone.id, "only the join into the deleted session fails");
                failed += 1;
            }
        }
    }
    assert_eq!(failed, 1);
    assert_eq!(db.participant_count(room.id).await.unwrap(), 49);
}
test_both_dbs!(a_join_into_a_session_deleted_meanwhile_fails_alone);

async fn joins_arriving_one_after_another_in_a_rush_share_writes(db: Db) {
    use app::services::{group_commit::WRITES_APART, joins::Joins};
    let ada = user(&db, "ada@example.org").await;
    let room = db.create_session(ada, "Room").await.unwrap().unwrap();
    let joins = std::sync::Arc::new(Joins::new(db.clone()));
    // One join a millisecond or so: each would find the writer idle and be a write of its own.
    let people = 60;
    let started = std::time::Instant::now();
    let mut answers = tokio::task::JoinSet::new();
    for i in 0..people {
        let joins = joins.clone();
        answers.spawn(async move { joins.join(room.id, &format!("browser {i}")).await });
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    while let Some(answer) = answers.join_next().await {
        answer.unwrap().unwrap();
    }
    let elapsed = started.elapsed();
    assert_eq!(db.participant_count(room.id).await.unwrap(), people);
    // A write gives all its participants one `joined_at`: the distinct ones are the writes.
    db.execute_for_tests("CREATE TABLE write_times (joined_at BIGINT)").await.unwrap();
    let writes =
        db.execute_for_tests("INSERT INTO write_times SELECT DISTINCT joined_at FROM participants").await.unwrap();
    let most = elapsed.as_micros() / WRITES_APART.as_micros() + 1;
    assert!(writes as u128 <= most, "{writes} writes in {elapsed:?}: writes began less than {WRITES_APART:?} apart");
}
test_both_dbs!(joins_arriving_one_after_another_in_a_rush_share_writes);

async fn slides_keep_their_order_and_the_active_one(db: Db) {
    let ada = user(&db, "ada@example.org").await;
    let s = db.create_session(ada, "Talk").await.unwrap().unwrap();
    let other = db.create_session(ada, "Other").await.unwrap().unwrap();
    let qr = db.add_slide(s.id, SlideKind::LinkAndQr, "", "").await.unwrap().unwrap();
    let intro = db.add_slide(s.id, SlideKind::Text, "Intro", "Hello").await.unwrap().unwrap();
    let outro = db.add_slide(s.id, SlideKind::Text, "Outro", "Bye").await.unwrap().unwrap();
    let ids = |slides: Vec<app::storage::SlideRecord>| slides.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(ids(db.slides(s.id).await.unwrap()), [qr.id, intro.id, outro.id]);
    assert_eq!(db.session(s.id).await.unwrap().unwrap().active_slide_id, Some(qr.id), "the first slide is shown");

    assert!(db.move_slide(s.id, outro.id, Move::Up).await.unwrap());
    assert_eq!(ids(db.slides(s.id).await.unwrap()), [qr.id, outro.id, intro.id]);
    assert!(db.move_slide(s.id, qr.id, Move::Up).await.unwrap(), "the first slide stays first");
    assert_eq!(ids(db.slides(s.id).await.unwrap()), [qr.id, outro.id, intro.id]);
    assert!(!db.move_slide(other.id, qr.id, Move::Down).await.unwrap(), "not that session's slide");

    assert!(db.set_active_slide(s.id, intro.id).await.unwrap());
    assert!(!db.set_active_slide(other.id, intro.id).await.unwrap());
    assert_eq!(db.session(other.id).await.unwrap().unwrap().active_slide_id, None);
    assert!(db.update_slide(s.id, intro.id, "Welcome", "Line 1\nLine 2").await.unwrap());
    assert!(!db.update_slide(other.id, intro.id, "Hijack", "").await.unwrap());
    let slides = db.slides(s.id).await.unwrap();
    assert_eq!((slides[2].title.as_str(), slides[2].body.as_str()), ("Welcome", "Line 1\nLine 2"));

    assert!(db.delete_slide(s.id, intro.id).await.unwrap());
    assert_eq!(db.session(s.id).await.unwrap().unwrap().active_slide_id, None, "a deleted slide is no longer shown");
    assert!(!db.delete_slide(s.id, intro.id).await.unwrap());
    assert_eq!(ids(db.slides(s.id).await.unwrap()), [qr.id, outro.id]);
    let added = db.add_slide(s.id, SlideKind::Text, "Q&A", "").await.unwrap().unwrap();
    assert_eq!(ids(db.slides(s.id).await.unwrap()), [qr.id, outro.id, added.id]);
}
test_both_dbs!(slides_keep_their_order_and_the_active_one);

/// Adding a slide locks the session against other slides being added (the cap counts them), not
/// against participants joining it meanwhile. SQLite has one writer, so there every write waits
/// for the one under way: nothing to check.
async fn a_slide_is_added_while_a_join_is_under_way(db: Db) {
    if !db.is_shared() {
        return;
    }
    let ada = user(&db, "ada@example.org").await;
    let s = db.create_session(ada, "Talk").await.unwrap().unwrap();
    let joining = db.join_under_way_for_tests(s.id, "late").await.unwrap();
    let added =
        tokio::time::timeout(std::time::Duration::from_secs(5), db.add_slide(s.id, SlideKind::Text, "Intro", "")).await;
    joining.rollback().await.unwrap();
    assert!(matches!(added, Ok(Ok(Some(_)))), "the slide waited for the join: {added:?}");
}
test_both_dbs!(a_slide_is_added_while_a_join_is_under_way);

use app::storage::{AcceptError, NewFacilitator};

async fn facilitator_invitations_expire_and_are_single_use(db: Db) {
    let ada = user(&db, "ada@example.org").await;
    let carol = db.create_user("carol@example.org", "Carol", "hash").await.unwrap();
    let s = db.create_session(ada, "Class").await.unwrap().unwrap();
    let invite = |token: &str| NewFacilitator {
        email: "carol@example.org".into(),
        token: token.into(),
        token_digest: format!("digest-{token}"),
    };

    db.invite_facilitators(s.id, ada, vec![invite("old")], -1).await.unwrap().unwrap();
    assert_eq!(db.accept_facilitation("digest-old", &carol).await.unwrap(), Err(AcceptError::Expired));
    assert_eq!(db.role_in_session(s.id, carol.id).await.unwrap(), None);

    // Inviting again renews an expired invitation: the old link is dead, the new one works once.
    db.invite_facilitators(s.id, ada, vec![invite("new")], 3_600_000_000).await.unwrap().unwrap();
    assert_eq!(db.accept_facilitation("digest-old", &carol).await.unwrap(), Err(AcceptError::Invalid));
    assert_eq!(db.accept_facilitation("digest-new", &carol).await.unwrap(), Ok(s.id));
    assert_eq!(db.accept_facilitation("digest-new", &carol).await.unwrap(), Err(AcceptError::Invalid));
    assert_eq!(db.role_in_session(s.id, carol.id).await.unwrap(), Some(Role::Facilitator));
    let hosted = db.sessions_hosted_by(carol.id).await.unwrap();
    assert_eq!((hosted.len(), hosted[0].1), (1, Role::Facilitator));
    // Someone already active is not invited again.
    assert!(db
        .invite_facilitators(s.id, ada, vec![invite("again")], 3_600_000_000)
        .await
        .unwrap()
        .unwrap()
        .mailed
        .is_empty());
    assert_eq!(db.unsent_mail_count().await.unwrap(), 2);
}
test_both_dbs!(facilitator_invitations_expire_and_are_single_use);

/// SQLite only: PostgreSQL makes its own checkpoints. The writer makes none (they held up every
/// write behind them); a connection of their own does, so that a commit reaches the database file
/// within about `CHECKPOINT_EVERY`, and the log alone never holds it for long.
#[tokio::test]
async fn a_commit_reaches_the_sqlite_file_itself_within_moments() {
    let dir = std::env::temp_dir().join(format!("ruche-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("live.db");
    let db = Db::connect(&format!("sqlite://{}?mode=rwc", file.display())).await.unwrap();
    let ada = user(&db, "ada@example.org").await;
    let deadline = std::time::Instant::now() + app::storage::CHECKPOINT_EVERY * 10;
    let mut attempt = 0;
    let found = loop {
        attempt += 1;
        tokio::time::sleep(app::storage::CHECKPOINT_EVERY / 2).await;
        // The file alone, without its log, as a power cut may leave it; a new name each time, so
        // that no log an earlier copy's connection left beside it is read.
        let copy = dir.join(format!("copy-{attempt}.db"));
        std::fs::copy(&file, &copy).unwrap();
        // A copy taken during a checkpoint may be torn: that is a "not yet".
        let found = match Db::connect(&format!("sqlite://{}?mode=rwc", copy.display())).await {
            Ok(copied) => {
                let found = copied.user_by_email("ada@example.org").await.ok().flatten().map(|u| u.user.id);
                copied.close().await.ok();
                found
            }
            Err(_) => None,
        };
        if found.is_some() || std::time::Instant::now() > deadline {
            break found;
        }
    };
    assert_eq!(found, Some(ada), "the commit is in the database file, not only in its log");
    db.close().await.unwrap();
    std::fs::remove_dir_all(dir).ok();
}

/// Replicas or a rolling deploy start several instances at once on a fresh database: each
/// brings the schema up to date in turn, and every one starts.
#[tokio::test]
async fn instances_started_together_on_a_fresh_postgres_database_all_start() {
    let Some(empty) = app::storage::testing::EmptySchema::postgres().await else { return };
    let mut starts = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let options = empty.options();
        starts.spawn(async move { Db::connect_with(options).await });
    }
    let mut started = Vec::new();
    while let Some(start) = starts.join_next().await {
        started.push(start.unwrap().expect("every instance starts"));
    }
    let ada = user(&started[0], "ada@example.org").await;
    let session = started[3].create_session(ada, "Shared").await.unwrap().unwrap();
    assert_eq!(started[1].session(session.id).await.unwrap().map(|s| s.title), Some("Shared".to_owned()));
    for db in started.drain(1..) {
        db.close().await.ok();
    }
    empty.holding(started.pop().unwrap()).finish().await;
}

async fn an_account_keeps_its_newest_logins(db: Db) {
    use app::rules::accounts::MAX_LOGINS_PER_ACCOUNT;
    let ada = user(&db, "ada@example.org").await;
    let bob = user(&db, "bob@example.org").await;
    db.create_login_session(bob, "bob's", 60_000_000).await.unwrap();
    let mut ended = Vec::new();
    for n in 0..MAX_LOGINS_PER_ACCOUNT + 3 {
        ended.extend(db.create_login_session(ada, &format!("ada {n:03}"), 60_000_000).await.unwrap().unwrap());
    }
    assert_eq!(ended, ["ada 000", "ada 001", "ada 002"], "the oldest end, as each new one comes");
    assert_eq!(db.user_id_for_login_session("ada 000").await.unwrap(), None);
    assert_eq!(db.user_id_for_login_session("ada 003").await.unwrap(), Some(ada));
    assert_eq!(db.user_id_for_login_session("bob's").await.unwrap(), Some(bob), "other accounts keep theirs");
}
test_both_dbs!(an_account_keeps_its_newest_logins);

/// `server backup`: a copy taken while writes go on holds every write acknowledged before it
/// began, and opens as a database; PostgreSQL is refused with a sentence (pg_dump backs it up).
async fn a_backup_taken_under_writes_holds_what_was_acknowledged_before_it(db: Db) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let path = std::env::temp_dir().join(format!("ruche-backup-{}.db", uuid::Uuid::new_v4().simple()));
    if db.backend() != sea_orm::DbBackend::Sqlite {
        let refused = db.backup_to(&path).await.unwrap_err();
        assert!(matches!(refused, app::storage::BackupRefused::NotSqlite));
        assert_eq!(refused.to_string(), "This database is PostgreSQL: back it up with pg_dump (see the README).");
        return;
    }
    let (stop, acknowledged) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Vec::new())));
    let writing = tokio::spawn({
        let (db, stop, acknowledged) = (db.clone(), stop.clone(), acknowledged.clone());
        async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let email = format!("writer{n}@example.org");
                db.create_user(&email, "Writer", "$argon2id$not-checked-here").await.unwrap();
                acknowledged.lock().unwrap().push((std::time::Instant::now(), email));
                n += 1;
            }
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let began = std::time::Instant::now();
    db.backup_to(&path).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    writing.await.unwrap();
    assert!(
        matches!(db.backup_to(&path).await, Err(app::storage::BackupRefused::Exists(_))),
        "an existing file is never overwritten"
    );

    let copy = Db::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    let before: Vec<String> =
        acknowledged.lock().unwrap().iter().filter(|(at, _)| *at < began).map(|(_, e)| e.clone()).collect();
    assert!(before.len() > 5, "writes went on before the copy: {}", before.len());
    for email in &before {
        assert!(copy.user_by_email(email).await.unwrap().is_some(), "{email} was acknowledged before the copy");
    }
    copy.close().await.unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
test_both_dbs!(a_backup_taken_under_writes_holds_what_was_acknowledged_before_it);

/// Notices to the other instances arrive each once and in the order sent, a repeated one too:
/// PostgreSQL folds a transaction's identical notifications into one. SQLite has none to send.
async fn live_notices_arrive_in_order_each_once(db: Db) {
    let Some(mut listener) = db.live_listener().await.unwrap() else {
        db.notify_live(&["unheard".to_owned()]).await.unwrap();
        return;
    };
    // Other tests may notify on the same channel at the same time: this one's carry its tag.
    let tag = uuid::Uuid::new_v4().to_string();
    let sent: Vec<String> = ["a", "b", "a", "a", "c"].iter().map(|k| format!("{tag}:{k}")).collect();
    db.notify_live(&sent).await.unwrap();
    let mut heard = Vec::new();
    while heard.len() < sent.len() {
        let notice = tokio::time::timeout(std::time::Duration::from_secs(10), listener.recv())
            .await
            .unwrap_or_else(|_| panic!("heard only {heard:?}"))
            .unwrap();
        if notice.payload().starts_with(&tag) {
            heard.push(notice.payload().to_owned());
        }
    }
    assert_eq!(heard, sent);
    // Nothing more comes: no notice was sent twice.
    db.notify_live(&[format!("{tag}:end")]).await.unwrap();
    loop {
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), listener.recv()).await.unwrap().unwrap();
        if next.payload().starts_with(&tag) {
            assert_eq!(next.payload(), format!("{tag}:end"));
            break;
        }
    }
}
test_both_dbs!(live_notices_arrive_in_order_each_once);
