package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/store"
)

func testTimes(t *testing.T, newStore func(t *testing.T) store.Store) {
	runTests(t, newStore, []test{
		{"RoundTrip", testTimeRoundTrip},
		{"ComparedAcrossZones", testTimesComparedAcrossZones},
	})
}

// Zones a caller may hand times in; the store keeps the instant.
var zones = []*time.Location{
	time.UTC,
	time.FixedZone("TRT", 3*60*60),
	time.FixedZone("EST", -5*60*60),
}

// checkTime fails unless got is want at microsecond precision and in UTC.
func checkTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Truncate(time.Microsecond).Equal(want.Truncate(time.Microsecond)) {
		t.Errorf("%s = %s, want %s", what, got.Format(time.RFC3339Nano), want.UTC().Format(time.RFC3339Nano))
	}
	if got.Location() != time.UTC {
		t.Errorf("%s is in %q, want UTC", what, got.Location())
	}
}

func checkTimePtr(t *testing.T, what string, got, want *time.Time) {
	t.Helper()
	if got == nil || want == nil {
		if (got == nil) != (want == nil) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
		return
	}
	checkTime(t, what, *got, *want)
}

// Every kind of time column comes back as the same instant, to the
// microsecond, in UTC, whatever zone it was written in.
func testTimeRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	instants := []time.Time{
		base,
		time.Date(2024, time.February, 29, 23, 59, 59, 999999000, time.UTC),
		time.Date(2031, time.December, 31, 0, 0, 0, 1000, time.UTC),
		time.Date(2025, time.July, 1, 12, 30, 0, 123456789, time.UTC), // finer than stored
	}
	for _, zone := range zones {
		for i, instant := range instants {
			t.Run(fmt.Sprintf("%s/%d", zone, i), func(t *testing.T) {
				tm := instant.In(zone)
				later := tm.Add(90 * time.Minute)

				ten, b := tenantRecords()
				ten.CreatedAt, b.CreatedAt = tm, later
				if err := s.CreateTenant(ctx, &ten, &b); err != nil {
					t.Fatal(err)
				}
				gotTen, err := s.GetTenant(ctx, ten.ID)
				if err != nil {
					t.Fatal(err)
				}
				checkTime(t, "Tenant.CreatedAt", gotTen.CreatedAt, tm)
				brands, err := s.ListBrands(ctx, ten.ID)
				if err != nil || len(brands) != 1 {
					t.Fatalf("ListBrands = %v, %v", brands, err)
				}
				checkTime(t, "Brand.CreatedAt", brands[0].CreatedAt, later)

				key := apiKey(ten.ID, nil)
				key.CreatedAt = tm
				if err := s.CreateAPIKey(ctx, &key); err != nil {
					t.Fatal(err)
				}
				gotKey, err := s.RevokeAPIKey(ctx, ten.ID, key.ID, later)
				if err != nil {
					t.Fatal(err)
				}
				checkTimePtr(t, "RevokeAPIKey result's RevokedAt", gotKey.RevokedAt, &later)
				gotKey, err = s.APIKeyByHash(ctx, key.Hash)
				if err != nil {
					t.Fatal(err)
				}
				checkTime(t, "APIKey.CreatedAt", gotKey.CreatedAt, tm)
				checkTimePtr(t, "APIKey.RevokedAt", gotKey.RevokedAt, &later)

				state := consentState(ten, b, "+905321112233", store.Individual, store.ConsentSMS, store.StatusGranted)
				state.ConsentTime, state.UpdatedAt = tm, later
				ev := event(ten, b, "+905321112233", 1)
				ev.ConsentTime, ev.CreatedAt = tm, later
				v := verification(ten, b, nil, tm)
				v.ExpireAt, v.LastSentAt, v.UpdatedAt, v.VerifiedAt = later, tm, later, &later
				m := message(t, ten, b, "+905321112233", tm)
				m.NextAttemptAt, m.SentAt, m.LeaseUntil = later, &tm, &later
				idem := store.Idempotency{TenantID: ten.ID, Operation: "op", Key: "k", RequestHash: "h", Response: []byte{1}, CreatedAt: tm}
				inTx(t, s, func(ctx context.Context, tx store.Tx) error {
					if err := tx.PutConsentStates(ctx, []*store.ConsentState{&state}); err != nil {
						return err
					}
					if err := tx.InsertConsentEvents(ctx, []*store.ConsentEvent{ev}); err != nil {
						return err
					}
					if err := tx.InsertVerification(ctx, v); err != nil {
						return err
					}
					if err := tx.InsertMessage(ctx, m); err != nil {
						return err
					}
					return tx.PutIdempotency(ctx, &idem)
				})

				states, err := s.ConsentStates(ctx, ten.ID, b.ID, state.Recipient, store.Individual)
				if err != nil || len(states) != 1 {
					t.Fatalf("ConsentStates = %v, %v", states, err)
				}
				checkTime(t, "ConsentState.ConsentTime", states[0].ConsentTime, tm)
				checkTime(t, "ConsentState.UpdatedAt", states[0].UpdatedAt, later)

				events, err := s.ListConsentEvents(ctx, store.EventFilter{TenantID: ten.ID, Limit: 1})
				if err != nil || len(events) != 1 {
					t.Fatalf("ListConsentEvents = %v, %v", events, err)
				}
				checkTime(t, "ConsentEvent.ConsentTime", events[0].ConsentTime, tm)
				checkTime(t, "ConsentEvent.CreatedAt", events[0].CreatedAt, later)

				gotV, err := s.GetVerification(ctx, ten.ID, v.ID)
				if err != nil {
					t.Fatal(err)
				}
				checkTime(t, "Verification.ExpireAt", gotV.ExpireAt, later)
				checkTime(t, "Verification.LastSentAt", gotV.LastSentAt, tm)
				checkTime(t, "Verification.CreatedAt", gotV.CreatedAt, tm)
				checkTime(t, "Verification.UpdatedAt", gotV.UpdatedAt, later)
				checkTimePtr(t, "Verification.VerifiedAt", gotV.VerifiedAt, &later)

				msgs, err := s.ListMessages(ctx, store.MessageFilter{TenantID: ten.ID, Limit: 1})
				if err != nil || len(msgs) != 1 {
					t.Fatalf("ListMessages = %v, %v", msgs, err)
				}
				checkTime(t, "Message.NextAttemptAt", msgs[0].NextAttemptAt, later)
				checkTime(t, "Message.CreatedAt", msgs[0].CreatedAt, tm)
				checkTimePtr(t, "Message.LeaseUntil", msgs[0].LeaseUntil, &later)
				checkTimePtr(t, "Message.SentAt", msgs[0].SentAt, &tm)

				// FinishMessage writes its times through a column map, not
				// a record.
				fin := msgs[0]
				fin.Status, fin.NextAttemptAt, fin.SentAt = store.MessageSent, tm, &later
				if err := s.FinishMessage(ctx, &fin); err != nil {
					t.Fatal(err)
				}
				msgs, err = s.ListMessages(ctx, store.MessageFilter{TenantID: ten.ID, Limit: 1})
				if err != nil || len(msgs) != 1 {
					t.Fatalf("ListMessages = %v, %v", msgs, err)
				}
				checkTime(t, "finished Message.NextAttemptAt", msgs[0].NextAttemptAt, tm)
				checkTimePtr(t, "finished Message.SentAt", msgs[0].SentAt, &later)

				gotIdem, err := s.GetIdempotency(ctx, ten.ID, "op", "k")
				if err != nil {
					t.Fatal(err)
				}
				checkTime(t, "Idempotency.CreatedAt", gotIdem.CreatedAt, tm)
			})
		}
	}

	t.Run("Defaulted", func(t *testing.T) {
		// A record written without its creation time gets the current time,
		// in UTC like every other.
		ten, b := tenantRecords()
		ten.CreatedAt, b.CreatedAt = time.Time{}, time.Time{}
		before := time.Now()
		if err := s.CreateTenant(ctx, &ten, &b); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetTenant(ctx, ten.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.CreatedAt.Before(before.Add(-time.Second)) || got.CreatedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("defaulted CreatedAt = %s, want about now", got.CreatedAt)
		}
		if got.CreatedAt.Location() != time.UTC {
			t.Errorf("defaulted CreatedAt is in %q, want UTC", got.CreatedAt.Location())
		}
	})
}

