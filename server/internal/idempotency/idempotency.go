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

// Writer stores an answer inside a transaction.
type Writer interface {
	PutIdempotency(ctx context.Context, rec *store.Idempotency) error
}

// Store is what Do reads and writes.
type Store interface {
	Reader
	store.Transactor
}

// Key names one request sent under an idempotency key.
type Key struct {
	TenantID string
	Op       string // the operation, e.g. "RecordConsent"
	Key      string // the client's key; "" asks for no idempotency
	hash     string
}

// NewKey names req, sent by tenantID to op under key. The request is
// fingerprinted so that a key reused for a different request is refused
// instead of answered with the wrong result.
func NewKey(tenantID, op, key string, req any) Key {
	return Key{TenantID: tenantID, Op: op, Key: key, hash: requestHash(req)}
}

func requestHash(req any) string {
	b, err := json.Marshal(req)
	if err != nil {
		panic(fmt.Sprintf("idempotency: request not serialisable: %v", err)) // a programming error
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Work is what a request does in its transaction, once its checks passed.
type Work[T any] struct {
	// Run writes the request's effects in tx and returns its answer, which
	// Do stores in the same transaction.
	Run func(ctx context.Context, tx store.Tx) (T, error)
	// At stamps the stored answer.
	At time.Time
	// What names the work in the internal error a failed transaction
	// becomes ("record consent change").
	What string
}

// Do answers the request k at most once. It replays the answer stored for
// k if there is one. Otherwise prepare checks the request outside any
// transaction (its errors are returned as they are) and returns the work,
// which Do runs in a transaction that also stores the work's answer. If
// another request with the same key committed first, that request's
// answer is the answer; when it cannot be read, Do returns an Unavailable
// error for the client to retry, never a zero answer without an error.
func Do[T any](ctx context.Context, s Store, k Key, prepare func(ctx context.Context) (Work[T], error)) (T, error) {
	var zero T
	if out, ok, err := replay[T](ctx, s, k); err != nil || ok {
		return out, err
	}
	w, err := prepare(ctx)
	if err != nil {
		return zero, err
	}
	var out T
	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if out, err = w.Run(ctx, tx); err != nil {
			return err
		}
		return save(ctx, tx, k, out, w.At)
	})
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, store.ErrConflict) && k.Key != "":
		if out, ok, err := replay[T](ctx, s, k); err != nil || ok {
			return out, err
		}
		// Not wrapped: the store's error names database constraints.
		return zero, &errs.Error{Kind: errs.KindUnavailable,
			Message: "another request with this idempotency key was being answered at the same time; try again"}
	default:
		return zero, errs.Wrap(err, w.What)
	}
}

// replay returns the stored answer for k, if there is one.
func replay[T any](ctx context.Context, r Reader, k Key) (T, bool, error) {
	var out T
	if k.Key == "" {
		return out, false, nil
	}
	rec, err := r.GetIdempotency(ctx, k.TenantID, k.Op, k.Key)
	if errors.Is(err, store.ErrNotFound) {
		return out, false, nil
	}
	if err != nil {
		return out, false, errs.Internal(err, "read idempotency key")
	}
	if rec.RequestHash != k.hash {
		e := errs.FailedPrecondition(errs.ReasonIdempotencyKeyReused,
			"idempotency key %q was used before with a different request", k.Key)
		e.Field = "idempotency_key"
		return out, false, e
	}
	if err := json.Unmarshal(rec.Response, &out); err != nil {
		return out, false, errs.Internal(err, "decode stored answer")
	}
	return out, true, nil
}

// save stores the answer v for k inside a transaction. If another request
// with the same key committed first, it fails with store.ErrConflict.
func save(ctx context.Context, w Writer, k Key, v any, now time.Time) error {
	if k.Key == "" {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return errs.Internal(err, "encode answer")
	}
	return w.PutIdempotency(ctx, &store.Idempotency{TenantID: k.TenantID, Operation: k.Op, Key: k.Key,
		RequestHash: k.hash, Response: b, CreatedAt: now.UTC()})
}
