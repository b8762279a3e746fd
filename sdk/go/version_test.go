package izin_test

import (
	"os"
	"strings"
	"testing"

	izin "github.com/izinhq/izin/sdk/go"
)

// TestVersionMatchesVersionFile keeps Version equal to sdk/VERSION, the one
// source of the SDK version.
func TestVersionMatchesVersionFile(t *testing.T) {
	b, err := os.ReadFile("../VERSION")
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSpace(string(b)); izin.Version != want {
		t.Errorf("izin.Version = %q, but sdk/VERSION says %q; update version.go", izin.Version, want)
	}
}
