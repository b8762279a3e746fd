package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/store"
)

func testTenancy(t *testing.T, newStore func(t *testing.T) store.Store) {
	runTests(t, newStore, []test{
		{"CreateTenant", testCreateTenant},
		{"CreateTenantIsAtomic", testCreateTenantIsAtomic},
		{"Brands", testBrands},
		{"Sources", testSources},
		{"APIKeys", testAPIKeys},
		{"RevokeAPIKey", testRevokeAPIKey},
		{"LastAdminKeyStays", testLastAdminKey},
		{"Isolation", testTenantIsolation},
	})
}

func testCreateTenant(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)

	got, err := s.GetTenant(ctx, ten.ID)
	if err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	same(t, "tenant", *got, ten)

	brands, err := s.ListBrands(ctx, ten.ID)
	if err != nil {
		t.Fatalf("ListBrands: %v", err)
	}
	if len(brands) != 1 {
		t.Fatalf("ListBrands: %d brands, want the default one", len(brands))
	}
	same(t, "default brand", brands[0], b)

	// The chain starts empty.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		head, err := tx.LockChain(ctx, ten.ID)
		if err != nil {
			return err
		}
		same(t, "chain head", head, store.ChainHead{TenantID: ten.ID})
		return nil
	})

	other, _ := newTenant(t, s)
	list, err := s.ListTenants(ctx)
	if err != nil {
		t.Fatalf("ListTenants: %v", err)
	}
	listed := ids(list, func(t *store.Tenant) string { return t.ID })
	if len(listed) != 2 || !slices.Contains(listed, ten.ID) || !slices.Contains(listed, other.ID) {
		t.Errorf("ListTenants = %v, want %s and %s", listed, ten.ID, other.ID)
	}

	_, err = s.GetTenant(ctx, uuid.NewString())
	wantErr(t, "GetTenant(unknown)", err, store.ErrNotFound)

	dup, dupBrand := tenantRecords()
	dup.ID, dupBrand.TenantID = ten.ID, ten.ID
	wantErr(t, "CreateTenant(same id)", s.CreateTenant(ctx, &dup, &dupBrand), store.ErrConflict)
}

// A tenant whose brand cannot be written is not created half-way.
func testCreateTenantIsAtomic(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, b := newTenant(t, s)

	ten2, b2 := tenantRecords()
	b2.ID = b.ID // taken
	wantErr(t, "CreateTenant(taken brand id)", s.CreateTenant(ctx, &ten2, &b2), store.ErrConflict)
	_, err := s.GetTenant(ctx, ten2.ID)
	wantErr(t, "GetTenant after failed CreateTenant", err, store.ErrNotFound)

	// The id is free again: the failed attempt left nothing behind, not even
	// a chain head.
	b2.ID = uuid.NewString()
	if err := s.CreateTenant(ctx, &ten2, &b2); err != nil {
		t.Fatalf("CreateTenant after failed attempt: %v", err)
	}
}

func testBrands(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, def := newTenant(t, s)
	other, otherDef := newTenant(t, s)

	brand := func(tenantID, code string, isDefault bool) *store.Brand {
		return &store.Brand{ID: uuid.NewString(), TenantID: tenantID, Code: code, Name: "Brand " + code,
			Sender: "SENDER", IsDefault: isDefault, CreatedAt: at(time.Minute)}
	}
	second := brand(ten.ID, "100002", false)
	if err := s.CreateBrand(ctx, second); err != nil {
		t.Fatalf("CreateBrand: %v", err)
	}

	for _, tc := range []struct {
		name  string
		brand *store.Brand
		want  error
	}{
		{"duplicate code", brand(ten.ID, def.Code, false), store.ErrConflict},
		{"second default", brand(ten.ID, "100003", true), store.ErrConflict},
		{"duplicate id", &store.Brand{ID: second.ID, TenantID: ten.ID, Code: "100004", CreatedAt: base}, store.ErrConflict},
		{"same code in another tenant", brand(other.ID, "100002", false), nil},
	} {
		err := s.CreateBrand(ctx, tc.brand)
		if tc.want == nil {
			if err != nil {
				t.Errorf("CreateBrand(%s): %v", tc.name, err)
			}
			continue
		}
		wantErr(t, "CreateBrand("+tc.name+")", err, tc.want)
	}

	got, err := s.ListBrands(ctx, ten.ID)
	if err != nil {
		t.Fatalf("ListBrands: %v", err)
	}
	same(t, "ListBrands (by code)", got, []store.Brand{def, *second})

	got, err = s.ListBrands(ctx, other.ID)
	if err != nil {
		t.Fatalf("ListBrands: %v", err)
	}
	if codes := ids(got, func(b *store.Brand) string { return b.Code }); !slices.Equal(codes, []string{otherDef.Code, "100002"}) {
		t.Errorf("ListBrands(other tenant) codes = %v", codes)
	}
}

