package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/evidence"
)

func (r *root) auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Evidence checks"}
	var tenant string
	verifyCmd := &cobra.Command{
		Use:   "verify",
		Short: "Re-check the hash chain of consent events and report the first break",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return r.withOps(ctx, func(ops *app.Ops) error {
				ts, err := ops.Store.ListTenants(ctx)
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
					n, err := evidence.VerifyTenant(ctx, ops.Store, t.ID)
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
			})
		},
	}
	verifyCmd.Flags().StringVar(&tenant, "tenant", "", "only this tenant")
	cmd.AddCommand(verifyCmd)
	return cmd
}
