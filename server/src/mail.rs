//! The mail worker: delivers the outbox over SMTP (`SMTP_URL`), retrying with backoff, so a mail
//! written by an action is never lost while SMTP is down. Without `SMTP_URL`, mail is written to
//! the log instead, for development. Bodies are rendered at delivery, from current data: a
//! participant invitation still waiting after "Generate a new code" carries the new link.
//! A mail SMTP refuses for good (5xx), one undelivered for `GIVE_UP_AFTER`, and one with nothing
//! left to invite to (session deleted, co-facilitator removed) is given up, never sent.
use app::rules::accounts::TokenPurpose;
use app::rules::language::Lang;
use app::rules::mail::{compose, compose_account, header_safe, mail_language, Mail, MailKind};
use app::rules::secrets::login_token_digest;
use app::services::ServerContext;
use app::storage::{now_micros, OutboxMail};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// lettre's limit on each step of an SMTP conversation (connecting, each command's answer).
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(15);
/// A whole attempt (rendering, then the SMTP conversation's several steps) is cut off after
/// this, so that it always ends before its claim does.
pub const ATTEMPT_DEADLINE: Duration = Duration::from_secs(45);
/// How long a claimed mail is kept from every other worker (other server instances included):
/// the attempt's deadline, plus a margin for recording its outcome and for clocks that differ a
/// little between instances. Shorter, a slow attempt would be taken and sent a second time.
pub const CLAIM: Duration = Duration::from_secs(75);
/// Retries stop this long after the mail was written: an address that has not taken it in two
/// days is not going to, and the link it carries grows stale.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(2 * 24 * 3600);

/// How long before the n-th retry: 2, 4, 8 … seconds, at most a minute.
pub fn backoff(attempt: i32) -> Duration {
    Duration::from_secs(1u64 << attempt.clamp(1, 6) as u32).min(Duration::from_secs(60))
}

#[derive(Clone)]
pub struct MailConfig {
    pub from: Mailbox,
    pub smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
}

impl MailConfig {
    /// `SMTP_URL` (`smtp://host:port`, `smtps://user:pass@host`, …) and `MAIL_FROM`.
    pub fn new(smtp_url: Option<&str>, from: &str) -> Result<Self, String> {
        let from: Mailbox = from.parse().map_err(|e| format!("MAIL_FROM {from:?}: {e}"))?;
        let smtp = match smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("SMTP_URL: {e}"))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
            None => None,
        };
        Ok(Self { from, smtp })
    }
}

