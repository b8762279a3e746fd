package idempotency

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
)

type answer struct{ N int }

// fakeStore keeps at most one stored answer.
type fakeStore struct {
	stored *store.Idempotency
	// rival, when set, is a request with the same key that commits while
	// ours runs: our save conflicts and stored becomes rival.stored.
	rival *rival
	// runErr fails the work itself.
	runErr error
	saved  *store.Idempotency
	txs    int
}

type rival struct{ stored *store.Idempotency }

func (f *fakeStore) GetIdempotency(_ context.Context, tenantID, op, key string) (*store.Idempotency, error) {
	if f.stored == nil || f.stored.TenantID != tenantID || f.stored.Operation != op || f.stored.Key != key {
		return nil, store.ErrNotFound
	}
	return f.stored, nil
}

func (f *fakeStore) InTx(ctx context.Context, fn func(context.Context, store.Tx) error) error {
	f.txs++
	return fn(ctx, fakeTx{f: f})
}

// fakeTx has only PutIdempotency: any other call panics.
type fakeTx struct {
	store.Tx
	f *fakeStore
}

func (t fakeTx) PutIdempotency(_ context.Context, rec *store.Idempotency) error {
	if t.f.rival != nil {
		t.f.stored = t.f.rival.stored
		return fmt.Errorf("insert: %w", store.ErrConflict)
	}
	t.f.saved = rec
	return nil
}

func stored(t *testing.T, k Key, hash string, a answer) *store.Idempotency {
	t.Helper()
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return &store.Idempotency{TenantID: k.TenantID, Operation: k.Op, Key: k.Key, RequestHash: hash, Response: b}
}

func TestDo(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.FixedZone("TRT", 3*3600))
	req := struct{ Recipient string }{"+905321234567"}
	k := NewKey("t1", "RecordConsent", "k1", req)
	noKey := NewKey("t1", "RecordConsent", "", req)
	other := NewKey("t1", "RecordConsent", "k1", struct{ Recipient string }{"+905329999999"})
	refused := errs.FailedPrecondition(errs.ReasonFirstRecordRejected, "no record")
	tests := []struct {
		name       string
		key        Key
		store      func(t *testing.T) *fakeStore
		prepareErr error
		want       answer
		fail       bool // with wantKind and wantReason
		wantKind   errs.Kind
		wantReason errs.Reason
		wantErr    error // the exact error, when it is passed through
		wantRun    bool
		wantSaved  bool
	}{
		{name: "no key: runs, stores nothing", key: noKey, store: func(*testing.T) *fakeStore { return &fakeStore{} },
			want: answer{1}, wantRun: true},
		{name: "new key: runs and stores the answer in its transaction", key: k,
			store: func(*testing.T) *fakeStore { return &fakeStore{} }, want: answer{1}, wantRun: true, wantSaved: true},
		{name: "stored answer: replayed, nothing runs", key: k,
			store: func(t *testing.T) *fakeStore { return &fakeStore{stored: stored(t, k, k.hash, answer{7})} }, want: answer{7}},
		{name: "key reused for another request", key: other,
			store: func(t *testing.T) *fakeStore { return &fakeStore{stored: stored(t, k, k.hash, answer{7})} },
			fail:  true, wantKind: errs.KindFailedPrecondition, wantReason: errs.ReasonIdempotencyKeyReused},
		{name: "a rival with the key won: its answer", key: k,
			store: func(t *testing.T) *fakeStore { return &fakeStore{rival: &rival{stored(t, k, k.hash, answer{9})}} },
			want:  answer{9}, wantRun: true},
		{name: "a rival with the key won for another request", key: k,
			store:   func(t *testing.T) *fakeStore { return &fakeStore{rival: &rival{stored(t, k, other.hash, answer{9})}} },
			wantRun: true, fail: true, wantKind: errs.KindFailedPrecondition, wantReason: errs.ReasonIdempotencyKeyReused},
		{name: "a conflict and no answer to replay: retry, not an empty answer", key: k,
			store:   func(*testing.T) *fakeStore { return &fakeStore{rival: &rival{}} },
			wantRun: true, fail: true, wantKind: errs.KindUnavailable},
		{name: "a conflict without a key: internal", key: noKey,
			store:   func(*testing.T) *fakeStore { return &fakeStore{runErr: fmt.Errorf("insert: %w", store.ErrConflict)} },
			wantRun: true, fail: true, wantKind: errs.KindInternal},
		{name: "the work's domain error as it is", key: k,
			store:   func(*testing.T) *fakeStore { return &fakeStore{runErr: refused} },
			wantRun: true, wantErr: refused},
		{name: "prepare's error as it is, no transaction", key: k,
			store:      func(*testing.T) *fakeStore { return &fakeStore{} },
			prepareErr: context.Canceled, wantErr: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.store(t)
			ran := false
			got, err := Do(context.Background(), f, tt.key, func(context.Context) (Work[*answer], error) {
				if tt.prepareErr != nil {
					return Work[*answer]{}, tt.prepareErr
				}
				return Work[*answer]{At: at, What: "record consent change",
					Run: func(context.Context, store.Tx) (*answer, error) {
						ran = true
						if f.runErr != nil {
							return nil, f.runErr
						}
						return &answer{1}, nil
					}}, nil
			})
			if ran != tt.wantRun {
				t.Errorf("work ran: %v, want %v", ran, tt.wantRun)
			}
			switch {
			case tt.wantErr != nil:
				if err != tt.wantErr || got != nil {
					t.Fatalf("(%+v, %v), want (nil, %v)", got, err, tt.wantErr)
				}
			case tt.fail:
				de, ok := errs.As(err)
				if got != nil || !ok || de.Kind != tt.wantKind || de.Reason != tt.wantReason {
					t.Fatalf("(%+v, %v), want nil and an error of kind %d, reason %q", got, err, tt.wantKind, tt.wantReason)
				}
				if tt.wantKind == errs.KindUnavailable && errors.Is(err, store.ErrConflict) {
					t.Errorf("the retry error carries the store's error: %v", err)
				}
			default:
				if err != nil || got == nil || *got != tt.want {
					t.Fatalf("(%+v, %v), want %+v", got, err, tt.want)
				}
			}
			if (f.saved != nil) != tt.wantSaved {
				t.Fatalf("saved %+v, want saved: %v", f.saved, tt.wantSaved)
			}
			if f.saved != nil {
				want := stored(t, k, k.hash, tt.want)
				want.CreatedAt = at.UTC()
				if f.saved.TenantID != want.TenantID || f.saved.Operation != want.Operation || f.saved.Key != want.Key ||
					f.saved.RequestHash != want.RequestHash || string(f.saved.Response) != string(want.Response) ||
					!f.saved.CreatedAt.Equal(want.CreatedAt) || f.saved.CreatedAt.Location() != time.UTC {
					t.Errorf("saved %+v, want %+v", f.saved, want)
				}
			}
		})
	}
}

// NewKey fingerprints the request: the same request, the same hash; any
// other, another.
func TestNewKeyHash(t *testing.T) {
	type req struct{ A, B string }
	a := NewKey("t", "op", "k", req{"1", "2"})
	if b := NewKey("t", "op", "k", req{"1", "2"}); b.hash != a.hash {
		t.Errorf("same request, hashes %s and %s", a.hash, b.hash)
	}
	if c := NewKey("t", "op", "k", req{"1", "3"}); c.hash == a.hash {
		t.Errorf("different requests, one hash %s", a.hash)
	}
}
