//! The database: SQLite or PostgreSQL through sqlx's `Any` driver, one set of migrations
//! (`migrations/`, portable SQL) and `$N` placeholders, which both drivers read.
//! Every query the server makes is here.

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection, Executor, FromRow, Row};
use std::collections::BTreeMap;
use std::str::FromStr;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "database {0:?}: give sqlite:PATH (or a file path) or postgres://USER[:PASSWORD]@HOST[:PORT]/DB"
    )]
    BadUrl(String),
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    pub dialect: Dialect,
}

/// What an upload becomes, ready to insert: the incident (unresolved) and the report its
/// client sent.
#[derive(Debug, Clone)]
pub struct NewIncident {
    pub incident: Incident,
    pub client_report: String,
}

/// The answer to an insert: the incident's id, and whether the client id was already stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub id: String,
    pub duplicate: bool,
}

/// One incident as lists show it (read from the columns of the same names).
#[derive(Debug, Clone, serde::Serialize, FromRow)]
pub struct Summary {
    pub id: String,
    pub received_at: i64,
    pub rig: Option<String>,
    pub probe: Option<String>,
    pub target: Option<String>,
    pub openocd_version: Option<String>,
    pub outcome: String,
    pub stage: Option<String>,
    pub cause: String,
    pub confidence: f64,
    pub title: Option<String>,
    pub resolved_cause: Option<String>,
    pub resolved_fix: Option<String>,
    pub resolved_at: Option<i64>,
}

/// One incident with its stored bodies.
#[derive(Debug, Clone, FromRow)]
pub struct Incident {
    #[sqlx(flatten)]
    pub summary: Summary,
    pub team: String,
    pub client_id: String,
    pub signature: String,
    pub command: Option<String>,
    pub log: String,
    pub report: String,
    pub redaction: String,
    pub env: Option<String>,
}

/// A resolved incident as the similarity search reads it.
#[derive(Debug, Clone, FromRow)]
pub struct Resolved {
    pub id: String,
    pub received_at: i64,
    pub signature: String,
    pub title: Option<String>,
    pub cause: String,
    pub fix: String,
}

/// A token as a request checks it.
#[derive(Debug, Clone, FromRow)]
pub struct TokenRow {
    pub team: String,
    pub rig: Option<String>,
    /// `upload`, `read` or `admin` (see `auth::Scope`).
    pub scope: String,
    pub revoked_at: Option<i64>,
}

/// A token as `serve token list` shows it: everything but the secret.
#[derive(Debug, Clone, serde::Serialize, FromRow)]
pub struct TokenInfo {
    pub id: String,
    pub team: String,
    pub rig: Option<String>,
    pub scope: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// A token to store (its hash only).
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub hash: &'a str,
    pub id: &'a str,
    pub team: &'a str,
    pub rig: Option<&'a str>,
    pub scope: &'a str,
    pub now: i64,
}

/// The list filters (every one optional; all given ones must hold).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub cause: Option<String>,
    pub rig: Option<String>,
    pub probe: Option<String>,
    pub target: Option<String>,
    pub openocd_version: Option<String>,
    pub since_ms: Option<i64>,
}

/// One group of the breakdown query: how many incidents had these values and this cause.
#[derive(Debug, Clone)]
pub struct Group {
    pub rig: Option<String>,
    pub probe: Option<String>,
    pub target: Option<String>,
    pub openocd_version: Option<String>,
    pub cause: String,
    pub count: i64,
}

const SUMMARY_COLUMNS: &str = "id, received_at, rig, probe, target, openocd_version, outcome, \
     stage, cause, confidence, title, resolved_cause, resolved_fix, resolved_at";

/// A query with its arguments, numbered `$1…` as they are pushed.
#[derive(Default)]
struct Sql {
    text: String,
    args: Vec<Arg>,
}

enum Arg {
    Text(Option<String>),
    Int(i64),
    Float(f64),
}

