package consent_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/tenancy"
)

// lostRace is a store on which every transaction loses a race on a unique
// key, and the winner's answer cannot be read (yet).
type lostRace struct{ *sqlstore.Store }

func (lostRace) InTx(context.Context, func(context.Context, store.Tx) error) error {
	return fmt.Errorf("put idempotency key: %w", store.ErrConflict)
}

// A change that loses a race to another request with its key, whose answer
// is not there to replay, must fail in a way the client retries: never an
// empty answer without an error.
func TestChangeConflictWithoutAnswer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	svc := consent.New(lostRace{e.st}, tenancy.New(e.st, nil, 0), nil, func() time.Time { return e.now })
	// With a key the client retries; without one, a conflict is internal,
	// as any other.
	want := map[string]errs.Kind{"k1": errs.KindUnavailable, "": errs.KindInternal}
	for key, kind := range want {
		t.Run("key "+key, func(t *testing.T) {
			req := consent.ChangeRequest{Recipient: "05321234567", Types: sms, IdempotencyKey: key}
			for op, call := range map[string]func() (*consent.ChangeResponse, error){
				"Record": func() (*consent.ChangeResponse, error) { return svc.Record(ctx, e.p, req) },
				"Reject": func() (*consent.ChangeResponse, error) { return svc.Reject(ctx, e.p, req) },
			} {
				out, err := call()
				de, ok := errs.As(err)
				if out != nil || !ok || de.Kind != kind {
					t.Errorf("%s: (%+v, %v), want no answer and an error of kind %d", op, out, err, kind)
				}
			}
		})
	}
}
