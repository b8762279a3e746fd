package cli

import (
	"bytes"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/tenancy"
)

// sourceTypeName is the --type word of a source type.
func sourceTypeName(t store.SourceType) string {
	for name, v := range sourceTypes {
		if v == t {
			return name
		}
	}
	return fmt.Sprintf("UNKNOWN(%d)", t)
}

func timeText(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// table formats rows under a header, in aligned columns.
type table struct {
	buf bytes.Buffer
	tw  *tabwriter.Writer
}

func newTable(header string) *table {
	t := &table{}
	t.tw = tabwriter.NewWriter(&t.buf, 0, 4, 2, ' ', 0)
	fmt.Fprintln(t.tw, header)
	return t
}

func (t *table) row(format string, args ...any) { fmt.Fprintf(t.tw, format+"\n", args...) }

func (t *table) String() string {
	_ = t.tw.Flush()
	return t.buf.String()
}

func (r *root) sourceListCmd() *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a tenant's sources",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := r.openTenant(ctx, tenant)
			if err != nil {
				return err
			}
			defer st.Close()
			srcs, err := tenancy.New(st, nil, time.Second).ListSources(ctx, tenant)
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
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant id (required)")
	_ = cmd.MarkFlagRequired("tenant")
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
			st, err := r.openTenant(ctx, tenant)
			if err != nil {
				return err
			}
			defer st.Close()
			keys, err := tenancy.New(st, nil, time.Second).ListAPIKeys(ctx, tenant)
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
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant id (required)")
	_ = cmd.MarkFlagRequired("tenant")
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
