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

// TestCommandsRefuseUnmigratedSchema: only migrate (and serve
// --auto-migrate) change the schema; every other command that opens the
// database refuses one that is behind and says what to run.
func TestCommandsRefuseUnmigratedSchema(t *testing.T) {
	tests := [][]string{
		{"tenant", "list"},
		{"tenant", "create", "--name", "Acme", "--mersis", "0123456789012345", "--brand-code", "ACME", "--brand-name", "Acme", "--sender", "ACME"},
		{"source", "list", "--tenant", "t"},
		{"key", "list", "--tenant", "t"},
		{"brand", "list", "--tenant", "t"},
		{"audit", "verify"},
		{"iys", "status"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("IZIN_SECRET_FILE", filepath.Join(dir, "secret"))
			db := "sqlite:" + filepath.Join(dir, "izin.db")
			code, out, errOut := run(t, append([]string{"--database-url", db}, args...)...)
			if code == 0 || !strings.Contains(errOut, "run izin migrate") {
				t.Errorf("exit %d, stderr %q (stdout %q); want a failure that says to run izin migrate", code, errOut, out)
			}
			// Refusing left the schema alone: migrate still has all to do.
			code, out, _ = run(t, "--database-url", db, "--json", "migrate", "status")
			if code != 0 || strings.Contains(out, `"state": "applied"`) || !strings.Contains(out, `"state": "pending"`) {
				t.Errorf("after the refused command, migrate status: exit %d\n%s", code, out)
			}
		})
	}
}