impl Sql {
    fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            args: vec![],
        }
    }
    fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }
    fn bind(&mut self, arg: Arg) -> &mut Sql {
        self.args.push(arg);
        self.text.push_str(&format!("${}", self.args.len()));
        self
    }
    fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        let mut q = sqlx::query(&self.text);
        for a in &self.args {
            q = match a {
                Arg::Text(t) => q.bind(t.clone()),
                Arg::Int(i) => q.bind(*i),
                Arg::Float(x) => q.bind(*x),
            };
        }
        q
    }
    /// `AND <column> = $n` for each filter given.
    fn filter(&mut self, f: &Filter) -> &mut Sql {
        let eq = [
            ("cause", &f.cause),
            ("rig", &f.rig),
            ("probe", &f.probe),
            ("target", &f.target),
            ("openocd_version", &f.openocd_version),
        ];
        for (column, value) in eq {
            if let Some(v) = value {
                self.push(&format!(" AND {column} = "))
                    .bind(Arg::Text(Some(v.clone())));
            }
        }
        if let Some(since) = f.since_ms {
            self.push(" AND received_at >= ").bind(Arg::Int(since));
        }
        self
    }
}

fn text(v: &str) -> Arg {
    Arg::Text(Some(v.to_string()))
}

fn opt(v: &Option<String>) -> Arg {
    Arg::Text(v.clone())
}

/// `sqlite:PATH`, `sqlite://PATH`, a bare path (SQLite), or `postgres://…`.
fn parse_url(url: &str) -> Result<(Dialect, String), DbError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Dialect::Postgres, url.to_string()));
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if path.is_empty() || path.contains("://") {
        return Err(DbError::BadUrl(url.to_string()));
    }
    // Created when missing; the path goes through untouched (no URL parsing of odd names).
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let query = if query.is_empty() {
        "mode=rwc".to_string()
    } else {
        query.to_string()
    };
    Ok((Dialect::Sqlite, format!("sqlite://{path}?{query}")))
}

