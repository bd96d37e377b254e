//! Administering an instance over HTTP, on SQLite and PostgreSQL: the first account administers,
//! the account list and its search, disabling (logins end, sessions close, mail dropped),
//! enabling, deleting with the sessions, invitations (`SIGNUP=invite`), and who may do any of it.
use app::functions::administration::AccountList;
use app::rules::accounts::{AccountError, SignUpPolicy};
use app::rules::administration::AdminError;
use app::rules::joining::JoinError;
use app::rules::mail::MailKind;
use app::services::ServerContext;
use app::storage::Db;
use app::test_both_dbs;
use axum::http::StatusCode;
use common::{create_session, router_with, Client};

mod common;

fn context(db: Db, signup: SignUpPolicy) -> ServerContext {
    let mut ctx = ServerContext::new(db, "http://127.0.0.1:3000", Vec::new());
    ctx.limits = std::sync::Arc::new(app::services::limits::Limits::default().with_frozen_clock());
    ctx.signup = signup;
    ctx
}

async fn list(client: &mut Client, search: &str) -> AccountList {
    let reply = client.call("accounts", &[("search", search)]).await;
    assert!(reply.status.is_success(), "{} {}", reply.status, reply.body);
    reply.json()
}

async fn id_of(db: &Db, email: &str) -> String {
    db.user_by_email(email).await.unwrap().expect("an account").user.id.to_string()
}

async fn log_in(client: &mut Client, email: &str) -> common::Reply {
    client.call("log_in", &[("email", email), ("password", "long enough")]).await
}

