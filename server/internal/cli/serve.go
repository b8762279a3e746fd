package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/tenancy"
)

func (r *root) serveCmd() *cobra.Command {
	var demo bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gRPC and REST server and the SMS outbox worker",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := r.logger()
			st, err := app.OpenStore(ctx, r.cfg, r.cfg.AutoMigrate)
			if err != nil {
				return err
			}
			defer st.Close()
			a, err := app.New(r.cfg, st, log)
			if err != nil {
				return err
			}
			l, err := a.Listen()
			if err != nil {
				return err
			}
			if demo {
				if err := r.printDemo(ctx, a.Tenancy, l); err != nil {
					return err
				}
			}
			return a.Serve(ctx, l)
		},
	}
	f := cmd.Flags()
	f.StringVar(&r.cfg.GRPCAddr, "grpc-addr", r.cfg.GRPCAddr, "gRPC listen address [IZIN_GRPC_ADDR]")
	f.StringVar(&r.cfg.HTTPAddr, "http-addr", r.cfg.HTTPAddr, "REST/HTTP listen address [IZIN_HTTP_ADDR]")
	f.StringVar(&r.cfg.MetricsAddr, "metrics-addr", r.cfg.MetricsAddr, "Prometheus /metrics listen address; empty turns it off [IZIN_METRICS_ADDR]")
	f.StringVar(&r.cfg.PublicURL, "public-url", r.cfg.PublicURL, "scheme and host that customers' phones reach izin at, for the consent and rejection links in SMS; empty means http://localhost:<http port> [IZIN_PUBLIC_URL]")
	f.DurationVar(&r.cfg.LandingTTL, "landing-ttl", r.cfg.LandingTTL, "how long a consent-page link works until the customer sends the page [IZIN_LANDING_TTL]")
	f.BoolVar(&r.cfg.AutoMigrate, "auto-migrate", r.cfg.AutoMigrate, "apply pending migrations at start [IZIN_AUTO_MIGRATE]")
	f.DurationVar(&r.cfg.KeyCacheTTL, "key-cache-ttl", r.cfg.KeyCacheTTL, "how long a resolved API key is cached [IZIN_KEY_CACHE_TTL]")
	f.BoolVar(&r.cfg.WebhookAllowPrivate, "webhook-allow-private", false, "let webhooks target http and private, loopback or link-local addresses (tests, development) [IZIN_WEBHOOK_ALLOW_PRIVATE]")
	f.BoolVar(&demo, "demo", false, "ensure a demo tenant exists and print a fresh admin key for it [IZIN_DEMO]")
	return cmd
}

const (
	demoTenant    = "Demo Mağaza A.Ş."
	demoKeyPrefix = "demo "
)

func (r *root) printDemo(ctx context.Context, ten *tenancy.Service, l *app.Listeners) error {
	ts, err := ten.ListTenants(ctx)
	if err != nil {
		return err
	}
	var tenantID string
	for _, t := range ts {
		if t.Name == demoTenant {
			tenantID = t.ID
		}
	}
	if tenantID == "" {
		c, err := ten.CreateTenant(ctx, tenancy.NewTenant{Name: demoTenant, Mersis: "0123456789012345", IYSCode: "123456",
			Brand: store.Brand{Code: "DEMO", Name: "Demo Mağaza", Sender: "DEMOMAGAZA"}})
		if err != nil {
			return err
		}
		tenantID = c.Tenant.ID
	}
	// Only the key printed now works: a demo key printed by an earlier run
	// (and perhaps pasted somewhere) is revoked.
	keys, err := ten.ListAPIKeys(ctx, tenantID)
	if err != nil {
		return err
	}
	revoked := 0
	for _, k := range keys {
		if k.RevokedAt == nil && k.SourceID == nil && strings.HasPrefix(k.Name, demoKeyPrefix) {
			if _, err := ten.RevokeAPIKey(ctx, tenantID, k.ID); err != nil {
				return err
			}
			revoked++
		}
	}
	key, _, err := ten.CreateAPIKey(ctx, tenantID, demoKeyPrefix+time.Now().UTC().Format(time.RFC3339), store.ScopeAdmin, "")
	if err != nil {
		return err
	}
	note := ""
	if revoked > 0 {
		note = fmt.Sprintf("\n  (%d demo key(s) printed by earlier runs were revoked; use this one.)", revoked)
	}
	httpPort := portOf(l.HTTP.Addr().String())
	fmt.Fprintf(r.out, `
  izin is running with a demo tenant (%s, MERSIS 0123456789012345).
  tenant id : %s
  API key   : %s     (admin scope; shown once)%s
  REST      : http://localhost:%s      gRPC: localhost:%s

  Try:
    export IZIN_KEY=%s
    curl -s -H "Authorization: Bearer $IZIN_KEY" localhost:%s/v1/consents:check -d '{"recipient":"+90 532 123 45 67"}'

`, demoTenant, tenantID, key, note, httpPort, portOf(l.GRPC.Addr().String()), key, httpPort)
	return nil
}

func portOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[i+1:]
	}
	return addr
}
