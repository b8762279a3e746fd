package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// sqliteLocker makes migrators of one SQLite file take turns, across
// processes, as PostgreSQL's advisory lock does. goose checks which versions
// are applied outside the migrations' transactions, so the write lock of
// the database itself cannot be held across a run; instead the lock is the
// write lock of a sidecar database, FILE.migrate-lock, which the operating
// system releases if the holder dies.
type sqliteLocker struct{ held *sync.Map } // *sql.Conn → *lockHold

type lockHold struct {
	db *sql.DB
	tx *sql.Tx
}

func newSQLiteLocker() sqliteLocker { return sqliteLocker{held: new(sync.Map)} }

// migrateLockWait is how long a migrator waits for another's run.
const migrateLockWait = "300000" // milliseconds, SQLite's busy_timeout

func (l sqliteLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	var (
		seq        int
		name, file string
	)
	if err := conn.QueryRowContext(ctx, "PRAGMA database_list").Scan(&seq, &name, &file); err != nil {
		return fmt.Errorf("find the database file: %w", err)
	}
	if file == "" {
		return nil // an in-memory database has no other migrator
	}
	db, err := sql.Open("sqlite", "file:"+file+".migrate-lock?_pragma=busy_timeout("+migrateLockWait+")&_txlock=immediate")
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: waits while another holds it
	if err != nil {
		_ = db.Close()
		return fmt.Errorf("lock migrations (%s.migrate-lock): %w", file, err)
	}
	l.held.Store(conn, &lockHold{db: db, tx: tx})
	return nil
}

func (l sqliteLocker) SessionUnlock(_ context.Context, conn *sql.Conn) error {
	v, ok := l.held.LoadAndDelete(conn)
	if !ok {
		return nil
	}
	h := v.(*lockHold)
	return errors.Join(h.tx.Rollback(), h.db.Close())
}
