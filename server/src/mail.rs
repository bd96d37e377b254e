//! The mail worker: delivers the outbox over SMTP (`SMTP_URL`), retrying with backoff, so a mail
//! written by an action is never lost while SMTP is down. Without `SMTP_URL`, mail is written to
//! the log instead, for development. Bodies are rendered at delivery, from current data: a
//! participant invitation still waiting after "Generate a new code" carries the new link.
use app::rules::mail::{compose, header_safe, Mail, MailKind};
use app::server::ServerContext;
use app::storage::{now_micros, OutboxMail};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

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
                    .timeout(Some(Duration::from_secs(15)))
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

async fn deliver_due(ctx: &ServerContext, config: &MailConfig) -> Result<(), app::storage::StorageError> {
    for mail in ctx.db.due_mail(50).await? {
        let retry_at = now_micros() + backoff(mail.attempts + 1).as_micros() as i64;
        if !ctx.db.claim_mail(&mail, retry_at).await? {
            continue; // another server instance has it
        }
        let Some(rendered) = render(ctx, &mail).await? else {
            // Its session is gone: nothing left to invite to.
            ctx.db.mark_mail_sent(mail.id).await?;
            continue;
        };
        match send(config, &mail.recipient, &rendered).await {
            Ok(()) => ctx.db.mark_mail_sent(mail.id).await?,
            Err(e) => {
                tracing::warn!(to = %mail.recipient, attempt = mail.attempts + 1, error = %e, "mail not delivered; will retry");
                ctx.db.note_mail_failure(mail.id, &e).await?;
            }
        }
    }
    Ok(())
}

async fn render(ctx: &ServerContext, mail: &OutboxMail) -> Result<Option<Mail>, app::storage::StorageError> {
    let Some(session) = ctx.db.session(mail.session_id).await? else { return Ok(None) };
    let inviter = ctx.db.user(mail.sent_by).await?.map(|u| u.display_name).unwrap_or_else(|| "A Ruche user".into());
    Ok(match (mail.kind, &mail.token) {
        (Some(MailKind::ParticipantInvitation), _) => Some(compose(
            MailKind::ParticipantInvitation,
            &inviter,
            &session.title,
            &ctx.join_link(&session.link_token),
        )),
        (Some(MailKind::FacilitatorInvitation), Some(token)) => Some(compose(
            MailKind::FacilitatorInvitation,
            &inviter,
            &session.title,
            &ctx.facilitation_link(token),
        )),
        _ => None,
    })
}

async fn send(config: &MailConfig, recipient: &str, mail: &Mail) -> Result<(), String> {
    let Some(smtp) = &config.smtp else {
        tracing::info!(to = %recipient, subject = %mail.subject, body = %mail.text, "mail (no SMTP_URL: written to the log)");
        return Ok(());
    };
    let message = Message::builder()
        .from(config.from.clone())
        .to(recipient.parse().map_err(|e| format!("recipient: {e}"))?)
        .subject(header_safe(&mail.subject))
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(mail.text.clone()))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(mail.html.clone())),
        )
        .map_err(|e| e.to_string())?;
    smtp.send(message).await.map(|_| ()).map_err(|e| e.to_string())
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
}
