package seal

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealPurposesAndData(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	a, err := New(secret, "purpose a")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New(secret, "purpose b")
	sealed, err := a.Seal("whsec_x", "row-1")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := a.Open(sealed, "row-1"); err != nil || got != "whsec_x" {
		t.Errorf("Open = %q, %v", got, err)
	}
	for name, open := range map[string]func() (string, error){
		"other data":    func() (string, error) { return a.Open(sealed, "row-2") },
		"other purpose": func() (string, error) { return b.Open(sealed, "row-1") },
		"truncated":     func() (string, error) { return a.Open(sealed[:5], "row-1") },
	} {
		if _, err := open(); !errors.Is(err, ErrUnseal) {
			t.Errorf("%s: %v, want ErrUnseal", name, err)
		}
	}
	if _, err := New([]byte("short"), "p"); err == nil {
		t.Error("a short secret was accepted")
	}
}
