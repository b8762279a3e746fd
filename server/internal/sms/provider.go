package sms

import (
	"context"
	"errors"
)

// Message is one SMS to send. ID is our stable message id; providers use it
// as an idempotency key so a resend after a crash is not delivered twice.
type Message struct {
	ID        string
	Sender    string
	Recipient string
	Body      string
}

// Result is what a provider returns for an accepted message.
type Result struct {
	ProviderMessageID string
}

// Provider hands messages to an SMS operator. Send must be idempotent on
// Message.ID, because the outbox worker retries after crashes and timeouts.
// An error that satisfies IsPermanent means retrying cannot help (invalid
// number, rejected sender); any other error is retried.
type Provider interface {
	Name() string
	Send(ctx context.Context, m Message) (Result, error)
}

// ErrPermanent marks provider errors that must not be retried. Match it with
// errors.Is or IsPermanent; create such errors with Permanent or by wrapping
// ErrPermanent with fmt.Errorf("...: %w", ErrPermanent).
var ErrPermanent = errors.New("sms: permanent failure")

// PermanentError wraps a provider error so that it matches ErrPermanent while
// keeping the original error (and its message) for logs and errors.As.
type PermanentError struct {
	Err error
}

func (e *PermanentError) Error() string {
	if e.Err == nil {
		return ErrPermanent.Error()
	}
	return e.Err.Error()
}

func (e *PermanentError) Unwrap() error { return e.Err }

// Is makes every PermanentError match ErrPermanent.
func (e *PermanentError) Is(target error) bool { return target == ErrPermanent }

// Permanent marks err as not retryable. Permanent(nil) is nil so that
// `return Permanent(err)` stays correct on success paths.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err (or anything it wraps) is permanent.
func IsPermanent(err error) bool {
	return errors.Is(err, ErrPermanent)
}
