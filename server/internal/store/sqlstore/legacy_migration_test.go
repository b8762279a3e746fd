package sqlstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/store/sqlstore"
)

// A database the runner before goose migrated is taken over: goose applies
// only what the old runner had not, and the data stays.
func TestGooseTakesOverLegacyVersions(t *testing.T) {
	for _, e := range engines {
		for _, tc := range []struct {
			name   string
			legacy int // the old runner's last version
		}{
			{"fully migrated", 0}, // 0: every migration
			{"behind", 3},
		} {
			t.Run(e.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				url := e.newURL(t)
				s := open(t, url)
				migs, err := sqlstore.Migrations(s.Dialect())
				if err != nil {
					t.Fatal(err)
				}
				last := migs[len(migs)-1].Version
				legacy := tc.legacy
				if legacy == 0 {
					legacy = last
				}
				if err := s.MigrateLegacy(ctx, legacy); err != nil {
					t.Fatalf("MigrateLegacy(%d): %v", legacy, err)
				}
				if v, err := s.SchemaVersion(ctx); err != nil || v != legacy {
					t.Errorf("SchemaVersion before goose = %d, %v; want %d", v, err, legacy)
				}
				err = s.DB().WithContext(ctx).Exec(`INSERT INTO tenants (id, name, mersis, created_at, code_length,
					code_ttl_seconds, max_attempts, resend_interval_seconds, max_sends_per_verification,
					max_sends_per_recipient_hour, max_sends_per_tenant_hour, max_sends_per_prefix_hour,
					max_starts_per_source_minute)
					VALUES ('t1', 'Acme', '0123456789012345', ?, 6, 180, 3, 60, 3, 5, 100, 100, 100)`,
					time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)).Error
				if err != nil {
					t.Fatal(err)
				}

				// Behind, the status comes first and takes the database
				// over itself; fully migrated, the replicas starting
				// together do.
				if legacy < last {
					wantStatus(t, s, migs, legacy)
				}
				applied := migrateTogether(t, s, open(t, url), open(t, url))
				var want []string
				for _, m := range migs[legacy:] {
					want = append(want, m.Name)
				}
				if !slices.Equal(applied, want) {
					t.Fatalf("Migrate applied %v in all; want %v", applied, want)
				}
				var tenants int64
				if err := s.DB().Table("tenants").Count(&tenants).Error; err != nil || tenants != 1 {
					t.Errorf("tenants after goose = %d, %v; want the 1 row kept", tenants, err)
				}
				wantStatus(t, s, migs, last)
				if v, err := s.SchemaVersion(ctx); err != nil || v != last {
					t.Errorf("SchemaVersion after goose = %d, %v; want %d", v, err, last)
				}
				if err := s.Probe(ctx); err != nil {
					t.Errorf("Probe after goose = %v", err)
				}
				if again, err := s.Migrate(ctx); err != nil || len(again) != 0 {
					t.Errorf("second Migrate = %v, %v; want nothing applied", again, err)
				}
			})
		}
	}
}

// wantStatus checks that MigrationStatus lists every migration, applied up
// to and including version upTo, pending after.
func wantStatus(t *testing.T, s *sqlstore.Store, migs []sqlstore.Migration, upTo int) {
	t.Helper()
	status, err := s.MigrationStatus(context.Background())
	if err != nil || len(status) != len(migs) {
		t.Fatalf("MigrationStatus = %v, %v; want %d migrations", status, err, len(migs))
	}
	for i, st := range status {
		applied := migs[i].Version <= upTo
		if st.Version != migs[i].Version || st.Name != migs[i].Name || st.Applied != applied ||
			st.AppliedAt.IsZero() == applied {
			t.Errorf("status[%d] = %+v; want %s applied %v", i, st, migs[i].Name, applied)
		}
	}
}
