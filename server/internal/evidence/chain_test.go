package evidence

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/store"
)

func chain(n int) ([]*store.ConsentEvent, store.ChainHead) {
	var evs []*store.ConsentEvent
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	for i := 0; i < n; i++ {
		evs = append(evs, &store.ConsentEvent{
			ID: string(rune('a' + i)), BrandID: "b", Recipient: "+905321234567",
			RecipientType: store.Individual, Type: store.ConsentSMS, Status: store.StatusGranted,
			ConsentTime: t0, CreatedAt: t0,
		})
	}
	h := Link(store.ChainHead{TenantID: "t"}, evs)
	return evs, h
}

func verify(evs []*store.ConsentEvent, h store.ChainHead) error {
	var v Verifier
	for _, e := range evs {
		if err := v.Next(e); err != nil {
			return err
		}
	}
	return v.End(h)
}

func TestChain(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func(evs []*store.ConsentEvent, h *store.ChainHead) []*store.ConsentEvent
		wantSeq int64
	}{
		{name: "intact", tamper: func(e []*store.ConsentEvent, _ *store.ChainHead) []*store.ConsentEvent { return e }},
		{name: "changed status", wantSeq: 2, tamper: func(e []*store.ConsentEvent, _ *store.ChainHead) []*store.ConsentEvent {
			e[1].Status = store.StatusRejected
			return e
		}},
		{name: "removed middle", wantSeq: 3, tamper: func(e []*store.ConsentEvent, _ *store.ChainHead) []*store.ConsentEvent {
			return append(e[:1:1], e[2:]...)
		}},
		{name: "removed last", wantSeq: 3, tamper: func(e []*store.ConsentEvent, _ *store.ChainHead) []*store.ConsentEvent {
			return e[:2]
		}},
		{name: "rehashed without relinking", wantSeq: 3, tamper: func(e []*store.ConsentEvent, _ *store.ChainHead) []*store.ConsentEvent {
			e[1].Reference = "forged"
			e[1].Hash = Hash(e[1])
			return e
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, h := chain(3)
			err := verify(tt.tamper(evs, &h), h)
			if tt.wantSeq == 0 {
				if err != nil {
					t.Fatalf("intact chain: %v", err)
				}
				return
			}
			var b *Break
			if !errors.As(err, &b) || b.Seq != tt.wantSeq {
				t.Fatalf("got %v, want a break at %d", err, tt.wantSeq)
			}
		})
	}
}

func TestHashSurvivesMicrosecondStorage(t *testing.T) {
	evs, _ := chain(1)
	e := *evs[0]
	e.ConsentTime = e.ConsentTime.In(time.FixedZone("TRT", 3*3600))
	if Hash(&e) != evs[0].Hash {
		t.Fatal("hash depends on the time zone of the times")
	}
}

// The consent-page fields are part of the hash: changing the KVKK choice,
// the boxes or the page times of a stored event breaks the chain.
func TestPageFieldsAreHashed(t *testing.T) {
	view := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	submit := view.Add(time.Minute)
	tests := []struct {
		name   string
		tamper func(e *store.ConsentEvent)
	}{
		{"kvkk", func(e *store.ConsentEvent) { e.KVKK = store.KVKKGranted }},
		{"boxes", func(e *store.ConsentEvent) { e.TickedBoxes = "etk,kvkk" }},
		{"page view", func(e *store.ConsentEvent) { v := view.Add(-time.Hour); e.PageViewAt = &v }},
		{"page submit", func(e *store.ConsentEvent) { e.PageSubmitAt = nil }},
		{"back to version 1", func(e *store.ConsentEvent) {
			e.PageViewAt, e.PageSubmitAt, e.TickedBoxes, e.KVKK = nil, nil, "", store.KVKKUnspecified
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, _ := chain(2)
			e := evs[1]
			e.PageViewAt, e.PageSubmitAt, e.TickedBoxes, e.KVKK = &view, &submit, "etk", store.KVKKDeclined
			h := Link(store.ChainHead{TenantID: "t"}, evs)
			if err := verify(evs, h); err != nil {
				t.Fatalf("intact chain: %v", err)
			}
			tt.tamper(e)
			var b *Break
			if err := verify(evs, h); !errors.As(err, &b) || b.Seq != 2 {
				t.Fatalf("got %v, want a break at 2", err)
			}
		})
	}
}

func TestClientClean(t *testing.T) {
	long := strings.Repeat("a", MaxUserAgent-1) + "ş" // the last character straddles the limit
	for _, tc := range []struct {
		in, want Client
	}{
		{Client{IP: "203.0.113.7", UserAgent: "Mozilla/5.0"}, Client{IP: "203.0.113.7", UserAgent: "Mozilla/5.0"}},
		{Client{UserAgent: long}, Client{UserAgent: strings.Repeat("a", MaxUserAgent-1)}},
		{Client{UserAgent: "bad\xffbyte"}, Client{UserAgent: "bad\uFFFDbyte"}},
		{Client{IP: strings.Repeat("1", 100)}, Client{IP: strings.Repeat("1", MaxIP)}},
	} {
		if got := tc.in.Clean(); got != tc.want {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
