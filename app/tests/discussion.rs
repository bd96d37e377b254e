//! The Discussion's storage: each test runs on SQLite and on PostgreSQL (`test_both_dbs!`).
use app::ids::{ParticipantId, SessionId};
use app::rules::discussion::{DiscussionSettings, MessageState, Moderation};
use app::storage::{Cursor, Db, DiscussionWrite, DiscussionWritten, NewMessage, PostRefused, Seen};
use app::test_both_dbs;

async fn session(db: &Db) -> SessionId {
    let ada = db.create_user("ada@example.org", "Ada", "$argon2id$not-checked-here").await.unwrap().id;
    db.create_session(ada, "Town hall").await.unwrap().unwrap().id
}

async fn participant(db: &Db, session: SessionId, browser: &str) -> ParticipantId {
    db.join_session(session, browser).await.unwrap().id
}

async fn settings_default_to_open_published_at_once_under_nicknames(db: Db) {
    let s = session(&db).await;
    assert_eq!(db.discussion_settings(s).await.unwrap(), DiscussionSettings::default());
    let chosen = DiscussionSettings {
        open: false,
        review_first: true,
        anonymous: true,
        on_screen: app::rules::discussion::OnScreen::MostLiked,
    };
    db.set_discussion_settings(s, chosen).await.unwrap();
    assert_eq!(db.discussion_settings(s).await.unwrap(), chosen);
    db.set_discussion_settings(s, DiscussionSettings::default()).await.unwrap();
    assert_eq!(db.discussion_settings(s).await.unwrap(), DiscussionSettings::default(), "changed again in place");
}
test_both_dbs!(settings_default_to_open_published_at_once_under_nicknames);

async fn messages_are_paged_newest_first_and_participants_read_published_ones(db: Db) {
    let s = session(&db).await;
    let zoe = participant(&db, s, "zoe").await;
    let mut posted = Vec::new();
    for i in 0..5 {
        let state = if i == 2 { MessageState::Pending } else { MessageState::Published };
        let m = db.post_message(s, zoe, Some("Zoé"), &format!("message {i}"), state).await.unwrap().unwrap();
        posted.push(m.view);
    }
    let all = db.messages(s, Seen::All, None, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|m| m.view.body.as_str()).collect::<Vec<_>>(),
        ["message 4", "message 3", "message 2", "message 1", "message 0"]
    );
    let published = db.messages(s, Seen::Published, None, 2).await.unwrap();
    assert_eq!(published.iter().map(|m| m.view.body.as_str()).collect::<Vec<_>>(), ["message 4", "message 3"]);
    let last = &published[1].view;
    let older =
        db.messages(s, Seen::Published, Some(Cursor { posted_at: last.posted_at, id: last.id }), 10).await.unwrap();
    assert_eq!(
        older.iter().map(|m| m.view.body.as_str()).collect::<Vec<_>>(),
        ["message 1", "message 0"],
        "the pending one is skipped"
    );
    assert_eq!(db.messages_of(zoe, 10).await.unwrap().len(), 5, "an author reads all of their own");
    assert_eq!(all[0].view.author.as_deref(), Some("Zoé"));
}
test_both_dbs!(messages_are_paged_newest_first_and_participants_read_published_ones);

async fn a_discussion_holds_a_bounded_number_of_messages(db: Db) {
    let s = session(&db).await;
    let zoe = participant(&db, s, "zoe").await;
    for _ in 0..3 {
        db.post_message_within(s, zoe, None, "hi", MessageState::Published, 3).await.unwrap().unwrap();
    }
    assert_eq!(
        db.post_message_within(s, zoe, None, "one more", MessageState::Published, 3).await.unwrap(),
        Err(PostRefused::Full)
    );
    assert_eq!(db.messages(s, Seen::All, None, 10).await.unwrap().len(), 3);
}
test_both_dbs!(a_discussion_holds_a_bounded_number_of_messages);

