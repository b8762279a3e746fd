package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrationFS embed.FS

// versionTable is where goose records the applied migrations.
const versionTable = goose.DefaultTablename

// dialectFS is the directory of one dialect's migrations, as goose reads it.
func dialectFS(d Dialect) (fs.FS, error) {
	return fs.Sub(migrationFS, "migrations/"+string(d))
}

func (d Dialect) goose() database.Dialect {
	if d == Postgres {
		return database.DialectPostgres
	}
	return database.DialectSQLite3
}

// Migration is one versioned schema change, written once per dialect.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists the migrations of a dialect in version order.
func Migrations(d Dialect) ([]Migration, error) {
	fsys, err := dialectFS(d)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and _", name)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(name, ".sql"), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Migrate applies the migrations the database lacks, each in its own
// transaction, and returns the names applied. Replicas that start together
// take turns: on PostgreSQL behind an advisory lock, on SQLite behind a lock
// file (see sqliteLocker).
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	return s.migrateTo(ctx, math.MaxInt)
}

// migrateTo is Migrate up to and including version last; tests use it to
// set up data of an older schema for a migration to convert.
func (s *Store) migrateTo(ctx context.Context, last int) ([]string, error) {
	p, err := s.goose(ctx)
	if err != nil {
		return nil, err
	}
	results, err := p.UpTo(ctx, int64(last))
	applied := make([]string, 0, len(results))
	for _, r := range results {
		if r.Error == nil {
			applied = append(applied, migrationName(r.Source))
		}
	}
	if err != nil {
		return applied, fmt.Errorf("migrate: %w", err)
	}
	return applied, nil
}

// MigrationStatus tells whether one migration is applied.
type MigrationStatus struct {
	Version   int
	Name      string
	Applied   bool
	AppliedAt time.Time // zero while pending
}

// MigrationStatus lists every migration of the dialect, applied or pending.
func (s *Store) MigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	p, err := s.goose(ctx)
	if err != nil {
		return nil, err
	}
	list, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(list))
	for _, m := range list {
		out = append(out, MigrationStatus{
			Version:   int(m.Source.Version),
			Name:      migrationName(m.Source),
			Applied:   m.State == goose.StateApplied,
			AppliedAt: m.AppliedAt.UTC(),
		})
	}
	return out, nil
}

func migrationName(src *goose.Source) string {
	return strings.TrimSuffix(path.Base(src.Path), ".sql")
}

// goose is the migration provider on the writer pool. It first takes over
// the versions recorded by the runner before goose, so that no goose call
// ever sees a migrated database without its version table.
func (s *Store) goose(ctx context.Context) (*goose.Provider, error) {
	if err := s.adoptLegacyVersions(ctx); err != nil {
		return nil, err
	}
	fsys, err := dialectFS(s.dialect)
	if err != nil {
		return nil, err
	}
	pool, err := s.w.DB()
	if err != nil {
		return nil, err
	}
	var locker lock.SessionLocker = newSQLiteLocker()
	if s.dialect == Postgres {
		// Poll every second, for five minutes: a replica waits for another's
		// migrations rather than failing.
		locker, err = lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, err
		}
	}
	return goose.NewProvider(s.dialect.goose(), pool, fsys,
		goose.WithDisableGlobalRegistry(true), goose.WithSessionLocker(locker))
}

// legacyTable is where the runner before goose recorded versions.
const legacyTable = "schema_migrations"

// legacyLockID is the advisory lock the runner before goose took, so that
// the takeover also waits for a replica of an older binary.
const legacyLockID = 7365746

// adoptLegacyVersions copies the versions applied by the runner before
// goose into goose's version table, once: when the old table exists and
// goose's does not. The old table stays, for a rollback to the old binary.
func (s *Store) adoptLegacyVersions(ctx context.Context) error {
	pool, err := s.w.DB()
	if err != nil {
		return err
	}
	tx, err := pool.BeginTx(ctx, nil) // IMMEDIATE on SQLite: excludes other writers
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if s.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", legacyLockID); err != nil {
			return fmt.Errorf("lock migrations: %w", err)
		}
	}
	old, err := s.tableExists(ctx, tx, legacyTable)
	if err != nil || !old {
		return err
	}
	adopted, err := s.tableExists(ctx, tx, versionTable)
	if err != nil || adopted {
		return err
	}
	var versions []int64
	rows, err := tx.QueryContext(ctx, "SELECT version FROM "+legacyTable+" ORDER BY version")
	if err != nil {
		return fmt.Errorf("read %s: %w", legacyTable, err)
	}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			_ = rows.Close()
			return err
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	st, err := database.NewStore(s.dialect.goose(), versionTable)
	if err != nil {
		return err
	}
	if err := st.CreateVersionTable(ctx, tx); err != nil {
		return fmt.Errorf("create %s: %w", versionTable, err)
	}
	// Version 0 first, as goose itself records it when it creates the table.
	for _, v := range append([]int64{0}, versions...) {
		if err := st.Insert(ctx, tx, database.InsertRequest{Version: v}); err != nil {
			return fmt.Errorf("record version %d in %s: %w", v, versionTable, err)
		}
	}
	return tx.Commit()
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) tableExists(ctx context.Context, q queryer, table string) (bool, error) {
	query := "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if s.dialect == Postgres {
		query = "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1"
	}
	var n int
	if err := q.QueryRowContext(ctx, query, table).Scan(&n); err != nil {
		return false, fmt.Errorf("look for table %s: %w", table, err)
	}
	return n > 0, nil
}

// SchemaVersion is the highest applied migration, 0 for an empty database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	pool, err := s.db.DB()
	if err != nil {
		return 0, err
	}
	return s.schemaVersion(ctx, pool)
}

// schemaVersion reads goose's version table or, on a database the runner
// before goose migrated and nothing has migrated since, the old table: the
// schema is the same either way.
func (s *Store) schemaVersion(ctx context.Context, q queryer) (int, error) {
	for _, t := range []struct{ table, column string }{{versionTable, "version_id"}, {legacyTable, "version"}} {
		ok, err := s.tableExists(ctx, q, t.table)
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		var v sql.NullInt64
		if err := q.QueryRowContext(ctx, "SELECT MAX("+t.column+") FROM "+t.table).Scan(&v); err != nil {
			return 0, fmt.Errorf("read the schema version from %s: %w", t.table, err)
		}
		return int(v.Int64), nil
	}
	return 0, nil
}
