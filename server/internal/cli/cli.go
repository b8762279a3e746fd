// Package cli is the izin command line: the server and the operator
// commands of DESIGN §6, all reading the same configuration.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/evidence"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/tenancy"
)

type root struct {
	cfg      app.Config
	json     bool
	logLevel string
	logJSON  bool
	out      io.Writer
	errOut   io.Writer
}

// Execute runs the command line with args and returns the exit code.
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	r := &root{cfg: app.Defaults(), out: stdout, errOut: stderr}
	cmd := r.command()
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	if err := cmd.ExecuteContext(ctx); err != nil {
		var done *reportedError
		switch {
		case r.json && errors.As(err, &done):
			// The command already printed its one JSON object.
		case r.json:
			_ = json.NewEncoder(stdout).Encode(map[string]string{"error": err.Error()})
		default:
			fmt.Fprintln(stderr, "izin:", err)
		}
		return 1
	}
	return 0
}

func (r *root) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:           "izin",
		Short:         "izin — consent server for commercial electronic messages (ETK/KVKK, İYS)",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return applyEnv(cmd.Flags())
		},
	}
	f := cmd.PersistentFlags()
	f.StringVar(&r.cfg.DatabaseURL, "database-url", r.cfg.DatabaseURL, "postgres://… or sqlite:PATH [IZIN_DATABASE_URL]")
	f.BoolVar(&r.json, "json", false, "print one JSON object [IZIN_JSON]")
	f.StringVar(&r.logLevel, "log-level", "info", "debug, info, warn or error [IZIN_LOG_LEVEL]")
	f.BoolVar(&r.logJSON, "log-json", false, "log as JSON lines [IZIN_LOG_JSON]")
	f.StringVar(&r.cfg.Secret, "secret", "", "hex key (≥32 bytes) for activation-code hashes [IZIN_SECRET]")
	f.StringVar(&r.cfg.SecretFile, "secret-file", r.cfg.SecretFile, "file holding the key when --secret is empty; created if missing [IZIN_SECRET_FILE]")
	r.iysFlags(f)
	cmd.AddCommand(r.serveCmd(), r.migrateCmd(), r.tenantCmd(), r.sourceCmd(), r.keyCmd(), r.auditCmd())
	cmd.AddCommand(r.importCmd())
	cmd.AddCommand(r.iysCmd())
	cmd.AddCommand(r.textCmd())
	cmd.AddCommand(r.brandCmd(), r.versionCmd())
	refuseUnknownSubcommands(cmd)
	return cmd
}

// applyEnv fills every flag not given on the command line from IZIN_<FLAG>.
func applyEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		name := "IZIN_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", name, e)
			}
		}
	})
	return err
}

func (r *root) logger() *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(r.logLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if r.logJSON {
		return slog.New(slog.NewJSONHandler(r.errOut, opts))
	}
	return slog.New(slog.NewTextHandler(r.errOut, opts))
}

