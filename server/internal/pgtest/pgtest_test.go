package pgtest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/izinhq/izin/server/internal/pgtest"
)

var pg = pgtest.New()

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() {
		if err := conn.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return conn
}

func TestDatabasesAreIsolated(t *testing.T) {
	ctx := context.Background()
	url1, url2 := pg.DatabaseURL(t), pg.DatabaseURL(t)
	if url1 == url2 {
		t.Fatalf("same URL twice: %s", url1)
	}
	if os.Getenv(pgtest.EnvDatabaseURL) == "" {
		for _, u := range []string{url1, url2} {
			if !strings.HasPrefix(u, "postgres://postgres@127.0.0.1:") || !strings.HasSuffix(u, "?sslmode=disable") {
				t.Errorf("unexpected URL shape: %s", u)
			}
		}
	}
	db1, db2 := connect(t, url1), connect(t, url2)

	if _, err := db1.Exec(ctx, `CREATE TABLE widgets (id int PRIMARY KEY, name text)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db1.Exec(ctx, `INSERT INTO widgets VALUES (1, 'sprocket')`); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := db1.QueryRow(ctx, `SELECT name FROM widgets WHERE id = 1`).Scan(&name); err != nil || name != "sprocket" {
		t.Fatalf("db1 read back %q, %v", name, err)
	}

	_, err := db2.Exec(ctx, `SELECT 1 FROM widgets`)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42P01" { // undefined_table
		t.Fatalf("db2 sees db1's table: err = %v", err)
	}

	var cur1, cur2 string
	if err := db1.QueryRow(ctx, `SELECT current_database()`).Scan(&cur1); err != nil {
		t.Fatal(err)
	}
	if err := db2.QueryRow(ctx, `SELECT current_database()`).Scan(&cur2); err != nil {
		t.Fatal(err)
	}
	if cur1 == cur2 || !strings.HasSuffix(strings.SplitN(url1, "?", 2)[0], "/"+cur1) {
		t.Fatalf("current_database: %q, %q for %s", cur1, cur2, url1)
	}
}

// A database must be gone after its test, even if the test leaked an open
// connection to it (hence WITH (FORCE)).
func TestDatabaseDroppedAfterTest(t *testing.T) {
	ctx := context.Background()
	var name string
	var leaked *pgx.Conn
	t.Run("inner", func(t *testing.T) {
		url := pg.DatabaseURL(t)
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		leaked = conn // deliberately not closed before the drop
		if err := conn.QueryRow(ctx, `SELECT current_database()`).Scan(&name); err != nil {
			t.Fatal(err)
		}
	})
	if leaked != nil {
		defer leaked.Close(ctx)
	}
	if name == "" {
		t.Skip("inner test did not get a database")
	}
	admin := connect(t, pg.Cluster(t).URL())
	var n int
	if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("database %s still exists after its test", name)
	}
}

// Parallel tests share the cluster; run with -race to check the harness.
func TestParallelDatabases(t *testing.T) {
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			conn := connect(t, pg.DatabaseURL(t))
			if _, err := conn.Exec(ctx, `CREATE TABLE t (v int)`); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(ctx, `INSERT INTO t VALUES ($1)`, i); err != nil {
				t.Fatal(err)
			}
			var sum, count int
			if err := conn.QueryRow(ctx, `SELECT sum(v), count(*) FROM t`).Scan(&sum, &count); err != nil {
				t.Fatal(err)
			}
			if sum != i || count != 1 {
				t.Fatalf("got sum=%d count=%d, want %d, 1", sum, count, i)
			}
		})
	}
}

// Connect treats an existing server as a cluster: what IZIN_TEST_DATABASE_URL
// does. Here the harness's own cluster plays the existing server.
func TestConnectExisting(t *testing.T) {
	ctx := context.Background()
	adminURL := pg.Cluster(t).URL()
	ext, err := pgtest.Connect(ctx, adminURL)
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, ext.NewDatabase(t))
	var one int
	if err := conn.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	if err := ext.Stop(); err != nil {
		t.Fatal(err)
	}
	// Stop on an existing server must leave it running.
	if err := conn.Ping(ctx); err != nil {
		t.Fatalf("server gone after Stop of a Connect cluster: %v", err)
	}

	if _, err := pgtest.Connect(ctx, "host=127.0.0.1 password=secret"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("key=value DSN: err = %v; want an error that does not echo the password", err)
	}
}
