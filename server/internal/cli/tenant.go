package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/tenancy"
)

func (r *root) tenantCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tenant", Short: "Manage tenants (service providers)"}
	var in tenancy.NewTenant
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a tenant with its default brand and an admin API key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return r.withOps(cmd.Context(), func(ops *app.Ops) error {
				c, err := ops.Tenancy.CreateTenant(cmd.Context(), in)
				if err != nil {
					return cliError(err)
				}
				return r.emit(map[string]string{"tenant_id": c.Tenant.ID, "brand_code": c.Brand.Code, "admin_api_key": c.AdminKey},
					fmt.Sprintf("tenant_id:     %s\nbrand_code:    %s\nadmin_api_key: %s   (shown once)\n", c.Tenant.ID, c.Brand.Code, c.AdminKey))
			})
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
	requireFlags(create, "name", "mersis", "brand-code", "brand-name", "sender")
	list := &cobra.Command{
		Use:   "list",
		Short: "List tenants",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return r.withOps(cmd.Context(), func(ops *app.Ops) error {
				ts, err := ops.Store.ListTenants(cmd.Context())
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
			})
		},
	}
	cmd.AddCommand(create, list)
	return cmd
}