pub fn spawn_mailer(ctx: ServerContext, config: MailConfig) {
    tokio::spawn(async move {
        loop {
            beat(&ctx);
            if let Err(e) = deliver_due(&ctx, &config).await {
                tracing::warn!(error = %e, "mail outbox unavailable; retrying");
            }
            tokio::select! {
                _ = ctx.mail_wakeup.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    });
}

/// A sign of life for `/readyz` (`health.rs`).
fn beat(ctx: &ServerContext) {
    ctx.mail_heartbeat.store(now_micros(), std::sync::atomic::Ordering::Relaxed);
}

async fn deliver_due(ctx: &ServerContext, config: &MailConfig) -> Result<(), app::storage::StorageError> {
    for mail in ctx.db.due_mail(50).await? {
        beat(ctx);
        let attempt = mail.attempts + 1;
        if !ctx.db.claim_mail(&mail, now_micros() + CLAIM.as_micros() as i64).await? {
            continue; // another server instance has it
        }
        if now_micros() - mail.created_at > GIVE_UP_AFTER.as_micros() as i64 {
            tracing::warn!(to = %mail.recipient, attempts = mail.attempts, last_error = ?mail.last_error, "mail undelivered for two days: given up");
            ctx.db.give_up_mail(mail.id, "undelivered for two days").await?;
            continue;
        }
        let outcome = tokio::time::timeout(ATTEMPT_DEADLINE, async {
            let Some(rendered) = render(ctx, &mail).await? else { return Ok(None) };
            Ok::<_, app::storage::StorageError>(Some(send(config, &mail.recipient, &rendered).await))
        })
        .await
        .unwrap_or_else(|_| Ok(Some(Err(Failure::Transient(format!("no answer within {ATTEMPT_DEADLINE:?}"))))))?;
        match outcome {
            None => {
                tracing::info!(to = %mail.recipient, "mail dropped: its session or invitation is gone");
                ctx.db.give_up_mail(mail.id, "nothing left to invite to").await?;
            }
            Some(Ok(())) => ctx.db.mark_mail_sent(mail.id).await?,
            Some(Err(Failure::Permanent(e))) => {
                tracing::warn!(to = %mail.recipient, attempt, error = %e, "mail refused for good: given up");
                ctx.db.give_up_mail(mail.id, &e).await?;
            }
            Some(Err(Failure::Transient(e))) => {
                tracing::warn!(to = %mail.recipient, attempt, error = %e, "mail not delivered; will retry");
                ctx.db.note_mail_failure(mail.id, &e, now_micros() + backoff(attempt).as_micros() as i64).await?;
            }
        }
    }
    Ok(())
}

/// Why an attempt failed: `Permanent` when trying again cannot help (a 5xx answer, an address
/// no mail can be built for).
#[derive(Debug)]
enum Failure {
    Permanent(String),
    Transient(String),
}

/// The mail as it goes out now, in its recipient's language (`rules::mail::mail_language`);
/// `None` when there is no one left to invite or nothing left to
/// invite to: its session was deleted, or the co-facilitator invitation it carries was
/// withdrawn (the facilitator removed, or invited again with a newer link).
async fn render(ctx: &ServerContext, mail: &OutboxMail) -> Result<Option<Mail>, app::storage::StorageError> {
    if let Some(kind @ (MailKind::PasswordReset | MailKind::EmailVerification)) = mail.kind {
        return render_account_mail(ctx, mail, kind).await;
    }
    if let (Some(MailKind::AccountInvitation), Some(token)) = (mail.kind, &mail.token) {
        // Replaced by a newer invitation, used or expired: nothing left to send.
        if ctx.db.invitation(&login_token_digest(token)).await?.is_none() {
            return Ok(None);
        }
        let (inviter, lang) = sender(ctx, mail).await?;
        return Ok(Some(compose(MailKind::AccountInvitation, lang, &inviter, "", &ctx.account_invitation_link(token))));
    }
    if mail.kind == Some(MailKind::SignUpAttempt) {
        let Some(user) = ctx.db.user(mail.sent_by).await? else { return Ok(None) };
        let lang = mail_language(user.language, None, ctx.default_language);
        return Ok(Some(compose_account(MailKind::SignUpAttempt, lang, &user.display_name, &ctx.log_in_link())));
    }
    let Some(session) = ctx.db.session(mail.session_id).await? else { return Ok(None) };
    if let (Some(MailKind::FacilitatorInvitation), Some(token)) = (mail.kind, &mail.token) {
        if !ctx.db.facilitation_pending(mail.session_id, &login_token_digest(token)).await? {
            return Ok(None);
        }
    }
    let (inviter, lang) = sender(ctx, mail).await?;
    Ok(match (mail.kind, &mail.token) {
        (Some(MailKind::ParticipantInvitation), _) => Some(compose(
            MailKind::ParticipantInvitation,
            lang,
            &inviter,
            &session.title,
            &ctx.join_link(&session.link_token),
        )),
        (Some(MailKind::FacilitatorInvitation), Some(token)) => Some(compose(
            MailKind::FacilitatorInvitation,
            lang,
            &inviter,
            &session.title,
            &ctx.facilitation_link(token),
        )),
        _ => None,
    })
}

/// The name an invitation is sent in (its sender's, or a neutral one if the account is gone),
/// and the language it is written in: its recipient's if they have an account, else its
/// sender's.
async fn sender(ctx: &ServerContext, mail: &OutboxMail) -> Result<(String, Lang), app::storage::StorageError> {
    let sender = ctx.db.user(mail.sent_by).await?;
    let recipient = ctx.db.user_by_email(&mail.recipient).await?.and_then(|r| r.user.language);
    let lang = mail_language(recipient, sender.as_ref().and_then(|u| u.language), ctx.default_language);
    let name = sender.map(|u| u.display_name).unwrap_or_else(|| app::texts::mail_someone(lang).into());
    Ok((name, lang))
}

/// A mail to an account's own address; `None` once its link no longer works (used, replaced by
/// a newer one, expired, or the address verified meanwhile).
async fn render_account_mail(
    ctx: &ServerContext,
    mail: &OutboxMail,
    kind: MailKind,
) -> Result<Option<Mail>, app::storage::StorageError> {
    let Some(token) = &mail.token else { return Ok(None) };
    let (purpose, link) = match kind {
        MailKind::PasswordReset => (TokenPurpose::PasswordReset, ctx.password_reset_link(token)),
        _ => (TokenPurpose::EmailVerification, ctx.email_verification_link(token)),
    };
    if ctx.db.account_link_works(purpose, &login_token_digest(token)).await?.is_none() {
        return Ok(None);
    }
    let Some(user) = ctx.db.user(mail.sent_by).await? else { return Ok(None) };
    let lang = mail_language(user.language, None, ctx.default_language);
    Ok(Some(compose_account(kind, lang, &user.display_name, &link)))
}

async fn send(config: &MailConfig, recipient: &str, mail: &Mail) -> Result<(), Failure> {
    let Some(smtp) = &config.smtp else {
        tracing::info!(to = %recipient, subject = %mail.subject, body = %mail.text, "mail (no SMTP_URL: written to the log)");
        return Ok(());
    };
    let message = Message::builder()
        .from(config.from.clone())
        .to(recipient.parse().map_err(|e| Failure::Permanent(format!("recipient: {e}")))?)
        .subject(header_safe(&mail.subject))
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(mail.text.clone()))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(mail.html.clone())),
        )
        .map_err(|e| Failure::Permanent(e.to_string()))?;
    smtp.send(message).await.map(|_| ()).map_err(|e| {
        if e.is_permanent() {
            Failure::Permanent(e.to_string())
        } else {
            Failure::Transient(e.to_string())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(40), Duration::from_secs(60));
    }

    /// A claim outlasts every attempt, however slow the SMTP server: no other worker can take
    /// the mail and send it a second time while the first attempt may still deliver it.
    #[test]
    fn a_claim_outlasts_the_slowest_attempt() {
        assert!(ATTEMPT_DEADLINE >= SMTP_TIMEOUT * 3, "room for connecting and a few commands");
        assert!(CLAIM >= ATTEMPT_DEADLINE + Duration::from_secs(15));
        assert!(CLAIM > backoff(i32::MAX), "the claim no longer follows the backoff");
    }
}
