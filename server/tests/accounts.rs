//! Accounts on SQLite and PostgreSQL: the single-use links mailed to an account (password
//! reset, address verification: only digests kept, single use, expiry, a new one replacing the
//! old), changing the password ending the other logins, and verified addresses.
use app::functions::accounts::Account;
use app::ids::UserId;
use app::rules::accounts::AccountError;
use app::rules::accounts::{passwords, TokenPurpose};
use app::rules::language::Lang;
use app::rules::limits::LOGIN_FAILURES_PER_ACCOUNT;
use app::rules::mail::MailKind;
use app::rules::secrets::{login_token_digest, new_login_token};
use app::storage::Db;
use app::test_both_dbs;
use app::texts;
use axum::http::StatusCode;
use common::{router, Client};

mod common;

async fn user(db: &Db, email: &str) -> UserId {
    db.create_user(email, "Ada", &passwords::hash("first password").unwrap()).await.unwrap().id
}

/// Queues the mail with a fresh link, as the server functions do; returns the token it carries.
async fn mail_link(db: &Db, user: UserId, email: &str, purpose: TokenPurpose) -> String {
    let token = new_login_token();
    db.mail_account_link(user, email, purpose, &token, &login_token_digest(&token)).await.unwrap();
    token
}

async fn login(db: &Db, user: UserId) -> String {
    let digest = login_token_digest(&new_login_token());
    db.create_login_session(user, &digest, 3_600_000_000).await.unwrap();
    digest
}

test_both_dbs!(new_accounts_start_unverified_and_a_verification_link_works_once);
async fn new_accounts_start_unverified_and_a_verification_link_works_once(db: Db) {
    let ada = user(&db, "ada@example.org").await;
    assert!(!db.user(ada).await.unwrap().unwrap().email_verified);
    let token = mail_link(&db, ada, "ada@example.org", TokenPurpose::EmailVerification).await;

    let mails = db.mail_to("ada@example.org").await.unwrap();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].kind, Some(MailKind::EmailVerification));
    assert_eq!(mails[0].token.as_deref(), Some(token.as_str()), "the outbox holds the token until the mail is sent");

    let digest = login_token_digest(&token);
    assert_eq!(db.account_link_works(TokenPurpose::EmailVerification, &digest).await.unwrap(), Some(ada));
    assert_eq!(
        db.account_link_works(TokenPurpose::PasswordReset, &digest).await.unwrap(),
        None,
        "a link has one purpose"
    );
    assert_eq!(
        db.account_link_works(TokenPurpose::EmailVerification, &token).await.unwrap(),
        None,
        "only the digest opens it"
    );
    assert_eq!(db.verify_email_with_link(&digest).await.unwrap(), Some(ada));
    assert!(db.user(ada).await.unwrap().unwrap().email_verified);
    assert_eq!(db.verify_email_with_link(&digest).await.unwrap(), None, "used once, gone");
}

test_both_dbs!(asking_again_replaces_the_earlier_link);
async fn asking_again_replaces_the_earlier_link(db: Db) {
    let ada = user(&db, "ada@example.org").await;
    let first = mail_link(&db, ada, "ada@example.org", TokenPurpose::PasswordReset).await;
    let second = mail_link(&db, ada, "ada@example.org", TokenPurpose::PasswordReset).await;
    let hash = passwords::hash("second password").unwrap();
    assert_eq!(db.reset_password_with_link(&login_token_digest(&first), &hash).await.unwrap(), None);
    assert_eq!(
        db.account_link_works(TokenPurpose::PasswordReset, &login_token_digest(&second)).await.unwrap(),
        Some(ada)
    );
    // A reset link and a verification link of the same account live side by side.
    let verify = mail_link(&db, ada, "ada@example.org", TokenPurpose::EmailVerification).await;
    assert_eq!(
        db.account_link_works(TokenPurpose::PasswordReset, &login_token_digest(&second)).await.unwrap(),
        Some(ada)
    );
    assert_eq!(
        db.account_link_works(TokenPurpose::EmailVerification, &login_token_digest(&verify)).await.unwrap(),
        Some(ada)
    );
}

