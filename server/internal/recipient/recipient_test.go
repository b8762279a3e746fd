package recipient

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		kind    Kind
		mobile  bool
		wantErr error
	}{
		{in: "+90 532 123 45 67", want: "+905321234567", kind: Phone, mobile: true},
		{in: "0532 123 45 67", want: "+905321234567", kind: Phone, mobile: true},
		{in: "05321234567", want: "+905321234567", kind: Phone, mobile: true},
		{in: "5321234567", want: "+905321234567", kind: Phone, mobile: true},
		{in: "905321234567", want: "+905321234567", kind: Phone, mobile: true},
		{in: "0090 (532) 123-45-67", want: "+905321234567", kind: Phone, mobile: true},
		{in: "+90.532.123.45.67", want: "+905321234567", kind: Phone, mobile: true},
		{in: "0212 555 12 12", want: "+902125551212", kind: Phone, mobile: false},
		{in: "  Ali.Veli@Example.COM ", want: "ali.veli@example.com", kind: Email},
		{in: "", wantErr: ErrEmpty},
		{in: "   ", wantErr: ErrEmpty},
		{in: "+1 202 555 0100", wantErr: ErrForeignPhone},
		{in: "0532 123 45", wantErr: ErrPhoneFormat},
		{in: "0632 123 45 67 8", wantErr: ErrPhoneFormat},
		{in: "0832 123 45 67", wantErr: ErrPhoneFormat},
		{in: "abc", wantErr: ErrPhoneFormat},
		{in: "05321234567x", wantErr: ErrPhoneFormat},
		{in: "5+321234567", wantErr: ErrPhoneFormat},
		{in: "Ali <ali@example.com>", wantErr: ErrEmailFormat},
		{in: "ali@localhost", wantErr: ErrEmailFormat},
		{in: "@example.com", wantErr: ErrEmailFormat},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want %v", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got.Value != tt.want || got.Kind != tt.kind || got.IsMobile() != tt.mobile {
				t.Fatalf("Parse(%q) = %+v (mobile %v), want %s kind %d mobile %v", tt.in, got, got.IsMobile(), tt.want, tt.kind, tt.mobile)
			}
		})
	}
}

func TestPrefix(t *testing.T) {
	r, err := Parse("0532 123 45 67")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Prefix(); got != "+90532123" {
		t.Fatalf("Prefix = %q", got)
	}
}

// FuzzParse checks that no input panics and that normal forms are fixed
// points: parsing a normalised recipient gives it back unchanged.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"+90 532 123 45 67", "05321234567", "a@b.co", "0090(212)5551212", "", "+", "@", "5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r, err := Parse(in)
		if err != nil {
			return
		}
		again, err := Parse(r.Value)
		if err != nil || again != r {
			t.Fatalf("Parse(%q) = %+v, but Parse(%q) = %+v, %v", in, r, r.Value, again, err)
		}
	})
}

func TestMasked(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"+90 532 123 45 67", "+90 532 *** ** 67"},
		{"02121234567", "+90 212 *** ** 67"},
		{"Ayse.Yilmaz@Example.com", "a***@example.com"},
	} {
		r, err := Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Masked(); got != tc.want {
			t.Errorf("Masked(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := (Recipient{Value: "x", Kind: Phone}).Masked(); got != "***" {
		t.Errorf("odd value masked as %q", got)
	}
}
