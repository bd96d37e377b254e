use crate::ids::{FacilitatorId, SessionId};
use crate::rules::sharing::SharingError;
use crate::states::FacilitatorView;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::{
    rules::{
        accounts::{may, AccountAction},
        secrets::{login_token_digest, new_login_token},
        sessions::Role,
        sharing::{parse_addresses, shown_refusals, AddressList, FACILITATOR_INVITATION_DAYS},
    },
    services::{auth, reply, see_other, ServerContext},
    storage::{AcceptError, NewFacilitator, User},
};

/// What a send of invitations did: who gets a mail, and which addresses were refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationReport {
    pub sent: usize,
    /// Addresses that are not valid, the first `rules::sharing::MAX_REFUSED_SHOWN` of them.
    pub refused: Vec<String>,
    /// How many more were refused than `refused` lists.
    pub refused_more: usize,
    /// Co-facilitators whose pending invitation went out less than a day ago: not mailed again.
    pub already_invited: Vec<String>,
}

super::server_fn_error!(SharingError);

#[cfg(feature = "ssr")]
impl InvitationReport {
    fn new(sent: usize, refused: Vec<String>) -> Self {
        let (refused, refused_more) = shown_refusals(refused);
        Self { sent, refused, refused_more, already_invited: Vec::new() }
    }
}

#[cfg(feature = "ssr")]
async fn host(id: SessionId) -> Result<(ServerContext, User, Role), SharingError> {
    let ctx = ServerContext::get()?;
    let user = auth::current_user(&ctx.db).await?.ok_or(SharingError::NotLoggedIn)?;
    let role = ctx.db.role_in_session(id, user.id).await?.ok_or(SharingError::NoAccess)?;
    Ok((ctx, user, role))
}

/// `host`, for a function that changes something: counted against the account's changes.
#[cfg(feature = "ssr")]
async fn changing_host(id: SessionId) -> Result<(ServerContext, User, Role), SharingError> {
    let (ctx, user, role) = host(id).await?;
    ctx.limits
        .take_change(user.id)
        .map_err(|wait| SharingError::TooManyChanges(crate::rules::limits::whole_seconds(wait)))?;
    Ok((ctx, user, role))
}

/// Refuses what an account may not do before its address is proven: checked after its role, so
/// that only someone who could do it is told to verify.
#[cfg(feature = "ssr")]
fn verified_for(action: AccountAction, user: &User) -> Result<(), SharingError> {
    if may(action, user.email_verified) {
        Ok(())
    } else {
        Err(SharingError::EmailUnverified)
    }
}

#[cfg(feature = "ssr")]
fn owner_only(role: Role) -> Result<(), SharingError> {
    if role.may_manage_facilitators() {
        Ok(())
    } else {
        Err(SharingError::OwnerOnly)
    }
}

/// An address list, parsed within the per-send limit; at least one address.
#[cfg(feature = "ssr")]
fn addresses(input: &str) -> Result<AddressList, SharingError> {
    let list = parse_addresses(input)?;
    if list.valid.is_empty() && list.invalid.is_empty() {
        return Err(SharingError::NoAddress);
    }
    Ok(list)
}

/// "Send invitations": one mail per valid address, with the session's title and public link.
#[server(endpoint = "send_invitations")]
pub async fn send_invitations(id: SessionId, addresses: String) -> Result<InvitationReport, SharingError> {
    reply(
        async move {
            let (ctx, user, role) = changing_host(id).await?;
            if !role.may_invite_participants() {
                return Err(SharingError::NoAccess);
            }
            verified_for(AccountAction::SendInvitations, &user)?;
            let list = self::addresses(&addresses)?;
            if !list.valid.is_empty() {
                ctx.db.queue_participant_invitations(id, user.id, &list.valid).await??;
                ctx.wake_mailer();
            }
            Ok(InvitationReport::new(list.valid.len(), list.invalid))
        }
        .await,
    )
}

/// "+Add": invites co-facilitators by e-mail. Owner only.
#[server(endpoint = "add_facilitators")]
pub async fn add_facilitators(id: SessionId, addresses: String) -> Result<InvitationReport, SharingError> {
    reply(
        async move {
            let (ctx, user, role) = changing_host(id).await?;
            owner_only(role)?;
            verified_for(AccountAction::AddCoFacilitators, &user)?;
            let list = self::addresses(&addresses)?;
            let invitees: Vec<NewFacilitator> = list
                .valid
                .iter()
                .filter(|email| **email != user.email)
                .map(|email| {
                    let token = new_login_token();
                    NewFacilitator { email: email.clone(), token_digest: login_token_digest(&token), token }
                })
                .collect();
            let mut report = InvitationReport::new(0, list.invalid);
            if invitees.is_empty() {
                return Ok(report);
            }
            let lifetime = FACILITATOR_INVITATION_DAYS * 24 * 3600 * 1_000_000;
            let invited = ctx.db.invite_facilitators(id, user.id, invitees, lifetime).await??;
            (report.sent, report.already_invited) = (invited.mailed.len(), invited.already_invited);
            if report.sent > 0 {
                ctx.wake_mailer();
                ctx.live.changed(&ctx, id).await;
            }
            Ok(report)
        }
        .await,
    )
}

#[server(endpoint = "facilitators")]
pub async fn facilitators(id: SessionId) -> Result<Vec<FacilitatorView>, SharingError> {
    reply(
        async move {
            let (ctx, _, _) = host(id).await?;
            Ok(ctx.db.facilitators(id).await?.into_iter().map(FacilitatorView::from).collect())
        }
        .await,
    )
}

/// Removes a co-facilitator (or a pending invitation): their access ends at once. Owner only.
#[server(endpoint = "remove_facilitator")]
pub async fn remove_facilitator(id: SessionId, facilitator: FacilitatorId) -> Result<(), SharingError> {
    reply(
        async move {
            let (ctx, _, role) = changing_host(id).await?;
            owner_only(role)?;
            if !ctx.db.remove_facilitator(id, facilitator).await? {
                return Err(SharingError::NoSuchFacilitator);
            }
            // Their open host tabs lose the host view with this event.
            ctx.live.changed(&ctx, id).await;
            Ok(())
        }
        .await,
    )
}

/// Opening an invitation link: binds it to the logged-in account if its address matches. An
/// unverified account may accept only this way: the link, mailed to its address, proves it, and
/// storage verifies the address as it accepts (see `Db::accept_facilitation`).
#[server(endpoint = "accept_facilitation")]
pub async fn accept_facilitation(token: String) -> Result<SessionId, SharingError> {
    reply(
        async move {
            let ctx = ServerContext::get()?;
            let user = auth::current_user(&ctx.db).await?.ok_or(SharingError::NotLoggedIn)?;
            match ctx.db.accept_facilitation(&login_token_digest(token.trim()), &user).await? {
                Ok(session) => {
                    ctx.live.changed(&ctx, session).await;
                    see_other(&format!("/s/{session}"));
                    Ok(session)
                }
                Err(AcceptError::Invalid) => Err(SharingError::InvitationInvalid),
                Err(AcceptError::Expired) => Err(SharingError::InvitationExpired),
                Err(AcceptError::WrongAccount) => Err(SharingError::WrongAccount),
            }
        }
        .await,
    )
}
