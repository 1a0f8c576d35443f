//! `vedette db`: the database itself.

use clap::Subcommand;
use vedette_app::{AppError, Database};

use crate::{usage, Failure};

#[derive(Subcommand)]
pub(crate) enum DbCommand {
    /// Applies the migrations this version has and the database lacks (every
    /// command does it on open; this does only that), and says where the
    /// database stands.
    Migrate,
    /// Copies a whole history (targets, schedules, scans, findings, events,
    /// notification settings, the gate's log) from an SQLite file into an
    /// empty PostgreSQL database, in one transaction: a team takes over a
    /// laptop's history. Credentials stay in the keyring of the machine
    /// that made them; only their names are copied.
    Copy {
        /// The SQLite database: sqlite:///path/vedette.db [default: the
        /// data dir's]
        #[arg(long, value_name = "URL")]
        from: Option<String>,
        /// The PostgreSQL database: postgres://user@host:5432/vedette
        /// [default: --database]
        #[arg(long, value_name = "URL")]
        to: Option<String>,
    },
}

pub(crate) async fn run(database: &Database, cmd: DbCommand) -> Result<u8, Failure> {
    match cmd {
        DbCommand::Migrate => {
            let v = vedette_app::migrate(database)
                .await
                .map_err(AppError::from)?;
            println!("{} is up to date (schema {v})", database.place());
            Ok(0)
        }
        DbCommand::Copy { from, to } => {
            let from = match from {
                Some(u) => Database::parse(&u).map_err(AppError::from)?,
                None => match database {
                    Database::Sqlite(_) => database.clone(),
                    Database::Postgres(_) => {
                        return Err(usage(
                            "db copy: say which SQLite file to copy with --from sqlite:///path/vedette.db",
                        ))
                    }
                },
            };
            let to = match to {
                Some(u) => Database::parse(&u).map_err(AppError::from)?,
                None => database.clone(),
            };
            let copied = vedette_app::copy_history(&from, &to)
                .await
                .map_err(AppError::from)?;
            let rows: i64 = copied.iter().map(|(_, n)| n).sum();
            if !crate::quiet() {
                for (table, n) in &copied {
                    eprintln!("{table}: {n}");
                }
            }
            println!("copied {rows} rows of {} into {}", from.place(), to.place());
            Ok(0)
        }
    }
}
