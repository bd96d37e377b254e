//! Schema migrations, applied at start-up. Never edit a migration that has shipped: add one.
use sea_orm_migration::prelude::*;

mod m0001_foundation;
mod m0002_joining;
mod m0003_sharing;
mod m0004_mail_safety;
mod m0005_session_life;
mod m0007_accounts;
mod m0008_auto_close;
mod m0009_code_draws;
mod m0010_login_devices;
mod m0011_discussion;
mod m0012_administration;
mod m0013_account_language;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_foundation::Migration),
            Box::new(m0002_joining::Migration),
            Box::new(m0003_sharing::Migration),
            Box::new(m0004_mail_safety::Migration),
            Box::new(m0005_session_life::Migration),
            Box::new(m0007_accounts::Migration),
            Box::new(m0008_auto_close::Migration),
            Box::new(m0009_code_draws::Migration),
            Box::new(m0010_login_devices::Migration),
            Box::new(m0011_discussion::Migration),
            Box::new(m0012_administration::Migration),
            Box::new(m0013_account_language::Migration),
        ]
    }
}