func testSources(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, _ := newTenant(t, s)
	other, _ := newTenant(t, s)

	src := store.Source{ID: uuid.NewString(), TenantID: ten.ID, Name: "Kiosk", Type: store.SourceKiosk, CreatedAt: at(time.Second)}
	key := apiKey(ten.ID, &src.ID)
	if err := s.CreateSource(ctx, &src, &key); err != nil {
		t.Fatalf("CreateSource: %v", err)
	}
	plain := store.Source{ID: uuid.NewString(), TenantID: ten.ID, Name: "CRM", Type: store.SourceCRM, CreatedAt: at(2 * time.Second)}
	if err := s.CreateSource(ctx, &plain, nil); err != nil {
		t.Fatalf("CreateSource without key: %v", err)
	}

	got, err := s.GetSource(ctx, ten.ID, src.ID)
	if err != nil {
		t.Fatalf("GetSource: %v", err)
	}
	same(t, "source", *got, src)

	gotKey, err := s.APIKeyByHash(ctx, key.Hash)
	if err != nil {
		t.Fatalf("APIKeyByHash of the source's key: %v", err)
	}
	same(t, "source key", *gotKey, key)

	list, err := s.ListSources(ctx, ten.ID)
	if err != nil {
		t.Fatalf("ListSources: %v", err)
	}
	same(t, "ListSources", list, []store.Source{src, plain})

	list, err = s.ListSources(ctx, other.ID)
	if err != nil || len(list) != 0 {
		t.Errorf("ListSources(other tenant) = %v, %v; want none", list, err)
	}

	// A source whose key cannot be written is not created either.
	broken := store.Source{ID: uuid.NewString(), TenantID: ten.ID, Name: "ERP", Type: store.SourceERP, CreatedAt: base}
	dupKey := apiKey(ten.ID, &broken.ID)
	dupKey.Hash = key.Hash
	wantErr(t, "CreateSource(duplicate key hash)", s.CreateSource(ctx, &broken, &dupKey), store.ErrConflict)
	_, err = s.GetSource(ctx, ten.ID, broken.ID)
	wantErr(t, "GetSource after failed CreateSource", err, store.ErrNotFound)
}

func testAPIKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, _ := newTenant(t, s)
	other, _ := newTenant(t, s)
	src := newSource(t, s, ten.ID)

	k1 := apiKey(ten.ID, nil)
	k1.Scope = store.ScopeAdmin
	k2 := apiKey(ten.ID, &src.ID)
	k2.CreatedAt = at(time.Second)
	k3 := apiKey(other.ID, nil)
	for _, k := range []*store.APIKey{&k1, &k2, &k3} {
		if err := s.CreateAPIKey(ctx, k); err != nil {
			t.Fatalf("CreateAPIKey: %v", err)
		}
	}

	for _, want := range []store.APIKey{k1, k2, k3} {
		got, err := s.APIKeyByHash(ctx, want.Hash)
		if err != nil {
			t.Errorf("APIKeyByHash(%s): %v", want.Name, err)
			continue
		}
		same(t, "APIKeyByHash("+want.Name+")", *got, want)
	}
	_, err := s.APIKeyByHash(ctx, "sha256:unknown")
	wantErr(t, "APIKeyByHash(unknown)", err, store.ErrNotFound)

	dup := apiKey(ten.ID, nil)
	dup.Hash = k1.Hash
	wantErr(t, "CreateAPIKey(same hash)", s.CreateAPIKey(ctx, &dup), store.ErrConflict)

	list, err := s.ListAPIKeys(ctx, ten.ID)
	if err != nil {
		t.Fatalf("ListAPIKeys: %v", err)
	}
	same(t, "ListAPIKeys", list, []store.APIKey{k1, k2})
}

func testRevokeAPIKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, _ := newTenant(t, s)
	other, _ := newTenant(t, s)
	k := apiKey(ten.ID, nil)
	if err := s.CreateAPIKey(ctx, &k); err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}

	_, err := s.RevokeAPIKey(ctx, other.ID, k.ID, at(time.Minute))
	wantErr(t, "RevokeAPIKey(another tenant's key)", err, store.ErrNotFound)
	_, err = s.RevokeAPIKey(ctx, ten.ID, uuid.NewString(), at(time.Minute))
	wantErr(t, "RevokeAPIKey(unknown)", err, store.ErrNotFound)
	if got, err := s.APIKeyByHash(ctx, k.Hash); err != nil || got.RevokedAt != nil {
		t.Fatalf("key after refused revocations: %+v, %v; want it unrevoked", got, err)
	}

	revoked := at(time.Hour)
	want := k
	want.RevokedAt = &revoked
	got, err := s.RevokeAPIKey(ctx, ten.ID, k.ID, revoked)
	if err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	same(t, "RevokeAPIKey result", *got, want)

	// Revoking again is a no-op: the first time stays.
	got, err = s.RevokeAPIKey(ctx, ten.ID, k.ID, at(2*time.Hour))
	if err != nil {
		t.Fatalf("RevokeAPIKey again: %v", err)
	}
	same(t, "second RevokeAPIKey result", *got, want)

	stored, err := s.APIKeyByHash(ctx, k.Hash)
	if err != nil {
		t.Fatalf("APIKeyByHash: %v", err)
	}
	same(t, "revoked key", *stored, want)
}

