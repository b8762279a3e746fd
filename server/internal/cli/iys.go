package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/iyssync"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/tenancy"
)

// iysFlags are the İYS settings every command reads (serve runs the worker
// with them; iys sync and status use them too).
func (r *root) iysFlags(f *pflag.FlagSet) {
	f.StringVar(&r.cfg.IYS.BaseURL, "iys-base-url", r.cfg.IYS.BaseURL, "İYS API address for brands without their own [IZIN_IYS_BASE_URL]")
	f.DurationVar(&r.cfg.IYS.Interval, "iys-interval", r.cfg.IYS.Interval, "how often the İYS worker synchronises [IZIN_IYS_INTERVAL]")
	f.DurationVar(&r.cfg.IYS.PollDelay, "iys-poll-delay", r.cfg.IYS.PollDelay, "wait before asking İYS for a bulk upload's result (İYS asks ≥5m) [IZIN_IYS_POLL_DELAY]")
	f.StringSliceVar(&r.cfg.IYS.Holidays, "iys-holidays", nil, "extra public holidays, YYYY-MM-DD, comma-separated [IZIN_IYS_HOLIDAYS]")
	f.BoolVar(&r.cfg.IYS.Off, "iys-off", false, "do not run the İYS worker in serve [IZIN_IYS_OFF]")
}

// iysEnv is what the iys commands work with.
type iysEnv struct {
	st     *sqlstore.Store
	ten    *tenancy.Service
	svc    *iyssync.Service
	worker *iyssync.Worker
}

// withIYS runs fn with the İYS services over the store.
func (r *root) withIYS(ctx context.Context, fn func(*iysEnv) error) error {
	return r.withOps(ctx, func(ops *app.Ops) error {
		svc, worker, err := ops.IYS(r.logger())
		if err != nil {
			return err
		}
		return fn(&iysEnv{st: ops.Store, ten: ops.Tenancy, svc: svc, worker: worker})
	})
}

// tenants returns the tenant given, or every tenant.
func (e *iysEnv) tenants(ctx context.Context, tenant string) ([]store.Tenant, error) {
	if tenant != "" {
		t, err := e.st.GetTenant(ctx, tenant)
		if err != nil {
			return nil, fmt.Errorf("--tenant %s: no such tenant", tenant)
		}
		return []store.Tenant{*t}, nil
	}
	return e.st.ListTenants(ctx)
}

func (r *root) iysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "iys", Short: "The link with İYS: configuration, status, synchronisation"}
	cmd.AddCommand(r.iysConfigureCmd(), r.iysStatusCmd(), r.iysSyncCmd(), r.iysSandboxCmd(), r.iysPullCmd())
	return cmd
}

