pub mod accounts;
pub mod administration;
pub mod discussion;
pub mod joining;
pub mod live_notices;
pub mod login_sessions;
pub mod outbox;
pub mod sessions;
pub mod sharing;
pub mod slides;
pub mod users;

use sea_orm::{DbErr, SqlErr};

pub(crate) fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
