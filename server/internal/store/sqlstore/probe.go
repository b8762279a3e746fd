package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Probe tells whether the database takes writes now, for readiness. It
// begins a transaction on the writer pool, as every change does, and rolls
// it back: on SQLite that needs the single writer connection and the write
// lock (BEGIN IMMEDIATE); on PostgreSQL the transaction must not be
// read-only, which catches a failover to a standby or a database put in
// read-only mode. It also fails when the schema is older than this binary,
// so a server that was not migrated is not sent traffic.
func (s *Store) Probe(ctx context.Context) error {
	pool, err := s.w.DB()
	if err != nil {
		return err
	}
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin a write transaction: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if s.dialect == Postgres {
		var ro string
		if err := tx.QueryRowContext(ctx, "SHOW transaction_read_only").Scan(&ro); err != nil {
			return fmt.Errorf("read transaction_read_only: %w", err)
		}
		if ro != "off" {
			return errors.New("the database is read-only (transaction_read_only is on): a standby, or in read-only mode")
		}
	}
	v, err := s.schemaVersion(ctx, tx)
	if err != nil {
		return err
	}
	want, err := latestVersion(s.dialect)
	if err != nil {
		return err
	}
	if err := behind(v, want); err != nil {
		return err
	}
	if err := tx.Rollback(); err != nil {
		return fmt.Errorf("end the probe transaction: %w", err)
	}
	return nil
}

// RequireCurrent fails when the schema is older than this binary, with an
// error that says to run izin migrate: the operator commands refuse such a
// database rather than migrate it behind the operator's back.
func (s *Store) RequireCurrent(ctx context.Context) error {
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	want, err := latestVersion(s.dialect)
	if err != nil {
		return err
	}
	return behind(v, want)
}

// behind explains a schema at version v to a binary that needs want.
func behind(v, want int) error {
	if v == 0 {
		return fmt.Errorf("the database is not migrated (this binary needs schema version %d): run izin migrate", want)
	}
	if v < want {
		return fmt.Errorf("the schema is at version %d, this binary needs %d: run izin migrate", v, want)
	}
	return nil
}

var latest sync.Map // Dialect → int, the newest embedded migration

func latestVersion(d Dialect) (int, error) {
	if v, ok := latest.Load(d); ok {
		return v.(int), nil
	}
	migs, err := Migrations(d)
	if err != nil {
		return 0, fmt.Errorf("embedded %s migrations: %w", d, err)
	}
	if len(migs) == 0 {
		return 0, fmt.Errorf("no embedded %s migrations", d)
	}
	v := migs[len(migs)-1].Version
	latest.Store(d, v)
	return v, nil
}
