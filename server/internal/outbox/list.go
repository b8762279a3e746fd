package outbox

import (
	"context"
	"encoding/base64"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/recipient"
	"github.com/izinhq/izin/server/internal/store"
)

// Lister reads sent messages for the admin API.
type Lister struct {
	store interface {
		ListMessages(ctx context.Context, f store.MessageFilter) ([]store.Message, error)
	}
}

// NewLister returns a message lister over s.
func NewLister(s interface {
	ListMessages(ctx context.Context, f store.MessageFilter) ([]store.Message, error)
}) *Lister {
	return &Lister{store: s}
}

// List returns a tenant's messages, newest first. Bodies keep their codes
// only for the sandbox provider, which exists for development and tests.
func (l *Lister) List(ctx context.Context, tenantID, to string, pageSize int, pageToken string) ([]store.Message, string, error) {
	f := store.MessageFilter{TenantID: tenantID, Limit: pageSize}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if to != "" {
		r, err := recipient.Parse(to)
		if err != nil {
			return nil, "", errs.Invalid("recipient", "%v", err)
		}
		f.Recipient = r.Value
	}
	if pageToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(pageToken)
		if err != nil || len(b) == 0 {
			return nil, "", errs.Invalid("page_token", "not a token from a previous page")
		}
		f.BeforeID = string(b)
	}
	msgs, err := l.store.ListMessages(ctx, f)
	if err != nil {
		return nil, "", errs.Internal(err, "list messages")
	}
	for i := range msgs {
		if msgs[i].Provider != "sandbox" {
			msgs[i].Body = msgs[i].RedactedBody
		}
	}
	next := ""
	if len(msgs) == f.Limit {
		next = base64.RawURLEncoding.EncodeToString([]byte(msgs[len(msgs)-1].ID))
	}
	return msgs, next, nil
}
