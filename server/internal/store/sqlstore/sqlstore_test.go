package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/izinhq/izin/server/internal/pgtest"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/store/storetest"
)

var pg = pgtest.New()

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

// open opens the database at url, closed when t ends; it does not migrate.
func open(t *testing.T, url string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// migrated opens and migrates the database at url.
func migrated(t *testing.T, url string) store.Store {
	t.Helper()
	s := open(t, url)
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

func sqliteURL(t *testing.T) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "izin.db")
}

// engines are the two databases, each giving a fresh one per call.
var engines = []struct {
	name   string
	newURL func(t *testing.T) string
}{
	{"SQLite", sqliteURL},
	{"Postgres", func(t *testing.T) string { return pg.DatabaseURL(t) }},
}

func TestSQLite(t *testing.T) {
	t.Parallel()
	storetest.RunAll(t, func(t *testing.T) store.Store { return migrated(t, sqliteURL(t)) })
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	storetest.RunAll(t, func(t *testing.T) store.Store { return migrated(t, pg.DatabaseURL(t)) })
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url     string
		dialect sqlstore.Dialect
		dsn     string
		wantErr bool
	}{
		{"postgres://u:p@db:5432/izin?sslmode=disable", sqlstore.Postgres, "postgres://u:p@db:5432/izin?sslmode=disable", false},
		{"postgresql://db/izin", sqlstore.Postgres, "postgresql://db/izin", false},
		{"sqlite:data/izin.db", sqlstore.SQLite, "data/izin.db", false},
		{"sqlite:izin.db", sqlstore.SQLite, "izin.db", false},
		{"sqlite:/var/lib/izin/izin.db", sqlstore.SQLite, "/var/lib/izin/izin.db", false},
		{"sqlite:///var/lib/izin/izin.db", sqlstore.SQLite, "/var/lib/izin/izin.db", false},
		{"sqlite://data/izin.db", sqlstore.SQLite, "data/izin.db", false},
		{"sqlite:", "", "", true},
		{"sqlite://", "", "", true},
		{"", "", "", true},
		{"mysql://db/izin", "", "", true},
		{"data/izin.db", "", "", true},
	} {
		t.Run(tc.url, func(t *testing.T) {
			d, dsn, err := sqlstore.ParseURL(tc.url)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseURL(%q) error = %v, want error %v", tc.url, err, tc.wantErr)
			}
			if d != tc.dialect || dsn != tc.dsn {
				t.Errorf("ParseURL(%q) = %q, %q; want %q, %q", tc.url, d, dsn, tc.dialect, tc.dsn)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	t.Run("bad url", func(t *testing.T) {
		if _, err := sqlstore.Open(context.Background(), "mysql://db/izin"); err == nil {
			t.Error("Open(mysql://…) succeeded")
		}
	})
	t.Run("sqlite creates the directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a", "b", "izin.db")
		s := open(t, "sqlite:"+path)
		if s.Dialect() != sqlstore.SQLite {
			t.Errorf("Dialect = %q", s.Dialect())
		}
		if _, err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("database file: %v", err)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		if s := open(t, pg.DatabaseURL(t)); s.Dialect() != sqlstore.Postgres {
			t.Errorf("Dialect = %q", s.Dialect())
		}
	})
}

// Both dialects have the same migrations, in step.
func TestMigrationsInStep(t *testing.T) {
	names := func(d sqlstore.Dialect) []string {
		ms, err := sqlstore.Migrations(d)
		if err != nil {
			t.Fatalf("Migrations(%s): %v", d, err)
		}
		var out []string
		for i, m := range ms {
			if m.Version != i+1 {
				t.Errorf("%s migration %s has version %d, want %d", d, m.Name, m.Version, i+1)
			}
			out = append(out, m.Name)
		}
		return out
	}
	pgNames, sqliteNames := names(sqlstore.Postgres), names(sqlstore.SQLite)
	if len(pgNames) == 0 || !slices.Equal(pgNames, sqliteNames) {
		t.Errorf("migrations differ: postgres %v, sqlite %v", pgNames, sqliteNames)
	}
}

func TestMigrate(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := open(t, e.newURL(t))
			migs, err := sqlstore.Migrations(s.Dialect())
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			for _, m := range migs {
				all = append(all, m.Name)
			}
			last := migs[len(migs)-1].Version

			if v, err := s.SchemaVersion(ctx); err != nil || v != 0 {
				t.Errorf("SchemaVersion of an empty database = %d, %v; want 0", v, err)
			}
			applied, err := s.Migrate(ctx)
			if err != nil || !slices.Equal(applied, all) {
				t.Fatalf("Migrate = %v, %v; want %v", applied, err, all)
			}
			if v, err := s.SchemaVersion(ctx); err != nil || v != last {
				t.Errorf("SchemaVersion = %d, %v; want %d", v, err, last)
			}
			applied, err = s.Migrate(ctx)
			if err != nil || len(applied) != 0 {
				t.Errorf("second Migrate = %v, %v; want nothing applied", applied, err)
			}
			if v, err := s.SchemaVersion(ctx); err != nil || v != last {
				t.Errorf("SchemaVersion after a second Migrate = %d, %v; want %d", v, err, last)
			}
		})
	}
}

// Replicas that start together each migrate; every migration is applied
// exactly once and none of them fails.
func TestConcurrentMigrate(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			url := e.newURL(t)
			const replicas = 4
			stores := make([]*sqlstore.Store, replicas)
			for i := range stores {
				stores[i] = open(t, url)
			}
			applied := migrateTogether(t, stores...)
			migs, err := sqlstore.Migrations(stores[0].Dialect())
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			for _, m := range migs {
				all = append(all, m.Name)
			}
			if !slices.Equal(applied, all) {
				t.Errorf("applied %v in all, want each of %v once", applied, all)
			}
		})
	}
}

// migrateTogether runs Migrate on all the stores at once and returns the
// names they applied, sorted.
func migrateTogether(t *testing.T, stores ...*sqlstore.Store) []string {
	t.Helper()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		applied []string
	)
	for _, s := range stores {
		wg.Go(func() {
			names, err := s.Migrate(context.Background())
			if err != nil {
				t.Errorf("Migrate: %v", err)
			}
			mu.Lock()
			applied = append(applied, names...)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(applied)
	return applied
}
