//! The Discussion's server functions over HTTP, on SQLite and PostgreSQL: who may post, like,
//! moderate and ban, and every refusal's sentence and status, enforced on the server whatever a
//! page shows.
use app::rules::discussion::{DiscussionError, DiscussionSettings, MessageState};
use app::states::{DiscussionView, MessageView};
use app::storage::Db;
use app::test_both_dbs;
use axum::http::StatusCode;
use common::{create_session, router, Client};

mod common;

/// Ada's session, and Zoé, who joined it by its code.
async fn room(router: &axum::Router) -> (Client, String, Client) {
    let mut ada = Client::signed_up(router, "ada@example.org").await;
    let id = create_session(&mut ada, "Town hall").await;
    let zoe = joined(router, &mut ada, &id, [198, 51, 100, 1]).await;
    (ada, id, zoe)
}

async fn joined(router: &axum::Router, host: &mut Client, id: &str, ip: [u8; 4]) -> Client {
    let code = host
        .call("host_session", &[("id", id)])
        .await
        .json::<app::functions::sessions::SessionForHost>()
        .ways_in
        .code
        .clone();
    let mut phone = Client::from(router, ip);
    assert_eq!(phone.call("join_by_code", &[("code", &code)]).await.json::<String>(), id);
    phone
}

fn refused(reply: &common::Reply) -> (StatusCode, DiscussionError) {
    (reply.status, reply.json())
}

