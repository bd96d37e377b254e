pub mod login_sessions;
pub mod sessions;
pub mod users;
