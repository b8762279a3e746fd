// Package metrics exposes izin's state to Prometheus: the İYS backlog and
// deadlines per brand, İYS's refusals by code, and the SMS outbox.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/izinhq/izin/server/internal/iyssync"
	"github.com/izinhq/izin/server/internal/store"
)

// Tenants lists the tenants to report on.
type Tenants interface {
	ListTenants(ctx context.Context) ([]store.Tenant, error)
}

// IYSStatus is the per-brand İYS summary (iyssync.Service.Status).
type IYSStatus interface {
	Status(ctx context.Context, tenantID string) ([]iyssync.BrandStatus, error)
}

// Registry holds izin's collectors.
type Registry struct {
	reg      *prometheus.Registry
	refusals *prometheus.CounterVec
}

// New returns a registry whose İYS gauges are read from the database at
// scrape time, so every replica reports the same numbers and nothing has
// to be kept in step in memory.
func New(tenants Tenants, iys IYSStatus, log *slog.Logger) *Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r := &Registry{reg: reg, refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "izin_iys_refusals_total",
		Help: "Consent changes İYS refused for a rule, by İYS error code (counted by this replica).",
	}, []string{"code"})}
	reg.MustRegister(r.refusals, &iysCollector{tenants: tenants, iys: iys, log: log})
	return r
}

// Refused counts a refusal; it is the İYS worker's metrics hook.
func (r *Registry) Refused(code string) { r.refusals.WithLabelValues(code).Inc() }

// Handler serves the metrics in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}

var (
	uploadsDesc = prometheus.NewDesc("izin_iys_uploads",
		"Consent changes per İYS upload state.", []string{"tenant", "brand", "state"}, nil)
	nearDesc = prometheus.NewDesc("izin_iys_near_deadline",
		"Changes not yet accepted by İYS that reach their 3-business-day deadline within a business day.",
		[]string{"tenant", "brand"}, nil)
	overdueDesc = prometheus.NewDesc("izin_iys_overdue",
		"Changes not accepted by İYS within 3 business days.", []string{"tenant", "brand"}, nil)
	deadlineDesc = prometheus.NewDesc("izin_iys_nearest_deadline_seconds",
		"Seconds until the deadline of the oldest change not yet accepted (negative when past).",
		[]string{"tenant", "brand"}, nil)
	scrapeErrDesc = prometheus.NewDesc("izin_iys_status_errors",
		"1 when the İYS status of a tenant could not be read during this scrape.", []string{"tenant"}, nil)
)

type iysCollector struct {
	tenants Tenants
	iys     IYSStatus
	log     *slog.Logger
}

func (c *iysCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{uploadsDesc, nearDesc, overdueDesc, deadlineDesc, scrapeErrDesc} {
		ch <- d
	}
}

func (c *iysCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ts, err := c.tenants.ListTenants(ctx)
	if err != nil {
		c.log.Error("metrics: list tenants", "err", err)
		ch <- prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, 1, "")
		return
	}
	now := time.Now()
	for _, t := range ts {
		sts, err := c.iys.Status(ctx, t.ID)
		if err != nil {
			c.log.Error("metrics: İYS status", "tenant", t.ID, "err", err)
			ch <- prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, 1, t.ID)
			continue
		}
		for _, s := range sts {
			for state, n := range map[string]int64{"pending": s.Pending, "submitted": s.Submitted,
				"accepted": s.Accepted, "refused": s.Refused, "skipped": s.Skipped} {
				ch <- prometheus.MustNewConstMetric(uploadsDesc, prometheus.GaugeValue, float64(n), t.ID, s.Brand, state)
			}
			ch <- prometheus.MustNewConstMetric(nearDesc, prometheus.GaugeValue, float64(s.NearDeadline), t.ID, s.Brand)
			ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(s.Overdue), t.ID, s.Brand)
			if s.NearestDeadline != nil {
				ch <- prometheus.MustNewConstMetric(deadlineDesc, prometheus.GaugeValue,
					s.NearestDeadline.Sub(now).Seconds(), t.ID, s.Brand)
			}
		}
	}
}
