package sqlstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
)

// queueTenant creates a tenant and brand for queue tests.
func queueTenant(t testing.TB, s *sqlstore.Store) (tenantID, brandID string) {
	t.Helper()
	now := time.Now().UTC()
	ten := store.Tenant{ID: uuid.NewString(), Name: "Queue", Mersis: fmt.Sprintf("%016d", time.Now().UnixNano()%1e16),
		TenantSettings: store.DefaultTenantSettings(), CreatedAt: now}
	b := store.Brand{ID: uuid.NewString(), TenantID: ten.ID, Code: "Q", Name: "Queue", Sender: "QUEUE", CreatedAt: now}
	if err := s.CreateTenant(context.Background(), &ten, &b); err != nil {
		t.Fatal(err)
	}
	return ten.ID, b.ID
}

// queueBacklog queues n consents with two changes each: a grant, and a
// rejection behind it.
func queueBacklog(t testing.TB, s *sqlstore.Store, tenantID, brandID string, n int) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	var ups []*store.IYSUpload
	for i := range n {
		for j, st := range []store.ConsentStatus{store.StatusGranted, store.StatusRejected} {
			at := now.Add(-time.Duration(2*n-i+j*n) * time.Second)
			ups = append(ups, &store.IYSUpload{EventID: uuid.NewString(), TenantID: tenantID, BrandID: brandID,
				Recipient: fmt.Sprintf("+90532%07d", i), RecipientType: store.Individual, Type: store.ConsentSMS,
				Status: st, Source: "HS_WEB", ConsentTime: at, State: store.IYSPending, NextAttemptAt: now,
				CreatedAt: now, UpdatedAt: now})
		}
	}
	err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.LockChain(ctx, tenantID); err != nil {
			return err
		}
		return tx.InsertIYSUploads(ctx, ups)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestIYSQueuePlans checks, on a backlog the planner has statistics for,
// that a claim reads the ready index in its order (no sort, no scan of what
// waits behind the heads), that finding a consent's next head is a probe
// of the open-key index, and that the SMS outbox's claim reads its partial
// index: their cost is the batch's, not the backlog's.
func TestIYSQueuePlans(t *testing.T) {
	t.Parallel()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			s := migrated(t, e.newURL(t)).(*sqlstore.Store)
			ten, b := queueTenant(t, s)
			queueBacklog(t, s, ten, b, 5000)
			explain, analyze := "EXPLAIN QUERY PLAN ", "ANALYZE"
			if s.Dialect() == sqlstore.Postgres {
				explain, analyze = "EXPLAIN ", "ANALYZE iys_uploads"
			}
			if err := s.DB().Exec(analyze).Error; err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				name, sql, index string
			}{
				{"claim", s.ClaimSQL(ten, b, time.Now(), 1000), "iys_uploads_ready"},
				{"claim and lease", s.ClaimUpdateSQL(ten, b, time.Now(), 1000), "iys_uploads_ready"},
				{"open uploads", s.OpenOfSQL(ten, b, "+905320000042", "+905320000043"), "iys_uploads_open_key"},
				{"SMS outbox claim", s.ClaimMessagesSQL(time.Now(), 100), "messages_due"},
			} {
				plan := explainPlan(t, s, explain+tc.sql)
				t.Logf("%s plan:\n%s", tc.name, plan)
				if !strings.Contains(plan, tc.index) {
					t.Errorf("%s does not use %s:\n%s\n%s", tc.name, tc.index, tc.sql, plan)
				}
				if strings.Contains(plan, "TEMP B-TREE") || strings.Contains(plan, "Sort") || strings.Contains(plan, "Seq Scan") ||
					strings.Contains(plan, "SCAN iys_uploads") {
					t.Errorf("%s sorts or scans:\n%s\n%s", tc.name, tc.sql, plan)
				}
			}
		})
	}
}

func explainPlan(t *testing.T, s *sqlstore.Store, sql string) string {
	t.Helper()
	rows, err := s.DB().Raw(sql).Rows()
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprint(vals...))
	}
	return strings.Join(lines, "\n")
}