/// The cap's lock on the session's row is for other posts only: a participant joining the
/// session meanwhile (their row's key check locks the session for key share) neither waits for a
/// group of posts nor holds one up. SQLite has one writer, so there every write waits for the one
/// under way: nothing to check.
async fn a_post_does_not_wait_for_a_join_under_way(db: Db) {
    if !db.is_shared() {
        return;
    }
    let s = session(&db).await;
    let zoe = participant(&db, s, "zoe").await;
    let joining = db.join_under_way_for_tests(s, "late").await.unwrap();
    let posted = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        db.post_message(s, zoe, None, "Hello", MessageState::Published),
    )
    .await;
    joining.rollback().await.unwrap();
    assert!(matches!(posted, Ok(Ok(Ok(_)))), "the post waited for the join: {posted:?}");
}
test_both_dbs!(a_post_does_not_wait_for_a_join_under_way);

async fn likes_are_one_per_participant_and_none_is_lost_at_once(db: Db) {
    let s = session(&db).await;
    let zoe = participant(&db, s, "zoe").await;
    let m = db
        .post_message(s, zoe, None, "Can we have the slides?", MessageState::Published)
        .await
        .unwrap()
        .unwrap()
        .view
        .id;
    assert_eq!(db.like_message(s, m, zoe, true).await.unwrap(), Some(1));
    assert_eq!(db.like_message(s, m, zoe, true).await.unwrap(), Some(1), "a second like by the same one counts once");
    assert_eq!(db.liked_among(zoe, &[m]).await.unwrap(), vec![m]);
    assert_eq!(db.like_message(s, m, zoe, false).await.unwrap(), Some(0));
    assert_eq!(db.like_message(s, m, zoe, false).await.unwrap(), Some(0), "never below zero");
    let mut likers = Vec::new();
    for i in 0..40 {
        likers.push(participant(&db, s, &format!("phone {i}")).await);
    }
    let likes = likers.iter().map(|p| {
        let (db, p) = (db.clone(), *p);
        tokio::spawn(async move { db.like_message(s, m, p, true).await.unwrap() })
    });
    for like in likes.collect::<Vec<_>>() {
        like.await.unwrap();
    }
    assert_eq!(db.message(m).await.unwrap().unwrap().view.likes, 40, "no like lost among simultaneous ones");
}
test_both_dbs!(likes_are_one_per_participant_and_none_is_lost_at_once);

async fn moderation_moves_messages_only_where_it_applies(db: Db) {
    let s = session(&db).await;
    let zoe = participant(&db, s, "zoe").await;
    let m = db.post_message(s, zoe, None, "Review me", MessageState::Pending).await.unwrap().unwrap().view.id;
    assert_eq!(db.moderate_message(m, Moderation::Hide).await.unwrap(), Some(Err(MessageState::Pending)));
    let approved = db.moderate_message(m, Moderation::Approve).await.unwrap().unwrap().unwrap();
    assert_eq!(approved.view.state, MessageState::Published);
    let pinned = db.moderate_message(m, Moderation::Pin).await.unwrap().unwrap().unwrap();
    assert!(pinned.view.pinned);
    let answered = db.moderate_message(m, Moderation::MarkAnswered).await.unwrap().unwrap().unwrap();
    assert!(answered.view.answered && answered.view.pinned);
    assert_eq!(
        db.moderate_message(m, Moderation::Hide).await.unwrap().unwrap().unwrap().view.state,
        MessageState::Hidden
    );
    let edited = db.edit_message(m, zoe, "Reworded").await.unwrap().unwrap();
    assert!(edited.view.edited && edited.view.body == "Reworded");
    let other = participant(&db, s, "other").await;
    assert_eq!(db.edit_message(m, other, "Not mine").await.unwrap(), None, "only its author edits a message");
    assert!(db.delete_message(m).await.unwrap());
    assert_eq!(db.moderate_message(m, Moderation::Approve).await.unwrap(), None);
}
test_both_dbs!(moderation_moves_messages_only_where_it_applies);

