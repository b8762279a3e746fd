package verify_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/outbox"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/verify"
)

// lostAtCommit is a store whose transactions do their work and then lose
// a race on a unique key: they roll back, and the winner's answer cannot
// be read (yet).
type lostAtCommit struct{ *sqlstore.Store }

func (s lostAtCommit) InTx(ctx context.Context, fn func(context.Context, store.Tx) error) error {
	return s.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		return fmt.Errorf("commit: %w", store.ErrConflict)
	})
}

// A start that loses a race to another request with its key, whose answer
// is not there to replay, must fail in a way the client retries: never an
// empty answer without an error.
func TestStartConflictWithoutAnswer(t *testing.T) {
	e := newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "izin.db"))
	q := outbox.NewQueue(sms.DefaultTemplates(), e.clock.now)
	svc := verify.New(lostAtCommit{e.st}, e.dir, q, []byte("0123456789abcdef0123456789abcdef"), e.clock.now)
	tests := []struct {
		name string
		key  string
		want errs.Kind
	}{
		{"with a key: retry", "order-42", errs.KindUnavailable},
		{"without a key: an internal error, as any conflict", "", errs.KindInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := verify.StartRequest{Recipient: "05321234567", Types: []store.ConsentType{store.ConsentSMS},
				Method: store.MethodSMSCode, IdempotencyKey: tt.key}
			ctx := context.Background()
			v, err := svc.Start(ctx, e.p, req)
			if de, ok := errs.As(err); v != nil || !ok || de.Kind != tt.want {
				t.Fatalf("(%+v, %v), want no answer and an error of kind %d", v, err, tt.want)
			}
			msgs, err := e.st.ListMessages(ctx, store.MessageFilter{TenantID: e.p.TenantID, Limit: 10})
			if err != nil || len(msgs) != 0 {
				t.Fatalf("%d messages (%v) after a lost start, want none", len(msgs), err)
			}
		})
	}
}
