package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/store"
)

func testMessages(t *testing.T, newStore func(t *testing.T) store.Store) {
	runTests(t, newStore, []test{
		{"InsertInTx", testInsertMessage},
		{"Claim", testClaimMessages},
		{"ClaimLimitTakesEarliest", testClaimLimit},
		{"ConcurrentClaimsAreDisjoint", testConcurrentClaims},
		{"Finish", testFinishMessage},
		{"List", testListMessages},
		{"OfVerification", testMessagesOfVerification},
		{"CountSends", testCountSends},
	})
}

func insertMessages(t *testing.T, s store.Store, ms ...*store.Message) {
	t.Helper()
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, m := range ms {
			if err := tx.InsertMessage(t.Context(), m); err != nil {
				return err
			}
		}
		return nil
	})
}

func sorted(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func testInsertMessage(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	m := message(t, ten, b, "+905321112233", base)
	m.VerificationID = ptr(uuid.NewString())
	m.Kind = store.KindLandingLink
	m.Attempts = 2
	m.LastError = "timeout"
	insertMessages(t, s, m)

	got, err := s.ListMessages(ctx, store.MessageFilter{TenantID: ten.ID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	same(t, "ListMessages", got, []store.Message{*m})

	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return tx.InsertMessage(ctx, m) })
	wantErr(t, "InsertMessage(same id)", err, store.ErrConflict)
}

func testClaimMessages(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	other, otherBrand := newTenant(t, s)
	now := base
	const r = "+905321112233"

	due1 := message(t, ten, b, r, now.Add(-2*time.Minute))
	due2 := message(t, ten, b, r, now.Add(-time.Minute))
	due2.Attempts = 2 // a retry
	dueNow := message(t, ten, b, r, now)
	dueOther := message(t, other, otherBrand, r, now.Add(-time.Minute)) // claims span tenants
	expired := message(t, ten, b, r, now.Add(-time.Hour))
	expired.LeaseUntil = ptr(now.Add(-time.Second)) // a crashed worker's
	future := message(t, ten, b, r, now.Add(time.Second))
	leased := message(t, ten, b, r, now.Add(-time.Hour))
	leased.LeaseUntil = ptr(now.Add(time.Second))
	sent := message(t, ten, b, r, now.Add(-time.Hour))
	sent.Status, sent.SentAt = store.MessageSent, ptr(now.Add(-time.Hour))
	failed := message(t, ten, b, r, now.Add(-time.Hour))
	failed.Status = store.MessageFailed
	insertMessages(t, s, due1, due2, dueNow, dueOther, expired, future, leased, sent, failed)

	dueSet := []*store.Message{due1, due2, dueNow, dueOther, expired}
	lease := now.Add(30 * time.Second)
	claimed, err := s.ClaimMessages(ctx, now, lease, 100)
	if err != nil {
		t.Fatalf("ClaimMessages: %v", err)
	}
	want := make(map[string]store.Message)
	for _, m := range dueSet {
		w := *m
		w.Attempts++
		w.LeaseUntil = &lease
		want[m.ID] = w
	}
	if got, w := sorted(messageIDs(claimed)), sorted(slices.Collect(mapKeys(want))); !slices.Equal(got, w) {
		t.Fatalf("claimed %v, want %v", got, w)
	}
	for _, m := range claimed {
		same(t, "claimed message "+m.ID, m, want[m.ID])
	}

	// Under lease, nothing is claimed again; a later due message is.
	again, err := s.ClaimMessages(ctx, now.Add(time.Second), now.Add(time.Minute), 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := messageIDs(again); !slices.Equal(got, []string{future.ID}) {
		t.Errorf("claim under lease = %v, want only the message due since %s: %s", got, future.NextAttemptAt, future.ID)
	}

	// Once the first lease runs out, those messages are due again (the
	// leased one's own lease ran out too) and count one more attempt.
	after, err := s.ClaimMessages(ctx, lease.Add(time.Microsecond), lease.Add(time.Minute), 100)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := append(sorted(slices.Collect(mapKeys(want))), leased.ID)
	if got := sorted(messageIDs(after)); !slices.Equal(got, sorted(wantIDs)) {
		t.Errorf("claim after the lease = %v, want %v", got, sorted(wantIDs))
	}
	for _, m := range after {
		if w, ok := want[m.ID]; ok && m.Attempts != w.Attempts+1 {
			t.Errorf("message %s attempts = %d after a second claim, want %d", m.ID, m.Attempts, w.Attempts+1)
		}
	}

	none, err := s.ClaimMessages(ctx, lease, lease.Add(time.Minute), 100)
	if err != nil || len(none) != 0 {
		t.Errorf("claim with every message leased = %v, %v; want none", messageIDs(none), err)
	}
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// A claim of n takes the n messages due longest.
func testClaimLimit(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	var ms []*store.Message
	for i := range 6 {
		// Inserted newest-due first, so insertion order is no help.
		ms = append(ms, message(t, ten, b, "+905321112233", base.Add(-time.Duration(i)*time.Minute)))
	}
	insertMessages(t, s, ms...)

	got, err := s.ClaimMessages(ctx, base, base.Add(time.Minute), 2)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := sorted(messageIDs(got)), sorted([]string{ms[5].ID, ms[4].ID}); !slices.Equal(g, w) {
		t.Errorf("ClaimMessages(limit 2) = %v, want the two due longest %v", g, w)
	}
	got, err = s.ClaimMessages(ctx, base, base.Add(time.Minute), 3)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := sorted(messageIDs(got)), sorted([]string{ms[3].ID, ms[2].ID, ms[1].ID}); !slices.Equal(g, w) {
		t.Errorf("next ClaimMessages(limit 3) = %v, want %v", g, w)
	}
}

// Workers claiming at the same time never get the same message.
func testConcurrentClaims(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	const n = 60
	var ms []*store.Message
	for i := range n {
		ms = append(ms, message(t, ten, b, fmt.Sprintf("+90532%07d", i), base.Add(-time.Duration(i)*time.Second)))
	}
	insertMessages(t, s, ms...)

	const workers = 8
	var (
		mu     sync.Mutex
		owner  = make(map[string]int)
		dups   []string
		wg     sync.WaitGroup
		errors = make(chan error, workers)
	)
	for w := range workers {
		wg.Go(func() {
			for {
				got, err := s.ClaimMessages(ctx, base, base.Add(time.Minute), 3)
				if err != nil {
					errors <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					if prev, ok := owner[m.ID]; ok {
						dups = append(dups, fmt.Sprintf("%s by workers %d and %d", m.ID, prev, w))
					}
					owner[m.ID] = w
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errors)
	for err := range errors {
		t.Errorf("ClaimMessages: %v", err)
	}
	if len(dups) > 0 {
		t.Errorf("%d claims of a message already claimed, e.g. %v", len(dups), dups[:min(len(dups), 5)])
	}
	if len(owner) != n {
		t.Errorf("%d messages claimed, want all %d", len(owner), n)
	}
	all, err := s.ListMessages(ctx, store.MessageFilter{TenantID: ten.ID, Limit: 2 * n})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if m.Attempts != 1 {
			t.Errorf("message %s has %d attempts, want 1", m.ID, m.Attempts)
		}
	}
}

func testFinishMessage(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	ok := message(t, ten, b, "+905321112233", base)
	retry := message(t, ten, b, "+905321112233", base)
	insertMessages(t, s, ok, retry)

	claimed, err := s.ClaimMessages(ctx, base, base.Add(time.Minute), 10)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("ClaimMessages = %v, %v", messageIDs(claimed), err)
	}
	byID := map[string]store.Message{claimed[0].ID: claimed[0], claimed[1].ID: claimed[1]}

	// Sent: the body is replaced by its redacted form, the lease cleared.
	done := byID[ok.ID]
	done.Status = store.MessageSent
	done.ProviderMessageID = "prov-1"
	done.Body = done.RedactedBody
	done.SentAt = ptr(base.Add(time.Second))
	if err := s.FinishMessage(ctx, &done); err != nil {
		t.Fatalf("FinishMessage(sent): %v", err)
	}
	// A failed attempt to retry later.
	again := byID[retry.ID]
	again.LastError = "provider: 503"
	again.NextAttemptAt = base.Add(5 * time.Minute)
	if err := s.FinishMessage(ctx, &again); err != nil {
		t.Fatalf("FinishMessage(retry): %v", err)
	}

	list, err := s.ListMessages(ctx, store.MessageFilter{TenantID: ten.ID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	done.LeaseUntil, again.LeaseUntil = nil, nil
	for _, m := range list {
		switch m.ID {
		case done.ID:
			same(t, "sent message", m, done)
		case again.ID:
			same(t, "message to retry", m, again)
		}
	}

	// The retry is due at its new time, not before, though its lease is gone.
	if got, err := s.ClaimMessages(ctx, base.Add(4*time.Minute), base.Add(5*time.Minute), 10); err != nil || len(got) != 0 {
		t.Errorf("claim before the retry time = %v, %v; want none", messageIDs(got), err)
	}
	got, err := s.ClaimMessages(ctx, base.Add(5*time.Minute), base.Add(6*time.Minute), 10)
	if err != nil || !slices.Equal(messageIDs(got), []string{again.ID}) {
		t.Errorf("claim at the retry time = %v, %v; want %s", messageIDs(got), err, again.ID)
	}
	if len(got) == 1 && got[0].Attempts != 2 {
		t.Errorf("retried message attempts = %d, want 2", got[0].Attempts)
	}
}

func testListMessages(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	other, otherBrand := newTenant(t, s)
	const r1, r2 = "+905321112233", "+905329998877"
	var ms []*store.Message // in id (creation) order
	for i := range 13 {
		r := r1
		if i%3 == 0 {
			r = r2
		}
		ms = append(ms, message(t, ten, b, r, base.Add(time.Duration(i)*time.Second)))
		if i == 6 {
			insertMessages(t, s, message(t, other, otherBrand, r1, base)) // interleaved ids
		}
	}
	// Inserted out of order: ids, not insertion, give the order.
	shuffled := slices.Clone(ms)
	slices.Reverse(shuffled[4:])
	insertMessages(t, s, shuffled...)

	newestFirst := func(keep func(*store.Message) bool) []string {
		var out []string
		for i := len(ms) - 1; i >= 0; i-- {
			if keep(ms[i]) {
				out = append(out, ms[i].ID)
			}
		}
		return out
	}
	all := func(*store.Message) bool { return true }
	toR2 := func(m *store.Message) bool { return m.Recipient == r2 }

	for _, tc := range []struct {
		name string
		f    store.MessageFilter
		want []string
	}{
		{"all", store.MessageFilter{TenantID: ten.ID, Limit: 100}, newestFirst(all)},
		{"limit", store.MessageFilter{TenantID: ten.ID, Limit: 5}, newestFirst(all)[:5]},
		{"recipient", store.MessageFilter{TenantID: ten.ID, Recipient: r2, Limit: 100}, newestFirst(toR2)},
		{"before id", store.MessageFilter{TenantID: ten.ID, BeforeID: ms[7].ID, Limit: 100}, newestFirst(all)[6:]},
		{"before id and recipient", store.MessageFilter{TenantID: ten.ID, Recipient: r2, BeforeID: ms[7].ID, Limit: 100},
			newestFirst(func(m *store.Message) bool { return toR2(m) && m.ID < ms[7].ID })},
		{"before the first", store.MessageFilter{TenantID: ten.ID, BeforeID: ms[0].ID, Limit: 100}, nil},
		{"unknown recipient", store.MessageFilter{TenantID: ten.ID, Recipient: "+905320000000", Limit: 100}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListMessages(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if g := messageIDs(got); !slices.Equal(g, tc.want) {
				t.Errorf("ListMessages = %v, want %v", g, tc.want)
			}
		})
	}

	t.Run("paging", func(t *testing.T) {
		var paged []string
		f := store.MessageFilter{TenantID: ten.ID, Limit: 4}
		for range 10 {
			page, err := s.ListMessages(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			paged = append(paged, messageIDs(page)...)
			f.BeforeID = page[len(page)-1].ID
		}
		if w := newestFirst(all); !slices.Equal(paged, w) {
			t.Errorf("paged = %v, want %v", paged, w)
		}
	})
}

func testMessagesOfVerification(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	v1, v2 := uuid.NewString(), uuid.NewString()
	var ofV1 []*store.Message
	for i := range 3 {
		m := message(t, ten, b, "+905321112233", base.Add(time.Duration(i)*time.Minute))
		m.VerificationID = &v1
		ofV1 = append(ofV1, m)
	}
	m2 := message(t, ten, b, "+905321112233", base)
	m2.VerificationID = &v2
	loose := message(t, ten, b, "+905321112233", base)
	insertMessages(t, s, ofV1[2], m2, ofV1[0], loose, ofV1[1])

	got, err := s.MessagesOfVerification(ctx, ten.ID, v1)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "MessagesOfVerification (oldest first)", got, []store.Message{*ofV1[0], *ofV1[1], *ofV1[2]})

	got, err = s.MessagesOfVerification(ctx, ten.ID, uuid.NewString())
	if err != nil || len(got) != 0 {
		t.Errorf("MessagesOfVerification(unknown) = %v, %v; want none", messageIDs(got), err)
	}
}

func testCountSends(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	other, otherBrand := newTenant(t, s)
	const r1, r2, r3 = "+905321112233", "+905329998877", "+905551112233" // r1 and r2 share a prefix
	var ms []*store.Message
	add := func(ten store.Tenant, b store.Brand, r string, ago time.Duration) {
		ms = append(ms, message(t, ten, b, r, base.Add(-ago)))
	}
	add(ten, b, r1, 0)
	add(ten, b, r1, 59*time.Minute)
	add(ten, b, r1, time.Hour) // on the bound: counted
	add(ten, b, r1, 61*time.Minute)
	add(ten, b, r2, 10*time.Minute)
	add(ten, b, r3, 10*time.Minute)
	add(other, otherBrand, r1, 0) // another tenant
	insertMessages(t, s, ms...)
	// A sent message still counts: limits are on sends, not on the queue.
	sent := *ms[0]
	sent.Status, sent.SentAt = store.MessageSent, ptr(base)
	if err := s.FinishMessage(ctx, &sent); err != nil {
		t.Fatal(err)
	}

	since := base.Add(-time.Hour)
	for _, tc := range []struct {
		name string
		c    store.SendCount
		want int64
	}{
		{"recipient", store.SendCount{TenantID: ten.ID, Recipient: r1, Since: since}, 3},
		{"other recipient", store.SendCount{TenantID: ten.ID, Recipient: r2, Since: since}, 1},
		{"prefix", store.SendCount{TenantID: ten.ID, Prefix: r1[:6], Since: since}, 4},
		{"other prefix", store.SendCount{TenantID: ten.ID, Prefix: r3[:6], Since: since}, 1},
		{"tenant", store.SendCount{TenantID: ten.ID, Since: since}, 5},
		{"tenant, all time", store.SendCount{TenantID: ten.ID}, 6},
		{"other tenant", store.SendCount{TenantID: other.ID, Since: since}, 1},
		{"later window", store.SendCount{TenantID: ten.ID, Recipient: r1, Since: base.Add(-30 * time.Minute)}, 1},
		{"unknown recipient", store.SendCount{TenantID: ten.ID, Recipient: "+905320000000", Since: since}, 0},
	} {
		n, err := countSends(t, s, tc.c)
		if err != nil || n != tc.want {
			t.Errorf("%s: CountSends = %d, %v; want %d", tc.name, n, err, tc.want)
		}
	}
}
