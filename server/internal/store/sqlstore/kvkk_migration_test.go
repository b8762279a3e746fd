package sqlstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/store"
)

// Migration 5 turns the KVKK choice carried by ETK states and events into
// a state of its own: per recipient, brand and recipient type, from the
// newest event that recorded one, also when a RET cleared the states' copy.
// The rows are written with raw SQL in the version-4 schema, so later
// changes to the Go records cannot change what this test sets up.
func TestMigrateKVKKState(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := open(t, e.newURL(t))
			if _, err := s.MigrateTo(ctx, 4); err != nil {
				t.Fatalf("MigrateTo(4): %v", err)
			}
			db := s.DB().WithContext(ctx)
			exec := func(sql string, args ...any) {
				t.Helper()
				if err := db.Exec(sql, args...).Error; err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
			}
			t0 := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
			exec(`INSERT INTO tenants (id, name, mersis, created_at, code_length, code_ttl_seconds, max_attempts,
				resend_interval_seconds, max_sends_per_verification, max_sends_per_recipient_hour,
				max_sends_per_tenant_hour, max_sends_per_prefix_hour, max_starts_per_source_minute)
				VALUES ('t1', 'Acme', '0123456789012345', ?, 6, 180, 3, 60, 3, 5, 100, 100, 100)`, t0)
			const (
				sms, call          = store.ConsentSMS, store.ConsentCall
				granted, rejected  = store.StatusGranted, store.StatusRejected
				none, yes, no      = store.KVKKUnspecified, store.KVKKGranted, store.KVKKDeclined
				ind, mer           = store.Individual, store.Merchant
				ayse, mehmet, zeyn = "+905321110001", "+905321110002", "+905321110003"
				ali                = "+905321110004"
			)
			type row struct {
				id        string
				brand     string
				recipient string
				rtype     store.RecipientType
				typ       store.ConsentType
				status    store.ConsentStatus
				kvkk      store.KVKKStatus
			}
			events := []row{
				// Ayşe ticked KVKK for SMS and calls, then rejected SMS: the
				// SMS state lost the choice, the call state kept it.
				{"e01", "b1", ayse, ind, sms, granted, yes},
				{"e02", "b1", ayse, ind, call, granted, yes},
				{"e03", "b1", ayse, ind, sms, rejected, none},
				// Mehmet declined KVKK, then rejected everything: only the
				// event still carries the choice.
				{"e04", "b1", mehmet, ind, sms, granted, no},
				{"e05", "b1", mehmet, ind, sms, rejected, none},
				// Zeynep granted KVKK on one page and declined it on a later
				// one; for brand b2 she granted it, and as a merchant too.
				{"e06", "b1", zeyn, ind, sms, granted, yes},
				{"e07", "b1", zeyn, ind, call, granted, no},
				{"e08", "b2", zeyn, ind, sms, granted, yes},
				{"e09", "b1", zeyn, mer, sms, rejected, yes},
				// Ali gave consent by SMS code: KVKK was never asked.
				{"e10", "b1", ali, ind, sms, granted, none},
			}
			for i, r := range events {
				at := t0.Add(time.Duration(i) * time.Minute)
				exec(`INSERT INTO consent_events (id, tenant_id, seq, brand_id, brand_code, recipient, recipient_type,
					type, status, consent_time, created_at, source_id, iys_source, kvkk, prev_hash, hash)
					VALUES (?, 't1', ?, ?, 'B', ?, ?, ?, ?, ?, ?, 'src-1', 'HS_WEB', ?, '', 'h')`,
					r.id, i+1, r.brand, r.recipient, r.rtype, r.typ, r.status, at, at.Add(time.Second), r.kvkk)
			}
			// The current states, each from the newest event of its type.
			type key struct {
				brand, recipient string
				rtype            store.RecipientType
				typ              store.ConsentType
			}
			current := map[key]row{}
			for _, r := range events {
				current[key{r.brand, r.recipient, r.rtype, r.typ}] = r
			}
			for _, r := range current {
				i := slices.IndexFunc(events, func(x row) bool { return x.id == r.id })
				at := t0.Add(time.Duration(i) * time.Minute)
				exec(`INSERT INTO consent_states (tenant_id, brand_id, recipient, recipient_type, type, status,
					consent_time, source_id, iys_source, event_id, kvkk, updated_at)
					VALUES ('t1', ?, ?, ?, ?, ?, ?, 'src-1', 'HS_WEB', ?, ?, ?)`,
					r.brand, r.recipient, r.rtype, r.typ, r.status, at, r.id, r.kvkk, at)
			}

			if applied, err := s.Migrate(ctx); err != nil || !slices.Contains(applied, "0005_kvkk") {
				t.Fatalf("Migrate = %v, %v; want 0005_kvkk applied", applied, err)
			}

			src := "src-1"
			for _, tc := range []struct {
				name, brand, recipient string
				rtype                  store.RecipientType
				from                   int // index of the event it comes from; -1: no KVKK state
			}{
				{"kept past a RET of one type", "b1", ayse, ind, 1},
				{"kept past a RET of every type", "b1", mehmet, ind, 3},
				{"the newest choice wins", "b1", zeyn, ind, 6},
				{"per brand", "b2", zeyn, ind, 7},
				{"per recipient type", "b1", zeyn, mer, 8},
				{"never asked", "b1", ali, ind, -1},
			} {
				t.Run(tc.name, func(t *testing.T) {
					states, err := s.ConsentStates(ctx, "t1", tc.brand, tc.recipient, tc.rtype)
					if err != nil {
						t.Fatal(err)
					}
					var kvkk []store.ConsentState
					for _, st := range states {
						if st.Type == store.ConsentKVKK {
							kvkk = append(kvkk, st)
						} else if st.KVKK != store.KVKKUnspecified {
							t.Errorf("ETK state %v keeps kvkk %v; the KVKK row holds it now", st.Type, st.KVKK)
						}
					}
					if tc.from < 0 {
						if len(kvkk) != 0 {
							t.Errorf("KVKK states %+v, want none", kvkk)
						}
						return
					}
					ev := events[tc.from]
					at := t0.Add(time.Duration(tc.from) * time.Minute)
					status := store.StatusRejected
					if ev.kvkk == store.KVKKGranted {
						status = store.StatusGranted
					}
					want := store.ConsentState{TenantID: "t1", BrandID: tc.brand, Recipient: tc.recipient, RecipientType: tc.rtype,
						Type: store.ConsentKVKK, Status: status, ConsentTime: at, SourceID: &src, IYSSource: "HS_WEB",
						EventID: ev.id, KVKK: ev.kvkk, UpdatedAt: at.Add(time.Second)}
					if len(kvkk) != 1 {
						t.Fatalf("KVKK states %+v, want one from %s", kvkk, ev.id)
					}
					got := kvkk[0]
					got.ConsentTime, got.UpdatedAt = got.ConsentTime.UTC(), got.UpdatedAt.UTC()
					if got.EventID != want.EventID || got.KVKK != want.KVKK || got.Status != want.Status ||
						!got.ConsentTime.Equal(want.ConsentTime) || !got.UpdatedAt.Equal(want.UpdatedAt) ||
						got.SourceID == nil || *got.SourceID != src || got.IYSSource != want.IYSSource {
						t.Errorf("KVKK state\n got %+v\nwant %+v", got, want)
					}
				})
			}
		})
	}
}
