package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/store"
)

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
			return r.withTenant(cmd.Context(), tenant, func(ops *app.Ops) error {
				key, k, err := ops.Tenancy.CreateAPIKey(cmd.Context(), tenant, name, sc, source)
				if err != nil {
					return cliError(err)
				}
				return r.emit(map[string]string{"key_id": k.ID, "api_key": key},
					fmt.Sprintf("key_id:  %s\napi_key: %s   (shown once)\n", k.ID, key))
			})
		},
	}
	f := create.Flags()
	f.StringVar(&tenant, "tenant", "", "tenant id (required)")
	f.StringVar(&name, "name", "", "key name (required)")
	f.StringVar(&scope, "scope", "check", "check, write or admin")
	f.StringVar(&source, "source", "", "bind the key to this source id")
	requireFlags(create, "tenant", "name")

	var rtenant string
	revoke := &cobra.Command{
		Use:   "revoke KEY_ID",
		Short: "Revoke an API key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return r.withOps(cmd.Context(), func(ops *app.Ops) error {
				k, err := ops.Tenancy.RevokeAPIKey(cmd.Context(), rtenant, args[0])
				if err != nil {
					return cliError(err)
				}
				return r.emit(map[string]string{"key_id": k.ID, "revoked_at": k.RevokedAt.Format(time.RFC3339)},
					fmt.Sprintf("revoked %s (%s)\n", k.ID, k.Name))
			})
		},
	}
	revoke.Flags().StringVar(&rtenant, "tenant", "", "tenant id (required)")
	requireFlags(revoke, "tenant")
	cmd.AddCommand(create, revoke, r.keyListCmd())
	return cmd
}

func (r *root) keyListCmd() *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a tenant's API keys, revoked ones too (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return r.withTenant(ctx, tenant, func(ops *app.Ops) error {
				keys, err := ops.Tenancy.ListAPIKeys(ctx, tenant)
				if err != nil {
					return err
				}
				// Only what tells keys apart: the secret is never stored and the
				// hash is of no use to an operator.
				type row struct {
					ID         string `json:"id"`
					Prefix     string `json:"prefix"`
					Name       string `json:"name"`
					Scope      string `json:"scope"`
					SourceID   string `json:"source_id,omitempty"`
					CreateTime string `json:"create_time"`
					Revoked    bool   `json:"revoked"`
					RevokeTime string `json:"revoke_time,omitempty"`
				}
				rows := make([]row, 0, len(keys))
				tab := newTable("ID\tPREFIX\tSCOPE\tSOURCE\tCREATED\tREVOKED\tNAME")
				for _, k := range keys {
					rw := row{ID: k.ID, Prefix: k.Prefix, Name: k.Name, Scope: strings.ToLower(k.Scope.String()), CreateTime: timeText(k.CreatedAt)}
					if k.SourceID != nil {
						rw.SourceID = *k.SourceID
					}
					if k.RevokedAt != nil {
						rw.Revoked, rw.RevokeTime = true, timeText(*k.RevokedAt)
					}
					rows = append(rows, rw)
					tab.row("%s\t%s\t%s\t%s\t%s\t%s\t%s", rw.ID, rw.Prefix, rw.Scope, orDash(rw.SourceID),
						rw.CreateTime, orDash(rw.RevokeTime), rw.Name)
				}
				text := tab.String()
				if len(keys) == 0 {
					text = "no API keys\n"
				}
				return r.emit(map[string]any{"api_keys": rows}, text)
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant id (required)")
	requireFlags(cmd, "tenant")
	return cmd
}
