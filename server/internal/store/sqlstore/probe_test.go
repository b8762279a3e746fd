package sqlstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/store"
)

func TestProbe(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := e.newURL(t)
			s := open(t, url)
			if err := s.Probe(ctx); err == nil || !strings.Contains(err.Error(), "migrated") {
				t.Errorf("Probe of an empty database = %v, want an error asking for a migration", err)
			}
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := s.Probe(ctx); err != nil {
				t.Errorf("Probe of a migrated database = %v", err)
			}
			if err := s.DB().Exec("DELETE FROM goose_db_version WHERE version_id = (SELECT MAX(version_id) FROM goose_db_version)").Error; err != nil {
				t.Fatal(err)
			}
			if err := s.Probe(ctx); err == nil || !strings.Contains(err.Error(), "izin migrate") {
				t.Errorf("Probe of a schema behind the binary = %v, want an error naming izin migrate", err)
			}
		})
	}
}

// On SQLite the probe needs the one writer connection: while a transaction
// holds it, the probe fails at its deadline rather than waiting.
func TestProbeSQLiteWriterBusy(t *testing.T) {
	s := open(t, sqliteURL(t))
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.InTx(context.Background(), func(context.Context, store.Tx) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.Probe(ctx)
	close(release)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Probe while the writer is held = %v, want the deadline", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := s.Probe(context.Background()); err != nil {
		t.Errorf("Probe once the writer is free = %v", err)
	}
}

// A PostgreSQL database in read-only mode (as a standby is) is not ready.
func TestProbePostgresReadOnly(t *testing.T) {
	url := pg.DatabaseURL(t)
	rw := open(t, url)
	if _, err := rw.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := rw.DB().Exec("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = on', current_database()); END $$").Error; err != nil {
		t.Fatal(err)
	}
	ro := open(t, url) // new connections take the database's setting
	if err := ro.Probe(context.Background()); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("Probe of a read-only database = %v, want a read-only error", err)
	}
}
