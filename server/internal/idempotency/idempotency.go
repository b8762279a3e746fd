// Package idempotency lets a client repeat a request safely: the first
// answer is stored in the transaction that did the work, and a repeat with
// the same key gets that answer without doing the work again.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
)

// Reader finds stored answers.
type Reader interface {
	GetIdempotency(ctx context.Context, tenantID, op, key string) (*store.Idempotency, error)
}

// RequestHash fingerprints a request so a key reused for a different
// request is refused instead of answered with the wrong result.
func RequestHash(req any) string {
	b, err := json.Marshal(req)
	if err != nil {
		panic(fmt.Sprintf("idempotency: request not serialisable: %v", err)) // a programming error
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Replay returns the stored answer for key, if there is one.
func Replay[T any](ctx context.Context, r Reader, tenantID, op, key, reqHash string) (T, bool, error) {
	var out T
	if key == "" {
		return out, false, nil
	}
	rec, err := r.GetIdempotency(ctx, tenantID, op, key)
	if errors.Is(err, store.ErrNotFound) {
		return out, false, nil
	}
	if err != nil {
		return out, false, errs.Internal(err, "read idempotency key")
	}
	if rec.RequestHash != reqHash {
		e := errs.FailedPrecondition(errs.ReasonIdempotencyKeyReused,
			"idempotency key %q was used before with a different request", key)
		e.Field = "idempotency_key"
		return out, false, e
	}
	if err := json.Unmarshal(rec.Response, &out); err != nil {
		return out, false, errs.Internal(err, "decode stored answer")
	}
	return out, true, nil
}

// Save stores the answer v for key inside tx. If another request with the
// same key committed first, the transaction fails with store.ErrConflict
// and the caller should Replay.
func Save(ctx context.Context, tx store.Tx, tenantID, op, key, reqHash string, v any, now time.Time) error {
	if key == "" {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return errs.Internal(err, "encode answer")
	}
	return tx.PutIdempotency(ctx, &store.Idempotency{TenantID: tenantID, Operation: op, Key: key,
		RequestHash: reqHash, Response: b, CreatedAt: now.UTC()})
}
