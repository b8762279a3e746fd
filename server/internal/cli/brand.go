package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/tenancy"
)

// brandJSON is a brand as --json shows it: the API's fields, and the
// rejection route its SMS actually carry.
type brandJSON struct {
	Code        string `json:"code"`
	Name        string `json:"name"`
	Sender      string `json:"sender"`
	RejectRoute string `json:"reject_route"` // as set; "" is the default route
	RejectText  string `json:"reject_text"`  // as written in SMS
	IsDefault   bool   `json:"is_default"`
	CreateTime  string `json:"create_time"`
}

func brandOut(b *store.Brand) brandJSON {
	return brandJSON{Code: b.Code, Name: b.Name, Sender: b.Sender, RejectRoute: b.RejectRoute,
		RejectText: tenancy.RejectRoute(b), IsDefault: b.IsDefault, CreateTime: timeText(b.CreatedAt)}
}

func brandText(b *store.Brand) string {
	return fmt.Sprintf("code:    %s\nname:    %s\nsender:  %s\nreject:  %s\ndefault: %v\n",
		b.Code, b.Name, b.Sender, tenancy.RejectRoute(b), b.IsDefault)
}

func (r *root) brandCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "brand", Short: "Manage brands (markalar): İYS brand code, SMS sender title, rejection route"}
	cmd.AddCommand(r.brandCreateCmd(), r.brandListCmd(), r.brandUpdateCmd())
	return cmd
}

// The flags of the brand fields, shared by create and update.
const (
	brandNameUsage   = "brand name"
	brandSenderUsage = "SMS sender title (başlık), 2–11 letters, digits, spaces, dots or dashes, as registered with the operators"
	brandRejectUsage = "how to reject, as written in SMS; must let the consent SMS fit one segment (default: RET <SENDER> to 3338)"
)

func (r *root) brandCreateCmd() *cobra.Command {
	var tenant string
	var b store.Brand
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Add a brand to a tenant, with the default consent texts published for it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return r.withTenant(ctx, tenant, func(ops *app.Ops) error {
				nb, err := ops.Tenancy.CreateBrand(ctx, tenant, b)
				if e, ok := errs.As(err); ok && e.Kind == errs.KindAlreadyExists {
					return fmt.Errorf("--code: %s", e.Message)
				}
				if err != nil {
					return cliError(err)
				}
				return r.emit(brandOut(nb), brandText(nb)+
					fmt.Sprintf("default consent texts published: izin text list --tenant %s --brand %s\n", tenant, nb.Code))
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenant, "tenant", "", "tenant id (required)")
	f.StringVar(&b.Code, "code", "", "İYS brand code, unique in the tenant: 1–64 letters, digits, _ or - (required)")
	f.StringVar(&b.Name, "name", "", brandNameUsage+" (required)")
	f.StringVar(&b.Sender, "sender", "", brandSenderUsage+" (required)")
	f.StringVar(&b.RejectRoute, "reject-route", "", brandRejectUsage)
	requireFlags(cmd, "tenant", "code", "name", "sender")
	return cmd
}

func (r *root) brandListCmd() *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a tenant's brands",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return r.withTenant(ctx, tenant, func(ops *app.Ops) error {
				bs, err := ops.Tenancy.ListBrands(ctx, tenant)
				if err != nil {
					return err
				}
				rows := make([]brandJSON, 0, len(bs))
				tab := newTable("CODE\tDEFAULT\tSENDER\tCREATED\tNAME\tREJECT")
				for i := range bs {
					b := &bs[i]
					rows = append(rows, brandOut(b))
					def := ""
					if b.IsDefault {
						def = "yes"
					}
					tab.row("%s\t%s\t%s\t%s\t%s\t%s", b.Code, def, b.Sender, timeText(b.CreatedAt), b.Name, tenancy.RejectRoute(b))
				}
				return r.emit(map[string]any{"brands": rows}, tab.String())
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant id (required)")
	requireFlags(cmd, "tenant")
	return cmd
}

func (r *root) brandUpdateCmd() *cobra.Command {
	var tenant, code, name, sender, reject string
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Change a brand's name, sender title or rejection route; only the flags given change",
		Long: `Change a brand's name, SMS sender title or rejection route. Only the flags
given change; the brand code cannot change, since consent records and İYS know
the brand by it. The new values are checked as for a new brand: the sender
title rules, and that every consent SMS still fits one segment.
--reject-route "" restores the default route (RET <SENDER> to 3338).

Consent texts already published keep their words: after a rename, publish new
versions with izin text create. A running izin serve picks the change up when
its tenant cache expires, within seconds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var u tenancy.BrandUpdate
			var changed []string
			for _, f := range []struct {
				flag string
				val  *string
				to   **string
			}{{"name", &name, &u.Name}, {"sender", &sender, &u.Sender}, {"reject-route", &reject, &u.RejectRoute}} {
				if cmd.Flags().Changed(f.flag) {
					*f.to = f.val
					changed = append(changed, f.flag)
				}
			}
			if len(changed) == 0 {
				return fmt.Errorf("nothing to change: give --name, --sender or --reject-route")
			}
			ctx := cmd.Context()
			return r.withTenant(ctx, tenant, func(ops *app.Ops) error {
				b, err := ops.Tenancy.UpdateBrand(ctx, tenant, code, u)
				if err != nil {
					if e, ok := errs.As(err); ok && e.Kind == errs.KindNotFound {
						return fmt.Errorf("--code %s: the tenant has no such brand", code)
					}
					return cliError(err)
				}
				text := fmt.Sprintf("updated %s of brand %s\n", strings.Join(changed, ", "), b.Code) + brandText(b)
				if u.Name != nil {
					text += "published consent texts keep the name they were published with; to change them: izin text create\n"
				}
				return r.emit(brandOut(b), text)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenant, "tenant", "", "tenant id (required)")
	f.StringVar(&code, "code", "", "code of the brand to change (required)")
	f.StringVar(&name, "name", "", brandNameUsage)
	f.StringVar(&sender, "sender", "", brandSenderUsage)
	f.StringVar(&reject, "reject-route", "", brandRejectUsage+`; "" restores the default`)
	requireFlags(cmd, "tenant", "code")
	return cmd
}
