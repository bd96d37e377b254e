pub mod facilitators;
pub mod login_sessions;
pub mod outbox;
pub mod participants;
pub mod retired_ways_in;
pub mod sessions;
pub mod slides;
pub mod users;
