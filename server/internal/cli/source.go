package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/store"
)

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
			return r.withTenant(cmd.Context(), tenant, func(ops *app.Ops) error {
				src, key, _, err := ops.Tenancy.CreateSource(cmd.Context(), tenant, name, t)
				if err != nil {
					return cliError(err)
				}
				return r.emit(map[string]string{"source_id": src.ID, "api_key": key},
					fmt.Sprintf("source_id: %s\napi_key:   %s   (shown once)\n", src.ID, key))
			})
		},
	}
	f := create.Flags()
	f.StringVar(&tenant, "tenant", "", "tenant id (required)")
	f.StringVar(&name, "name", "", "source name (required)")
	f.StringVar(&typ, "type", "", "ECOMMERCE, KIOSK, MOBILE_APP, CRM, ERP, CALL_CENTER, STORE or OTHER (required)")
	requireFlags(create, "tenant", "name", "type")
	cmd.AddCommand(create, r.sourceListCmd())
	return cmd
}

// sourceTypeName is the --type word of a source type.
func sourceTypeName(t store.SourceType) string {
	for name, v := range sourceTypes {
		if v == t {
			return name
		}
	}
	return fmt.Sprintf("UNKNOWN(%d)", t)
}

func (r *root) sourceListCmd() *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a tenant's sources",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return r.withTenant(ctx, tenant, func(ops *app.Ops) error {
				srcs, err := ops.Tenancy.ListSources(ctx, tenant)
				if err != nil {
					return err
				}
				type row struct {
					ID         string `json:"id"`
					Name       string `json:"name"`
					Type       string `json:"type"`
					CreateTime string `json:"create_time"`
				}
				rows := make([]row, 0, len(srcs))
				tab := newTable("ID\tTYPE\tCREATED\tNAME")
				for _, s := range srcs {
					rows = append(rows, row{s.ID, s.Name, sourceTypeName(s.Type), timeText(s.CreatedAt)})
					tab.row("%s\t%s\t%s\t%s", s.ID, sourceTypeName(s.Type), timeText(s.CreatedAt), s.Name)
				}
				text := tab.String()
				if len(srcs) == 0 {
					text = "no sources\n"
				}
				return r.emit(map[string]any{"sources": rows}, text)
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant id (required)")
	requireFlags(cmd, "tenant")
	return cmd
}
