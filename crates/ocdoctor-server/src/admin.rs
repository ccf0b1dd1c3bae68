//! What `ocdoctor serve token …` and `ocdoctor serve prune` do: token management and
//! retention, straight on the database (no server needs to run; every instance sees the
//! result at once, since requests read the tokens table and incidents from the database).

use crate::auth::{self, Scope};
use crate::db::{Db, DbError, NewToken, TokenInfo};
use crate::{ServerError, time};

/// A token just made: the secret (shown once, never stored) and its public id.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    pub id: String,
    pub token: String,
}

/// Make a token for a team (optionally one rig) with a scope; only its hash is stored.
pub fn create_token(
    database: &str,
    team: &str,
    rig: Option<&str>,
    scope: Scope,
) -> Result<CreatedToken, ServerError> {
    if !auth::valid_name(team) {
        return Err(ServerError::BadName(team.into(), "team"));
    }
    if let Some(r) = rig.filter(|r| !auth::valid_name(r)) {
        return Err(ServerError::BadName(r.into(), "rig"));
    }
    on_database(database, |db| async move {
        let token = auth::new_token().map_err(ServerError::Random)?;
        let hash = auth::hash(&token);
        let id = auth::token_id(&hash);
        db.insert_token(&NewToken {
            hash: &hash,
            id: &id,
            team,
            rig,
            scope: scope.name(),
            now: time::now_ms(),
        })
        .await
        .map_err(DbError::from)?;
        Ok(CreatedToken { id, token })
    })
}

/// Every token (of one team when given), without secrets.
pub fn list_tokens(database: &str, team: Option<&str>) -> Result<Vec<TokenInfo>, ServerError> {
    on_database(database, |db| async move {
        Ok(db.tokens(team).await.map_err(DbError::from)?)
    })
}

/// What revoking a token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoked {
    Now,
    /// It was revoked before, at this time (Unix ms).
    Already(i64),
}

/// Revoke a token by its id: refused from the next request on, on every instance.
pub fn revoke_token(database: &str, id: &str) -> Result<Revoked, ServerError> {
    on_database(database, |db| async move {
        let now = time::now_ms();
        match db.revoke_token(id, now).await.map_err(DbError::from)? {
            None => Err(ServerError::NoSuchToken(id.to_string())),
            Some((true, _)) => Ok(Revoked::Now),
            Some((false, at)) => Ok(Revoked::Already(at)),
        }
    })
}

/// Incidents deleted per transaction: short transactions, so uploads and pages on the same
/// database wait for at most one batch.
pub const PRUNE_BATCH: i64 = 500;

/// The longest retention `--retain-days` takes (a century).
pub const MAX_RETAIN_DAYS: u32 = 36_500;

/// What one retention pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub incidents: u64,
    pub batches: u64,
    /// Incidents of UTC days before this one were deleted (the first day kept).
    pub first_day_kept: i64,
}

/// Delete the incidents (with their logs and per-day counts) of the UTC days more than
/// `retain_days` before today, in batches of `PRUNE_BATCH`.
pub async fn prune(db: &Db, retain_days: u32, now_ms: i64) -> Result<Pruned, DbError> {
    let first_day_kept = time::day_of(now_ms) - i64::from(retain_days);
    let before_ms = first_day_kept * time::DAY_MS;
    let mut out = Pruned {
        first_day_kept,
        ..Pruned::default()
    };
    loop {
        let n = db.prune_batch(before_ms, PRUNE_BATCH).await?;
        if n == 0 {
            break;
        }
        out.incidents += n;
        out.batches += 1;
    }
    db.prune_daily_groups(first_day_kept).await?;
    Ok(out)
}

/// `ocdoctor serve prune --retain-days N`: one pass, then exit.
pub fn prune_now(database: &str, retain_days: u32) -> Result<Pruned, ServerError> {
    check_retain_days(retain_days)?;
    on_database(database, |db| async move {
        Ok(prune(&db, retain_days, time::now_ms()).await?)
    })
}

pub fn check_retain_days(days: u32) -> Result<(), ServerError> {
    if (1..=MAX_RETAIN_DAYS).contains(&days) {
        Ok(())
    } else {
        Err(ServerError::BadRetention(days))
    }
}

/// Open the database, run `f` on it, close it.
fn on_database<'a, T, F, Fut>(database: &str, f: F) -> Result<T, ServerError>
where
    F: FnOnce(Db) -> Fut,
    Fut: std::future::Future<Output = Result<T, ServerError>> + 'a,
{
    crate::runtime()?.block_on(async {
        let db = Db::open(database).await?;
        let result = f(db.clone()).await;
        db.close().await;
        result
    })
}