test_both_dbs!(a_reset_link_sets_the_password_once_ends_every_login_and_proves_the_address);
async fn a_reset_link_sets_the_password_once_ends_every_login_and_proves_the_address(db: Db) {
    let ada = user(&db, "ada@example.org").await;
    let logins = [login(&db, ada).await, login(&db, ada).await];
    let token = mail_link(&db, ada, "ada@example.org", TokenPurpose::PasswordReset).await;
    let digest = login_token_digest(&token);
    let hash = passwords::hash("second password").unwrap();
    let (user, mut ended) = db.reset_password_with_link(&digest, &hash).await.unwrap().unwrap();
    ended.sort();
    let mut all = logins.to_vec();
    all.sort();
    assert_eq!((user, ended), (ada, all), "the logins ended, for their sockets to close");
    assert_eq!(db.password_hash(ada).await.unwrap(), Some(hash.clone()));
    for login in &logins {
        assert_eq!(db.user_for_login_session(login).await.unwrap(), None);
    }
    assert!(db.user(ada).await.unwrap().unwrap().email_verified, "the reset mail reached the mailbox");
    let other = passwords::hash("third password").unwrap();
    assert_eq!(db.reset_password_with_link(&digest, &other).await.unwrap(), None, "single use");
    assert_eq!(db.password_hash(ada).await.unwrap(), Some(hash));
}

test_both_dbs!(links_expire_an_hour_or_a_week_after_they_were_made);
async fn links_expire_an_hour_or_a_week_after_they_were_made(db: Db) {
    let ada = user(&db, "ada@example.org").await;
    let reset = mail_link(&db, ada, "ada@example.org", TokenPurpose::PasswordReset).await;
    let verify = mail_link(&db, ada, "ada@example.org", TokenPurpose::EmailVerification).await;
    let minute = 60_000_000;
    db.backdate_account_links_for_tests(ada, 59 * minute).await.unwrap();
    assert!(db.account_link_works(TokenPurpose::PasswordReset, &login_token_digest(&reset)).await.unwrap().is_some());
    db.backdate_account_links_for_tests(ada, 2 * minute).await.unwrap();
    let hash = passwords::hash("second password").unwrap();
    assert_eq!(db.reset_password_with_link(&login_token_digest(&reset), &hash).await.unwrap(), None, "past the hour");
    assert!(db
        .account_link_works(TokenPurpose::EmailVerification, &login_token_digest(&verify))
        .await
        .unwrap()
        .is_some());
    db.backdate_account_links_for_tests(ada, 7 * 24 * 60 * minute).await.unwrap();
    assert_eq!(db.verify_email_with_link(&login_token_digest(&verify)).await.unwrap(), None, "past the week");
    assert!(!db.user(ada).await.unwrap().unwrap().email_verified);
}

test_both_dbs!(changing_the_password_keeps_this_login_and_ends_the_others);
async fn changing_the_password_keeps_this_login_and_ends_the_others(db: Db) {
    let ada = user(&db, "ada@example.org").await;
    let grace = user(&db, "grace@example.org").await;
    let (here, elsewhere, hers) = (login(&db, ada).await, login(&db, ada).await, login(&db, grace).await);
    let reset = mail_link(&db, ada, "ada@example.org", TokenPurpose::PasswordReset).await;
    let hash = passwords::hash("second password").unwrap();
    assert_eq!(db.change_password(ada, &hash, &here).await.unwrap(), vec![elsewhere.clone()]);
    assert!(db.user_for_login_session(&here).await.unwrap().is_some());
    assert!(db.user_for_login_session(&elsewhere).await.unwrap().is_none());
    assert!(db.user_for_login_session(&hers).await.unwrap().is_some(), "another account's logins stay");
    assert_eq!(
        db.account_link_works(TokenPurpose::PasswordReset, &login_token_digest(&reset)).await.unwrap(),
        None,
        "a pending reset link would undo the change"
    );
    let again = login(&db, ada).await;
    assert_eq!(db.end_other_logins(ada, &here).await.unwrap(), vec![again]);
    assert!(db.user_for_login_session(&here).await.unwrap().is_some());
}

