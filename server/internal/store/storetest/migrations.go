package storetest

import (
	"testing"

	"github.com/izinhq/izin/server/internal/store"
)

func testMigrations(t *testing.T, newStore func(t *testing.T) store.Store) {
	runTests(t, newStore, []test{
		{"MigrateAgainIsNoOp", testMigrateAgain},
	})
}

// The store given is migrated; migrating again changes nothing.
func testMigrateAgain(t *testing.T, s store.Store) {
	m, ok := s.(migrator)
	if !ok {
		t.Skip("store has no versioned migrations")
	}
	ctx := t.Context()
	ten, _ := newTenant(t, s)

	v, err := m.SchemaVersion(ctx)
	if err != nil || v < 1 {
		t.Fatalf("SchemaVersion of a migrated store = %d, %v; want at least 1", v, err)
	}
	for range 2 {
		applied, err := m.Migrate(ctx)
		if err != nil || len(applied) != 0 {
			t.Errorf("Migrate on a migrated store = %v, %v; want nothing applied", applied, err)
		}
	}
	if again, err := m.SchemaVersion(ctx); err != nil || again != v {
		t.Errorf("SchemaVersion after migrating again = %d, %v; want %d", again, err, v)
	}
	if _, err := s.GetTenant(ctx, ten.ID); err != nil {
		t.Errorf("data after migrating again: %v", err)
	}
}
