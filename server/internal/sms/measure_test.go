package sms

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTablesFollowTS23038(t *testing.T) {
	def := []rune(gsmDefaultTable)
	tr := []rune(gsmTurkishTable)
	if len(def) != 128 || len(tr) != 128 {
		t.Fatalf("table sizes = %d, %d; want 128", len(def), len(tr))
	}
	// Spot checks of the default alphabet, by septet value.
	for pos, want := range map[int]rune{
		0x00: '@', 0x01: '£', 0x02: '$', 0x03: '¥', 0x04: 'è', 0x09: 'Ç', 0x0A: '\n', 0x0D: '\r',
		0x10: 'Δ', 0x11: '_', 0x1B: escape, 0x1F: 'É', 0x20: ' ', 0x24: '¤', 0x30: '0',
		0x40: '¡', 0x41: 'A', 0x5B: 'Ä', 0x5F: '§', 0x60: '¿', 0x61: 'a', 0x7F: 'à',
	} {
		if def[pos] != want {
			t.Errorf("default[%#02x] = %q, want %q", pos, def[pos], want)
		}
	}
	// The Turkish locking-shift table differs in exactly these places.
	diff := map[int]rune{0x04: '€', 0x07: 'ı', 0x0B: 'Ğ', 0x0C: 'ğ', 0x1C: 'Ş', 0x1D: 'ş', 0x40: 'İ', 0x60: 'ç'}
	for i := range def {
		want, changed := diff[i]
		if !changed {
			want = def[i]
		}
		if tr[i] != want {
			t.Errorf("turkish[%#02x] = %q, want %q", i, tr[i], want)
		}
	}
}

func TestMeasure(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		encoding string
		turkish  bool
		units    int
		limit    int
		segments int
		nonGSM   rune
	}{
		{"empty", "", EncodingGSM7, false, 0, 155, 1, 0},
		{"ascii", "Hello, world!", EncodingGSM7, false, 13, 155, 1, 0},
		{"default alphabet specials", "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\r\n", EncodingGSM7, false, 44, 155, 1, 0},
		{"extension table counts 2", "^{}\\[~]|€\f", EncodingGSM7, false, 20, 155, 1, 0},
		{"Turkish sentence", "Ürün ödemesi için Çarşamba", EncodingGSM7, true, 26, 150, 1, 0},
		{"only shared letters", "Ürün Ödemesi ÇOK", EncodingGSM7, false, 16, 155, 1, 0},
		{"Turkish letters count 1", "ğĞıİşŞçÇ", EncodingGSM7, true, 8, 150, 1, 0},
		{"euro is one septet in the Turkish table", "ş€", EncodingGSM7, true, 2, 150, 1, 0},
		{"braces stay 2 with Turkish", "ş{}", EncodingGSM7, true, 5, 150, 1, 0},
		{"emoji", "Merhaba 😀", EncodingUCS2, false, 10, 65, 1, '😀'},
		{"circumflex", "kâr", EncodingUCS2, false, 3, 65, 1, 'â'},
		{"typographic apostrophe", "3338’e", EncodingUCS2, false, 6, 65, 1, '’'},
		{"backtick", "`", EncodingUCS2, false, 1, 65, 1, '`'},
		{"tab", "a\tb", EncodingUCS2, false, 3, 65, 1, '\t'},
		{"escape character itself", "a\x1bb", EncodingUCS2, false, 3, 65, 1, '\x1b'},
		{"default-only with Turkish-only letter", "ş è", EncodingUCS2, false, 3, 65, 1, 'è'},
		{"Turkish-only with default-only letter", "è ş", EncodingUCS2, false, 3, 65, 1, 'è'},
		{"155 ascii", strings.Repeat("a", 155), EncodingGSM7, false, 155, 155, 1, 0},
		{"156 ascii", strings.Repeat("a", 156), EncodingGSM7, false, 156, 155, 2, 0},
		{"301 ascii is 2 parts", strings.Repeat("a", 301), EncodingGSM7, false, 301, 155, 2, 0},
		{"302 ascii is 3 parts", strings.Repeat("a", 302), EncodingGSM7, false, 302, 155, 3, 0},
		{"607 ascii is 4 parts", strings.Repeat("a", 607), EncodingGSM7, false, 607, 155, 4, 0},
		{"escape pair is not split", strings.Repeat("a", 152) + "{" + strings.Repeat("a", 147), EncodingGSM7, false, 301, 155, 3, 0},
		{"150 Turkish", strings.Repeat("ş", 150), EncodingGSM7, true, 150, 150, 1, 0},
		{"151 Turkish", strings.Repeat("ş", 151), EncodingGSM7, true, 151, 150, 2, 0},
		{"65 UCS2", strings.Repeat("â", 65), EncodingUCS2, false, 65, 65, 1, 'â'},
		{"66 UCS2", strings.Repeat("â", 66), EncodingUCS2, false, 66, 65, 2, 'â'},
		{"surrogate pair is not split", strings.Repeat("â", 66) + "😀" + strings.Repeat("â", 62), EncodingUCS2, false, 130, 65, 3, 'â'},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Measure(tt.body)
			want := Measurement{Encoding: tt.encoding, Turkish: tt.turkish, Units: tt.units, Limit: tt.limit, Segments: tt.segments, NonGSM: tt.nonGSM}
			if got != want {
				t.Errorf("Measure(%q) = %+v, want %+v", tt.body, got, want)
			}
		})
	}
}

func TestMeasurePrintableASCII(t *testing.T) {
	for r := rune(0x20); r < 0x7F; r++ {
		m := Measure(string(r))
		switch {
		case r == '`':
			if m.Encoding != EncodingUCS2 {
				t.Errorf("%q: encoding %s, want UCS2", r, m.Encoding)
			}
		case strings.ContainsRune("^{}\\[~]|", r):
			if m.Encoding != EncodingGSM7 || m.Units != 2 {
				t.Errorf("%q: %+v, want GSM7 with 2 units", r, m)
			}
		default:
			if m.Encoding != EncodingGSM7 || m.Turkish || m.Units != 1 {
				t.Errorf("%q: %+v, want default GSM7 with 1 unit", r, m)
			}
		}
	}
}

func TestMeasureInvalidUTF8(t *testing.T) {
	m := Measure("a\xffb")
	if m.Encoding != EncodingUCS2 || m.Units != 3 || m.NonGSM != utf8.RuneError {
		t.Errorf("Measure(invalid) = %+v", m)
	}
}

func TestCheckSingleSegment(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr string // empty: no error
	}{
		{"fits", strings.Repeat("a", 155), ""},
		{"empty", "", "sms: body is empty"},
		{"too long", strings.Repeat("a", 156), "sms: body is 156 characters, limit 155"},
		{"extension chars count twice", strings.Repeat("a", 154) + "€", "sms: body is 156 characters, limit 155"},
		{"Turkish fits", strings.Repeat("ı", 150), ""},
		{"Turkish too long", strings.Repeat("ı", 151), "sms: body is 151 characters, limit 150 for text with Turkish letters"},
		{"UCS2 too long", "😀" + strings.Repeat("a", 64), `sms: body is 66 characters, limit 65 because "😀" (U+1F600) is not in the GSM alphabet`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSingleSegment(tt.body)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckSingleSegment: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("CheckSingleSegment error = %v, want %q", err, tt.wantErr)
			}
			var le *LengthError
			if tt.body != "" && !errors.As(err, &le) {
				t.Errorf("error %T is not a *LengthError", err)
			}
		})
	}
}