async fn participants_post_and_read_published_messages_under_their_nickname(db: Db) {
    let router = router(db);
    let (_ada, id, mut zoe) = room(&router).await;
    let reply = zoe.call("post_message", &[("id", &id), ("text", "Where are the slides?")]).await;
    assert_eq!(
        refused(&reply),
        (StatusCode::BAD_REQUEST, DiscussionError::NicknameNeeded),
        "a nickname is asked for first"
    );
    let posted: MessageView =
        zoe.call("post_message", &[("id", &id), ("text", " Where are the slides? "), ("nickname", "Zoé")]).await.json();
    assert_eq!(
        (posted.body.as_str(), posted.author.as_deref(), posted.state),
        ("Where are the slides?", Some("Zoé"), MessageState::Published)
    );
    let again: MessageView = zoe.call("post_message", &[("id", &id), ("text", "And the recording?")]).await.json();
    assert_eq!(again.author.as_deref(), Some("Zoé"), "the nickname given is kept");
    let view: DiscussionView = zoe.call("participant_discussion", &[("id", &id)]).await.json();
    assert_eq!(
        view.messages.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["And the recording?", "Where are the slides?"]
    );
    assert_eq!(view.mine.len(), 2);
    let long = "x".repeat(501);
    let reply = zoe.call("post_message", &[("id", &id), ("text", &long)]).await;
    assert_eq!(refused(&reply), (StatusCode::BAD_REQUEST, DiscussionError::MessageTooLong));
    let reply = zoe.call("post_message", &[("id", &id), ("text", "   ")]).await;
    assert_eq!(refused(&reply), (StatusCode::BAD_REQUEST, DiscussionError::EmptyMessage));
    // The longest message in the widest characters fits the request body limit.
    let bees = "🐝".repeat(500);
    let reply = zoe.call("post_message", &[("id", &id), ("text", &bees)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}
test_both_dbs!(participants_post_and_read_published_messages_under_their_nickname);

async fn only_participants_of_the_session_may_speak(db: Db) {
    let router = router(db);
    let (_ada, id, _zoe) = room(&router).await;
    let mut stranger = Client::from(&router, [198, 51, 100, 9]);
    let reply = stranger.call("post_message", &[("id", &id), ("text", "Hello"), ("nickname", "Eve")]).await;
    assert_eq!(refused(&reply), (StatusCode::FORBIDDEN, DiscussionError::NotJoined));
    let reply = stranger.call("participant_discussion", &[("id", &id)]).await;
    assert_eq!(refused(&reply), (StatusCode::FORBIDDEN, DiscussionError::NotJoined));
    let reply = stranger
        .call("set_discussion", &[("id", &id), ("open", "false"), ("review_first", "false"), ("anonymous", "false")])
        .await;
    assert_eq!(refused(&reply), (StatusCode::UNAUTHORIZED, DiscussionError::NotLoggedIn));
    let mut bob = Client::signed_up(&router, "bob@example.org").await;
    let reply = bob
        .call("set_discussion", &[("id", &id), ("open", "false"), ("review_first", "false"), ("anonymous", "false")])
        .await;
    assert_eq!(refused(&reply), (StatusCode::FORBIDDEN, DiscussionError::NoAccess), "another account is no host");
}
test_both_dbs!(only_participants_of_the_session_may_speak);

async fn posts_are_paced_per_participant(db: Db) {
    let router = router(db);
    let (mut ada, id, mut zoe) = room(&router).await;
    let mut tom = joined(&router, &mut ada, &id, [198, 51, 100, 2]).await;
    for n in 0..3 {
        let reply =
            zoe.call("post_message", &[("id", &id), ("text", &format!("point {n}")), ("nickname", "Zoé")]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let reply = zoe.call("post_message", &[("id", &id), ("text", "one too many")]).await;
    assert!(matches!(refused(&reply), (StatusCode::TOO_MANY_REQUESTS, DiscussionError::TooFast(_))));
    assert!(reply.headers.contains_key("retry-after"));
    let reply = tom.call("post_message", &[("id", &id), ("text", "My turn"), ("nickname", "Tom")]).await;
    assert_eq!(reply.status, StatusCode::OK, "one participant's pace holds nobody else back");
}
test_both_dbs!(posts_are_paced_per_participant);

async fn a_closed_discussion_is_read_only_and_a_closed_session_silent(db: Db) {
    let router = router(db);
    let (mut ada, id, mut zoe) = room(&router).await;
    let first: MessageView =
        zoe.call("post_message", &[("id", &id), ("text", "Before"), ("nickname", "Zoé")]).await.json();
    let closed: DiscussionSettings = ada
        .call("set_discussion", &[("id", &id), ("open", "false"), ("review_first", "false"), ("anonymous", "false")])
        .await
        .json();
    assert!(!closed.open);
    let reply = zoe.call("post_message", &[("id", &id), ("text", "After")]).await;
    assert_eq!(refused(&reply), (StatusCode::FORBIDDEN, DiscussionError::DiscussionClosed));
    let reply = zoe.call("like_message", &[("id", &id), ("message", &first.id.to_string()), ("like", "true")]).await;
    assert_eq!(refused(&reply), (StatusCode::FORBIDDEN, DiscussionError::DiscussionClosed));
    let view: DiscussionView = zoe.call("participant_discussion", &[("id", &id)]).await.json();
    assert_eq!((view.settings.open, view.messages.len()), (false, 1), "still readable");
    ada.call("set_discussion", &[("id", &id), ("open", "true"), ("review_first", "false"), ("anonymous", "false")])
        .await;
    ada.call("set_session_open", &[("id", &id), ("open", "false")]).await;
    let reply = zoe.call("post_message", &[("id", &id), ("text", "Anyone?")]).await;
    assert_eq!(refused(&reply), (StatusCode::FORBIDDEN, DiscussionError::SessionClosed));
}
test_both_dbs!(a_closed_discussion_is_read_only_and_a_closed_session_silent);

async fn review_first_holds_posts_until_a_host_approves(db: Db) {
    let router = router(db);
    let (mut ada, id, mut zoe) = room(&router).await;
    let mut tom = joined(&router, &mut ada, &id, [198, 51, 100, 2]).await;
    ada.call("set_discussion", &[("id", &id), ("open", "true"), ("review_first", "true"), ("anonymous", "true")]).await;
    let waiting: MessageView = zoe.call("post_message", &[("id", &id), ("text", "Is this recorded?")]).await.json();
    assert_eq!((waiting.state, waiting.author.clone()), (MessageState::Pending, None), "anonymous, and waiting");
    let seen: DiscussionView = tom.call("participant_discussion", &[("id", &id)]).await.json();
    assert!(seen.messages.is_empty(), "others do not see it yet");
    let mine: DiscussionView = zoe.call("participant_discussion", &[("id", &id)]).await.json();
    assert_eq!(mine.mine.first().map(|m| m.state), Some(MessageState::Pending), "its author sees it waiting");
    let reply = tom.call("like_message", &[("id", &id), ("message", &waiting.id.to_string()), ("like", "true")]).await;
    assert_eq!(
        refused(&reply),
        (StatusCode::NOT_FOUND, DiscussionError::NoSuchMessage),
        "nothing unpublished is liked"
    );
    let reply = tom
        .call("moderate_message", &[("id", &id), ("message", &waiting.id.to_string()), ("decision", "Approve")])
        .await;
    assert_eq!(
        refused(&reply),
        (StatusCode::UNAUTHORIZED, DiscussionError::NotLoggedIn),
        "participants do not moderate"
    );
    let (_, listed): (DiscussionSettings, Vec<MessageView>) = ada.call("host_discussion", &[("id", &id)]).await.json();
    assert_eq!(listed.iter().map(|m| m.state).collect::<Vec<_>>(), [MessageState::Pending], "hosts see what waits");
    let approved: MessageView = ada
        .call("moderate_message", &[("id", &id), ("message", &waiting.id.to_string()), ("decision", "Approve")])
        .await
        .json();
    assert_eq!(approved.state, MessageState::Published);
    let reply = ada
        .call("moderate_message", &[("id", &id), ("message", &waiting.id.to_string()), ("decision", "Refuse")])
        .await;
    assert_eq!(refused(&reply), (StatusCode::CONFLICT, DiscussionError::NotApplicable));
    let seen: DiscussionView = tom.call("participant_discussion", &[("id", &id)]).await.json();
    assert_eq!(seen.messages.len(), 1);
    assert_eq!(
        tom.call("like_message", &[("id", &id), ("message", &waiting.id.to_string()), ("like", "true")])
            .await
            .json::<u32>(),
        1
    );
    assert_eq!(
        zoe.call("like_message", &[("id", &id), ("message", &waiting.id.to_string()), ("like", "true")])
            .await
            .json::<u32>(),
        2
    );
    assert_eq!(
        zoe.call("like_message", &[("id", &id), ("message", &waiting.id.to_string()), ("like", "true")])
            .await
            .json::<u32>(),
        2,
        "one like each"
    );
}
test_both_dbs!(review_first_holds_posts_until_a_host_approves);

async fn authors_change_only_their_own_and_a_ban_keeps_one_out(db: Db) {
    let router = router(db);
    let (mut ada, id, mut zoe) = room(&router).await;
    let mut troll = joined(&router, &mut ada, &id, [198, 51, 100, 3]).await;
    let zoes: MessageView =
        zoe.call("post_message", &[("id", &id), ("text", "Good talk"), ("nickname", "Zoé")]).await.json();
    let spam: MessageView =
        troll.call("post_message", &[("id", &id), ("text", "BUY NOW"), ("nickname", "Spam")]).await.json();
    let reply =
        troll.call("edit_message", &[("id", &id), ("message", &zoes.id.to_string()), ("text", "Bad talk")]).await;
    assert_eq!(refused(&reply), (StatusCode::FORBIDDEN, DiscussionError::NotYours));
    let reply = troll.call("delete_own_message", &[("id", &id), ("message", &zoes.id.to_string())]).await;
    assert_eq!(refused(&reply), (StatusCode::FORBIDDEN, DiscussionError::NotYours));
    let edited: MessageView = zoe
        .call("edit_message", &[("id", &id), ("message", &zoes.id.to_string()), ("text", "Great talk")])
        .await
        .json();
    assert!(edited.edited && edited.body == "Great talk");
    assert_eq!(ada.call("ban_author", &[("id", &id), ("message", &spam.id.to_string())]).await.json::<usize>(), 1);
    let reply = troll.call("post_message", &[("id", &id), ("text", "again")]).await;
    assert_eq!(refused(&reply), (StatusCode::FORBIDDEN, DiscussionError::Banned));
    let reply = troll.call("participant_discussion", &[("id", &id)]).await;
    assert_eq!(refused(&reply), (StatusCode::FORBIDDEN, DiscussionError::Banned));
    let view: DiscussionView = zoe.call("participant_discussion", &[("id", &id)]).await.json();
    assert_eq!(
        view.messages.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["Great talk"],
        "the banned one's messages went"
    );
    assert_eq!(ada.call("clear_discussion", &[("id", &id)]).await.json::<u64>(), 1);
    let reply = ada.call("delete_message", &[("id", &id), ("message", &zoes.id.to_string())]).await;
    assert_eq!(refused(&reply), (StatusCode::NOT_FOUND, DiscussionError::NoSuchMessage));
}
test_both_dbs!(authors_change_only_their_own_and_a_ban_keeps_one_out);

/// The export: hosts only; every message whatever its state, as text a spreadsheet never runs.
async fn hosts_export_the_discussion_as_csv(db: Db) {
    let router = router(db);
    let (mut ada, id, mut zoe) = room(&router).await;
    zoe.call("post_message", &[("id", &id), ("text", "=HYPERLINK(\"http://x\"), click"), ("nickname", "Zoé")]).await;
    ada.call("set_discussion", &[("id", &id), ("open", "true"), ("review_first", "true"), ("anonymous", "true")]).await;
    zoe.call("post_message", &[("id", &id), ("text", "Line one\nline two")]).await;
    let csv = ada.page(&format!("/s/{id}/discussion.csv")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.body.split("\r\n").collect();
    assert_eq!(lines[0], "Message,Author,Likes,State,Posted (UTC)");
    assert!(csv.body.contains("\"Line one\nline two\",Anonymous,0,Waiting for moderation,"), "{}", csv.body);
    assert!(csv.body.contains("\"'=HYPERLINK(\"\"http://x\"\"), click\",Zoé,0,Published,"), "{}", csv.body);
    assert_eq!(
        zoe.page(&format!("/s/{id}/discussion.csv")).await.status,
        StatusCode::FORBIDDEN,
        "not for participants"
    );
    let mut bob = Client::signed_up(&router, "bob@example.org").await;
    assert_eq!(bob.page(&format!("/s/{id}/discussion.csv")).await.status, StatusCode::FORBIDDEN, "nor other accounts");

    // In the language of the host who downloads it, as is the refusal.
    let french = ada.page_with(&format!("/s/{id}/discussion.csv"), &[("accept-language", "fr")]).await;
    assert!(french.body.starts_with("Message,Auteur,J’aime,État,Publié le (UTC)\r\n"), "{}", french.body);
    assert!(french.body.contains(",Anonyme,0,En attente de modération,"), "{}", french.body);
    let refused = bob.page_with(&format!("/s/{id}/discussion.csv"), &[("accept-language", "fr")]).await;
    assert_eq!(
        (refused.status, refused.body.as_str()),
        (StatusCode::FORBIDDEN, "Vous n’avez pas accès à cette session.")
    );
}
test_both_dbs!(hosts_export_the_discussion_as_csv);