impl Db {
    /// Connect, prepare the connection settings and bring the schema up to date.
    pub async fn open(url: &str) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let (dialect, url) = parse_url(url)?;
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|_| DbError::BadUrl(url.clone()))?
            .disable_statement_logging();
        if dialect == Dialect::Sqlite {
            // WAL lets pages read while uploads write. It is a property of the file, and
            // switching takes a lock no busy timeout waits for: once, before the pool.
            let mut c = AnyConnection::connect_with(&options).await?;
            c.execute("PRAGMA journal_mode = WAL").await?;
            c.close().await?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(if dialect == Dialect::Sqlite { 8 } else { 16 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        // FULL: a commit is on disk before the upload is acknowledged (the writer
                        // groups uploads into one commit, so this costs one fsync per batch).
                        conn.execute("PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Db { pool, dialect })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// SQLite's `PRAGMA integrity_check` ("ok" when sound); PostgreSQL checks its own pages, so
    /// there it is a round trip.
    pub async fn integrity_check(&self) -> Result<String, sqlx::Error> {
        match self.dialect {
            Dialect::Sqlite => {
                let row = sqlx::query("PRAGMA integrity_check")
                    .fetch_one(&self.pool)
                    .await?;
                row.try_get::<String, _>(0)
            }
            Dialect::Postgres => self.ping().await.map(|()| "ok".to_string()),
        }
    }

    pub async fn insert_token(&self, t: &NewToken<'_>) -> Result<(), sqlx::Error> {
        let mut q =
            Sql::new("INSERT INTO tokens (token_hash, id, team, rig, scope, created_at) VALUES (");
        q.bind(text(t.hash)).push(", ").bind(text(t.id)).push(", ");
        q.bind(text(t.team)).push(", ");
        q.bind(Arg::Text(t.rig.map(str::to_string))).push(", ");
        q.bind(text(t.scope))
            .push(", ")
            .bind(Arg::Int(t.now))
            .push(")");
        q.query().execute(&self.pool).await.map(|_| ())
    }

    /// The token with this hash, revoked or not (no cache: a revocation holds at once).
    pub async fn token(&self, hash: &str) -> Result<Option<TokenRow>, sqlx::Error> {
        let row =
            sqlx::query("SELECT team, rig, scope, revoked_at FROM tokens WHERE token_hash = $1")
                .bind(hash.to_string())
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(TokenRow::from_row).transpose()
    }

    /// Every token (of one team when given), oldest first; never the token or its hash.
    pub async fn tokens(&self, team: Option<&str>) -> Result<Vec<TokenInfo>, sqlx::Error> {
        let mut q =
            Sql::new("SELECT id, team, rig, scope, created_at, revoked_at FROM tokens WHERE 1 = 1");
        if let Some(t) = team {
            q.push(" AND team = ").bind(text(t));
        }
        q.push(" ORDER BY created_at, id");
        let rows = q.query().fetch_all(&self.pool).await?;
        rows.iter().map(TokenInfo::from_row).collect()
    }

    /// Mark a token revoked (kept, so `token list` still shows it). `None`: no such id;
    /// `Some((now, at))`: whether this call revoked it, and when it was revoked.
    pub async fn revoke_token(
        &self,
        id: &str,
        now: i64,
    ) -> Result<Option<(bool, i64)>, sqlx::Error> {
        let changed =
            sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(id.to_string())
                .execute(&self.pool)
                .await?
                .rows_affected();
        let row = sqlx::query("SELECT revoked_at FROM tokens WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        let at = row
            .map(|r| r.try_get::<Option<i64>, _>(0))
            .transpose()?
            .flatten();
        Ok(at.map(|at| (changed == 1, at)))
    }

    /// Store uploads in one transaction (one commit for the batch). A client id the team
    /// already stored is not stored again: its incident's id comes back as a duplicate.
    pub async fn insert_batch(&self, rows: &[&NewIncident]) -> Result<Vec<Stored>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(insert_one(&mut tx, r).await?);
        }
        tx.commit().await?;
        Ok(out)
    }

    pub async fn count(&self, team: &str, f: &Filter) -> Result<i64, sqlx::Error> {
        let mut q = Sql::new("SELECT COUNT(*) FROM incidents WHERE team = ");
        q.bind(text(team)).filter(f);
        q.query().fetch_one(&self.pool).await?.try_get(0)
    }

    /// Newest first.
    pub async fn list(
        &self,
        team: &str,
        f: &Filter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Summary>, sqlx::Error> {
        let mut q = Sql::new(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM incidents WHERE team = "
        ));
        q.bind(text(team)).filter(f);
        q.push(" ORDER BY received_at DESC, id DESC LIMIT ")
            .bind(Arg::Int(limit))
            .push(" OFFSET ")
            .bind(Arg::Int(offset));
        let rows = q.query().fetch_all(&self.pool).await?;
        rows.iter().map(Summary::from_row).collect()
    }

    /// One incident of any team (the caller checks the team, to tell 403 from 404).
    pub async fn incident(&self, id: &str) -> Result<Option<Incident>, sqlx::Error> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS}, team, client_id, signature, command, log, report, redaction, env \
             FROM incidents JOIN incident_bodies USING (id) WHERE id = $1"
        );
        let row = sqlx::query(&sql)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(Incident::from_row).transpose()
    }

    /// The team that owns an incident, if it exists.
    pub async fn team_of(&self, id: &str) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query("SELECT team FROM incidents WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get(0)).transpose()
    }

    pub async fn resolve(
        &self,
        id: &str,
        cause: &str,
        fix: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE incidents SET resolved_cause = $1, resolved_fix = $2, resolved_at = $3 WHERE id = $4",
        )
        .bind(cause.to_string())
        .bind(fix.to_string())
        .bind(now)
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn resolved(&self, team: &str) -> Result<Vec<Resolved>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, received_at, signature, title, resolved_cause AS cause, resolved_fix AS fix \
             FROM incidents WHERE team = $1 AND resolved_at IS NOT NULL",
        )
        .bind(team.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Resolved::from_row).collect()
    }

    /// Resolved incidents by the cause people found.
    pub async fn resolved_counts(&self, team: &str) -> Result<BTreeMap<String, u64>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT resolved_cause, COUNT(*) FROM incidents \
             WHERE team = $1 AND resolved_at IS NOT NULL GROUP BY resolved_cause",
        )
        .bind(team.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get::<i64, _>(1)?.max(0) as u64)))
            .collect()
    }

    /// `(day, cause, incidents)` from `from_day` on.
    pub async fn causes_by_day(
        &self,
        team: &str,
        from_day: i64,
    ) -> Result<Vec<(i64, String, i64)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT day, cause, COUNT(*) FROM incidents WHERE team = $1 AND day >= $2 \
             GROUP BY day, cause",
        )
        .bind(team.to_string())
        .bind(from_day)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// Every combination of rig, probe, target, version and cause from a UTC day on, counted
    /// (from `daily_groups`, which the writer keeps): one query feeds all four breakdowns.
    pub async fn groups(&self, team: &str, from_day: i64) -> Result<Vec<Group>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT rig, probe, target, openocd_version, cause, CAST(SUM(incidents) AS BIGINT) \
             FROM daily_groups WHERE team = $1 AND day >= $2 \
             GROUP BY rig, probe, target, openocd_version, cause",
        )
        .bind(team.to_string())
        .bind(from_day)
        .fetch_all(&self.pool)
        .await?;
        let known = |r: &sqlx::any::AnyRow, i: usize| -> Result<Option<String>, sqlx::Error> {
            Ok(Some(r.try_get::<String, _>(i)?).filter(|v| !v.is_empty()))
        };
        rows.iter()
            .map(|r| {
                Ok(Group {
                    rig: known(r, 0)?,
                    probe: known(r, 1)?,
                    target: known(r, 2)?,
                    openocd_version: known(r, 3)?,
                    cause: r.try_get(4)?,
                    count: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// Every client id a team has stored (the crash test checks acknowledged uploads).
    pub async fn client_ids(&self, team: &str) -> Result<Vec<String>, sqlx::Error> {
        let rows = sqlx::query("SELECT client_id FROM incidents WHERE team = $1")
            .bind(team.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| r.try_get(0)).collect()
    }

    pub async fn total_incidents(&self) -> Result<i64, sqlx::Error> {
        sqlx::query("SELECT COUNT(*) FROM incidents")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)
    }

    /// Add `n` hits to a token's window; the window's total over every instance comes back.
    pub async fn rate_add(&self, hash: &str, window: i64, n: i64) -> Result<i64, sqlx::Error> {
        sqlx::query(
            "INSERT INTO rate_windows (token_hash, window_start, hits) VALUES ($1, $2, $3) \
             ON CONFLICT (token_hash, window_start) DO UPDATE SET hits = rate_windows.hits + excluded.hits \
             RETURNING hits",
        )
        .bind(hash.to_string())
        .bind(window)
        .bind(n)
        .fetch_one(&self.pool)
        .await?
        .try_get(0)
    }

    pub async fn rate_hits(&self, hash: &str, window: i64) -> Result<i64, sqlx::Error> {
        let row = sqlx::query(
            "SELECT hits FROM rate_windows WHERE token_hash = $1 AND window_start = $2",
        )
        .bind(hash.to_string())
        .bind(window)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?.unwrap_or(0))
    }

    pub async fn rate_prune(&self, before: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM rate_windows WHERE window_start < $1")
            .bind(before)
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// Delete the oldest incidents received before `before_ms`, at most `batch` of them, with
    /// their bodies, in one transaction; how many went (0: none left to delete).
    pub async fn prune_batch(&self, before_ms: i64, batch: i64) -> Result<u64, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let ids: Vec<String> = sqlx::query(
            "SELECT id FROM incidents WHERE received_at < $1 ORDER BY received_at LIMIT $2",
        )
        .bind(before_ms)
        .bind(batch)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
        if ids.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        // Bodies first: they reference the incidents (PostgreSQL checks it).
        let mut deleted = 0;
        for table in ["incident_bodies", "incidents"] {
            let mut q = Sql::new(&format!("DELETE FROM {table} WHERE id IN ("));
            for (i, id) in ids.iter().enumerate() {
                q.push(if i == 0 { "" } else { ", " }).bind(text(id));
            }
            q.push(")");
            deleted = q.query().execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(deleted)
    }

    /// The per-day counts of days before `before_day` (whose incidents retention deleted).
    pub async fn prune_daily_groups(&self, before_day: i64) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query("DELETE FROM daily_groups WHERE day < $1")
            .bind(before_day)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    /// Rows in the tables an incident lives in (incidents, their bodies, the per-day counts):
    /// what retention must shrink together.
    pub async fn row_counts(&self) -> Result<BTreeMap<String, i64>, sqlx::Error> {
        let mut out = BTreeMap::new();
        for table in ["incidents", "incident_bodies", "daily_groups"] {
            let n: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?;
            out.insert(table.to_string(), n);
        }
        Ok(out)
    }

    /// The tables and their columns, sorted (the test that both dialects' schemas agree).
    pub async fn schema(&self) -> Result<BTreeMap<String, Vec<String>>, sqlx::Error> {
        let sql = match self.dialect {
            Dialect::Sqlite => {
                "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'"
            }
            Dialect::Postgres => {
                "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%'"
            }
        };
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in sqlx::query(sql).fetch_all(&self.pool).await? {
            out.entry(r.try_get(0)?).or_default().push(r.try_get(1)?);
        }
        out.values_mut().for_each(|v| v.sort());
        Ok(out)
    }
}

async fn insert_one(conn: &mut AnyConnection, r: &NewIncident) -> Result<Stored, sqlx::Error> {
    let (inc, s) = (&r.incident, &r.incident.summary);
    let mut q = Sql::new(
        "INSERT INTO incidents (id, team, client_id, received_at, day, rig, probe, target, \
         openocd_version, outcome, stage, cause, confidence, title, signature) VALUES (",
    );
    let day = crate::time::day_of(s.received_at);
    let args = [
        text(&s.id),
        text(&inc.team),
        text(&inc.client_id),
        Arg::Int(s.received_at),
        Arg::Int(day),
        opt(&s.rig),
        opt(&s.probe),
        opt(&s.target),
        opt(&s.openocd_version),
        text(&s.outcome),
        opt(&s.stage),
        text(&s.cause),
        Arg::Float(s.confidence),
        opt(&s.title),
        text(&inc.signature),
    ];
    let last = args.len() - 1;
    for (i, a) in args.into_iter().enumerate() {
        q.bind(a).push(if i == last { ")" } else { ", " });
    }
    q.push(" ON CONFLICT (team, client_id) DO NOTHING");
    let inserted = q.query().execute(&mut *conn).await?;
    if inserted.rows_affected() == 0 {
        let id: String = sqlx::query("SELECT id FROM incidents WHERE team = $1 AND client_id = $2")
            .bind(inc.team.clone())
            .bind(inc.client_id.clone())
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        return Ok(Stored {
            id,
            duplicate: true,
        });
    }
    let blank = |v: &Option<String>| v.clone().unwrap_or_default();
    sqlx::query(
        "INSERT INTO daily_groups (team, day, rig, probe, target, openocd_version, cause, incidents) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1) \
         ON CONFLICT (team, day, rig, probe, target, openocd_version, cause) \
         DO UPDATE SET incidents = daily_groups.incidents + 1",
    )
    .bind(inc.team.clone())
    .bind(day)
    .bind(blank(&s.rig))
    .bind(blank(&s.probe))
    .bind(blank(&s.target))
    .bind(blank(&s.openocd_version))
    .bind(s.cause.clone())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO incident_bodies (id, command, log, report, client_report, redaction, env) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(s.id.clone())
    .bind(inc.command.clone())
    .bind(inc.log.clone())
    .bind(inc.report.clone())
    .bind(r.client_report.clone())
    .bind(inc.redaction.clone())
    .bind(inc.env.clone())
    .execute(&mut *conn)
    .await?;
    Ok(Stored {
        id: s.id.clone(),
        duplicate: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database made before tokens had scopes: its tokens become admin tokens with an id.
    #[test]
    fn tokens_made_before_scopes_are_admin() {
        let dir = std::env::temp_dir().join(format!("ocdoctor-migrate-{}", std::process::id()));
        let old = dir.join("migrations");
        std::fs::create_dir_all(&old).unwrap();
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        for name in ["0001_init.sql", "0002_daily_groups.sql"] {
            std::fs::copy(here.join(name), old.join(name)).unwrap();
        }
        let url = format!("sqlite:{}", dir.join("old.db").display());
        let hash = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (row, listed) = runtime.block_on(async {
            sqlx::any::install_default_drivers();
            let pool = AnyPoolOptions::new()
                .connect(&parse_url(&url).unwrap().1)
                .await
                .unwrap();
            let before = sqlx::migrate::Migrator::new(old.as_path()).await.unwrap();
            before.run(&pool).await.unwrap();
            sqlx::query(
                "INSERT INTO tokens (token_hash, team, rig, created_at) VALUES ($1, 'lab', NULL, 1)",
            )
            .bind(hash)
            .execute(&pool)
            .await
            .unwrap();
            pool.close().await;
            let db = Db::open(&url).await.unwrap();
            let row = db.token(hash).await.unwrap().unwrap();
            let listed = db.tokens(Some("lab")).await.unwrap();
            db.close().await;
            (row, listed)
        });
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!((row.scope.as_str(), row.revoked_at), ("admin", None));
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, "ba7816bf8f01");
    }

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("sqlite:./ocdoctor.db").unwrap(),
            (Dialect::Sqlite, "sqlite://./ocdoctor.db?mode=rwc".into())
        );
        assert_eq!(parse_url("/tmp/x.db").unwrap().0, Dialect::Sqlite);
        assert_eq!(parse_url("postgres://u@h/db").unwrap().0, Dialect::Postgres);
        assert!(parse_url("mysql://u@h/db").is_err());
        assert!(parse_url("sqlite:").is_err());
    }
}