test_both_dbs!(an_address_proven_otherwise_drops_the_pending_link);
async fn an_address_proven_otherwise_drops_the_pending_link(db: Db) {
    let ada = user(&db, "ada@example.org").await;
    let verify = mail_link(&db, ada, "ada@example.org", TokenPurpose::EmailVerification).await;
    db.mark_email_verified(ada).await.unwrap();
    assert!(db.user(ada).await.unwrap().unwrap().email_verified);
    assert_eq!(
        db.account_link_works(TokenPurpose::EmailVerification, &login_token_digest(&verify)).await.unwrap(),
        None
    );
    db.set_display_name(ada, "Ada L.").await.unwrap();
    assert_eq!(db.user(ada).await.unwrap().unwrap().display_name, "Ada L.");
}

async fn logged_in_again(router: &axum::Router, email: &str, password: &str, ip: [u8; 4]) -> Client {
    let mut client = Client::from(router, ip);
    let reply = client.call("log_in", &[("email", email), ("password", password)]).await;
    assert!(reply.status.is_success() || reply.status.is_redirection(), "{} {}", reply.status, reply.body);
    client
}

async fn me(client: &mut Client) -> Option<Account> {
    client.call("me", &[]).await.json()
}

test_both_dbs!(changing_the_password_checks_the_old_one_and_logs_out_every_other_browser);
async fn changing_the_password_checks_the_old_one_and_logs_out_every_other_browser(db: Db) {
    let router = router(db.clone());
    let mut here = Client::signed_up(&router, "ada@example.org").await;
    let mut elsewhere = logged_in_again(&router, "ada@example.org", "long enough", [192, 0, 2, 7]).await;
    assert!(me(&mut elsewhere).await.is_some());

    let reply =
        here.call("change_password", &[("old_password", "not the one"), ("new_password", "brand new one")]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.json::<AccountError>(), AccountError::WrongOldPassword);
    let reply = here.call("change_password", &[("old_password", "long enough"), ("new_password", "short")]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(me(&mut elsewhere).await.is_some(), "nothing changed yet");

    let reply =
        here.call("change_password", &[("old_password", "long enough"), ("new_password", "brand new one")]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json::<String>(), texts::account_other_logins_ended(Lang::En));
    assert_eq!(me(&mut here).await.map(|a| a.email).as_deref(), Some("ada@example.org"), "this browser stays");
    assert_eq!(me(&mut elsewhere).await, None, "the other browser is logged out");

    let mut stranger = Client::from(&router, [192, 0, 2, 9]);
    let old = stranger.call("log_in", &[("email", "ada@example.org"), ("password", "long enough")]).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    logged_in_again(&router, "ada@example.org", "brand new one", [192, 0, 2, 10]).await;

    let reply = Client::anonymous(&router)
        .call("change_password", &[("old_password", "x"), ("new_password", "brand new one")])
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

test_both_dbs!(wrong_old_passwords_count_as_failed_log_ins);
async fn wrong_old_passwords_count_as_failed_log_ins(db: Db) {
    let router = router(db.clone());
    let mut here = Client::signed_up(&router, "ada@example.org").await;
    for _ in 0..LOGIN_FAILURES_PER_ACCOUNT.burst {
        let reply =
            here.call("change_password", &[("old_password", "guess guess"), ("new_password", "brand new one")]).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    }
    let reply =
        here.call("change_password", &[("old_password", "long enough"), ("new_password", "brand new one")]).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{}", reply.body);
    let mut other = Client::from(&router, [192, 0, 2, 44]);
    let reply = other.call("log_in", &[("email", "ada@example.org"), ("password", "long enough")]).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "the same budget as log-ins");
}

test_both_dbs!(log_out_everywhere_keeps_only_this_browser_and_names_change);
async fn log_out_everywhere_keeps_only_this_browser_and_names_change(db: Db) {
    let router = router(db.clone());
    let mut here = Client::signed_up(&router, "ada@example.org").await;
    let mut elsewhere = logged_in_again(&router, "ada@example.org", "long enough", [192, 0, 2, 7]).await;
    let reply = here.call("log_out_everywhere", &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(me(&mut here).await.is_some());
    assert_eq!(me(&mut elsewhere).await, None);
    logged_in_again(&router, "ada@example.org", "long enough", [192, 0, 2, 8]).await;

    let reply = here.call("update_display_name", &[("display_name", "  Ada L. ")]).await;
    assert_eq!(reply.json::<String>(), "Ada L.");
    assert_eq!(me(&mut here).await.unwrap().display_name, "Ada L.");
    let reply = here.call("update_display_name", &[("display_name", " ")]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = Client::anonymous(&router).call("log_out_everywhere", &[]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

fn token_in(mail: &app::storage::OutboxMail) -> String {
    mail.token.clone().expect("an unsent account mail carries its token")
}

test_both_dbs!(forgot_password_says_the_same_whatever_the_address_and_its_link_works_once);
async fn forgot_password_says_the_same_whatever_the_address_and_its_link_works_once(db: Db) {
    let reset_mail_on_its_way = texts::account_reset_mail_on_its_way(Lang::En);
    let router = router(db.clone());
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let mut visitor = Client::from(&router, [192, 0, 2, 20]);
    for email in ["Ada@Example.org", "nobody@example.org"] {
        let reply = visitor.call("request_password_reset", &[("email", email)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.json::<String>(), reset_mail_on_its_way);
    }
    assert!(db.mail_to("nobody@example.org").await.unwrap().is_empty());
    let mails: Vec<_> = db
        .mail_to("ada@example.org")
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == Some(MailKind::PasswordReset))
        .collect();
    assert_eq!(mails.len(), 1);
    let token = token_in(&mails[0]);
    let page = visitor.page(&format!("/account/reset/{token}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Save and log in"), "{}", page.body);

    let reply = visitor.call("reset_password", &[("token", &token), ("new_password", "short")]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = visitor.call("reset_password", &[("token", "made-up"), ("new_password", "brand new one")]).await;
    assert_eq!(reply.status, StatusCode::GONE);
    assert_eq!(reply.json::<AccountError>(), AccountError::LinkExpired);
    let reply = visitor.call("reset_password", &[("token", &token), ("new_password", "brand new one")]).await;
    assert!(reply.status.is_success() || reply.status.is_redirection(), "{} {}", reply.status, reply.body);
    assert_eq!(me(&mut visitor).await.map(|a| a.email).as_deref(), Some("ada@example.org"), "logged in");
    assert_eq!(me(&mut ada).await, None, "every other login ended");
    let mut again = Client::from(&router, [192, 0, 2, 21]);
    let reply = again.call("reset_password", &[("token", &token), ("new_password", "another one!")]).await;
    assert_eq!(reply.status, StatusCode::GONE, "single use");
    // A used (or unknown) link's page says so at once, with no form to fill in vain.
    for link in [token.as_str(), "made-up"] {
        let page = again.page(&format!("/account/reset/{link}")).await;
        assert_eq!(page.status, StatusCode::GONE, "{link}");
        assert!(page.body.contains("This link has expired or was already used."), "{}", page.body);
        assert!(!page.body.contains("Save and log in"), "{}", page.body);
    }
    logged_in_again(&router, "ada@example.org", "brand new one", [192, 0, 2, 22]).await;
}

test_both_dbs!(reset_mails_are_limited_per_recipient_whether_or_not_it_has_an_account);
/// Someone asking for reset mails to another person's address cannot flood their mailbox, nor
/// keep them from resetting: past the budget, the owner is told to look for the mail already
/// sent (its link still works), and nothing more is mailed.
async fn reset_mails_are_limited_per_recipient_whether_or_not_it_has_an_account(db: Db) {
    let reset_mail_on_its_way = texts::account_reset_mail_on_its_way(Lang::En);
    use app::rules::limits::ACCOUNT_MAILS_PER_RECIPIENT;
    let router = router(db.clone());
    Client::signed_up(&router, "ada@example.org").await;
    for email in ["ada@example.org", "nobody@example.org"] {
        for i in 0..ACCOUNT_MAILS_PER_RECIPIENT.burst {
            let mut visitor = Client::from(&router, [192, 0, 2, 30 + i as u8]);
            assert_eq!(visitor.call("request_password_reset", &[("email", email)]).await.status, StatusCode::OK);
        }
        let mut owner = Client::from(&router, [192, 0, 2, 60]);
        let reply = owner.call("request_password_reset", &[("email", email)]).await;
        assert_eq!(
            (reply.status, reply.json::<String>()),
            (StatusCode::OK, reset_mail_on_its_way.to_owned()),
            "{email}"
        );
    }
    // Each request replaced the earlier link: only the last mail's works.
    let mails: Vec<_> = db
        .mail_to("ada@example.org")
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == Some(MailKind::PasswordReset))
        .collect();
    assert_eq!(mails.len(), ACCOUNT_MAILS_PER_RECIPIENT.burst as usize);
    let works = |m: &app::storage::OutboxMail| {
        let db = db.clone();
        let digest = login_token_digest(&token_in(m));
        async move { db.account_link_works(TokenPurpose::PasswordReset, &digest).await.unwrap().is_some() }
    };
    assert!(!works(&mails[0]).await);
    assert!(works(mails.last().unwrap()).await);
}

/// The newest unsent verification mail to `email`, its link's token.
async fn verification_token(db: &Db, email: &str) -> String {
    let mails = db.mail_to(email).await.unwrap();
    token_in(mails.iter().rev().find(|m| m.kind == Some(MailKind::EmailVerification)).expect("a verification mail"))
}

test_both_dbs!(sign_up_mails_a_verification_link_that_works_once_from_any_browser);
/// The link's page shows a button; the button verifies; a used link says so at once.
async fn sign_up_mails_a_verification_link_that_works_once_from_any_browser(db: Db) {
    let router = router(db.clone());
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    assert_eq!(me(&mut ada).await.map(|a| a.email_verified), Some(false));
    let mails = db.mail_to("ada@example.org").await.unwrap();
    assert_eq!(
        mails.iter().map(|m| m.kind).collect::<Vec<_>>(),
        [Some(MailKind::EmailVerification)],
        "one mail, through the outbox"
    );
    let token = token_in(&mails[0]);
    assert!(
        db.account_link_works(TokenPurpose::EmailVerification, &token).await.unwrap().is_none(),
        "only the digest is stored"
    );

    let mut visitor = Client::from(&router, [192, 0, 2, 70]);
    let reply = visitor.call("verify_email", &[("token", "made-up")]).await;
    assert_eq!((reply.status, reply.json::<AccountError>()), (StatusCode::GONE, AccountError::LinkExpired));
    // The page a mail link opens, without JavaScript: a sentence and its status.
    let page = visitor.page("/account/verify/made-up").await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.body.contains("This link has expired or was already used."), "{}", page.body);

    // Opening the link verifies nothing (mail scanners open links): it shows the button.
    let page = visitor.page(&format!("/account/verify/{token}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Verify my e-mail address"), "{}", page.body);
    assert_eq!(me(&mut ada).await.map(|a| a.email_verified), Some(false));
    // The button, as a plain form: back to the page, which says so.
    let pressed = visitor.submit("verify_email", &[("token", &token)]).await;
    assert_eq!(pressed.status, StatusCode::SEE_OTHER, "{}", pressed.body);
    let landed = pressed.headers[axum::http::header::LOCATION].to_str().unwrap().to_owned();
    assert_eq!(landed, format!("/account/verify/{token}?done=verified"));
    let page = visitor.page(&landed).await;
    assert!(page.body.contains(texts::account_email_verified(Lang::En)), "{}", page.body);
    assert_eq!(me(&mut ada).await.map(|a| a.email_verified), Some(true), "the account, whoever opened the link");
    assert_eq!(me(&mut visitor).await, None, "verifying logs no one in");

    let page = visitor.page(&format!("/account/verify/{token}")).await;
    assert_eq!(page.status, StatusCode::GONE, "single use");
    let reply = ada.call("verify_email", &[("token", &token)]).await;
    assert_eq!(reply.status, StatusCode::GONE);
}

test_both_dbs!(a_verification_link_ends_after_a_week);
async fn a_verification_link_ends_after_a_week(db: Db) {
    let router = router(db.clone());
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let token = verification_token(&db, "ada@example.org").await;
    let user = db.user_by_email("ada@example.org").await.unwrap().unwrap().user.id;
    db.backdate_account_links_for_tests(user, 7 * 24 * 3_600_000_000).await.unwrap();
    let reply = ada.call("verify_email", &[("token", &token)]).await;
    assert_eq!((reply.status, reply.json::<AccountError>()), (StatusCode::GONE, AccountError::LinkExpired));
    assert_eq!(me(&mut ada).await.map(|a| a.email_verified), Some(false));
    // A new link works.
    assert_eq!(ada.call("resend_verification", &[]).await.status, StatusCode::OK);
    let fresh = verification_token(&db, "ada@example.org").await;
    assert_eq!(ada.call("verify_email", &[("token", &fresh)]).await.status, StatusCode::OK);
    assert_eq!(me(&mut ada).await.map(|a| a.email_verified), Some(true));
}

test_both_dbs!(sending_the_verification_mail_again_is_limited_and_replaces_the_link);
async fn sending_the_verification_mail_again_is_limited_and_replaces_the_link(db: Db) {
    use app::rules::limits::ACCOUNT_MAILS_PER_RECIPIENT;
    let router = router(db.clone());
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let first = verification_token(&db, "ada@example.org").await;
    for _ in 0..ACCOUNT_MAILS_PER_RECIPIENT.burst {
        let reply = ada.call("resend_verification", &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.json::<String>(), texts::account_verification_on_its_way(Lang::En, "ada@example.org"));
    }
    // Per account, wherever it asks from.
    ada.ip = [192, 0, 2, 80].into();
    let reply = ada.call("resend_verification", &[]).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{}", reply.body);
    assert!(matches!(reply.json::<AccountError>(), AccountError::TooManyMails(_)));
    assert!(reply.headers.contains_key("retry-after"));
    let mails: Vec<_> = db
        .mail_to("ada@example.org")
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == Some(MailKind::EmailVerification))
        .collect();
    assert_eq!(mails.len(), 1 + ACCOUNT_MAILS_PER_RECIPIENT.burst as usize);
    // Each new link replaced the earlier: only the last works.
    assert_eq!(ada.call("verify_email", &[("token", &first)]).await.status, StatusCode::GONE);
    let last = verification_token(&db, "ada@example.org").await;
    assert_eq!(ada.call("verify_email", &[("token", &last)]).await.status, StatusCode::OK);
    // Verified, it mails nothing more and says so.
    ada.ip = [192, 0, 2, 81].into();
    assert_eq!(ada.call("resend_verification", &[]).await.json::<String>(), texts::account_already_verified(Lang::En));
    let reply = Client::anonymous(&router).call("resend_verification", &[]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

test_both_dbs!(sending_the_verification_mail_again_is_limited_per_client_address);
async fn sending_the_verification_mail_again_is_limited_per_client_address(db: Db) {
    use app::rules::limits::ACCOUNT_MAILS_PER_ADDRESS;
    let router = router(db.clone());
    // Accounts logged in straight through storage: a sign-up per account would hash a password.
    let hash = passwords::hash("first password").unwrap();
    let ip = [192, 0, 2, 90];
    for i in 0..=ACCOUNT_MAILS_PER_ADDRESS.burst {
        let email = format!("u{i}@example.org");
        let id = db.create_user(&email, "U", &hash).await.unwrap().id;
        let token = new_login_token();
        db.create_login_session(id, &login_token_digest(&token), 3_600_000_000).await.unwrap();
        let mut client = Client::from(&router, ip);
        client.cookie = Some(format!("ruche_login={token}"));
        let reply = client.call("resend_verification", &[]).await;
        let expected = if i < ACCOUNT_MAILS_PER_ADDRESS.burst { StatusCode::OK } else { StatusCode::TOO_MANY_REQUESTS };
        assert_eq!(reply.status, expected, "{email}: {}", reply.body);
    }
}