// emit prints v as JSON with --json, else the text.
func (r *root) emit(v any, text string) error {
	if r.json {
		enc := json.NewEncoder(r.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err := fmt.Fprint(r.out, text)
	return err
}

func (r *root) open(ctx context.Context) (*sqlstore.Store, error) {
	return app.OpenStore(ctx, r.cfg, true)
}

// openTenant opens the store for a command that acts on one tenant, and
// refuses a tenant id that does not exist.
func (r *root) openTenant(ctx context.Context, tenant string) (*sqlstore.Store, error) {
	st, err := r.open(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := st.GetTenant(ctx, tenant); err != nil {
		_ = st.Close()
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("--tenant %s: no such tenant", tenant)
		}
		return nil, fmt.Errorf("--tenant %s: %w", tenant, err)
	}
	return st, nil
}

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

func (r *root) tenantCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tenant", Short: "Manage tenants (service providers)"}
	var in tenancy.NewTenant
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a tenant with its default brand and an admin API key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := r.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			c, err := tenancy.New(st, nil, time.Second).CreateTenant(cmd.Context(), in)
			if err != nil {
				return cliError(err)
			}
			return r.emit(map[string]string{"tenant_id": c.Tenant.ID, "brand_code": c.Brand.Code, "admin_api_key": c.AdminKey},
				fmt.Sprintf("tenant_id:     %s\nbrand_code:    %s\nadmin_api_key: %s   (shown once)\n", c.Tenant.ID, c.Brand.Code, c.AdminKey))
		},
	}
	f := create.Flags()
	f.StringVar(&in.Name, "name", "", "company name (required)")
	f.StringVar(&in.Mersis, "mersis", "", "16-digit MERSIS number (required)")
	f.StringVar(&in.IYSCode, "iys-code", "", "İYS service-provider code")
	f.StringVar(&in.Brand.Code, "brand-code", "", "İYS brand code of the default brand (required)")
	f.StringVar(&in.Brand.Name, "brand-name", "", "brand name (required)")
	f.StringVar(&in.Brand.Sender, "sender", "", "SMS sender title, 2–11 characters (required)")
	f.StringVar(&in.Brand.RejectRoute, "reject-route", "", "how to reject, as written in SMS (default: RET <SENDER> to 3338)")
	for _, n := range []string{"name", "mersis", "brand-code", "brand-name", "sender"} {
		_ = create.MarkFlagRequired(n)
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List tenants",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := r.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			ts, err := st.ListTenants(cmd.Context())
			if err != nil {
				return err
			}
			type row struct {
				ID     string `json:"tenant_id"`
				Name   string `json:"name"`
				Mersis string `json:"mersis"`
			}
			rows := []row{}
			text := ""
			for _, t := range ts {
				rows = append(rows, row{t.ID, t.Name, t.Mersis})
				text += fmt.Sprintf("%s  %s  %s\n", t.ID, t.Mersis, t.Name)
			}
			return r.emit(map[string]any{"tenants": rows}, text)
		},
	}
	cmd.AddCommand(create, list)
	return cmd
}

var sourceTypes = map[string]store.SourceType{
	"ECOMMERCE": store.SourceEcommerce, "KIOSK": store.SourceKiosk, "MOBILE_APP": store.SourceMobileApp,
	"CRM": store.SourceCRM, "ERP": store.SourceERP, "CALL_CENTER": store.SourceCallCenter,
	"STORE": store.SourceStore, "OTHER": store.SourceOther,
}

func (r *root) sourceCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "source", Short: "Manage sources (channels)"}
	var tenant, name, typ string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a source and its CHECK+WRITE API key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, ok := sourceTypes[strings.ToUpper(typ)]
			if !ok {
				return fmt.Errorf("--type: want one of ECOMMERCE, KIOSK, MOBILE_APP, CRM, ERP, CALL_CENTER, STORE, OTHER; got %q", typ)
			}
			st, err := r.openTenant(cmd.Context(), tenant)
			if err != nil {
				return err
			}
			defer st.Close()
			src, key, _, err := tenancy.New(st, nil, time.Second).CreateSource(cmd.Context(), tenant, name, t)
			if err != nil {
				return cliError(err)
			}
			return r.emit(map[string]string{"source_id": src.ID, "api_key": key},
				fmt.Sprintf("source_id: %s\napi_key:   %s   (shown once)\n", src.ID, key))
		},
	}
	f := create.Flags()
	f.StringVar(&tenant, "tenant", "", "tenant id (required)")
	f.StringVar(&name, "name", "", "source name (required)")
	f.StringVar(&typ, "type", "", "ECOMMERCE, KIOSK, MOBILE_APP, CRM, ERP, CALL_CENTER, STORE or OTHER (required)")
	for _, n := range []string{"tenant", "name", "type"} {
		_ = create.MarkFlagRequired(n)
	}
	cmd.AddCommand(create, r.sourceListCmd())
	return cmd
}