// TestIYSQueueMigration builds a queue as izin's schema 3 left it (no
// heads) and checks that migrating marks exactly the oldest open upload of
// each consent.
func TestIYSQueueMigration(t *testing.T) {
	t.Parallel()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := open(t, e.newURL(t))
			if _, err := s.MigrateTo(ctx, 3); err != nil {
				t.Fatal(err)
			}
			ten, b := queueTenant(t, s)
			base := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
			type row struct {
				recipient string
				state     store.IYSUploadState
				at        time.Duration
				wantHead  bool
			}
			rows := []row{
				{"+905320000001", store.IYSSubmitted, 0, true},            // in flight: still the head
				{"+905320000001", store.IYSPending, time.Hour, false},     // behind it
				{"+905320000002", store.IYSAccepted, 0, false},            // done
				{"+905320000002", store.IYSPending, time.Hour, true},      // so this goes next
				{"+905320000002", store.IYSPending, 2 * time.Hour, false}, // and this after
				{"+905320000003", store.IYSRefused, 0, false},             // closed
				{"+905320000004", store.IYSPending, 3 * time.Hour, true},  // alone
			}
			ids := make([]string, len(rows))
			for i, r := range rows {
				ids[i] = uuid.NewString()
				err := s.DB().Exec(`INSERT INTO iys_uploads (event_id, tenant_id, brand_id, recipient, recipient_type, type, status,
					source, consent_time, state, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, 1, 1, 1, 'HS_WEB', ?, ?, ?, ?, ?)`,
					ids[i], ten, b, r.recipient, base.Add(r.at), r.state, base, base, base).Error
				if err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			got, err := s.ListIYSUploads(ctx, store.IYSUploadFilter{TenantID: ten, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			head := map[string]bool{}
			for _, u := range got {
				head[u.EventID] = u.Head
			}
			for i, r := range rows {
				if head[ids[i]] != r.wantHead {
					t.Errorf("row %d (%s, state %d): head=%t after migrating, want %t", i, r.recipient, r.state, head[ids[i]], r.wantHead)
				}
			}
		})
	}
}

// BenchmarkIYSClaim claims and releases a batch of 1000 heads from queues
// of different sizes, half of each queued behind a head: the time per claim
// should not grow with the queue (compare the sub-benchmarks of one run).
//
//	go test ./server/internal/store/sqlstore -run '^$' -bench IYSClaim -benchtime 20x
func BenchmarkIYSClaim(b *testing.B) {
	for _, e := range []struct {
		name string
		url  func(b *testing.B) string
	}{
		{"SQLite", func(b *testing.B) string { return "sqlite:" + filepath.Join(b.TempDir(), "izin.db") }},
		{"Postgres", func(b *testing.B) string { return pg.DatabaseURL(b) }},
	} {
		for _, consents := range []int{5000, 50000} {
			b.Run(fmt.Sprintf("%s/backlog=%d", e.name, 2*consents), func(b *testing.B) {
				s, err := sqlstore.Open(context.Background(), e.url(b))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = s.Close() })
				if _, err := s.Migrate(context.Background()); err != nil {
					b.Fatal(err)
				}
				ten, br := queueTenant(b, s)
				queueBacklog(b, s, ten, br, consents)
				if s.Dialect() == sqlstore.Postgres {
					// As autovacuum would after a large import.
					if err := s.DB().Exec("ANALYZE iys_uploads").Error; err != nil {
						b.Fatal(err)
					}
				}
				ctx := context.Background()
				b.ResetTimer()
				for b.Loop() {
					now := time.Now()
					got, err := s.ClaimIYSUploads(ctx, ten, br, now, now.Add(time.Minute), 1000)
					if err != nil || len(got) != 1000 {
						b.Fatalf("claim = %d, %v", len(got), err)
					}
					b.StopTimer()
					// Give them back: release the lease.
					if _, err := s.FinishIYSUploads(ctx, got, store.IYSPending, ""); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			})
		}
	}
}
