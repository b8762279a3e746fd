package outbox

import (
	"context"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/paging"
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
		id, err := paging.ParseIDToken(pageToken)
		if err != nil {
			return nil, "", err
		}
		f.BeforeID = id
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
		next = paging.IDToken(msgs[len(msgs)-1].ID)
	}
	return msgs, next, nil
}
