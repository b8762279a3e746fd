package sms

import (
	"context"
	"time"
)

// InboundLister is a provider whose inbound SMS can also be polled, for
// operators that do not push them (or as a catch-up after an outage of the
// callback route). It returns the messages received in [since, until).
// Polled messages can overlap pushed ones; the caller deduplicates on
// Inbound.ProviderMessageID where the provider gives one, and on
// (From, Body, At) otherwise.
type InboundLister interface {
	ListInbound(ctx context.Context, since, until time.Time) ([]Inbound, error)
}
