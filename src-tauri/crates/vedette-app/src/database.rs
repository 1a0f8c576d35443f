//! The database itself: bringing it up to date, and moving a laptop's
//! history into a team's PostgreSQL (`vedette db`).

use vedette_store::{Database, Store, StoreError};

/// Opens `database`, applying the migrations it lacks; its schema version.
pub async fn migrate(database: &Database) -> Result<i64, StoreError> {
    let store = Store::connect(database).await?;
    let v = store.schema_version().await;
    store.close().await;
    v
}

/// Copies the SQLite history `from` into the empty PostgreSQL database
/// `to`, in one transaction; rows copied per table.
pub async fn copy_history(
    from: &Database,
    to: &Database,
) -> Result<Vec<(&'static str, i64)>, StoreError> {
    let (Database::Sqlite(_), Database::Postgres(_)) = (from, to) else {
        return Err(StoreError::Invalid(format!(
            "a history is copied from an SQLite file into PostgreSQL; {} to {} is not a copy Vedette makes",
            from.place(),
            to.place()
        )));
    };
    let source = Store::connect(from).await?;
    let target = Store::connect(to).await?;
    let copied = source.copy_into(&target).await;
    source.close().await;
    target.close().await;
    copied
}