// Every read or change by id, asked by another tenant, behaves as if the
// record did not exist.
func testTenantIsolation(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, brandA := newTenant(t, s)
	b, _ := newTenant(t, s)

	src := newSource(t, s, a.ID)
	key := apiKey(a.ID, &src.ID)
	if err := s.CreateAPIKey(ctx, &key); err != nil {
		t.Fatal(err)
	}
	v := verification(a, brandA, &src.ID, base)
	m := message(t, a, brandA, "+905321112233", base)
	m.VerificationID = &v.ID
	state := store.ConsentState{TenantID: a.ID, BrandID: brandA.ID, Recipient: "+905321112233", RecipientType: store.Individual,
		Type: store.ConsentSMS, Status: store.StatusGranted, ConsentTime: base, EventID: "e1", UpdatedAt: base}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.InsertVerification(ctx, v); err != nil {
			return err
		}
		if err := tx.InsertMessage(ctx, m); err != nil {
			return err
		}
		if err := tx.PutConsentStates(ctx, []*store.ConsentState{&state}); err != nil {
			return err
		}
		if err := tx.InsertConsentEvents(ctx, []*store.ConsentEvent{event(a, brandA, state.Recipient, 1)}); err != nil {
			return err
		}
		return tx.PutIdempotency(ctx, &store.Idempotency{TenantID: a.ID, Operation: "op", Key: "k", RequestHash: "h", Response: []byte("r"), CreatedAt: base})
	})

	notFound := []struct {
		name string
		call func() error
	}{
		{"GetSource", func() error { _, err := s.GetSource(ctx, b.ID, src.ID); return err }},
		{"RevokeAPIKey", func() error { _, err := s.RevokeAPIKey(ctx, b.ID, key.ID, base); return err }},
		{"GetVerification", func() error { _, err := s.GetVerification(ctx, b.ID, v.ID); return err }},
		{"LockVerification", func() error {
			return s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.LockVerification(ctx, b.ID, v.ID)
				return err
			})
		}},
		{"GetIdempotency", func() error { _, err := s.GetIdempotency(ctx, b.ID, "op", "k"); return err }},
	}
	for _, tc := range notFound {
		wantErr(t, tc.name+" by another tenant", tc.call(), store.ErrNotFound)
	}

	empty := []struct {
		name string
		call func() (int, error)
	}{
		{"ListSources", func() (int, error) { r, err := s.ListSources(ctx, b.ID); return len(r), err }},
		{"ListAPIKeys", func() (int, error) { r, err := s.ListAPIKeys(ctx, b.ID); return len(r), err }},
		{"ConsentStates", func() (int, error) {
			r, err := s.ConsentStates(ctx, b.ID, brandA.ID, state.Recipient, store.Individual)
			return len(r), err
		}},
		{"ListConsentEvents", func() (int, error) {
			r, err := s.ListConsentEvents(ctx, store.EventFilter{TenantID: b.ID, Limit: 10})
			return len(r), err
		}},
		{"WalkConsentEvents", func() (int, error) {
			n := 0
			err := s.WalkConsentEvents(ctx, b.ID, func(*store.ConsentEvent) error { n++; return nil })
			return n, err
		}},
		{"ListMessages", func() (int, error) {
			r, err := s.ListMessages(ctx, store.MessageFilter{TenantID: b.ID, Limit: 10})
			return len(r), err
		}},
		{"MessagesOfVerification", func() (int, error) { r, err := s.MessagesOfVerification(ctx, b.ID, v.ID); return len(r), err }},
		{"CountSends", func() (int, error) {
			n, err := countSends(t, s, store.SendCount{TenantID: b.ID, Since: at(-time.Hour)})
			return int(n), err
		}},
		{"CountRecentVerifications", func() (int, error) {
			n, err := countStarts(t, s, b.ID, src.ID, at(-time.Hour))
			return int(n), err
		}},
	}
	for _, tc := range empty {
		if n, err := tc.call(); err != nil || n != 0 {
			t.Errorf("%s by another tenant = %d records, %v; want none", tc.name, n, err)
		}
	}

	// And the records are still there for their own tenant.
	if _, err := s.GetSource(ctx, a.ID, src.ID); err != nil {
		t.Errorf("GetSource by owner: %v", err)
	}
	if k, err := s.APIKeyByHash(ctx, key.Hash); err != nil || k.RevokedAt != nil {
		t.Errorf("key after another tenant's RevokeAPIKey: %+v, %v; want unrevoked", k, err)
	}
	if ms, err := s.MessagesOfVerification(ctx, a.ID, v.ID); err != nil || len(ms) != 1 {
		t.Errorf("MessagesOfVerification by owner = %d, %v; want 1", len(ms), err)
	}
}

// The last live admin key of a tenant is not revoked, even when the last
// two are revoked at once.
func testLastAdminKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, _ := newTenant(t, s)
	keys := make([]store.APIKey, 2)
	for i := range keys {
		keys[i] = apiKey(ten.ID, nil)
		keys[i].Scope = store.ScopeAdmin
		if err := s.CreateAPIKey(ctx, &keys[i]); err != nil {
			t.Fatal(err)
		}
	}
	errc := make(chan error, len(keys))
	for _, k := range keys {
		go func() { _, err := s.RevokeAPIKey(ctx, ten.ID, k.ID, at(time.Minute)); errc <- err }()
	}
	refused := 0
	for range keys {
		err := <-errc
		switch {
		case errors.Is(err, store.ErrLastAdminKey):
			refused++
		case err != nil:
			t.Fatal(err)
		}
	}
	if refused != 1 {
		t.Errorf("%d of two parallel revokes of the last admin keys refused, want 1", refused)
	}
}
