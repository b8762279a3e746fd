package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/smsconfig"
	"github.com/izinhq/izin/server/internal/store"
)

// withSMS runs fn with the SMS administration over the store.
func (r *root) withSMS(ctx context.Context, tenant string, fn func(ops *app.Ops, svc *smsconfig.Service) error) error {
	return r.withTenant(ctx, tenant, func(ops *app.Ops) error {
		svc, err := ops.SMS()
		if err != nil {
			return err
		}
		return fn(ops, svc)
	})
}

func (r *root) smsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "sms", Short: "Brands' SMS providers: configuration, status, a test message"}
	cmd.AddCommand(r.smsConfigureCmd(), r.smsStatusCmd(), r.smsTestCmd())
	return cmd
}

// configView is a configuration as the CLI prints it: no secrets but the
// callback URLs, which the operator gives the provider.
type configView struct {
	Brand            string              `json:"brand"`
	Provider         string              `json:"provider"`
	BaseURL          string              `json:"base_url,omitempty"`
	Username         string              `json:"username,omitempty"`
	Sender           string              `json:"sender,omitempty"`
	Enabled          bool                `json:"enabled"`
	HasPassword      bool                `json:"has_password"`
	RejectTypes      []string            `json:"reject_types,omitempty"`
	OptinKeyword     string              `json:"optin_keyword,omitempty"`
	AllowedCountries []string            `json:"allowed_countries,omitempty"`
	Callbacks        smsconfig.Callbacks `json:"callbacks"`
}