// Time windows (due messages, send counts, recent verifications) compare
// instants, not the wall clocks of whatever zone a time was written in.
func testTimesComparedAcrossZones(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	src := newSource(t, s, ten.ID)
	east, west := zones[1], zones[2] // UTC+3, UTC-5
	now := base

	// Due an hour ago, written east: its wall clock reads two hours after
	// now. Due in an hour, written west: its wall clock reads four hours
	// before now.
	due := message(t, ten, b, "+905321112233", now.Add(-time.Hour).In(east))
	notDue := message(t, ten, b, "+905321112233", now.Add(time.Hour).In(west))
	// A lease that ran out a minute ago, written east; one that runs for
	// another minute, written west.
	expired := message(t, ten, b, "+905321112233", now.Add(-time.Hour).In(west))
	expired.LeaseUntil = ptr(now.Add(-time.Minute).In(east))
	leased := message(t, ten, b, "+905321112233", now.Add(-time.Hour).In(east))
	leased.LeaseUntil = ptr(now.Add(time.Minute).In(west))
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, m := range []*store.Message{due, notDue, expired, leased} {
			if err := tx.InsertMessage(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})

	claimed, err := s.ClaimMessages(ctx, now.In(west), now.Add(time.Minute).In(east), 10)
	if err != nil {
		t.Fatal(err)
	}
	got, want := messageIDs(claimed), []string{due.ID, expired.ID}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("claimed %v, want the due message %s and the expired lease %s (not %s nor %s)",
			got, due.ID, expired.ID, notDue.ID, leased.ID)
	}

	// Created 30 minutes ago (written east) and 90 minutes ago (written
	// west): only the first is within the last hour.
	recent := message(t, ten, b, "+905324445566", now.Add(-30*time.Minute).In(east))
	old := message(t, ten, b, "+905324445566", now.Add(-90*time.Minute).In(west))
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.InsertMessage(ctx, recent); err != nil {
			return err
		}
		return tx.InsertMessage(ctx, old)
	})
	for _, since := range []time.Time{now.Add(-time.Hour), now.Add(-time.Hour).In(east), now.Add(-time.Hour).In(west)} {
		n, err := countSends(t, s, store.SendCount{TenantID: ten.ID, Recipient: "+905324445566", Since: since})
		if err != nil || n != 1 {
			t.Errorf("CountSends(since %s) = %d, %v; want 1", since, n, err)
		}
	}

	v1 := verification(ten, b, &src.ID, now.Add(-30*time.Second).In(west))
	v2 := verification(ten, b, &src.ID, now.Add(-90*time.Second).In(east))
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.InsertVerification(ctx, v1); err != nil {
			return err
		}
		return tx.InsertVerification(ctx, v2)
	})
	for _, since := range []time.Time{now.Add(-time.Minute), now.Add(-time.Minute).In(east), now.Add(-time.Minute).In(west)} {
		n, err := countStarts(t, s, ten.ID, src.ID, since)
		if err != nil || n != 1 {
			t.Errorf("CountRecentVerifications(since %s) = %d, %v; want 1", since, n, err)
		}
	}
}