func (r *root) iysConfigureCmd() *cobra.Command {
	var tenant, passwordFile string
	var in iyssync.ConfigInput
	cmd := &cobra.Command{
		Use:   "configure",
		Short: "Connect a brand to İYS (the password is stored encrypted)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if passwordFile != "" {
				if in.Password != "" {
					return fmt.Errorf("--password and --password-file: give one")
				}
				b, err := os.ReadFile(passwordFile)
				if err != nil {
					return fmt.Errorf("--password-file: %w", err)
				}
				in.Password = strings.TrimRight(string(b), "\r\n")
			}
			ctx := cmd.Context()
			return r.withIYS(ctx, func(e *iysEnv) error {
				if _, err := e.st.GetTenant(ctx, tenant); err != nil {
					return fmt.Errorf("--tenant %s: no such tenant", tenant)
				}
				c, err := e.svc.SetConfig(ctx, tenant, in)
				if err != nil {
					if de, ok := errs.As(err); ok && strings.HasPrefix(de.Field, "config.") {
						return fmt.Errorf("--%s: %s", strings.ReplaceAll(strings.TrimPrefix(de.Field, "config."), "_", "-"), de.Message)
					}
					return cliError(err)
				}
				b, err := e.ten.BrandByID(ctx, tenant, c.BrandID)
				if err != nil {
					return err
				}
				v := iyssync.View(c, b.Code)
				state := "disabled"
				if v.Enabled {
					state = "enabled"
				}
				return r.emit(v, fmt.Sprintf("brand %s: İYS code %s, brand code %s, user %s, %s\n", v.Brand, v.IYSCode, v.BrandCode, v.Username, state))
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenant, "tenant", "", "tenant id (required)")
	f.StringVar(&in.Brand, "brand", "", "izin brand code (default: the default brand)")
	f.StringVar(&in.IYSCode, "iys-code", "", "the service provider's İYS code (required)")
	f.StringVar(&in.BrandCode, "brand-code", "", "the brand's İYS code (required)")
	f.StringVar(&in.Username, "username", "", "İYS API user name (required)")
	f.StringVar(&in.Password, "password", "", "İYS API password (empty keeps the stored one; prefer --password-file)")
	f.StringVar(&passwordFile, "password-file", "", "read the İYS API password from this file")
	f.StringVar(&in.BaseURL, "base-url", "", "İYS API address for this brand (default: --iys-base-url)")
	f.BoolVar(&in.Enabled, "enable", false, "synchronise this brand with İYS")
	requireFlags(cmd, "tenant", "iys-code", "brand-code", "username")
	return cmd
}

func (r *root) iysStatusCmd() *cobra.Command {
	var tenant string
	var offline bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show, per brand, İYS connectivity and the upload backlog",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return r.withIYS(ctx, func(e *iysEnv) error {
				ts, err := e.tenants(ctx, tenant)
				if err != nil {
					return err
				}
				type tenantStatus struct {
					TenantID string                `json:"tenant_id"`
					Brands   []iyssync.BrandStatus `json:"brands"`
				}
				out := []tenantStatus{}
				var b strings.Builder
				tw := tabwriter.NewWriter(&b, 0, 2, 2, ' ', 0)
				fmt.Fprintln(tw, "TENANT\tBRAND\tENABLED\tCONNECTIVITY\tPENDING\tSUBMITTED\tACCEPTED\tREFUSED\tSKIPPED\tNEAR\tOVERDUE\tNEAREST DEADLINE\tLAST PULL\tLAST ERROR")
				for _, t := range ts {
					sts, err := e.svc.Status(ctx, t.ID)
					if err != nil {
						return err
					}
					if !offline {
						if err := e.svc.CheckConnectivity(ctx, t.ID, sts); err != nil {
							return err
						}
					}
					if len(sts) == 0 {
						continue
					}
					out = append(out, tenantStatus{TenantID: t.ID, Brands: sts})
					for _, s := range sts {
						fmt.Fprintf(tw, "%s\t%s\t%t\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", t.ID, s.Brand, s.Enabled, dash(s.Connectivity),
							s.Pending, s.Submitted, s.Accepted, s.Refused, s.Skipped, s.NearDeadline, s.Overdue, timeOrDash(s.NearestDeadline),
							timeOrDash(s.LastPull), dash(s.LastError))
					}
				}
				_ = tw.Flush()
				if len(out) == 0 {
					b.Reset()
					b.WriteString("no brand is connected to İYS and none has uploads; see izin iys configure\n")
				}
				return r.emit(map[string]any{"tenants": out}, b.String())
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "only this tenant")
	cmd.Flags().BoolVar(&offline, "offline", false, "do not contact İYS (skip the connectivity check)")
	return cmd
}

func (r *root) iysSyncCmd() *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Synchronise with İYS once now: upload, poll results, pull changes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return r.withIYS(ctx, func(e *iysEnv) error {
				if tenant != "" {
					if _, err := e.tenants(ctx, tenant); err != nil {
						return err
					}
				}
				rep, runErr := e.worker.RunOnce(ctx, tenant)
				if rep == nil {
					return runErr
				}
				var b strings.Builder
				failed := false
				for _, br := range rep.Brands {
					fmt.Fprintf(&b, "%s %s: sent %d in %d request(s); accepted %d, refused %d, retrying %d; near deadline %d, overdue %d; pulled %d, applied %d\n",
						br.TenantID, br.BrandCode, br.Sent, br.Requests, br.Accepted, br.Refused, br.Retrying, br.NearDeadline, br.Overdue, br.Pulled, br.Applied)
					for _, e := range br.Errors {
						failed = true
						fmt.Fprintf(&b, "  error: %s\n", e)
					}
				}
				if len(rep.Brands) == 0 {
					b.WriteString("no brand is enabled for İYS; see izin iys configure --enable\n")
				}
				if err := r.emit(rep, b.String()); err != nil {
					return err
				}
				switch {
				case runErr != nil:
					return &reportedError{msg: runErr.Error()}
				case failed:
					return &reportedError{msg: "some İYS steps failed; see the errors above"}
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "only this tenant")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.In(iys.Istanbul()).Format(time.RFC3339)
}
