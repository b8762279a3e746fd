package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/iyssync"
	"github.com/izinhq/izin/server/internal/store"
)

type fakeTenants []store.Tenant

func (f fakeTenants) ListTenants(context.Context) ([]store.Tenant, error) { return f, nil }

type fakeStatus map[string][]iyssync.BrandStatus

func (f fakeStatus) Status(_ context.Context, tenantID string) ([]iyssync.BrandStatus, error) {
	if s, ok := f[tenantID]; ok {
		return s, nil
	}
	return nil, errors.New("database gone")
}

func scrape(t *testing.T, r *Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func TestIYSMetrics(t *testing.T) {
	deadline := time.Now().Add(-time.Hour)
	r := New(fakeTenants{{ID: "t1"}, {ID: "t2"}}, fakeStatus{
		"t1": {{Brand: "ACME", Pending: 3, Submitted: 1, Accepted: 7, Refused: 2, NearDeadline: 1, Overdue: 1, NearestDeadline: &deadline}},
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.Refused("H178")
	r.Refused("H178")
	out := scrape(t, r)
	for _, want := range []string{
		`izin_iys_uploads{brand="ACME",state="pending",tenant="t1"} 3`,
		`izin_iys_uploads{brand="ACME",state="refused",tenant="t1"} 2`,
		`izin_iys_near_deadline{brand="ACME",tenant="t1"} 1`,
		`izin_iys_overdue{brand="ACME",tenant="t1"} 1`,
		`izin_iys_refusals_total{code="H178"} 2`,
		`izin_iys_status_errors{tenant="t2"} 1`, // a tenant whose status fails is reported, not hidden
		`izin_iys_nearest_deadline_seconds{brand="ACME",tenant="t1"} -`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
