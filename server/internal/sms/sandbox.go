package sms

import (
	"context"
	"errors"
	"sync"
)

// DefaultSandboxCapacity is how many message IDs a Sandbox remembers when
// no capacity is given; it only has to outlast the worker's retry window.
const DefaultSandboxCapacity = 10000

// Sandbox is a Provider that delivers nothing. The server shows sandbox
// bodies from its own messages table, so the sandbox keeps no bodies; it
// only remembers recent message IDs to behave like an idempotent provider.
// The zero value is ready to use; a Sandbox is safe for concurrent use.
type Sandbox struct {
	mu       sync.Mutex
	capacity int
	seen     map[string]struct{}
	order    []string // ring of remembered IDs, oldest at next once full
	next     int
	sent     int
}

var _ Provider = (*Sandbox)(nil)

// NewSandbox returns a Sandbox that remembers up to capacity message IDs;
// capacity <= 0 means DefaultSandboxCapacity. An ID resent after it has been
// forgotten is counted as a new message, as a real provider would.
func NewSandbox(capacity int) *Sandbox {
	return &Sandbox{capacity: capacity}
}

// Name returns "sandbox".
func (s *Sandbox) Name() string { return "sandbox" }

// Send accepts m without delivering it. The provider message ID is
// "sandbox-" + m.ID, so a resend returns the same ID and is counted once.
// Missing fields are permanent errors, as with a real provider, so sandbox
// tests catch what production would reject.
func (s *Sandbox) Send(ctx context.Context, m Message) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	switch {
	case m.ID == "":
		return Result{}, Permanent(errors.New("sms: sandbox: message id is empty"))
	case m.Sender == "":
		return Result{}, Permanent(errors.New("sms: sandbox: sender is empty"))
	case m.Recipient == "":
		return Result{}, Permanent(errors.New("sms: sandbox: recipient is empty"))
	case m.Body == "":
		return Result{}, Permanent(errors.New("sms: sandbox: body is empty"))
	}
	res := Result{ProviderMessageID: "sandbox-" + m.ID}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		if s.capacity <= 0 {
			s.capacity = DefaultSandboxCapacity
		}
		s.seen = make(map[string]struct{})
	}
	if _, ok := s.seen[m.ID]; ok {
		return res, nil
	}
	if len(s.order) < s.capacity {
		s.order = append(s.order, m.ID)
	} else {
		delete(s.seen, s.order[s.next])
		s.order[s.next] = m.ID
		s.next = (s.next + 1) % s.capacity
	}
	s.seen[m.ID] = struct{}{}
	s.sent++
	return res, nil
}

// Sent returns how many distinct messages were accepted.
func (s *Sandbox) Sent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}
