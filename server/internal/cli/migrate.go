package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
)

func (r *root) migrateCmd() *cobra.Command {
	cmd := r.schemaCmd("migrate", "Bring the database schema up to date", r.migrate)
	cmd.AddCommand(r.schemaCmd("status", "List the migrations, each applied or pending", r.migrateStatus))
	return cmd
}

// schemaCmd is a command on the store as it is: it opens the database
// without migrating it.
func (r *root) schemaCmd(use, short string, run func(context.Context, *sqlstore.Store) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := app.OpenStore(cmd.Context(), r.cfg, false)
			if err != nil {
				return err
			}
			defer st.Close()
			return run(cmd.Context(), st)
		},
	}
}

func (r *root) migrate(ctx context.Context, st *sqlstore.Store) error {
	applied, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	text := fmt.Sprintf("schema at version %d; applied %d migration(s)\n", v, len(applied))
	for _, a := range applied {
		text += "  " + a + "\n"
	}
	if applied == nil {
		applied = []string{}
	}
	return r.emit(map[string]any{"version": v, "applied": applied}, text)
}

func (r *root) migrateStatus(ctx context.Context, st *sqlstore.Store) error {
	list, err := st.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	type row struct {
		Version   int    `json:"version"`
		Name      string `json:"name"`
		State     string `json:"state"`
		AppliedAt string `json:"applied_at,omitempty"`
	}
	rows := make([]row, 0, len(list))
	var text strings.Builder
	for _, m := range list {
		x := row{Version: m.Version, Name: m.Name, State: "pending"}
		if m.Applied {
			x.State, x.AppliedAt = "applied", m.AppliedAt.Format(time.RFC3339)
		}
		rows = append(rows, x)
		text.WriteString(strings.TrimRight(fmt.Sprintf("%-8s %-20s %s", x.State, x.Name, x.AppliedAt), " ") + "\n")
	}
	return r.emit(map[string]any{"migrations": rows}, text.String())
}
