//! What Ruche counts for an operator's Prometheus (`METRICS_ADDR`): every name here, each set
//! through the `metrics` facade, which costs next to nothing while no exporter is installed (the
//! default). Labels take a few fixed values each (a reason, a limit, an audience), never an id
//! or an address, so that the series stay few whatever clients send.
use super::live_hub::Audience;
use crate::rules::joining::JoinError;
use metrics::{counter, describe_counter, describe_gauge, gauge, Counter};
use std::sync::OnceLock;

pub const JOINS: &str = "ruche_joins_total";
pub const LIMIT_REFUSALS: &str = "ruche_limit_refusals_total";
pub const LIVE_MESSAGES: &str = "ruche_live_messages_total";
pub const LIVE_BYTES: &str = "ruche_live_bytes_total";
pub const LIVE_SOCKETS: &str = "ruche_live_sockets";
pub const SERVER_FUNCTION_CALLS: &str = "ruche_server_function_calls_total";
pub const OUTBOX_WAITING: &str = "ruche_outbox_waiting";
pub const OUTBOX_OLDEST_SECONDS: &str = "ruche_outbox_oldest_waiting_seconds";
pub const DATABASE_CONNECTIONS: &str = "ruche_database_connections";
pub const DATABASE_CONNECTIONS_MAX: &str = "ruche_database_connections_max";

/// Says what each metric is, for the exporter's `# HELP` lines.
pub fn describe() {
    describe_counter!(JOINS, "Joins by code or link, by outcome (joined, or the refusal's reason).");
    describe_counter!(LIMIT_REFUSALS, "Requests refused by a limit, by limit.");
    describe_counter!(LIVE_MESSAGES, "Live messages written to sockets, by audience.");
    describe_counter!(LIVE_BYTES, "Bytes of live messages written to sockets, by audience.");
    describe_gauge!(LIVE_SOCKETS, "Live sockets open now, by audience.");
    describe_counter!(SERVER_FUNCTION_CALLS, "Server-function calls, by name and HTTP status.");
    describe_gauge!(OUTBOX_WAITING, "Mails waiting to be sent (neither sent nor given up).");
    describe_gauge!(OUTBOX_OLDEST_SECONDS, "Age of the oldest mail waiting, in seconds (0 when none).");
    describe_gauge!(DATABASE_CONNECTIONS, "Database connections, by pool and state (in use, idle).");
    describe_gauge!(
        DATABASE_CONNECTIONS_MAX,
        "The most connections each database pool opens: all in use, requests wait for one."
    );
}

/// A join's outcome.
pub fn joined(outcome: &Result<crate::ids::SessionId, JoinError>) {
    let outcome = match outcome {
        Ok(_) => "joined",
        Err(e) => join_refusal(e),
    };
    counter!(JOINS, "outcome" => outcome).increment(1);
}

fn join_refusal(e: &JoinError) -> &'static str {
    match e {
        JoinError::MalformedCode => "malformed_code",
        JoinError::UnknownCode => "unknown_code",
        JoinError::UnknownLink => "unknown_link",
        JoinError::Retired => "retired",
        JoinError::Closed => "closed",
        JoinError::Deleted => "deleted",
        JoinError::TooManyAttempts(_) => "too_many_attempts",
        JoinError::Full => "full",
        JoinError::NotJoined => "not_joined",
        JoinError::InvalidNickname => "invalid_nickname",
        JoinError::Banned => "banned",
        JoinError::Failed(_) => "failed",
    }
}

/// Passes a limit's answer through, counting a refusal.
pub fn limited<T, E>(limit: &'static str, answer: Result<T, E>) -> Result<T, E> {
    if answer.is_err() {
        counter!(LIMIT_REFUSALS, "limit" => limit).increment(1);
    }
    answer
}

/// A refusal by a limit that answers with an `Option`.
pub fn limited_slot<T>(limit: &'static str, slot: Option<T>) -> Option<T> {
    if slot.is_none() {
        counter!(LIMIT_REFUSALS, "limit" => limit).increment(1);
    }
    slot
}

fn label(audience: Audience) -> &'static str {
    match audience {
        Audience::Hosts => "hosts",
        Audience::Participants => "participants",
    }
}

/// A live message of `bytes` bytes written to a socket. Called for every socket of every
/// message: the counters are looked up once, then each call is two atomic additions (none while
/// no exporter is installed).
pub fn written(audience: Audience, bytes: usize) {
    static COUNTERS: OnceLock<[(Counter, Counter); 2]> = OnceLock::new();
    let counters = COUNTERS.get_or_init(|| {
        [Audience::Hosts, Audience::Participants].map(|audience| {
            (
                counter!(LIVE_MESSAGES, "audience" => label(audience)),
                counter!(LIVE_BYTES, "audience" => label(audience)),
            )
        })
    });
    let (messages, sent) = &counters[(audience == Audience::Participants) as usize];
    messages.increment(1);
    sent.increment(bytes as u64);
}

/// A live socket opened; the gauge goes down when the guard is dropped (the socket closed).
pub fn socket_opened(audience: Audience) -> SocketOpen {
    gauge!(LIVE_SOCKETS, "audience" => label(audience)).increment(1.0);
    SocketOpen(audience)
}

pub struct SocketOpen(Audience);

impl Drop for SocketOpen {
    fn drop(&mut self) {
        gauge!(LIVE_SOCKETS, "audience" => label(self.0)).decrement(1.0);
    }
}

/// A server function answered (`name`: its endpoint, or `other` for a path that is none).
pub fn server_function_called(name: &'static str, status: u16) {
    counter!(SERVER_FUNCTION_CALLS, "name" => name, "status" => status.to_string()).increment(1);
}

/// The outbox and the database pools, read when metrics are scraped.
pub fn sampled(waiting: u64, oldest_seconds: f64, pools: &[crate::storage::PoolFigures]) {
    gauge!(OUTBOX_WAITING).set(waiting as f64);
    gauge!(OUTBOX_OLDEST_SECONDS).set(oldest_seconds);
    for p in pools {
        gauge!(DATABASE_CONNECTIONS, "pool" => p.pool, "state" => "in_use").set(p.in_use as f64);
        gauge!(DATABASE_CONNECTIONS, "pool" => p.pool, "state" => "idle").set(p.idle as f64);
        gauge!(DATABASE_CONNECTIONS_MAX, "pool" => p.pool).set(p.max as f64);
    }
}
