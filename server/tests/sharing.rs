//! Sharing over HTTP with a real SMTP server on loopback (Debian's aiosmtpd, writing a
//! Maildir), on SQLite and PostgreSQL: participant invitations, co-facilitators, the rights
//! matrix, and mail surviving an SMTP outage.
use app::functions::sessions::{SessionForHost, SessionSummary};
use app::functions::sharing::{FacilitatorView, InvitationReport};
use app::rules::sessions::{Role, SessionError};
use app::rules::sharing::SharingError;
use app::server::ServerContext;
use app::storage::Db;
use app::test_both_dbs;
use axum::http::StatusCode;
use common::{create_session, router_with, Client};
use server::mail::{spawn_mailer, MailConfig};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod common;

/// A real SMTP server: `python3 -m aiosmtpd` with the Mailbox handler.
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
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{}", self.port), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&self.maildir)
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

    fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) {
                for entry in entries.flatten() {
                    out.push(std::fs::read_to_string(entry.path()).unwrap_or_default());
                }
            }
        }
        out
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

/// The plain-text part's link: quoted-printable may fold lines, so unfold before searching.
fn link_in(message: &str, path: &str) -> String {
    let unfolded = message.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let start = unfolded.find(&format!("http://127.0.0.1:3000/{path}/")).expect("a link in the mail");
    unfolded[start..].split(|c: char| c.is_whitespace() || c == '"' || c == '<').next().unwrap().to_owned()
}

async fn app_with_mail(db: Db, smtp: &Smtp) -> axum::Router {
    let ctx = ServerContext::new(db, "http://127.0.0.1:3000", Vec::new());
    spawn_mailer(ctx.clone(), MailConfig::new(Some(&smtp.url()), "Ruche <ruche@example.org>").unwrap());
    router_with(ctx)
}

async fn host(client: &mut Client, id: &str) -> SessionForHost {
    client.call("host_session", &[("id", id)]).await.json()
}

async fn participant_invitations_arrive_with_the_current_link(db: Db) {
    let mut smtp = Smtp::start().await;
    let router = app_with_mail(db, &smtp).await;
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Maths <3").await;

    let report: InvitationReport = ada
        .call("send_invitations", &[("id", &id), ("addresses", "zoe@example.org, max@example.org;not-an-address\nZOE@example.org")])
        .await
        .json();
    assert_eq!(report, InvitationReport { sent: 2, refused: vec!["not-an-address".into()] });
    let messages = smtp.wait_for(2).await;
    let link = host(&mut ada, &id).await.state.ways_in.link;
    for message in &messages {
        assert_eq!(link_in(message, "j"), link);
        assert!(message.contains("Content-Type: text/plain") && message.contains("Content-Type: text/html"));
        assert!(message.contains("Maths &lt;3"), "user text is escaped in the HTML part");
    }
    let recipients: Vec<bool> = ["zoe@example.org", "max@example.org"].iter().map(|a| messages.iter().any(|m| m.contains(&format!("To: {a}")))).collect();
    assert_eq!(recipients, [true, true]);

    // SMTP goes down during a send: nothing is lost, and the mail that waited carries the link
    // made by "Generate a new code" in the meantime.
    smtp.stop();
    let report: InvitationReport = ada.call("send_invitations", &[("id", &id), ("addresses", "late@example.org")]).await.json();
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
    assert_eq!((reply.status, reply.json::<SharingError>()), (StatusCode::BAD_REQUEST, SharingError::TooManyAddresses(101)));
    let reply = ada.call("send_invitations", &[("id", &id), ("addresses", "  ")]).await;
    assert_eq!(reply.json::<SharingError>(), SharingError::NoAddress);
}
test_both_dbs!(participant_invitations_arrive_with_the_current_link);

async fn an_account_sends_at_most_500_invitations_a_day(db: Db) {
    // Queued only: the limit is about what an account may cause, whether or not SMTP is up.
    let router = router_with(ServerContext::new(db, "http://127.0.0.1:3000", Vec::new()));
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Big class").await;
    for batch in 0..5 {
        let addresses: Vec<String> = (0..100).map(|i| format!("p{batch}-{i}@example.org")).collect();
        assert_eq!(ada.call("send_invitations", &[("id", &id), ("addresses", &addresses.join(","))]).await.json::<InvitationReport>().sent, 100);
    }
    let reply = ada.call("send_invitations", &[("id", &id), ("addresses", "one-more@example.org")]).await;
    assert_eq!((reply.status, reply.json::<SharingError>()), (StatusCode::TOO_MANY_REQUESTS, SharingError::DailyLimit(0)));
}
test_both_dbs!(an_account_sends_at_most_500_invitations_a_day);

