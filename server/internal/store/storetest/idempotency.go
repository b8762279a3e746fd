package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/store"
)

func testIdempotency(t *testing.T, newStore func(t *testing.T) store.Store) {
	runTests(t, newStore, []test{
		{"PutGet", testIdempotencyPutGet},
	})
}

func testIdempotencyPutGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, _ := newTenant(t, s)
	other, _ := newTenant(t, s)

	rec := func(tenantID, op, key string, response []byte) store.Idempotency {
		return store.Idempotency{TenantID: tenantID, Operation: op, Key: key, RequestHash: "req-" + key,
			Response: response, CreatedAt: at(time.Second)}
	}
	put := func(r store.Idempotency) error {
		return s.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return tx.PutIdempotency(ctx, &r) })
	}
	first := rec(ten.ID, "/izin.v1.ConsentService/Grant", "key-1", []byte{0x0a, 0x03, 'a', 0x00, 0xff})
	if err := put(first); err != nil {
		t.Fatalf("PutIdempotency: %v", err)
	}

	for _, tc := range []struct {
		name string
		rec  store.Idempotency
		want error
	}{
		{"same key again", rec(ten.ID, first.Operation, first.Key, []byte("other answer")), store.ErrConflict},
		{"same key, other operation", rec(ten.ID, "/izin.v1.ConsentService/Reject", first.Key, []byte("r")), nil},
		{"same key, other tenant", rec(other.ID, first.Operation, first.Key, []byte("r")), nil},
		{"empty response", rec(ten.ID, first.Operation, "key-2", []byte{}), nil},
	} {
		err := put(tc.rec)
		if tc.want != nil {
			wantErr(t, "PutIdempotency("+tc.name+")", err, tc.want)
			continue
		}
		if err != nil {
			t.Errorf("PutIdempotency(%s): %v", tc.name, err)
			continue
		}
		got, err := s.GetIdempotency(ctx, tc.rec.TenantID, tc.rec.Operation, tc.rec.Key)
		if err != nil {
			t.Errorf("GetIdempotency(%s): %v", tc.name, err)
			continue
		}
		same(t, "GetIdempotency("+tc.name+")", *got, tc.rec)
	}

	// The conflicting put left the first answer alone.
	got, err := s.GetIdempotency(ctx, ten.ID, first.Operation, first.Key)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "first answer", *got, first)

	for _, tc := range []struct{ name, tenant, op, key string }{
		{"other tenant", other.ID, "/izin.v1.ConsentService/Reject", first.Key},
		{"other operation", ten.ID, "/izin.v1.Other/Op", first.Key},
		{"unknown key", ten.ID, first.Operation, "key-unknown"},
	} {
		_, err := s.GetIdempotency(ctx, tc.tenant, tc.op, tc.key)
		wantErr(t, "GetIdempotency("+tc.name+")", err, store.ErrNotFound)
	}
}
