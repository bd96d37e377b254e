//! Sharing over HTTP with a real SMTP server on loopback (Debian's aiosmtpd, writing a
//! Maildir, through `smtp_handler.py`), on SQLite and PostgreSQL: participant invitations,
//! co-facilitators, the rights matrix, the sending limits under parallel requests, and the mail
//! worker: surviving an SMTP outage, giving up what SMTP refuses for good or what waited too
//! long, and never sending a mail twice.
use app::functions::sessions::{SessionForHost, SessionSummary};
use app::functions::sharing::InvitationReport;
use app::rules::language::Lang;
use app::rules::sessions::{Role, SessionError};
use app::rules::sharing::{SharingError, MAX_FACILITATORS_PER_SESSION, MAX_REFUSED_SHOWN};
use app::services::ServerContext;
use app::states::FacilitatorView;
use app::storage::{Db, OutboxMail};
use app::test_both_dbs;
use axum::http::StatusCode;
use common::{create_session, link_token, router_with, Client};
use server::mail::{spawn_mailer, MailConfig, GIVE_UP_AFTER};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod common;

/// A real SMTP server: `python3 -m aiosmtpd` with the Maildir handler of `smtp_handler.py`
/// (which refuses `bounce…` recipients for good and answers `slow…` ones late).
struct Smtp {
    port: u16,
    maildir: PathBuf,
    child: Option<Child>,
}

impl Smtp {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let maildir = std::env::temp_dir().join(format!("ruche-maildir-{}", uuid::Uuid::new_v4().simple()));
        let mut smtp = Self { port, maildir, child: None };
        smtp.resume().await;
        smtp
    }

    async fn resume(&mut self) {
        let python = std::env::var("RUCHE_TEST_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{}", self.port), "-c", "smtp_handler.Picky"])
            .arg(&self.maildir)
            .env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/tests"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd (Debian's python3-aiosmtpd) must be installed: scripts/test.sh installs it");
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("aiosmtpd did not start on port {}", self.port);
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The sharing mails received. Verification mails are left out: every sign-up queues one,
    /// and whether it goes out before the test verifies the owner is a race these tests are
    /// not about (tests/accounts.rs is).
    fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) {
                for entry in entries.flatten() {
                    let message = std::fs::read_to_string(entry.path()).unwrap_or_default();
                    if !message.contains("Subject: Confirm your e-mail address for Ruche") {
                        out.push(message);
                    }
                }
            }
        }
        out
    }

    fn messages_to(&self, address: &str) -> usize {
        self.messages().iter().filter(|m| m.contains(&format!("To: {address}"))).count()
    }

    async fn wait_for(&self, count: usize) -> Vec<String> {
        for _ in 0..300 {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("expected {count} mails, got {}", self.messages().len());
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        self.stop();
        std::fs::remove_dir_all(&self.maildir).ok();
    }
}

/// The text of a received mail, its quoted-printable folding and escapes undone where they
/// stand in ASCII (enough to find sentences without accents).
fn unfolded(message: &str) -> String {
    message.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")
}

/// The plain-text part's link: quoted-printable may fold lines, so unfold before searching.
fn link_in(message: &str, path: &str) -> String {
    let unfolded = unfolded(message);
    let start = unfolded.find(&format!("http://127.0.0.1:3000/{path}/")).expect("a link in the mail");
    unfolded[start..].split(|c: char| c.is_whitespace() || c == '"' || c == '<').next().unwrap().to_owned()
}

async fn app_with_mail(db: Db, smtp: &Smtp) -> axum::Router {
    let ctx = ServerContext::new(db, "http://127.0.0.1:3000", Vec::new());
    start_mailer(&ctx, smtp);
    router_with(ctx)
}

fn start_mailer(ctx: &ServerContext, smtp: &Smtp) {
    spawn_mailer(ctx.clone(), MailConfig::new(Some(&smtp.url()), "Ruche <ruche@example.org>").unwrap());
}

