//! Joining: the one way into a session, by code or by link. The join addresses (`/join`,
//! `/j/<token>`: the server crate's `join_pages`) and the server functions `join_by_code` and
//! `join_by_link` both come through `enter`.
use super::ServerContext;
use crate::ids::SessionId;
use crate::rules::joining::JoinError;
use crate::rules::limits::whole_seconds;
use crate::rules::session_code::SessionCode;
use crate::storage::{WayIn, WayInKind};

/// How a visitor asks to come in: the code they typed, or the token of the link they followed.
#[derive(Clone, Copy, Debug)]
pub enum Way<'a> {
    Code(&'a str),
    Link(&'a str),
}

/// A way in refused at `/join` or `/j/<token>` (the server crate's `join_pages`), handed in the
/// request's extensions to the page that says why, which must not try it a second time.
#[derive(Clone, Debug)]
pub struct Refused(pub JoinError);

/// Lets `visitor` (from `ip`) in through a code or a link; returns the session they are now a
/// participant of.
///
/// A code is guessable: a failure is taken from the visitor's and the address's budgets before the
/// lookup (so a burst of parallel guesses cannot all pass while the first are looked up) and given
/// back when the code led to a session, open or closed (a closed session tells a guesser nothing
/// worth limiting, and a room that tried before the host opened must not be slowed). A link is not
/// guessable: a right one always goes in, and only a wrong one uses the budgets.
pub async fn enter(
    ctx: &ServerContext,
    way: Way<'_>,
    visitor: &str,
    ip: std::net::IpAddr,
) -> Result<SessionId, JoinError> {
    let entered = try_entering(ctx, way, visitor, ip).await;
    super::metrics::joined(&entered);
    entered
}

async fn try_entering(
    ctx: &ServerContext,
    way: Way<'_>,
    visitor: &str,
    ip: std::net::IpAddr,
) -> Result<SessionId, JoinError> {
    let code;
    let (kind, value) = match way {
        Way::Code(typed) => {
            code = SessionCode::parse(typed).map_err(|_| JoinError::MalformedCode)?;
            (WayInKind::Code, code.as_str())
        }
        // Looked up as given: base64url tokens and the hex ones of old links alike. Anything else
        // finds nothing and counts as a failed guess.
        Way::Link(token) => (WayInKind::Link, token.trim()),
    };
    let too_many = |wait| JoinError::TooManyAttempts(whole_seconds(wait));
    let attempt = match kind {
        WayInKind::Code => Some(ctx.limits.take_join(visitor, ip).map_err(too_many)?),
        WayInKind::Link => None,
    };
    let found = find_way_in(ctx, kind, value).await;
    let failure = match found {
        Ok(WayIn::Current(session)) => {
            if let Some(attempt) = attempt {
                ctx.limits.give_back_join(attempt);
            }
            if !session.is_open {
                // Its participants see their page say so, as at `/p/<id>`.
                if came_back(ctx, kind, session.id, visitor).await? {
                    return Ok(session.id);
                }
                return Err(JoinError::Closed);
            }
            if !has_room_for(ctx, session.id, visitor).await? {
                return Err(JoinError::Full);
            }
            if !ctx.live.is_admitted(session.id, visitor) {
                ctx.limits.take_new_participant(ip).map_err(too_many)?;
            }
            if let Err(e) = ctx.joins.join(session.id, visitor).await {
                // Deleted between the lookup and the write: its foreign key refused the row.
                if !crate::storage::is_unavailable(&e) && ctx.db.session_was_deleted(session.id).await? {
                    return Err(JoinError::Deleted);
                }
                return Err(e.into());
            }
            ctx.live.admit(session.id, visitor);
            return Ok(session.id);
        }
        Ok(WayIn::Retired(session)) if came_back(ctx, kind, session, visitor).await? => return Ok(session),
        Ok(WayIn::Retired(_)) => JoinError::Retired,
        Ok(WayIn::Deleted) => JoinError::Deleted,
        Ok(WayIn::Unknown) => match kind {
            WayInKind::Code => JoinError::UnknownCode,
            WayInKind::Link => JoinError::UnknownLink,
        },
        Err(e) => {
            if let Some(attempt) = attempt {
                ctx.limits.give_back_join(attempt);
            }
            return Err(e.into());
        }
    };
    if attempt.is_none() {
        // A wrong link: kept as a failure, like a wrong code.
        let _failure = ctx.limits.take_join(visitor, ip).map_err(too_many)?;
    }
    // Guesses spread over many addresses, each within its budgets: every failure slows down,
    // while right codes and links go on going in at once.
    if let Some(delay) = ctx.limits.failure_delay() {
        tokio::time::sleep(delay).await;
    }
    Err(failure)
}

/// Whether `visitor`, already a participant of `session`, comes back by its public link: their
/// page is at that link without JavaScript (the server crate's `join_pages`), so the link still
/// brings them back to it once the session is closed (the page says so) or has a new code.
/// Nobody else gets in by it. A code brings nobody back: the banner sends to `/p/<id>`.
async fn came_back(ctx: &ServerContext, kind: WayInKind, session: SessionId, visitor: &str) -> Result<bool, JoinError> {
    Ok(kind == WayInKind::Link && ctx.db.participant(session, visitor).await?.is_some())
}

/// `Db::find_way_in`, through the ways in held in memory (`ways_in.rs`): a room joining by
/// one code reads it from the database about once a second.
async fn find_way_in(ctx: &ServerContext, kind: WayInKind, value: &str) -> Result<WayIn, sea_orm::DbErr> {
    let now = std::time::Instant::now();
    if let Some(record) = ctx.ways_in.get(kind, value, now) {
        return Ok(WayIn::Current(record));
    }
    let epoch = ctx.ways_in.epoch();
    let found = ctx.db.find_way_in(kind, value).await?;
    if let WayIn::Current(record) = &found {
        ctx.ways_in.keep(kind, value, record.clone(), epoch, now);
    }
    Ok(found)
}

/// Whether `visitor` may come into `session`: while fewer than `max_participants` people
/// follow it (participants' sockets: joins that open none fill no room), and always if they
/// joined before.
async fn has_room_for(ctx: &ServerContext, session: SessionId, visitor: &str) -> Result<bool, sea_orm::DbErr> {
    if u64::from(ctx.live.participants_connected(session)) < ctx.max_participants
        || ctx.live.is_admitted(session, visitor)
    {
        return Ok(true);
    }
    Ok(ctx.db.participant(session, visitor).await?.is_some())
}
