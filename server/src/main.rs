#![recursion_limit = "512"]
use app::services::ServerContext;
use app::storage::Db;
use leptos::prelude::get_configuration;
use server::mail::{spawn_mailer, MailConfig};
use server::serve::{listen, serve, Bounds};
use server::{router, spawn_housekeeping, Config};
use tracing_subscriber::EnvFilter;

/// A join allocates and frees many small blocks (futures, buffers, headers), which glibc's malloc
/// made a large share of the server's instructions per participant (`scripts/bench-instructions.sh`
/// compares them). Without transparent huge pages (`no_thp`): with them, an idle server held
/// huge pages it partly used. Without, mimalloc gives a password hash's large block back by
/// itself (glibc needed `mallopt` for that).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    dotenvy::dotenv().ok();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn")),
        )
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let done = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] => run().await,
        ["backup", file] => backup(std::path::Path::new(file)).await,
        ["admin", "add", email] => set_admin(email, true).await,
        ["admin", "remove", email] => set_admin(email, false).await,
        _ => Err("Usage: server (serves Ruche), server backup <new file> (copies its SQLite database), \
                  server admin add <email> or server admin remove <email> (names an administrator or takes the right away)."
            .into()),
    };
    if let Err(e) = done {
        tracing::error!("{e}");
        std::process::exit(1);
    }
}

/// `server backup <file>`: a consistent copy of the SQLite database at `DATABASE_URL`, taken
/// while Ruche runs.
async fn backup(file: &std::path::Path) -> Result<(), String> {
    let config = Config::from_env()?;
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| format!("cannot open the database ({}): {e}", redact(&config.database_url)))?;
    db.backup_to(file).await.map_err(|e| e.to_string())?;
    tracing::info!("backed up to {}", file.display());
    Ok(())
}

/// `server admin add|remove <email>`: names the account at `email` an administrator of the
/// instance, or takes the right away; its next page load shows it. `add` for an address without
/// an account prints a link that creates it as an administrator, whatever `SIGNUP` says: how a
/// closed or invite-only instance gets its first account.
async fn set_admin(email: &str, admin: bool) -> Result<(), String> {
    use app::rules::administration::{INVITATION_LIFETIME_SECS, MAX_PENDING_INVITATIONS};
    let config = Config::from_env()?;
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| format!("cannot open the database ({}): {e}", redact(&config.database_url)))?;
    let email = app::rules::accounts::clean_email(email).map_err(|e| e.to_string())?;
    if db.set_admin(&email, admin).await.map_err(|e| e.to_string())? {
        match admin {
            true => tracing::info!(target: "ruche::admin", account = %email, "now an administrator"),
            false => tracing::info!(target: "ruche::admin", account = %email, "no longer an administrator"),
        }
        return Ok(());
    }
    if !admin {
        return Err(format!("no account uses {email}"));
    }
    let token = app::rules::secrets::new_login_token();
    let digest = app::rules::secrets::login_token_digest(&token);
    let lifetime = INVITATION_LIFETIME_SECS * 1_000_000;
    match db.invite_account(&email, None, &token, &digest, lifetime, MAX_PENDING_INVITATIONS).await {
        Ok(Ok(())) => {}
        Ok(Err(app::storage::InvitationRefused::AlreadyAnAccount)) => return Err(format!("{email} has an account")),
        Ok(Err(app::storage::InvitationRefused::TooMany)) => {
            return Err("too many invitations are waiting: wait until some are used or expire".into())
        }
        Err(e) => return Err(e.to_string()),
    }
    tracing::info!(target: "ruche::admin", invited = %email, "administrator invitation printed");
    println!(
        "No account uses {email} yet. This link creates it as an administrator (once, within 14 days):\n{}/invitation/{token}",
        config.public_url.trim_end_matches('/')
    );
    Ok(())
}

async fn run() -> Result<(), String> {
    let mut leptos = get_configuration(None).map_err(|e| format!("Leptos configuration: {e}"))?;
    server::static_files::follow_hash_file(&mut leptos.leptos_options);
    let options = &leptos.leptos_options;
    if let Some(js) =
        server::static_files::built_without_split(std::path::Path::new(&*options.site_root), &options.site_pkg_dir)
    {
        return Err(format!(
            "{} was built without --split: its pages would never become interactive. Build with `cargo leptos build --split` (or `watch --split`, `serve --split`): see the README.",
            js.display()
        ));
    }
    let config = Config::from_env()?;
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| format!("cannot open the database ({}): {e}", redact(&config.database_url)))?;
    tracing::info!(backend = ?db.backend(), "database ready");
    let mut ctx = ServerContext::new(db, &config.public_url, config.trusted_proxies.clone());
    ctx.max_participants = config.max_participants;
    ctx.auto_close = app::rules::sessions::AutoClose { after_days: config.auto_close_days };
    ctx.signup = config.signup.clone();
    ctx.default_language = config.default_language;
    spawn_housekeeping(ctx.clone());
    let mail = MailConfig::new(config.smtp_url.as_deref(), &config.mail_from)?;
    match &config.smtp_url {
        Some(_) => tracing::info!("mail goes out through SMTP_URL"),
        None => tracing::info!("SMTP_URL is not set: mail is written to the log"),
    }
    spawn_mailer(ctx.clone(), mail);
    if let Some(addr) = config.metrics_addr {
        server::metrics_export::serve(addr, ctx.clone()).await?;
    }
    server::peer_bridge::spawn_peer_bridge(ctx.clone());

    let addr = leptos.leptos_options.site_addr;
    let live = ctx.live.clone();
    let bounds = Bounds { deadlines: ctx.deadlines, ..Bounds::new(ctx.trusted_proxies.clone()) };
    let app = router(leptos.leptos_options, ctx);
    let listener = listen(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    tracing::info!("Ruche is listening on http://{addr} (public URL {})", config.public_url);
    serve(listener, app, bounds, async move {
        shutdown_signal().await;
        // Upgraded sockets are not waited for: each is closed with "restarting" instead, and its
        // tab reconnects.
        live.shut_down();
    })
    .await;
    Ok(())
}

/// Hides a password in a database URL before it is logged.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…@{}", &url[..scheme], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

/// Finishes in-flight requests on SIGTERM (service managers) or Ctrl-C, then exits.
async fn shutdown_signal() {
    let ctrl_c = async { tokio::signal::ctrl_c().await.ok() };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