async fn the_first_account_administers_and_lists_accounts(db: Db) {
    let router = router_with(context(db.clone(), SignUpPolicy::Open));
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let mut bob = Client::from(&router, [198, 51, 100, 2]);
    bob.call("sign_up", &[("email", "bob@example.org"), ("display_name", "Bob Percent_"), ("password", "long enough")])
        .await;
    assert!(db.user_by_email("ada@example.org").await.unwrap().unwrap().user.is_admin, "the first account");
    assert!(!db.user_by_email("bob@example.org").await.unwrap().unwrap().user.is_admin, "not the second");
    create_session(&mut bob, "One").await;
    create_session(&mut bob, "Two").await;

    let all = list(&mut ada, "").await;
    assert_eq!(all.lines.iter().map(|l| l.email.as_str()).collect::<Vec<_>>(), ["bob@example.org", "ada@example.org"]);
    assert_eq!((all.lines[0].sessions, all.lines[1].sessions), (2, 0));
    assert!(all.lines[1].is_admin && all.lines[1].last_login_at.is_some() && !all.more && all.invitations);
    assert_eq!(all.me.to_string(), id_of(&db, "ada@example.org").await);
    // By address or name, whatever the case; LIKE's wildcards are searched as typed.
    assert_eq!(list(&mut ada, " BOB ").await.lines.len(), 1);
    assert_eq!(list(&mut ada, "percent_").await.lines.len(), 1);
    assert_eq!(list(&mut ada, "%").await.lines.len(), 0);
    assert_eq!(list(&mut ada, "t_").await.lines.len(), 1, "Bob Percent_ only: _ is no wildcard");
    let long = "a".repeat(101);
    let reply = ada.call("accounts", &[("search", &long)]).await;
    assert_eq!((reply.status, reply.json::<AdminError>()), (StatusCode::BAD_REQUEST, AdminError::SearchTooLong));

    // The list shows the newest `ACCOUNTS_SHOWN` and says there are more.
    for n in 0..app::rules::administration::ACCOUNTS_SHOWN {
        db.create_user(&format!("user{n}@example.org"), "User", "hash").await.unwrap();
    }
    let page = list(&mut ada, "").await;
    assert_eq!(page.lines.len() as u64, app::rules::administration::ACCOUNTS_SHOWN);
    assert!(page.more && page.lines[0].email.starts_with("user"));

    // The top bar links to the list for administrators only.
    assert!(ada.page("/sessions").await.body.contains(r#"href="/admin""#));
    assert!(!bob.page("/sessions").await.body.contains(r#"href="/admin""#));
    let mut page = ada.page("/admin?q=bob").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("bob@example.org") && !page.body.contains("user1@example.org"));
    page = bob.page("/admin").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("Only an administrator of this Ruche can do this."));
}
test_both_dbs!(the_first_account_administers_and_lists_accounts);

async fn disabling_ends_logins_closes_sessions_and_drops_mail(db: Db) {
    let router = router_with(context(db.clone(), SignUpPolicy::Open));
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let mut bob = Client::signed_up_verified(&router, &db, "bob@example.org").await;
    let mut bob_laptop = Client::from(&router, [198, 51, 100, 3]);
    assert!(log_in(&mut bob_laptop, "bob@example.org").await.status.is_success());
    let id = create_session(&mut bob, "Bob's").await;
    let host: app::functions::sessions::SessionForHost = bob.call("host_session", &[("id", &id)]).await.json();
    let reply = bob.call("send_invitations", &[("id", &id), ("addresses", "p@example.org")]).await;
    assert!(reply.status.is_success(), "{}", reply.body);
    let bob_id = id_of(&db, "bob@example.org").await;

    // Not their own account.
    let ada_id = id_of(&db, "ada@example.org").await;
    let reply = ada.call("disable_account", &[("id", &ada_id)]).await;
    assert_eq!((reply.status, reply.json::<AdminError>()), (StatusCode::FORBIDDEN, AdminError::OwnAccount));

    assert!(ada.call("disable_account", &[("id", &bob_id)]).await.status.is_success());
    for client in [&mut bob, &mut bob_laptop] {
        let reply = client.call("my_sessions", &[]).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "every login ended: {}", reply.body);
    }
    assert!(!db.session(id.parse().unwrap()).await.unwrap().unwrap().is_open, "the session closed");
    let mut zoe = Client::from(&router, [203, 0, 113, 9]);
    let reply = zoe.call("join_by_code", &[("code", &host.ways_in.code)]).await;
    assert_eq!(reply.json::<JoinError>(), JoinError::Closed);
    let mails = db.mail_to("p@example.org").await.unwrap();
    assert!(mails.iter().all(|m| m.gave_up_at.is_some() && m.sent_at.is_none()), "pending mail dropped");

    // It cannot log in again, nor get a reset link.
    let reply = log_in(&mut bob, "bob@example.org").await;
    assert_eq!((reply.status, reply.json::<AccountError>()), (StatusCode::FORBIDDEN, AccountError::Disabled));
    assert_eq!(
        reply.json::<AccountError>().to_string(),
        "This account is disabled. Ask the administrator of this Ruche."
    );
    let before = db.mail_to("bob@example.org").await.unwrap().len();
    assert!(bob.call("request_password_reset", &[("email", "bob@example.org")]).await.status.is_success());
    assert_eq!(db.mail_to("bob@example.org").await.unwrap().len(), before, "no link for a disabled account");
    let line = list(&mut ada, "bob").await.lines.remove(0);
    assert!(line.disabled);
    assert!(ada.page("/admin?q=bob").await.body.contains("Disabled"));

    // Enabled, it logs in again; its session stays closed until it opens it.
    assert!(ada.call("enable_account", &[("id", &bob_id)]).await.status.is_success());
    assert!(log_in(&mut bob, "bob@example.org").await.status.is_success());
    assert!(!db.session(id.parse().unwrap()).await.unwrap().unwrap().is_open);
    assert!(!list(&mut ada, "bob").await.lines[0].disabled);

    let unknown = uuid::Uuid::new_v4().to_string();
    for name in ["disable_account", "enable_account", "delete_account"] {
        let reply = ada.call(name, &[("id", &unknown)]).await;
        assert_eq!((reply.status, reply.json::<AdminError>()), (StatusCode::NOT_FOUND, AdminError::NoSuchAccount));
    }
    let reply = ada.call("disable_account", &[("id", "not an id")]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}
test_both_dbs!(disabling_ends_logins_closes_sessions_and_drops_mail);

async fn deleting_an_account_takes_its_sessions(db: Db) {
    let router = router_with(context(db.clone(), SignUpPolicy::Open));
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let mut bob = Client::signed_up(&router, "bob@example.org").await;
    let first = create_session(&mut bob, "One").await;
    create_session(&mut bob, "Two").await;
    let kept = create_session(&mut ada, "Ada's").await;
    let code = bob.call("host_session", &[("id", &first)]).await.json::<app::functions::sessions::SessionForHost>();
    let bob_id = id_of(&db, "bob@example.org").await;

    let ada_id = id_of(&db, "ada@example.org").await;
    let reply = ada.call("delete_account", &[("id", &ada_id)]).await;
    assert_eq!((reply.status, reply.json::<AdminError>()), (StatusCode::FORBIDDEN, AdminError::OwnAccount));

    // The confirmation page says what goes.
    let page = ada.page(&format!("/admin/accounts/{bob_id}/delete")).await;
    assert!(page.body.contains("Its 2 sessions go with it"), "{}", page.body);
    assert!(ada.call("delete_account", &[("id", &bob_id)]).await.status.is_success());
    assert!(db.user_by_email("bob@example.org").await.unwrap().is_none());
    assert!(db.session(first.parse().unwrap()).await.unwrap().is_none());
    assert!(db.session_was_deleted(first.parse().unwrap()).await.unwrap());
    let mut zoe = Client::from(&router, [203, 0, 113, 9]);
    assert_eq!(zoe.call("join_by_code", &[("code", &code.ways_in.code)]).await.json::<JoinError>(), JoinError::Deleted);
    assert_eq!(bob.call("my_sessions", &[]).await.status, StatusCode::UNAUTHORIZED);
    assert!(db.session(kept.parse().unwrap()).await.unwrap().is_some(), "others' sessions stay");
    let page = ada.page(&format!("/admin/accounts/{bob_id}/delete")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    // The address is free again.
    let again = Client::signed_up(&router, "bob@example.org").await;
    drop(again);
    // Without JavaScript, the form lands back on the list, which says so.
    let carol = Client::signed_up(&router, "carol@example.org").await;
    drop(carol);
    let carol_id = id_of(&db, "carol@example.org").await;
    let reply = ada.submit("delete_account", &[("id", &carol_id)]).await;
    assert_eq!(reply.headers.get("location").unwrap(), "/admin?done=deleted");
    assert!(ada.page("/admin?done=deleted").await.body.contains("The account and its sessions are deleted."));
}
test_both_dbs!(deleting_an_account_takes_its_sessions);

/// Who may administer: an administrator only; any other account 403, nobody 401.
async fn only_administrators_administer(db: Db) {
    let router = router_with(context(db.clone(), SignUpPolicy::Open));
    let mut admin = Client::signed_up(&router, "admin@example.org").await;
    let mut owner = Client::signed_up_verified(&router, &db, "owner@example.org").await;
    create_session(&mut owner, "Mine").await;
    let mut nobody = Client::anonymous(&router);
    // Another account the actions are about: disabling the caller would log it out.
    db.create_user("target@example.org", "Target", "hash").await.unwrap();
    let target = id_of(&db, "target@example.org").await;
    let actions: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("accounts", vec![("search", "")]),
        ("account_for_admin", vec![("id", target.as_str())]),
        ("invite_account", vec![("email", "new@example.org")]),
        ("disable_account", vec![("id", target.as_str())]),
        ("enable_account", vec![("id", target.as_str())]),
        // Last: once deleted there is nothing left to refuse.
        ("delete_account", vec![("id", target.as_str())]),
    ];
    for (name, form) in &actions {
        let reply = nobody.call(name, form).await;
        assert_eq!((reply.status, reply.json::<AdminError>()), (StatusCode::UNAUTHORIZED, AdminError::NotLoggedIn));
        let reply = owner.call(name, form).await;
        assert_eq!((reply.status, reply.json::<AdminError>()), (StatusCode::FORBIDDEN, AdminError::NotAdmin), "{name}");
        let reply = admin.call(name, form).await;
        assert!(reply.status.is_success(), "the administrator may {name}: {} {}", reply.status, reply.body);
    }
    assert!(db.user_by_email("target@example.org").await.unwrap().is_none());
    // The pages too: the list sends nobody to log in, and refuses an account.
    let page = nobody.page("/admin").await;
    assert!(page.status.is_redirection() || page.body.contains("/login?next="), "{}", page.status);
    let mut eve = Client::signed_up(&router, "eve@example.org").await;
    assert_eq!(eve.page("/admin").await.status, StatusCode::FORBIDDEN);

    // An administrator named by the command, and the right taken back.
    assert!(db.set_admin("eve@example.org", true).await.unwrap());
    assert!(eve.call("accounts", &[("search", "")]).await.status.is_success());
    assert!(db.set_admin("eve@example.org", false).await.unwrap());
    assert_eq!(eve.call("accounts", &[("search", "")]).await.status, StatusCode::FORBIDDEN);
    assert!(!db.set_admin("nobody@example.org", true).await.unwrap());
}
test_both_dbs!(only_administrators_administer);

/// The token of the last unsent mail of `kind` to `address`, as its link carries it.
async fn token_of_last_mail(db: &Db, address: &str) -> String {
    let mails = db.mail_to(address).await.unwrap();
    let mail = mails.iter().rev().find(|m| m.kind == Some(MailKind::AccountInvitation)).expect("an invitation");
    mail.token.clone().expect("an unsent mail keeps its token")
}

/// What `server admin add` does for an address without an account: an invitation that makes
/// an administrator, printed rather than mailed. Returns its token.
async fn printed_invitation(db: &Db, email: &str) -> String {
    use app::rules::administration::{INVITATION_LIFETIME_SECS, MAX_PENDING_INVITATIONS};
    let token = app::rules::secrets::new_login_token();
    let digest = app::rules::secrets::login_token_digest(&token);
    let lifetime = INVITATION_LIFETIME_SECS * 1_000_000;
    db.invite_account(email, None, &token, &digest, lifetime, MAX_PENDING_INVITATIONS).await.unwrap().unwrap();
    token
}

async fn invitations_let_the_invited_address_in(db: Db) {
    let router = router_with(context(db.clone(), SignUpPolicy::Invite));
    // Nobody signs up uninvited, not even the first account: `server admin add` prints its link.
    let mut first = Client::anonymous(&router);
    let form = [("email", "ada@example.org"), ("display_name", "Ada"), ("password", "long enough")];
    let reply = first.call("sign_up", &form).await;
    assert_eq!((reply.status, reply.json::<AccountError>()), (StatusCode::FORBIDDEN, AccountError::SignUpByInvitation));
    let page = first.page("/signup").await;
    assert!(page.body.contains("Accounts here are by invitation only.") && !page.body.contains(r#"name="password""#));
    let token = printed_invitation(&db, "ada@example.org").await;
    assert!(db.mail_to("ada@example.org").await.unwrap().is_empty(), "printed, not mailed");
    let page = first.page(&format!("/invitation/{token}")).await;
    assert!(page.body.contains(r#"value="ada@example.org""#), "the page shows the invited address");
    let form = [("invite", token.as_str()), ("email", ""), ("display_name", "Ada"), ("password", "long enough")];
    let reply = first.call("sign_up", &form).await;
    assert!(reply.status.is_success(), "{} {}", reply.status, reply.body);
    let ada = db.user_by_email("ada@example.org").await.unwrap().unwrap().user;
    assert!(ada.is_admin && ada.email_verified, "an administrator, whose link proved the address");
    let mut ada_client = first;

    // The administrator invites by mail; the link creates the account for that address only.
    let reply = ada_client.call("invite_account", &[("email", " Carol@Example.org ")]).await;
    assert_eq!(reply.json::<String>(), "An invitation is on its way to carol@example.org. Its link works for 14 days.");
    let carol_token = token_of_last_mail(&db, "carol@example.org").await;
    let mut carol = Client::from(&router, [198, 51, 100, 7]);
    let form = [
        ("invite", carol_token.as_str()),
        ("email", "mallory@example.org"),
        ("display_name", "Carol"),
        ("password", "long enough"),
    ];
    assert!(carol.call("sign_up", &form).await.status.is_success());
    assert!(db.user_by_email("mallory@example.org").await.unwrap().is_none());
    let carol_user = db.user_by_email("carol@example.org").await.unwrap().unwrap().user;
    assert!(carol_user.email_verified && !carol_user.is_admin);
    assert!(carol.call("my_sessions", &[]).await.status.is_success(), "logged in");
    // Used once.
    let mut again = Client::from(&router, [198, 51, 100, 8]);
    let reply = again.call("sign_up", &form).await;
    assert_eq!((reply.status, reply.json::<AccountError>()), (StatusCode::GONE, AccountError::LinkExpired));
    assert_eq!(again.page(&format!("/invitation/{carol_token}")).await.status, StatusCode::GONE);

    // Inviting again replaces the earlier link; an address with an account, or a bad one, is refused.
    ada_client.call("invite_account", &[("email", "dan@example.org")]).await.json::<String>();
    let old = token_of_last_mail(&db, "dan@example.org").await;
    ada_client.call("invite_account", &[("email", "dan@example.org")]).await.json::<String>();
    assert_eq!(again.page(&format!("/invitation/{old}")).await.status, StatusCode::GONE);
    let reply = ada_client.call("invite_account", &[("email", "carol@example.org")]).await;
    assert_eq!((reply.status, reply.json::<AdminError>()), (StatusCode::CONFLICT, AdminError::AlreadyAnAccount));
    let reply = ada_client.call("invite_account", &[("email", "not an address")]).await;
    assert_eq!((reply.status, reply.json::<AdminError>()), (StatusCode::BAD_REQUEST, AdminError::InvalidEmail));
    // Without JavaScript, the form lands back on the list, which says so.
    let reply = ada_client.submit("invite_account", &[("email", "erin@example.org")]).await;
    assert_eq!(reply.headers.get("location").unwrap(), "/admin?done=invited");

    // Pending invitations are bounded on the whole instance.
    let (token, digest) = ("t".to_owned(), "d".to_owned());
    let lifetime = app::rules::administration::INVITATION_LIFETIME_SECS * 1_000_000;
    let refused = db.invite_account("x@example.org", Some(ada.id), &token, &digest, lifetime, 2).await.unwrap();
    assert_eq!(refused, Err(app::storage::InvitationRefused::TooMany), "dan and erin wait already");
}
test_both_dbs!(invitations_let_the_invited_address_in);

async fn a_closed_instance_takes_only_the_commands_invitation(db: Db) {
    let router = router_with(context(db.clone(), SignUpPolicy::Closed));
    let token = printed_invitation(&db, "ada@example.org").await;
    let mut ada = Client::anonymous(&router);
    let form = [("invite", token.as_str()), ("email", ""), ("display_name", "Ada"), ("password", "long enough")];
    assert!(ada.call("sign_up", &form).await.status.is_success());
    let reply = ada.call("invite_account", &[("email", "bob@example.org")]).await;
    assert_eq!((reply.status, reply.json::<AdminError>()), (StatusCode::FORBIDDEN, AdminError::InvitationsOff));
    assert!(!list(&mut ada, "").await.invitations);
    assert!(!ada.page("/admin").await.body.contains("Send the invitation"));
}
test_both_dbs!(a_closed_instance_takes_only_the_commands_invitation);
