package sms

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

func testMessage(id string) Message {
	return Message{ID: id, Sender: "ACME", Recipient: "+905551112233", Body: "123456 kodunu ileterek SMS ile ticari ileti izni verirsiniz."}
}

func TestSandboxIdempotent(t *testing.T) {
	ctx := context.Background()
	s := NewSandbox(0)
	if s.Name() != "sandbox" {
		t.Errorf("Name = %q", s.Name())
	}
	r1, err := s.Send(ctx, testMessage("m1"))
	if err != nil {
		t.Fatal(err)
	}
	if r1.ProviderMessageID != "sandbox-m1" {
		t.Errorf("ProviderMessageID = %q, want sandbox-m1", r1.ProviderMessageID)
	}
	r2, err := s.Send(ctx, testMessage("m1"))
	if err != nil || r2 != r1 {
		t.Errorf("resend = %+v, %v; want %+v", r2, err, r1)
	}
	if _, err := s.Send(ctx, testMessage("m2")); err != nil {
		t.Fatal(err)
	}
	if got := s.Sent(); got != 2 {
		t.Errorf("Sent = %d, want 2", got)
	}
}

func TestSandboxZeroValue(t *testing.T) {
	var s Sandbox
	for range 3 {
		if _, err := s.Send(context.Background(), testMessage("m1")); err != nil {
			t.Fatal(err)
		}
	}
	if s.Sent() != 1 {
		t.Errorf("Sent = %d, want 1", s.Sent())
	}
}

func TestSandboxBounded(t *testing.T) {
	ctx := context.Background()
	s := NewSandbox(2)
	for _, id := range []string{"a", "b", "a", "c", "a", "a"} {
		if _, err := s.Send(ctx, testMessage(id)); err != nil {
			t.Fatal(err)
		}
	}
	// a, b and c are new; c pushes out a (capacity 2), so the next a counts
	// again, and the a after it is remembered.
	if got := s.Sent(); got != 4 {
		t.Errorf("Sent = %d, want 4", got)
	}
	if len(s.seen) != 2 || len(s.order) != 2 {
		t.Errorf("remembers %d ids in a ring of %d, want 2", len(s.seen), len(s.order))
	}
}

func TestSandboxErrors(t *testing.T) {
	s := NewSandbox(0)
	tests := []struct {
		name string
		edit func(*Message)
	}{
		{"no id", func(m *Message) { m.ID = "" }},
		{"no sender", func(m *Message) { m.Sender = "" }},
		{"no recipient", func(m *Message) { m.Recipient = "" }},
		{"no body", func(m *Message) { m.Body = "" }},
	}
	for _, tt := range tests {
		m := testMessage("x")
		tt.edit(&m)
		_, err := s.Send(context.Background(), m)
		if !IsPermanent(err) {
			t.Errorf("%s: err = %v, want permanent", tt.name, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Send(ctx, testMessage("x"))
	if err == nil || IsPermanent(err) {
		t.Errorf("cancelled context: err = %v, want a retryable error", err)
	}
	if s.Sent() != 0 {
		t.Errorf("Sent = %d after failures, want 0", s.Sent())
	}
}

func TestSandboxConcurrent(t *testing.T) {
	ctx := context.Background()
	s := NewSandbox(0)
	const workers, ids = 16, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ids {
				id := fmt.Sprintf("m%d", (i+w)%ids)
				r, err := s.Send(ctx, testMessage(id))
				if err != nil || r.ProviderMessageID != "sandbox-"+id {
					t.Errorf("Send(%s) = %+v, %v", id, r, err)
					return
				}
				_ = s.Sent()
			}
		}()
	}
	wg.Wait()
	if got := s.Sent(); got != ids {
		t.Errorf("Sent = %d, want %d", got, ids)
	}
}
