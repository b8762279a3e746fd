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
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
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
	cmd.AddCommand(r.smsCmd())
	cmd.AddCommand(r.textCmd())
	cmd.AddCommand(r.brandCmd(), r.versionCmd())
	cmd.AddCommand(r.webhookCmd())
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
	// Only migrate and serve --auto-migrate change the schema.
	st, err := app.OpenStore(ctx, r.cfg, false)
	if err != nil {
		return nil, err
	}
	if err := st.RequireCurrent(ctx); err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}

// withOps opens the store, runs fn with the operator services over it and
// closes it.
func (r *root) withOps(ctx context.Context, fn func(*app.Ops) error) error {
	st, err := r.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(app.NewOps(r.cfg, st))
}

// withTenant is withOps for a command that acts on one tenant: it refuses a
// tenant id that does not exist.
func (r *root) withTenant(ctx context.Context, tenant string, fn func(*app.Ops) error) error {
	return r.withOps(ctx, func(ops *app.Ops) error {
		if _, err := ops.Store.GetTenant(ctx, tenant); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("--tenant %s: no such tenant", tenant)
			}
			return fmt.Errorf("--tenant %s: %w", tenant, err)
		}
		return fn(ops)
	})
}

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

// requireFlags marks flags of cmd as required. It fails only for a flag
// cmd does not define, which the command tests would show at once.
func requireFlags(cmd *cobra.Command, names ...string) {
	for _, n := range names {
		_ = cmd.MarkFlagRequired(n)
	}
}
