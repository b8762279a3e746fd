package webhook

import (
	"slices"
	"strings"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
)

// The event types a webhook may subscribe to; their names are fixed, so
// that receivers can rely on them.
const (
	ConsentGranted       = "consent.granted"
	ConsentRejected      = "consent.rejected"
	VerificationVerified = store.NotifyVerificationVerified
	VerificationExpired  = store.NotifyVerificationExpired
	VerificationFailed   = store.NotifyVerificationFailed
	MessageFailed        = store.NotifyMessageFailed
	IYSRefused           = store.NotifyIYSRefused
)

// Events lists every event type.
var Events = []string{ConsentGranted, ConsentRejected, VerificationVerified, VerificationExpired,
	VerificationFailed, MessageFailed, IYSRefused}

// parseEvents checks a subscription's event types: at least one, each from
// Events; repeats are dropped and the order kept.
func parseEvents(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, errs.Invalid("events", "name at least one of %s", strings.Join(Events, ", "))
	}
	var out []string
	for i, e := range in {
		e = strings.TrimSpace(e)
		if !slices.Contains(Events, e) {
			return nil, errs.Invalid("events", "unknown event type %q (item %d); one of %s", e, i, strings.Join(Events, ", "))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// EventsOf lists the event types a webhook subscribes to.
func EventsOf(w *store.Webhook) []string {
	if w.Events == "" {
		return nil
	}
	return strings.Split(w.Events, ",")
}

func subscribes(w *store.Webhook, typ string) bool {
	return slices.Contains(EventsOf(w), typ)
}

// consentEventType names a consent event: a grant or a rejection.
func consentEventType(e *store.ConsentEvent) string {
	if e.Status == store.StatusGranted {
		return ConsentGranted
	}
	return ConsentRejected
}
