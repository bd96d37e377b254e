//! `/s/<session>/discussion.csv`: a session's Discussion as CSV, for its hosts only (the owner
//! and co-facilitators, by their login cookie). Every message whatever its state, newest first,
//! read a page at a time; cells that a spreadsheet would take for a formula are escaped
//! (`rules::discussion::csv_cell`).
use app::ids::SessionId;
use app::rules::discussion::DiscussionError;
use app::rules::discussion::{csv_row, MAX_MESSAGES_PER_SESSION};
use app::rules::language::{Lang, Sentence};
use app::services::language_of;
use app::services::{auth, ServerContext};
use app::storage::{Cursor, Seen};
use app::texts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// Messages read per query while the export is written.
const PAGE: u64 = 500;

pub async fn export(ctx: ServerContext, session: String, headers: HeaderMap) -> Response {
    let lang = language_of(&headers, ctx.default_language);
    let Ok(session) = session.parse::<SessionId>() else { return refused(lang) };
    let allowed = async {
        let Some(user) = auth::user_id_from_headers(&ctx.db, &headers, ctx.secure_cookies()).await? else {
            return Ok(false);
        };
        Ok::<_, sea_orm::DbErr>(ctx.db.role_in_session(session, user).await?.is_some())
    };
    match allowed.await {
        Ok(true) => {}
        Ok(false) => return refused(lang),
        Err(e) => return failed(&e, lang),
    }
    let mut csv = format!("{}\r\n", texts::discussion_csv_header(lang));
    let mut after = None;
    let mut read = 0;
    while read < MAX_MESSAGES_PER_SESSION {
        let page = match ctx.db.messages(session, Seen::All, after, PAGE).await {
            Ok(page) => page,
            Err(e) => return failed(&e, lang),
        };
        for m in &page {
            let v = &m.view;
            csv.push_str(&csv_row(lang, &v.body, v.author.as_deref(), v.likes, v.state, v.posted_at));
        }
        read += page.len() as u64;
        match page.last() {
            Some(last) if page.len() as u64 == PAGE => {
                after = Some(Cursor { posted_at: last.view.posted_at, id: last.view.id })
            }
            _ => break,
        }
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"discussion.csv\""),
            (header::CACHE_CONTROL, "no-store"),
        ],
        csv,
    )
        .into_response()
}

/// Worded as for any session one may not see: it tells nothing of whether it exists.
fn refused(lang: Lang) -> Response {
    (StatusCode::FORBIDDEN, DiscussionError::NoAccess.sentence(lang)).into_response()
}

fn failed(e: &sea_orm::DbErr, lang: Lang) -> Response {
    if app::storage::is_unavailable(e) {
        app::storage::report_unavailable(e);
        return (StatusCode::SERVICE_UNAVAILABLE, texts::failure_unavailable(lang)).into_response();
    }
    tracing::error!(error = %e, "discussion export failed");
    (StatusCode::INTERNAL_SERVER_ERROR, texts::failure_internal(lang)).into_response()
}