async fn a_facilitator_is_invited_accepts_and_can_be_removed(db: Db) {
    let smtp = Smtp::start().await;
    let router = app_with_mail(db, &smtp).await;
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut ada, "Workshop").await;
    let report: InvitationReport = ada.call("add_facilitators", &[("id", &id), ("addresses", "carol@example.org")]).await.json();
    assert_eq!(report.sent, 1);
    let link = link_in(&smtp.wait_for(1).await[0], "facilitate");
    let token = link.rsplit('/').next().unwrap().to_owned();

    let listed: Vec<FacilitatorView> = ada.call("facilitators", &[("id", &id)]).await.json();
    assert_eq!((listed.len(), listed[0].active, listed[0].email.as_str()), (1, false, "carol@example.org"));

    // A forwarded link does not make a stranger a co-host.
    let mut anonymous = Client::anonymous(&router);
    assert_eq!(anonymous.call("accept_facilitation", &[("token", &token)]).await.json::<SharingError>(), SharingError::NotLoggedIn);
    let mut bob = Client::signed_up(&router, "bob@example.org").await;
    let reply = bob.call("accept_facilitation", &[("token", &token)]).await;
    assert_eq!((reply.status, reply.json::<SharingError>()), (StatusCode::FORBIDDEN, SharingError::WrongAccount));

    let mut carol = Client::signed_up(&router, "carol@example.org").await;
    assert_eq!(carol.call("accept_facilitation", &[("token", &token)]).await.json::<String>(), id);
    assert_eq!(carol.call("accept_facilitation", &[("token", &token)]).await.json::<SharingError>(), SharingError::InvitationInvalid, "single use");
    let mine: Vec<SessionSummary> = carol.call("my_sessions", &[]).await.json();
    assert_eq!((mine.len(), mine[0].role), (1, Role::Facilitator));
    assert_eq!(host(&mut carol, &id).await.role, Role::Facilitator);
    let listed: Vec<FacilitatorView> = ada.call("facilitators", &[("id", &id)]).await.json();
    assert_eq!((listed[0].active, listed[0].display_name.as_deref()), (true, Some("Someone")));

    // Removing revokes access at once, and a pending invitation stops working.
    ada.call("add_facilitators", &[("id", &id), ("addresses", "dan@example.org")]).await.json::<InvitationReport>();
    let dan_link = link_in(smtp.wait_for(2).await.iter().find(|m| m.contains("To: dan@example.org")).unwrap(), "facilitate");
    for f in ada.call("facilitators", &[("id", &id)]).await.json::<Vec<FacilitatorView>>() {
        ada.call("remove_facilitator", &[("id", &id), ("facilitator", &f.id.to_string())]).await.json::<()>();
    }
    assert_eq!(carol.call("host_session", &[("id", &id)]).await.json::<SessionError>(), SessionError::NoAccess);
    let mut dan = Client::signed_up(&router, "dan@example.org").await;
    let reply = dan.call("accept_facilitation", &[("token", dan_link.rsplit('/').next().unwrap())]).await;
    assert_eq!(reply.json::<SharingError>(), SharingError::InvitationInvalid);
}
test_both_dbs!(a_facilitator_is_invited_accepts_and_can_be_removed);

/// Who may do what, for every host action: owner, facilitator, another account, nobody.
async fn the_rights_matrix(db: Db) {
    let ctx = ServerContext::new(db.clone(), "http://127.0.0.1:3000", Vec::new());
    let router = router_with(ctx);
    let mut owner = Client::signed_up(&router, "owner@example.org").await;
    let id = create_session(&mut owner, "Matrix").await;
    let mut facilitator = Client::signed_up(&router, "fac@example.org").await;
    owner.call("add_facilitators", &[("id", &id), ("addresses", "fac@example.org")]).await.json::<InvitationReport>();
    // The mail is not read here: accept through storage with the same rule the link uses.
    let fac_user = db.user_by_email("fac@example.org").await.unwrap().unwrap().user;
    let token = app::rules::secrets::new_login_token();
    db.invite_facilitators(
        id.parse().unwrap(),
        db.user_by_email("owner@example.org").await.unwrap().unwrap().user.id,
        vec![app::storage::NewFacilitator { email: "fac@example.org".into(), token_digest: app::rules::secrets::login_token_digest(&token), token: token.clone() }],
        3_600_000_000,
    )
    .await
    .unwrap();
    assert!(db.accept_facilitation(&app::rules::secrets::login_token_digest(&token), &fac_user).await.unwrap().is_ok());
    let mut stranger = Client::signed_up(&router, "stranger@example.org").await;
    let mut nobody = Client::anonymous(&router);
    let slide: String = owner.call("add_slide", &[("id", &id), ("kind", "Text")]).await.json();

    // (server function, its form, allowed for: owner, facilitator)
    let actions: Vec<(&str, Vec<(&str, String)>, bool, bool)> = vec![
        ("host_session", vec![("id", id.clone())], true, true),
        ("add_slide", vec![("id", id.clone()), ("kind", "Text".into())], true, true),
        ("update_slide", vec![("id", id.clone()), ("slide", slide.clone()), ("title", "T".into()), ("body", "".into())], true, true),
        ("show_slide", vec![("id", id.clone()), ("slide", slide.clone())], true, true),
        ("move_slide", vec![("id", id.clone()), ("slide", slide.clone()), ("direction", "Down".into())], true, true),
        ("send_invitations", vec![("id", id.clone()), ("addresses", "p@example.org".into())], true, true),
        ("facilitators", vec![("id", id.clone())], true, true),
        ("set_session_open", vec![("id", id.clone()), ("open", "true".into())], true, false),
        ("generate_new_code", vec![("id", id.clone())], true, false),
        ("add_facilitators", vec![("id", id.clone()), ("addresses", "x@example.org".into())], true, false),
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
    let removal = [("id", id.as_str()), ("facilitator", "00000000-0000-0000-0000-000000000000")];
    assert_eq!(facilitator.call("remove_facilitator", &removal).await.json::<SharingError>(), SharingError::OwnerOnly);
    assert_eq!(stranger.call("remove_facilitator", &removal).await.json::<SharingError>(), SharingError::NoAccess);
    assert_eq!(owner.call("remove_facilitator", &removal).await.json::<SharingError>(), SharingError::NoSuchFacilitator);
}
test_both_dbs!(the_rights_matrix);
