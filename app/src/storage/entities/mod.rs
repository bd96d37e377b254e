pub mod login_sessions;
pub mod participants;
pub mod retired_ways_in;
pub mod sessions;
pub mod slides;
pub mod users;