async fn a_ban_takes_every_message_of_its_author_and_keeps_them_out(db: Db) {
    let s = session(&db).await;
    let troll = participant(&db, s, "troll").await;
    let zoe = participant(&db, s, "zoe").await;
    let first = db.post_message(s, troll, None, "spam", MessageState::Published).await.unwrap().unwrap().view.id;
    db.post_message(s, troll, None, "more spam", MessageState::Pending).await.unwrap().unwrap();
    let kept =
        db.post_message(s, zoe, None, "A real question", MessageState::Published).await.unwrap().unwrap().view.id;
    let other_session = session_of_someone_else(&db).await;
    assert_eq!(db.ban_author(other_session, first).await.unwrap(), None, "a message of another session");
    let (visitor, gone) = db.ban_author(s, first).await.unwrap().unwrap();
    assert_eq!((visitor.as_str(), gone.len()), ("troll", 2));
    assert!(banned(&db, s, "troll").await);
    assert!(!banned(&db, s, "zoe").await);
    participant(&db, other_session, "troll").await;
    assert!(!banned(&db, other_session, "troll").await, "banned from one session only");
    let left = db.messages(s, Seen::All, None, 10).await.unwrap();
    assert_eq!(left.iter().map(|m| m.view.id).collect::<Vec<_>>(), vec![kept]);
    assert_eq!(db.clear_discussion(s).await.unwrap(), 1);
    assert!(banned(&db, s, "troll").await, "clearing keeps the bans");
}
test_both_dbs!(a_ban_takes_every_message_of_its_author_and_keeps_them_out);

async fn banned(db: &Db, s: SessionId, visitor: &str) -> bool {
    db.speaker(s, visitor).await.unwrap().expect("a participant").banned
}

async fn session_of_someone_else(db: &Db) -> SessionId {
    let bob = db.create_user("bob@example.org", "Bob", "$argon2id$not-checked-here").await.unwrap().id;
    db.create_session(bob, "Elsewhere").await.unwrap().unwrap().id
}

async fn deleting_a_session_takes_its_discussion(db: Db) {
    let s = session(&db).await;
    let zoe = participant(&db, s, "zoe").await;
    let m = db.post_message(s, zoe, None, "bye", MessageState::Published).await.unwrap().unwrap().view.id;
    db.like_message(s, m, zoe, true).await.unwrap();
    db.set_discussion_settings(s, DiscussionSettings { open: false, ..Default::default() }).await.unwrap();
    assert!(db.delete_session(s).await.unwrap());
    assert_eq!(db.message(m).await.unwrap(), None);
}
test_both_dbs!(deleting_a_session_takes_its_discussion);

async fn a_speaker_is_read_with_ban_padlock_and_settings_at_once(db: Db) {
    let s = session(&db).await;
    assert_eq!(db.speaker(s, "zoe").await.unwrap(), None, "not a participant");
    let zoe = participant(&db, s, "zoe").await;
    db.set_nickname(zoe, Some("Zoé")).await.unwrap();
    let found = db.speaker(s, "zoe").await.unwrap().unwrap();
    assert_eq!((found.participant.id, found.participant.nickname.as_deref()), (zoe, Some("Zoé")));
    assert!(found.session_open && !found.banned);
    assert_eq!(found.settings, DiscussionSettings::default(), "no settings stored yet: the defaults");
    let chosen = DiscussionSettings { open: false, review_first: true, ..Default::default() };
    db.set_discussion_settings(s, chosen).await.unwrap();
    db.set_session_open(s, false).await.unwrap();
    let found = db.speaker(s, "zoe").await.unwrap().unwrap();
    assert_eq!((found.session_open, found.settings), (false, chosen));
}
test_both_dbs!(a_speaker_is_read_with_ban_padlock_and_settings_at_once);

async fn speakers_are_read_many_at_once_each_in_their_own_session(db: Db) {
    let (s, other) = (session(&db).await, session_of_someone_else(&db).await);
    let zoe = participant(&db, s, "zoe").await;
    let tom = participant(&db, s, "tom").await;
    let zoe_elsewhere = participant(&db, other, "zoe").await;
    db.set_session_open(other, false).await.unwrap();
    let asks = [(other, "zoe"), (s, "nobody"), (s, "zoe"), (other, "tom"), (s, "tom"), (s, "zoe")];
    let found = db.speakers(&asks).await.unwrap();
    let ids: Vec<Option<ParticipantId>> = found.iter().map(|f| f.as_ref().map(|f| f.participant.id)).collect();
    assert_eq!(ids, [Some(zoe_elsewhere), None, Some(zoe), None, Some(tom), Some(zoe)], "answered in order");
    assert!(!found[0].as_ref().unwrap().session_open && found[2].as_ref().unwrap().session_open);
    assert_eq!(db.speakers(&[]).await.unwrap(), Vec::new());
}
test_both_dbs!(speakers_are_read_many_at_once_each_in_their_own_session);

