package wire_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/sms/internal/wire"
)

func TestDoClassifiesTransportErrors(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("42")) }))
	defer ok.Close()
	reset := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		_ = conn.Close()
	}))
	defer reset.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()

	tests := []struct {
		name    string
		url     string
		wantErr bool
		unknown bool
	}{
		{"answered", ok.URL, false, false},
		{"reset after the request was written", reset.URL, true, true},
		{"refused before anything was written", gone.URL, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, tt.url, nil)
			status, body, err := wire.Do(context.Background(), &http.Client{Timeout: time.Second}, req)
			if (err != nil) != tt.wantErr || sms.IsUnknown(err) != tt.unknown {
				t.Fatalf("err = %v, want error=%v unknown=%v", err, tt.wantErr, tt.unknown)
			}
			if err == nil && (status != 200 || string(body) != "42") {
				t.Errorf("got %d %q", status, body)
			}
		})
	}
}

func TestCheckSecret(t *testing.T) {
	tests := []struct {
		target, basic, secret string
		ok                    bool
	}{
		{"/cb?secret=s1", "", "s1", true},
		{"/cb", "s1", "s1", true},
		{"/cb?secret=s2", "", "s1", false},
		{"/cb", "s2", "s1", false},
		{"/cb?secret=s1", "s2", "s1", false}, // basic auth, when sent, is what counts
		{"/cb", "", "s1", false},
		{"/cb?secret=", "", "", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodPost, tt.target, nil)
		if tt.basic != "" {
			r.SetBasicAuth("provider", tt.basic)
		}
		err := wire.CheckSecret(r, sms.CallbackAuth{Secret: tt.secret})
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, sms.ErrUnauthenticated)) {
			t.Errorf("%s basic=%q secret=%q: %v, want ok=%v", tt.target, tt.basic, tt.secret, err, tt.ok)
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 12, 4, 7, 30, 0, 0, time.UTC)
	for _, s := range []string{"04.12.2026 10:30:00", "2026-12-04 10:30:00", "2026-12-04T10:30:00+03:00"} {
		if got := wire.ParseTime(s, "02.01.2006 15:04:05", "2006-01-02 15:04:05"); !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, want %v", s, got, want)
		}
	}
	if got := wire.ParseTime("yesterday", "2006-01-02"); !got.IsZero() {
		t.Errorf("ParseTime of junk = %v, want zero", got)
	}
}