func (r *root) keyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "key", Short: "Manage API keys"}
	var tenant, name, scope, source string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API key (shown once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, ok := map[string]store.Scope{"check": store.ScopeCheck, "write": store.ScopeWrite, "admin": store.ScopeAdmin}[strings.ToLower(scope)]
			if !ok {
				return fmt.Errorf("--scope: want check, write or admin; got %q", scope)
			}
			st, err := r.openTenant(cmd.Context(), tenant)
			if err != nil {
				return err
			}
			defer st.Close()
			key, k, err := tenancy.New(st, nil, time.Second).CreateAPIKey(cmd.Context(), tenant, name, sc, source)
			if err != nil {
				return cliError(err)
			}
			return r.emit(map[string]string{"key_id": k.ID, "api_key": key},
				fmt.Sprintf("key_id:  %s\napi_key: %s   (shown once)\n", k.ID, key))
		},
	}
	f := create.Flags()
	f.StringVar(&tenant, "tenant", "", "tenant id (required)")
	f.StringVar(&name, "name", "", "key name (required)")
	f.StringVar(&scope, "scope", "check", "check, write or admin")
	f.StringVar(&source, "source", "", "bind the key to this source id")
	_ = create.MarkFlagRequired("tenant")
	_ = create.MarkFlagRequired("name")

	var rtenant string
	revoke := &cobra.Command{
		Use:   "revoke KEY_ID",
		Short: "Revoke an API key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := r.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			k, err := tenancy.New(st, nil, time.Second).RevokeAPIKey(cmd.Context(), rtenant, args[0])
			if err != nil {
				return cliError(err)
			}
			return r.emit(map[string]string{"key_id": k.ID, "revoked_at": k.RevokedAt.Format(time.RFC3339)},
				fmt.Sprintf("revoked %s (%s)\n", k.ID, k.Name))
		},
	}
	revoke.Flags().StringVar(&rtenant, "tenant", "", "tenant id (required)")
	_ = revoke.MarkFlagRequired("tenant")
	cmd.AddCommand(create, revoke, r.keyListCmd())
	return cmd
}

func (r *root) auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Evidence checks"}
	var tenant string
	verifyCmd := &cobra.Command{
		Use:   "verify",
		Short: "Re-check the hash chain of consent events and report the first break",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := r.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			ts, err := st.ListTenants(ctx)
			if err != nil {
				return err
			}
			type result struct {
				TenantID string `json:"tenant_id"`
				Events   int64  `json:"events"`
				OK       bool   `json:"ok"`
				Break    string `json:"break,omitempty"`
			}
			var results []result
			text, broken := "", false
			for _, t := range ts {
				if tenant != "" && t.ID != tenant {
					continue
				}
				n, err := verifyChain(ctx, st, t.ID)
				res := result{TenantID: t.ID, Events: n, OK: err == nil}
				if err != nil {
					var b *evidence.Break
					if !errors.As(err, &b) {
						return err
					}
					res.Break, broken = b.Error(), true
					text += fmt.Sprintf("BROKEN %s: %s\n", t.ID, b.Error())
				} else {
					text += fmt.Sprintf("ok     %s: %d events\n", t.ID, n)
				}
				results = append(results, res)
			}
			if results == nil {
				results = []result{}
			}
			if err := r.emit(map[string]any{"ok": !broken, "tenants": results}, text); err != nil {
				return err
			}
			if broken {
				return &reportedError{msg: "the consent event chain is broken"}
			}
			return nil
		},
	}
	verifyCmd.Flags().StringVar(&tenant, "tenant", "", "only this tenant")
	cmd.AddCommand(verifyCmd)
	return cmd
}

// verifyChain walks a tenant's events up to the head read at the start, so
// events appended meanwhile do not count as a break.
func verifyChain(ctx context.Context, st store.Store, tenantID string) (int64, error) {
	var head store.ChainHead
	if err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		head, err = tx.LockChain(ctx, tenantID)
		return err
	}); err != nil {
		return 0, err
	}
	var v evidence.Verifier
	err := st.WalkConsentEvents(ctx, tenantID, func(e *store.ConsentEvent) error {
		if e.Seq > head.Seq {
			return errStop
		}
		return v.Next(e)
	})
	if err != nil && !errors.Is(err, errStop) {
		return v.Count, err
	}
	return v.Count, v.End(head)
}

var errStop = errors.New("stop")

// reportedError fails a command whose outcome is already printed (with
// --json, as its one JSON object), so that Execute only sets the exit code.
type reportedError struct{ msg string }

func (e *reportedError) Error() string { return e.msg }

func cliError(err error) error {
	if e, ok := errs.As(err); ok && e.Field != "" {
		return fmt.Errorf("--%s: %s", strings.ReplaceAll(strings.TrimPrefix(e.Field, "brand."), "_", "-"), e.Message)
	}
	return err
}
