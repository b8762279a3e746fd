package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestMigrateStatus(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "izin.db")
	type status struct {
		Migrations []struct {
			Version   int    `json:"version"`
			Name      string `json:"name"`
			State     string `json:"state"`
			AppliedAt string `json:"applied_at"`
		} `json:"migrations"`
	}
	states := func(want string) {
		t.Helper()
		var s status
		decode(t, must(t, "--database-url", db, "--json", "migrate", "status"), &s)
		if len(s.Migrations) == 0 {
			t.Fatalf("migrate status lists no migrations")
		}
		for i, m := range s.Migrations {
			if m.Version != i+1 || m.Name == "" || m.State != want || (m.AppliedAt != "") != (want == "applied") {
				t.Errorf("migration %d: %+v, want %s", i, m, want)
			}
		}
		text := must(t, "--database-url", db, "migrate", "status")
		if n := strings.Count(text, want); n != len(s.Migrations) {
			t.Errorf("migrate status (text) says %s %d times, want %d:\n%s", want, n, len(s.Migrations), text)
		}
	}
	states("pending")
	must(t, "--database-url", db, "migrate")
	states("applied")
}
