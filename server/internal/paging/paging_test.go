package paging

import (
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/errs"
)

// The tokens below were made by the code that each list had before this
// package: clients may hold them, so they decode, and the same cursors
// encode to them.
func TestTokensOfEarlierReleases(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 0, 0, 123456000, time.UTC)
	const id = "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b"
	seqs := []struct {
		tok string
		seq int64
	}{
		{"c2VxOjE", 1},
		{"c2VxOjQy", 42},
		{"c2VxOjkyMjMzNzIwMzY4NTQ3NzU4MDc", 9223372036854775807},
	}
	for _, tt := range seqs {
		if got, err := ParseSeqToken(tt.tok); err != nil || got != tt.seq {
			t.Errorf("ParseSeqToken(%q) = %d, %v; want %d", tt.tok, got, err, tt.seq)
		}
		if got := SeqToken(tt.seq); got != tt.tok {
			t.Errorf("SeqToken(%d) = %q, want %q", tt.seq, got, tt.tok)
		}
	}
	times := []struct {
		tok string
		at  time.Time
		id  string
	}{
		{"dToxNzk1NzczNjAwMTIzNDU2OjAxOTNhMWIyLTdjM2QtN2U0Zi04YTliLTBjMWQyZTNmNGE1Yg", at, id},
		{"dTotNTphOmI", time.UnixMicro(-5).UTC(), "a:b"},
	}
	for _, tt := range times {
		gotAt, gotID, err := ParseTimeIDToken(tt.tok)
		if err != nil || !gotAt.Equal(tt.at) || gotAt.Location() != time.UTC || gotID != tt.id {
			t.Errorf("ParseTimeIDToken(%q) = %s, %q, %v; want %s, %q", tt.tok, gotAt, gotID, err, tt.at, tt.id)
		}
		if got := TimeIDToken(tt.at, tt.id); got != tt.tok {
			t.Errorf("TimeIDToken(%s, %q) = %q, want %q", tt.at, tt.id, got, tt.tok)
		}
	}
	const idTok = "MDE5M2ExYjItN2MzZC03ZTRmLThhOWItMGMxZDJlM2Y0YTVi"
	if got, err := ParseIDToken(idTok); err != nil || got != id {
		t.Errorf("ParseIDToken(%q) = %q, %v; want %q", idTok, got, err, id)
	}
	if got := IDToken(id); got != idTok {
		t.Errorf("IDToken(%q) = %q, want %q", id, got, idTok)
	}
}

// Anything else is an invalid page_token.
func TestBadTokens(t *testing.T) {
	parse := map[string]func(string) error{
		"seq":    func(s string) error { _, err := ParseSeqToken(s); return err },
		"timeID": func(s string) error { _, _, err := ParseTimeIDToken(s); return err },
		"id":     func(s string) error { _, err := ParseIDToken(s); return err },
	}
	tests := []struct {
		kind, tok string
	}{
		{"seq", ""},
		{"seq", "!!!"},
		{"seq", encode("seq", "0")},
		{"seq", encode("seq", "-3")},
		{"seq", encode("seq", "x")},
		{"seq", encode("seq", "1", "2")},
		{"seq", encode("", "42")},
		{"seq", TimeIDToken(time.Now(), "id")},
		{"timeID", ""},
		{"timeID", "c2VxOjQy"},
		{"timeID", encode("u", "12")},
		{"timeID", encode("u", "12", "")},
		{"timeID", encode("u", "", "id")},
		{"timeID", encode("u", "x", "id")},
		{"timeID", "dToxMjppZA=="}, // padded
		{"id", ""},
		{"id", "%%%"},
	}
	for _, tt := range tests {
		err := parse[tt.kind](tt.tok)
		de, ok := errs.As(err)
		if !ok || de.Kind != errs.KindInvalid || de.Field != "page_token" {
			t.Errorf("%s token %q: %v, want an invalid page_token", tt.kind, tt.tok, err)
		}
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int]int{-1: 100, 0: 100, 1: 1, 1000: 1000, 1001: 1000} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %d, want %d", n, got, want)
		}
	}
}
