package outbox

import (
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/backoff"
)

func TestBreaker(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	b := newBreaker(3, backoff.Policy{Base: 10 * time.Second, Max: time.Minute})
	for i := range 3 {
		if ok, _ := b.allow("r", now); !ok {
			t.Fatalf("send %d refused before the threshold", i)
		}
		b.done("r", false, now)
	}
	ok, until := b.allow("r", now)
	if ok || !until.After(now) || until.After(now.Add(10*time.Second)) {
		t.Fatalf("after 3 failures: allow = %v until %v", ok, until)
	}
	if ok, _ := b.allow("other", now); !ok {
		t.Error("another route is held by this one's circuit")
	}
	// Half-open: one trial goes, the next waits for its outcome.
	later := now.Add(11 * time.Second)
	if ok, _ := b.allow("r", later); !ok {
		t.Fatal("no trial after the open period")
	}
	if ok, _ := b.allow("r", later); ok {
		t.Fatal("a second send went out during the trial")
	}
	// A failed trial opens it again, for longer at most.
	b.done("r", false, later)
	if ok, until := b.allow("r", later); ok || until.After(later.Add(20*time.Second)) {
		t.Fatalf("after a failed trial: allow = %v until %v", ok, until)
	}
	// A successful trial closes it.
	much := later.Add(time.Minute)
	if ok, _ := b.allow("r", much); !ok {
		t.Fatal("no trial after the second open period")
	}
	b.done("r", true, much)
	if ok, _ := b.allow("r", much); !ok {
		t.Error("the circuit stayed open after a successful trial")
	}
}