async fn a_group_of_posts_and_likes_is_one_write_answered_in_order(db: Db) {
    let s = session(&db).await;
    let other = session_of_someone_else(&db).await;
    let zoe = participant(&db, s, "zoe").await;
    let tom = participant(&db, s, "tom").await;
    let seen = db.post_message(s, zoe, None, "Seen", MessageState::Published).await.unwrap().unwrap().view.id;
    let waiting = db.post_message(s, zoe, None, "Waiting", MessageState::Pending).await.unwrap().unwrap().view.id;
    let post = |session, body: &str| {
        DiscussionWrite::Post(NewMessage {
            session,
            participant: tom,
            author: Some("Tom".into()),
            body: body.into(),
            state: MessageState::Published,
        })
    };
    let like = |session, message, participant, like| DiscussionWrite::Like { session, message, participant, like };
    let written = db
        .write_discussion_within(
            &[
                like(s, seen, tom, true),
                post(s, "first of the group"),
                like(s, seen, tom, false),
                like(s, seen, zoe, true),
                like(s, waiting, tom, true),
                like(other, seen, tom, true),
                post(s, "second of the group"),
                post(s, "one too many"),
                like(s, seen, tom, true),
            ],
            4,
        )
        .await
        .unwrap();
    use DiscussionWritten::{Liked, Posted};
    let counts: Vec<Option<u32>> =
        written.iter().filter_map(|w| if let Liked(n) = w { Some(*n) } else { None }).collect();
    assert_eq!(
        counts,
        vec![Some(2), Some(2), Some(2), None, None, Some(2)],
        "every like answered with the count once the group committed; none on a message participants cannot see, \
         nor through another session"
    );
    let posted: Vec<_> =
        written.iter().filter_map(|w| if let Posted(p) = w { Some(p.clone()) } else { None }).collect();
    assert!(posted[0].is_ok() && posted[1].is_ok());
    assert_eq!(posted[2], Err(PostRefused::Full), "the cap counts the group's own posts");
    assert_eq!(db.liked_among(tom, &[seen]).await.unwrap(), vec![seen], "like, take back, like: in that order");
    assert_eq!(db.message(seen).await.unwrap().unwrap().view.likes, 2);
    let newest: Vec<String> =
        db.messages(s, Seen::Published, None, 2).await.unwrap().into_iter().map(|m| m.view.body).collect();
    assert_eq!(newest, ["second of the group", "first of the group"], "a group's posts read in the order they came");
}
test_both_dbs!(a_group_of_posts_and_likes_is_one_write_answered_in_order);

async fn one_group_moves_each_message_by_its_own_likes(db: Db) {
    let s = session(&db).await;
    let (zoe, tom, ann) =
        (participant(&db, s, "zoe").await, participant(&db, s, "tom").await, participant(&db, s, "ann").await);
    let mut ids = Vec::new();
    for body in ["up by two", "down by one", "back where it was", "untouched"] {
        ids.push(db.post_message(s, zoe, None, body, MessageState::Published).await.unwrap().unwrap().view.id);
    }
    let (up, down, same, untouched) = (ids[0], ids[1], ids[2], ids[3]);
    for (message, who) in [(down, tom), (down, ann), (untouched, ann)] {
        db.like_message(s, message, who, true).await.unwrap();
    }
    let like = |message, participant, like| DiscussionWrite::Like { session: s, message, participant, like };
    let written = db
        .write_discussion(&[
            like(up, tom, true),
            like(down, tom, false),
            like(same, ann, true),
            like(up, ann, true),
            like(same, ann, false),
        ])
        .await
        .unwrap();
    let counts: Vec<DiscussionWritten> =
        [2, 1, 0, 2, 0].into_iter().map(|n| DiscussionWritten::Liked(Some(n))).collect();
    assert_eq!(written, counts);
    let stored = db.like_counts(&ids).await.unwrap();
    let stored: std::collections::HashMap<_, _> = stored.into_iter().collect();
    assert_eq!([stored[&up], stored[&down], stored[&same], stored[&untouched]], [2, 1, 0, 1]);
}
test_both_dbs!(one_group_moves_each_message_by_its_own_likes);
