// Package sqlitetest opens throwaway, migrated SQLite stores for tests.
package sqlitetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/izinhq/izin/server/internal/store/sqlstore"
)

// Open returns a migrated store on a new database file in tb's temporary
// directory, closed when the test ends.
func Open(tb testing.TB) *sqlstore.Store {
	tb.Helper()
	return OpenURL(tb, "sqlite:"+filepath.Join(tb.TempDir(), "izin.db"))
}

// OpenURL returns a migrated store at url (any engine), closed when the
// test ends.
func OpenURL(tb testing.TB, url string) *sqlstore.Store {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return st
}
