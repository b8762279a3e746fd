package linktoken

import "testing"

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok, h, err := New()
		if err != nil {
			t.Fatal(err)
		}
		if !Valid(tok) {
			t.Fatalf("token %q is not Valid", tok)
		}
		if h != Hash(tok) || len(h) != 64 {
			t.Fatalf("hash %q does not match the token", h)
		}
		if seen[tok] {
			t.Fatalf("token %q repeated", tok)
		}
		seen[tok] = true
	}
}

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"abcdefghijklmnop", true},
		{"ABC-_0123456789x", true},
		{"abcdefghijklmno", false},
		{"abcdefghijklmnopq", false},
		{"abcdefghijklmn/p", false},
		{"abcdefghijklmn p", false},
		{"", false},
		{"abcdefghijklmnö", false},
	} {
		if got := Valid(tc.in); got != tc.want {
			t.Errorf("Valid(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