func (r *root) smsConfigureCmd() *cobra.Command {
	var tenant, passwordFile, rejectTypes, countries string
	var in smsconfig.Input
	cmd := &cobra.Command{
		Use:   "configure",
		Short: "Send a brand's SMS through a provider (credentials are stored encrypted)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if passwordFile != "" {
				b, err := os.ReadFile(passwordFile)
				if err != nil {
					return fmt.Errorf("--password-file: %w", err)
				}
				in.Password = strings.TrimRight(string(b), "\r\n")
			}
			var err error
			if in.RejectTypes, err = parseTypeNames(rejectTypes); err != nil {
				return fmt.Errorf("--reject-types: %w", err)
			}
			if countries != "" {
				in.AllowedCountries = strings.Split(strings.ReplaceAll(countries, "+", ""), ",")
			}
			ctx := cmd.Context()
			return r.withSMS(ctx, tenant, func(ops *app.Ops, svc *smsconfig.Service) error {
				c, err := svc.Configure(ctx, tenant, in)
				if err != nil {
					if de, ok := errs.As(err); ok && strings.HasPrefix(de.Field, "config.") {
						return fmt.Errorf("--%s: %s", flagOf(strings.TrimPrefix(de.Field, "config.")), de.Message)
					}
					return cliError(err)
				}
				cb, err := svc.CallbacksOf(c)
				if err != nil {
					return err
				}
				b, err := ops.Tenancy.BrandByID(ctx, tenant, c.BrandID)
				if err != nil {
					return err
				}
				v := configView{Brand: b.Code, Provider: c.Provider, BaseURL: c.BaseURL, Username: c.Username, Sender: c.Sender,
					Enabled: c.Enabled, HasPassword: len(c.PasswordEnc) > 0, OptinKeyword: c.OptinKeyword, Callbacks: cb}
				for _, t := range store.SplitTypes(c.RejectTypes) {
					v.RejectTypes = append(v.RejectTypes, t.String())
				}
				if c.AllowedCountries != "" {
					v.AllowedCountries = strings.Split(c.AllowedCountries, ",")
				}
				state := "disabled (the sandbox sends)"
				if c.Enabled {
					state = "enabled"
				}
				return r.emit(v, fmt.Sprintf("brand %s: %s, %s\ndelivery reports: %s\ninbound SMS:      %s\n",
					v.Brand, v.Provider, state, cb.ReportURL, cb.InboundURL))
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenant, "tenant", "", "tenant id (required)")
	f.StringVar(&in.Brand, "brand", "", "izin brand code (default: the default brand)")
	f.StringVar(&in.Provider, "provider", "", "netgsm, verimor, twilio or sandbox (required)")
	f.StringVar(&in.BaseURL, "base-url", "", "the provider's API address (default: its public API)")
	f.StringVar(&in.Username, "username", "", "API user (Netgsm, Verimor) or Account SID (Twilio)")
	f.StringVar(&passwordFile, "password-file", "", "read the API password or Twilio auth token from this file")
	f.StringVar(&in.Sender, "sender", "", "registered sender title or number (default: the brand's sender)")
	f.BoolVar(&in.Enabled, "enable", false, "send the brand's SMS through this provider (off: the sandbox)")
	f.StringVar(&rejectTypes, "reject-types", "", "what an inbound RET rejects, e.g. SMS,CALL (default SMS,CALL)")
	f.StringVar(&in.OptinKeyword, "optin-keyword", "", "a keyword that opts in besides EVET")
	f.StringVar(&countries, "allowed-countries", "", "calling codes SMS may go to, e.g. 90,49 (default 90)")
	requireFlags(cmd, "tenant", "provider")
	return cmd
}

// flagOf names the flag of a configuration field.
func flagOf(field string) string {
	if field == "password" {
		return "password-file"
	}
	return strings.ReplaceAll(field, "_", "-")
}

// parseTypeNames reads consent types as SMS, CALL, EMAIL.
func parseTypeNames(s string) ([]store.ConsentType, error) {
	var out []store.ConsentType
	for _, name := range strings.Split(s, ",") {
		switch strings.ToUpper(strings.TrimSpace(name)) {
		case "":
		case "SMS":
			out = append(out, store.ConsentSMS)
		case "CALL":
			out = append(out, store.ConsentCall)
		case "EMAIL":
			out = append(out, store.ConsentEmail)
		default:
			return nil, fmt.Errorf("%q is not SMS, CALL or EMAIL", name)
		}
	}
	return out, nil
}

func (r *root) smsStatusCmd() *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show, per brand, its SMS provider, the last send, the queue and the callback URLs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return r.withSMS(ctx, tenant, func(_ *app.Ops, svc *smsconfig.Service) error {
				sts, err := svc.Status(ctx, tenant)
				if err != nil {
					return err
				}
				var b strings.Builder
				tw := tabwriter.NewWriter(&b, 0, 2, 2, ' ', 0)
				fmt.Fprintln(tw, "BRAND\tPROVIDER\tENABLED\tQUEUED\tOLDEST QUEUED\tLAST SUCCESS\tLAST ERROR")
				for _, s := range sts {
					fmt.Fprintf(tw, "%s\t%s\t%t\t%d\t%s\t%s\t%s\n", s.Brand, s.Provider, s.Enabled, s.Queued,
						timeOrDash(s.OldestQueued), timeOrDash(s.LastSuccessAt), dash(s.LastError))
				}
				_ = tw.Flush()
				for _, s := range sts {
					if s.Callbacks != nil {
						fmt.Fprintf(&b, "%s delivery reports: %s\n%s inbound SMS:      %s\n", s.Brand, s.Callbacks.ReportURL,
							s.Brand, s.Callbacks.InboundURL)
					}
				}
				return r.emit(map[string]any{"tenant_id": tenant, "brands": sts}, b.String())
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant id (required)")
	requireFlags(cmd, "tenant")
	return cmd
}

func (r *root) smsTestCmd() *cobra.Command {
	var tenant, brand, to string
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Queue one informational message through a brand's provider (the server sends it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return r.withSMS(ctx, tenant, func(_ *app.Ops, svc *smsconfig.Service) error {
				id, err := svc.SendTest(ctx, tenant, brand, to)
				if err != nil {
					if de, ok := errs.As(err); ok && de.Field == "recipient" {
						return fmt.Errorf("--to: %s", de.Message)
					}
					return cliError(err)
				}
				return r.emit(map[string]string{"message_id": id},
					fmt.Sprintf("queued message %s; the server sends it (see izin sms status and ListMessages)\n", id))
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenant, "tenant", "", "tenant id (required)")
	f.StringVar(&brand, "brand", "", "izin brand code (default: the default brand)")
	f.StringVar(&to, "to", "", "a Turkish mobile number (required)")
	requireFlags(cmd, "tenant", "to")
	return cmd
}