/// The one mail to `address` in the outbox, once the worker has finished with it (sent or
/// given up).
async fn settled_mail_to(db: &Db, address: &str) -> OutboxMail {
    for _ in 0..300 {
        let mails = db.mail_to(address).await.unwrap();
        assert_eq!(mails.len(), 1, "one mail to {address}");
        if mails[0].sent_at.is_some() || mails[0].gave_up_at.is_some() {
            return mails.into_iter().next().unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the mail to {address} is still waiting");
}

async fn host(client: &mut Client, id: &str) -> SessionForHost {
    client.call("host_session", &[("id", id)]).await.json()
}

async fn participant_invitations_arrive_with_the_current_link(db: Db) {
    let mut smtp = Smtp::start().await;
    let router = app_with_mail(db.clone(), &smtp).await;
    let mut ada = Client::signed_up_verified(&router, &db, "ada@example.org").await;
    let id = create_session(&mut ada, "Maths <3").await;

    let report: InvitationReport = ada
        .call(
            "send_invitations",
            &[("id", &id), ("addresses", "zoe@example.org, max@example.org;not-an-address\nZOE@example.org")],
        )
        .await
        .json();
    assert_eq!(report, InvitationReport { sent: 2, refused: vec!["not-an-address".into()], ..Default::default() });
    let messages = smtp.wait_for(2).await;
    let link = host(&mut ada, &id).await.state.ways_in.link;
    for message in &messages {
        assert_eq!(link_in(message, "j"), link);
        assert!(message.contains("Content-Type: text/plain") && message.contains("Content-Type: text/html"));
        assert!(message.contains("Maths &lt;3"), "user text is escaped in the HTML part");
    }
    let recipients: Vec<bool> = ["zoe@example.org", "max@example.org"]
        .iter()
        .map(|a| messages.iter().any(|m| m.contains(&format!("To: {a}"))))
        .collect();
    assert_eq!(recipients, [true, true]);

    // SMTP goes down during a send: nothing is lost, and the mail that waited carries the link
    // made by "Generate a new code" in the meantime.
    smtp.stop();
    let report: InvitationReport =
        ada.call("send_invitations", &[("id", &id), ("addresses", "late@example.org")]).await.json();
    assert_eq!(report.sent, 1);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(smtp.messages().len(), 2);
    ada.call("generate_new_code", &[("id", &id)]).await.json::<String>();
    let new_link = host(&mut ada, &id).await.state.ways_in.link;
    smtp.resume().await;
    let messages = smtp.wait_for(3).await;
    let late = messages.iter().find(|m| m.contains("To: late@example.org")).unwrap();
    assert_eq!(link_in(late, "j"), new_link);

    // Limits: 100 addresses a send.
    let many: Vec<String> = (0..101).map(|i| format!("p{i}@example.org")).collect();
    let reply = ada.call("send_invitations", &[("id", &id), ("addresses", &many.join(","))]).await;
    assert_eq!(
        (reply.status, reply.json::<SharingError>()),
        (StatusCode::BAD_REQUEST, SharingError::TooManyAddresses(101))
    );
    let reply = ada.call("send_invitations", &[("id", &id), ("addresses", "  ")]).await;
    assert_eq!(reply.json::<SharingError>(), SharingError::NoAddress);

    // Refusals are listed back capped.
    let bad: Vec<String> = (0..30).map(|i| format!("bad{i}")).collect();
    let report: InvitationReport = ada
        .call("send_invitations", &[("id", &id), ("addresses", &format!("ok@example.org {}", bad.join(" ")))])
        .await
        .json();
    assert_eq!(
        (report.sent, report.refused.as_slice(), report.refused_more),
        (1, &bad[..MAX_REFUSED_SHOWN], 30 - MAX_REFUSED_SHOWN)
    );
}
test_both_dbs!(participant_invitations_arrive_with_the_current_link);

async fn an_account_sends_at_most_500_invitations_a_day(db: Db) {
    // Queued only: the limit is about what an account may cause, whether or not SMTP is up.
    let router = router_with(ServerContext::new(db.clone(), "http://127.0.0.1:3000", Vec::new()));
    let mut ada = Client::signed_up_verified(&router, &db, "ada@example.org").await;
    let id = create_session(&mut ada, "Big class").await;
    for batch in 0..5 {
        let addresses: Vec<String> = (0..100).map(|i| format!("p{batch}-{i}@example.org")).collect();
        assert_eq!(
            ada.call("send_invitations", &[("id", &id), ("addresses", &addresses.join(","))])
                .await
                .json::<InvitationReport>()
                .sent,
            100
        );
    }
    let reply = ada.call("send_invitations", &[("id", &id), ("addresses", "one-more@example.org")]).await;
    assert_eq!(
        (reply.status, reply.json::<SharingError>()),
        (StatusCode::TOO_MANY_REQUESTS, SharingError::DailyLimit(0))
    );
}
test_both_dbs!(an_account_sends_at_most_500_invitations_a_day);

/// A client of the same account, for requests in parallel.
fn same_account(client: &Client) -> Client {
    Client {
        router: client.router.clone(),
        cookie: client.cookie.clone(),
        visitor: None,
        device: client.device.clone(),
        ip: client.ip,
    }
}

/// The daily count is checked and consumed in one step: ten sends of 100 at once, with 500 a
/// day, let exactly five through.
async fn parallel_sends_cannot_pass_the_daily_limit(db: Db) {
    let router = router_with(ServerContext::new(db.clone(), "http://127.0.0.1:3000", Vec::new()));
    let mut ada = Client::signed_up_verified(&router, &db, "ada@example.org").await;
    let id = create_session(&mut ada, "Big class").await;
    let sends = (0..10).map(|batch| {
        let (mut client, id) = (same_account(&ada), id.clone());
        tokio::spawn(async move {
            let addresses: Vec<String> = (0..100).map(|i| format!("p{batch}-{i}@example.org")).collect();
            client.call("send_invitations", &[("id", &id), ("addresses", &addresses.join(","))]).await
        })
    });
    let statuses: Vec<StatusCode> =
        futures_util::future::join_all(sends).await.into_iter().map(|r| r.unwrap().status).collect();
    assert_eq!(statuses.iter().filter(|s| s.is_success()).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count(), 5, "{statuses:?}");
    assert_eq!(db.unsent_mail_count().await.unwrap(), 500);
}
test_both_dbs!(parallel_sends_cannot_pass_the_daily_limit);

/// "+Add" has its own limits: co-facilitators per session, invitations per account per day
/// (checked atomically too), and no second mail for a pending invitation within a day.
async fn co_facilitator_invitations_are_capped(db: Db) {
    let router = router_with(ServerContext::new(db.clone(), "http://127.0.0.1:3000", Vec::new()));
    let mut ada = Client::signed_up_verified(&router, &db, "ada@example.org").await;
    let id = create_session(&mut ada, "Workshop").await;
    let add =
        |n: std::ops::Range<u64>, tag: &str| n.map(|i| format!("{tag}{i}@example.org")).collect::<Vec<_>>().join(" ");

    // Adding an address again within a day mails nothing and keeps its link.
    let report: InvitationReport =
        ada.call("add_facilitators", &[("id", &id), ("addresses", "carol@example.org")]).await.json();
    assert_eq!(report.sent, 1);
    let first = db.mail_to("carol@example.org").await.unwrap();
    let report: InvitationReport =
        ada.call("add_facilitators", &[("id", &id), ("addresses", "Carol@example.org dan@example.org")]).await.json();
    assert_eq!((report.sent, report.already_invited), (1, vec!["carol@example.org".to_owned()]));
    assert_eq!(db.mail_to("carol@example.org").await.unwrap(), first, "no new mail, the same token");

    // At most 20 co-facilitators, invited or active: this session has 2.
    let reply = ada.call("add_facilitators", &[("id", &id), ("addresses", &add(0..19, "f"))]).await;
    assert_eq!(
        (reply.status, reply.json::<SharingError>()),
        (StatusCode::CONFLICT, SharingError::TooManyFacilitators(18))
    );
    assert_eq!(ada.call("facilitators", &[("id", &id)]).await.json::<Vec<FacilitatorView>>().len(), 2, "all or none");
    ada.call("add_facilitators", &[("id", &id), ("addresses", &add(0..18, "f"))]).await.json::<InvitationReport>();
    assert_eq!(
        ada.call("facilitators", &[("id", &id)]).await.json::<Vec<FacilitatorView>>().len() as u64,
        MAX_FACILITATORS_PER_SESSION
    );

    // 50 a day over all the account's sessions: 20 are gone; ten parallel adds of 10, to ten
    // sessions, let exactly three through.
    let mut sessions = Vec::new();
    for i in 0..10 {
        sessions.push(create_session(&mut ada, &format!("Room {i}")).await);
    }
    let adds = sessions.iter().enumerate().map(|(n, session)| {
        let (mut client, session, addresses) = (same_account(&ada), session.clone(), add(0..10, &format!("s{n}-")));
        tokio::spawn(
            async move { client.call("add_facilitators", &[("id", &session), ("addresses", &addresses)]).await },
        )
    });
    let replies: Vec<_> = futures_util::future::join_all(adds).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(replies.iter().filter(|r| r.status.is_success()).count(), 3);
    for refused in replies.iter().filter(|r| !r.status.is_success()) {
        assert_eq!(
            (refused.status, refused.json::<SharingError>()),
            (StatusCode::TOO_MANY_REQUESTS, SharingError::FacilitatorDailyLimit(0))
        );
    }
    assert_eq!(db.unsent_mail_count().await.unwrap(), 50);
}
test_both_dbs!(co_facilitator_invitations_are_capped);

/// A 5xx answer is final: the mail is given up after one attempt, the others still go out.
async fn a_recipient_refused_for_good_is_given_up_after_one_attempt(db: Db) {
    let smtp = Smtp::start().await;
    let router = app_with_mail(db.clone(), &smtp).await;
    let mut ada = Client::signed_up_verified(&router, &db, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    let report: InvitationReport =
        ada.call("send_invitations", &[("id", &id), ("addresses", "bounce@example.org, zoe@example.org")]).await.json();
    assert_eq!(report.sent, 2);
    let bounced = settled_mail_to(&db, "bounce@example.org").await;
    assert!(bounced.gave_up_at.is_some() && bounced.sent_at.is_none(), "{bounced:?}");
    assert!(bounced.last_error.as_deref().unwrap_or_default().contains("550"), "{bounced:?}");
    assert!(settled_mail_to(&db, "zoe@example.org").await.sent_at.is_some());
    assert_eq!(smtp.messages_to("zoe@example.org"), 1);
    // Well past the first retry's backoff (2 s): never tried again.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert_eq!(db.mail_to("bounce@example.org").await.unwrap()[0].attempts, 1);
    assert_eq!(db.unsent_mail_count().await.unwrap(), 0);
}
test_both_dbs!(a_recipient_refused_for_good_is_given_up_after_one_attempt);

/// Retries stop two days after the mail was written; and a co-facilitator removed while their
/// invitation waits gets no mail.
async fn stale_and_withdrawn_mail_is_never_sent(db: Db) {
    let smtp = Smtp::start().await;
    // Mail is queued first, with no worker running, as when SMTP has been down.
    let ctx = ServerContext::new(db.clone(), "http://127.0.0.1:3000", Vec::new());
    let router = router_with(ctx.clone());
    let mut ada = Client::signed_up_verified(&router, &db, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    ada.call("send_invitations", &[("id", &id), ("addresses", "old@example.org, fresh@example.org")])
        .await
        .json::<InvitationReport>();
    db.backdate_mail_for_tests("old@example.org", GIVE_UP_AFTER.as_micros() as i64 + 60_000_000).await.unwrap();
    ada.call("add_facilitators", &[("id", &id), ("addresses", "dan@example.org, eve@example.org")])
        .await
        .json::<InvitationReport>();
    let dan = ada
        .call("facilitators", &[("id", &id)])
        .await
        .json::<Vec<FacilitatorView>>()
        .into_iter()
        .find(|f| f.email == "dan@example.org")
        .unwrap();
    ada.call("remove_facilitator", &[("id", &id), ("facilitator", &dan.id.to_string())]).await.json::<()>();

    start_mailer(&ctx, &smtp);
    assert!(settled_mail_to(&db, "fresh@example.org").await.sent_at.is_some());
    assert!(settled_mail_to(&db, "eve@example.org").await.sent_at.is_some());
    for gone in ["old@example.org", "dan@example.org"] {
        let mail = settled_mail_to(&db, gone).await;
        assert!(mail.gave_up_at.is_some() && mail.sent_at.is_none() && mail.token.is_none(), "{mail:?}");
        assert_eq!(smtp.messages_to(gone), 0, "{gone}");
    }
    assert_eq!(smtp.messages().len(), 2);
}
test_both_dbs!(stale_and_withdrawn_mail_is_never_sent);

/// Mail still waiting when its session is deleted (a participant's invitation, a
/// co-facilitator's) is never sent; another session's mail is.
async fn mail_of_a_deleted_session_is_never_sent(db: Db) {
    let smtp = Smtp::start().await;
    let ctx = ServerContext::new(db.clone(), "http://127.0.0.1:3000", Vec::new());
    let router = router_with(ctx.clone());
    let mut ada = Client::signed_up_verified(&router, &db, "ada@example.org").await;
    let gone = create_session(&mut ada, "Gone").await;
    let kept = create_session(&mut ada, "Kept").await;
    ada.call("send_invitations", &[("id", &gone), ("addresses", "pat@example.org")]).await.json::<InvitationReport>();
    ada.call("add_facilitators", &[("id", &gone), ("addresses", "fay@example.org")]).await.json::<InvitationReport>();
    ada.call("send_invitations", &[("id", &kept), ("addresses", "kim@example.org")]).await.json::<InvitationReport>();
    ada.call("delete_session", &[("id", &gone)]).await.json::<()>();

    start_mailer(&ctx, &smtp);
    assert!(settled_mail_to(&db, "kim@example.org").await.sent_at.is_some());
    for address in ["pat@example.org", "fay@example.org"] {
        let mail = settled_mail_to(&db, address).await;
        assert!(mail.sent_at.is_none() && mail.gave_up_at.is_some(), "{mail:?}");
        assert_eq!(smtp.messages_to(address), 0, "{address}");
    }
    assert_eq!(smtp.messages().len(), 1);
}
test_both_dbs!(mail_of_a_deleted_session_is_never_sent);

/// Two server instances share one outbox. A slow SMTP server (4 s per message) keeps a mail in
/// flight past the first retry's backoff (2 s): the other instance must not take it and send
/// it again.
async fn two_instances_never_send_a_slow_mail_twice(db: Db) {
    let smtp = Smtp::start().await;
    let router = app_with_mail(db.clone(), &smtp).await;
    let other = ServerContext::new(db.clone(), "http://127.0.0.1:3000", Vec::new());
    start_mailer(&other, &smtp);
    let mut ada = Client::signed_up_verified(&router, &db, "ada@example.org").await;
    let id = create_session(&mut ada, "Class").await;
    ada.call("send_invitations", &[("id", &id), ("addresses", "slow@example.org")]).await.json::<InvitationReport>();
    smtp.wait_for(1).await;
    // A second sending would have started by now (every worker looks every second) and would
    // take 4 s, like the first.
    tokio::time::sleep(Duration::from_millis(5000)).await;
    assert_eq!(smtp.messages_to("slow@example.org"), 1);
    let mail = settled_mail_to(&db, "slow@example.org").await;
    assert_eq!((mail.attempts, mail.sent_at.is_some()), (1, true));
}
test_both_dbs!(two_instances_never_send_a_slow_mail_twice);

async fn a_facilitator_is_invited_accepts_and_can_be_removed(db: Db) {
    let smtp = Smtp::start().await;
    let router = app_with_mail(db.clone(), &smtp).await;
    let mut ada = Client::signed_up_verified(&router, &db, "ada@example.org").await;
    let id = create_session(&mut ada, "Workshop").await;
    let report: InvitationReport =
        ada.call("add_facilitators", &[("id", &id), ("addresses", "carol@example.org")]).await.json();
    assert_eq!(report.sent, 1);
    let link = link_in(&smtp.wait_for(1).await[0], "facilitate");
    let token = link_token(&link);

    let listed: Vec<FacilitatorView> = ada.call("facilitators", &[("id", &id)]).await.json();
    assert_eq!((listed.len(), listed[0].active, listed[0].email.as_str()), (1, false, "carol@example.org"));

    // A forwarded link does not make a stranger a co-host.
    let mut anonymous = Client::anonymous(&router);
    assert_eq!(
        anonymous.call("accept_facilitation", &[("token", &token)]).await.json::<SharingError>(),
        SharingError::NotLoggedIn
    );
    let mut bob = Client::signed_up(&router, "bob@example.org").await;
    let reply = bob.call("accept_facilitation", &[("token", &token)]).await;
    assert_eq!((reply.status, reply.json::<SharingError>()), (StatusCode::FORBIDDEN, SharingError::WrongAccount));

    let mut carol = Client::signed_up(&router, "carol@example.org").await;
    assert_eq!(carol.call("accept_facilitation", &[("token", &token)]).await.json::<String>(), id);
    assert_eq!(
        carol.call("accept_facilitation", &[("token", &token)]).await.json::<SharingError>(),
        SharingError::InvitationInvalid,
        "single use"
    );
    let mine: Vec<SessionSummary> = carol.call("my_sessions", &[]).await.json();
    assert_eq!((mine.len(), mine[0].role), (1, Role::Facilitator));
    assert_eq!(host(&mut carol, &id).await.role, Role::Facilitator);
    let listed: Vec<FacilitatorView> = ada.call("facilitators", &[("id", &id)]).await.json();
    assert_eq!((listed[0].active, listed[0].display_name.as_deref()), (true, Some("Someone")));

    // Removing revokes access at once, and a pending invitation stops working.
    ada.call("add_facilitators", &[("id", &id), ("addresses", "dan@example.org")]).await.json::<InvitationReport>();
    let dan_link =
        link_in(smtp.wait_for(2).await.iter().find(|m| m.contains("To: dan@example.org")).unwrap(), "facilitate");
    for f in ada.call("facilitators", &[("id", &id)]).await.json::<Vec<FacilitatorView>>() {
        ada.call("remove_facilitator", &[("id", &id), ("facilitator", &f.id.to_string())]).await.json::<()>();
    }
    assert_eq!(carol.call("host_session", &[("id", &id)]).await.json::<SessionError>(), SessionError::NoAccess);
    let mut dan = Client::signed_up(&router, "dan@example.org").await;
    let reply = dan.call("accept_facilitation", &[("token", &link_token(&dan_link))]).await;
    assert_eq!(reply.json::<SharingError>(), SharingError::InvitationInvalid);
}
test_both_dbs!(a_facilitator_is_invited_accepts_and_can_be_removed);

/// Who may do what, for every host action: owner, facilitator, another account, nobody.
async fn the_rights_matrix(db: Db) {
    let ctx = ServerContext::new(db.clone(), "http://127.0.0.1:3000", Vec::new());
    let router = router_with(ctx);
    let mut owner = Client::signed_up_verified(&router, &db, "owner@example.org").await;
    let id = create_session(&mut owner, "Matrix").await;
    let mut facilitator = Client::signed_up(&router, "fac@example.org").await;
    // The mail is not read here: invite and accept through storage with the same rule the link uses.
    let fac_user = db.user_by_email("fac@example.org").await.unwrap().unwrap().user;
    let token = app::rules::secrets::new_login_token();
    db.invite_facilitators(
        id.parse().unwrap(),
        db.user_by_email("owner@example.org").await.unwrap().unwrap().user.id,
        vec![app::storage::NewFacilitator {
            email: "fac@example.org".into(),
            token_digest: app::rules::secrets::login_token_digest(&token),
            token: token.clone(),
        }],
        3_600_000_000,
    )
    .await
    .unwrap()
    .unwrap();
    assert!(db.accept_facilitation(&app::rules::secrets::login_token_digest(&token), &fac_user).await.unwrap().is_ok());
    let mut stranger = Client::signed_up(&router, "stranger@example.org").await;
    let mut nobody = Client::anonymous(&router);
    let slide: String = owner.call("add_slide", &[("id", &id), ("kind", "Text")]).await.json();

    let removal = [("id", id.as_str()), ("facilitator", "00000000-0000-0000-0000-000000000000")];
    assert_eq!(facilitator.call("remove_facilitator", &removal).await.json::<SharingError>(), SharingError::OwnerOnly);
    assert_eq!(stranger.call("remove_facilitator", &removal).await.json::<SharingError>(), SharingError::NoAccess);
    assert_eq!(
        owner.call("remove_facilitator", &removal).await.json::<SharingError>(),
        SharingError::NoSuchFacilitator
    );

    // (server function, its form, allowed for: owner, facilitator)
    type Action<'a> = (&'a str, Vec<(&'a str, String)>, bool, bool);
    let actions: Vec<Action> = vec![
        ("host_session", vec![("id", id.clone())], true, true),
        ("add_slide", vec![("id", id.clone()), ("kind", "Text".into())], true, true),
        (
            "update_slide",
            vec![("id", id.clone()), ("slide", slide.clone()), ("title", "T".into()), ("body", "".into())],
            true,
            true,
        ),
        ("show_slide", vec![("id", id.clone()), ("slide", slide.clone())], true, true),
        ("move_slide", vec![("id", id.clone()), ("slide", slide.clone()), ("direction", "Down".into())], true, true),
        ("send_invitations", vec![("id", id.clone()), ("addresses", "p@example.org".into())], true, true),
        ("facilitators", vec![("id", id.clone())], true, true),
        ("set_session_open", vec![("id", id.clone()), ("open", "true".into())], true, false),
        ("generate_new_code", vec![("id", id.clone())], true, false),
        ("add_facilitators", vec![("id", id.clone()), ("addresses", "x@example.org".into())], true, false),
        ("rename_session", vec![("id", id.clone()), ("title", "Matrix".into())], true, false),
        ("duplicate_session", vec![("id", id.clone())], true, false),
        // Last: once the owner has deleted it, there is nothing left to refuse.
        ("delete_session", vec![("id", id.clone())], true, false),
    ];
    for (name, form, owner_may, facilitator_may) in actions {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        for (who, client, allowed) in [
            ("facilitator", &mut facilitator, facilitator_may),
            ("owner", &mut owner, owner_may),
            ("stranger", &mut stranger, false),
            ("nobody", &mut nobody, false),
        ] {
            let reply = client.call(name, &form).await;
            if allowed {
                assert!(reply.status.is_success(), "{who} may {name}: {} {}", reply.status, reply.body);
            } else {
                let expected = if who == "nobody" { StatusCode::UNAUTHORIZED } else { StatusCode::FORBIDDEN };
                assert_eq!(reply.status, expected, "{who} may not {name}: {}", reply.body);
            }
        }
    }
}
test_both_dbs!(the_rights_matrix);

/// The token of the last unsent mail of `kind` to `address`, as its link carries it.
async fn token_of_last_mail(db: &Db, address: &str, kind: app::rules::mail::MailKind) -> String {
    let mails = db.mail_to(address).await.unwrap();
    let mail =
        mails.iter().rev().find(|m| m.kind == Some(kind)).unwrap_or_else(|| panic!("a {kind:?} mail to {address}"));
    mail.token.clone().expect("an unsent mail keeps its token")
}

async fn me(client: &mut Client) -> app::functions::accounts::Account {
    client.call("me", &[]).await.json::<Option<app::functions::accounts::Account>>().expect("logged in")
}

/// An unverified account creates and shares its sessions by link and code at once, but Ruche
/// mails no one in its name ("Send invitations", "+Add") until its address is proven; then it may.
async fn unverified_accounts_share_by_link_but_mail_no_one(db: Db) {
    use app::rules::mail::MailKind;
    let router = router_with(ServerContext::new(db.clone(), "http://127.0.0.1:3000", Vec::new()));
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    assert!(!me(&mut ada).await.email_verified);
    let id = create_session(&mut ada, "Class").await;
    let ways_in = host(&mut ada, &id).await.state.ways_in;
    assert!(!ways_in.link.is_empty() && !ways_in.code.is_empty(), "shared by link and code at once");

    for (name, addresses) in [("send_invitations", "zoe@example.org"), ("add_facilitators", "carol@example.org")] {
        let reply = ada.call(name, &[("id", &id), ("addresses", addresses)]).await;
        assert_eq!(
            (reply.status, reply.json::<SharingError>()),
            (StatusCode::FORBIDDEN, SharingError::EmailUnverified),
            "{name}"
        );
        assert_eq!(SharingError::EmailUnverified.to_string(), "Verify your e-mail address first: we sent you a link.");
        assert!(db.mail_to(addresses).await.unwrap().is_empty(), "{name}: nothing queued");
    }
    assert!(ada.call("facilitators", &[("id", &id)]).await.json::<Vec<FacilitatorView>>().is_empty());
    // Someone without access is told that first: verifying would not help them.
    let mut eve = Client::signed_up(&router, "eve@example.org").await;
    let reply = eve.call("send_invitations", &[("id", &id), ("addresses", "zoe@example.org")]).await;
    assert_eq!(reply.json::<SharingError>(), SharingError::NoAccess);

    // The link of the sign-up mail, opened in another browser: the address is proven.
    let token = token_of_last_mail(&db, "ada@example.org", MailKind::EmailVerification).await;
    let reply = Client::from(&router, [192, 0, 2, 50]).call("verify_email", &[("token", &token)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(me(&mut ada).await.email_verified);
    let report: InvitationReport =
        ada.call("send_invitations", &[("id", &id), ("addresses", "zoe@example.org")]).await.json();
    assert_eq!(report.sent, 1);
    let report: InvitationReport =
        ada.call("add_facilitators", &[("id", &id), ("addresses", "carol@example.org")]).await.json();
    assert_eq!(report.sent, 1);
}
test_both_dbs!(unverified_accounts_share_by_link_but_mail_no_one);

/// An unverified account cannot take what was meant for an address, except through the
/// invitation link mailed to its own address: that proves the mailbox, so accepting verifies it.
async fn accepting_an_invitation_through_its_link_verifies_the_address(db: Db) {
    use app::rules::mail::MailKind;
    let router = router_with(ServerContext::new(db.clone(), "http://127.0.0.1:3000", Vec::new()));
    let mut ada = Client::signed_up_verified(&router, &db, "ada@example.org").await;
    let id = create_session(&mut ada, "Workshop").await;
    let report: InvitationReport =
        ada.call("add_facilitators", &[("id", &id), ("addresses", "carol@example.org, dan@example.org")]).await.json();
    assert_eq!(report.sent, 2);
    let carols = token_of_last_mail(&db, "carol@example.org", MailKind::FacilitatorInvitation).await;
    let dans = token_of_last_mail(&db, "dan@example.org", MailKind::FacilitatorInvitation).await;

    // Someone else's link proves nothing about this account's address.
    let mut bob = Client::signed_up(&router, "bob@example.org").await;
    let reply = bob.call("accept_facilitation", &[("token", &carols)]).await;
    assert_eq!((reply.status, reply.json::<SharingError>()), (StatusCode::FORBIDDEN, SharingError::WrongAccount));
    assert!(!me(&mut bob).await.email_verified);

    // An expired link is refused, and verifies nothing.
    let mut dan = Client::signed_up(&router, "dan@example.org").await;
    db.execute_for_tests("UPDATE facilitators SET expires_at = 0 WHERE email = 'dan@example.org'").await.unwrap();
    let reply = dan.call("accept_facilitation", &[("token", &dans)]).await;
    assert_eq!((reply.status, reply.json::<SharingError>()), (StatusCode::GONE, SharingError::InvitationExpired));
    assert!(!me(&mut dan).await.email_verified);

    // Carol, unverified, opens her own invitation: accepted, and her address is verified; the
    // sign-up mail's link is no longer needed, nor its mail sent.
    let mut carol = Client::signed_up(&router, "carol@example.org").await;
    let verification = token_of_last_mail(&db, "carol@example.org", MailKind::EmailVerification).await;
    assert_eq!(carol.call("accept_facilitation", &[("token", &carols)]).await.json::<String>(), id);
    assert!(me(&mut carol).await.email_verified);
    assert_eq!(host(&mut carol, &id).await.role, Role::Facilitator);
    let reply = carol.call("verify_email", &[("token", &verification)]).await;
    assert_eq!(reply.status, StatusCode::GONE);
    let mails = db.mail_to("carol@example.org").await.unwrap();
    let pending = mails.iter().find(|m| m.kind == Some(MailKind::EmailVerification)).unwrap();
    assert!(pending.gave_up_at.is_some() && pending.token.is_none(), "{pending:?}");
    // Verified, she may now mail people herself in a session of her own.
    let hers = create_session(&mut carol, "Carol's").await;
    let report: InvitationReport =
        carol.call("send_invitations", &[("id", &hers), ("addresses", "zoe@example.org")]).await.json();
    assert_eq!(report.sent, 1);
}
test_both_dbs!(accepting_an_invitation_through_its_link_verifies_the_address);

/// A mail is written in its recipient's language when their account knows it (the language they
/// last read Ruche in), else in its sender's; an account mail in its account's.
async fn mails_are_written_in_their_recipients_language(db: Db) {
    let smtp = Smtp::start().await;
    let router = app_with_mail(db.clone(), &smtp).await;
    let mut ada = Client::signed_up_verified(&router, &db, "ada@example.org").await;
    // Bob signed up in English (no language asked for: `DEFAULT_LANGUAGE`).
    let _bob = Client::signed_up_verified(&router, &db, "bob@example.org").await;
    let id = create_session(&mut ada, "Rentrée").await;
    // Ada reads Ruche in French from now on: her account follows.
    ada.page_with("/sessions", &[("accept-language", "fr-FR,fr;q=0.9")]).await;
    assert_eq!(db.user_by_email("ada@example.org").await.unwrap().unwrap().user.language, Some(Lang::Fr));

    let report: InvitationReport =
        ada.call("send_invitations", &[("id", &id), ("addresses", "zoe@example.org, bob@example.org")]).await.json();
    assert_eq!(report.sent, 2);
    let messages: Vec<String> = smtp.wait_for(2).await.iter().map(|m| unfolded(m)).collect();
    let to = |address: &str| messages.iter().find(|m| m.contains(&format!("To: {address}"))).unwrap().clone();
    let (zoe, bob) = (to("zoe@example.org"), to("bob@example.org"));
    assert!(
        zoe.contains("<html lang=\"fr\">") && zoe.contains("Rejoindre la session"),
        "no account: the sender's\n{zoe}"
    );
    assert!(bob.contains("<html lang=\"en\">") && bob.contains("Join the session"), "an account: its own\n{bob}");

    // A password reset asked for from an English browser goes out in the account's French.
    let mut visitor = Client::anonymous(&router);
    visitor.call("request_password_reset", &[("email", "ada@example.org")]).await;
    let messages = smtp.wait_for(3).await;
    let reset = messages.iter().map(|m| unfolded(m)).find(|m| m.contains("/account/reset/")).unwrap();
    assert!(reset.contains("<html lang=\"fr\">") && reset.contains("Choisir un nouveau mot de passe"), "{reset}");
}
test_both_dbs!(mails_are_written_in_their_recipients_language);
