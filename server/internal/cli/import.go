package cli

import (
	"fmt"
	"io"
	"iter"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/importer"
	"github.com/izinhq/izin/server/internal/importer/iysfile"
	"github.com/izinhq/izin/server/internal/store"
)

func (r *root) importCmd() *cobra.Command {
	var tenant, brand, source, sheet, iysMode string
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import consents collected before izin from a CSV or XLSX file in the İYS column layout",
		Long: `Import consents collected before izin (on paper, with a wet signature, or in another
system) from a CSV or XLSX file in the İYS column layout: one consent per row, with the
columns ALICI (recipient), ALICI TİPİ (BIREYSEL or TACIR; default BIREYSEL), İZİN TİPİ
(MESAJ, ARAMA or EPOSTA), DURUM (ONAY or RET), KAYNAK (HS_ISLAK_IMZA, …), İZİN TARİHİ
("YYYY-MM-DD HH:mm:ss", Türkiye time) and KANIT (where the proof is kept: archive box,
scan id). Headers may be written in any case, with or without Turkish letters, or as
İYS's API names (recipient, recipientType, type, status, source, consentDate) and
evidence_reference.

Every row is checked by the rules of RecordConsent and RejectConsent; refused rows are
reported with the field at fault and do not stop the others. Importing the same file
again changes nothing, and an import that stopped half-way is finished by running it
again.

What İYS is told (--iys): "upload" (the default) queues accepted rows for İYS, except rows
given more than three business days ago: İYS refuses those (H467), so they are recorded,
not queued, and counted as outside the window. "already-registered" says İYS holds every
row of the file already (another integrator, or an earlier upload): they are recorded
with their evidence and none is uploaded. Either way a later change of such a recipient
(a rejection) is uploaded as usual.

KAYNAK may be left out when --source names the channel the consents came from; its
type gives the default İYS source. The command exits 0 when the file was read to the
end, whatever it refused.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Ctrl-C stops between batches: what was committed stays, and
			// running the import again finishes it.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			file, err := iysfile.Open(args[0], sheet)
			if err != nil {
				return err
			}
			defer file.Close()
			return r.withTenant(ctx, tenant, func(ops *app.Ops) error {
				// The command line acts as the tenant's administrator, with no
				// API key; bound to --source, its events name that source.
				p := auth.Principal{TenantID: tenant, Scope: store.ScopeAdmin}
				if source != "" {
					src, err := ops.Store.GetSource(ctx, tenant, source)
					if err != nil {
						return fmt.Errorf("--source %s: no such source of the tenant", source)
					}
					p.SourceID, p.SourceType = &src.ID, src.Type
				}
				rows := file.Rows()
				if !r.json {
					rows = withProgress(rows, r.errOut)
				}
				mode, err := importMode(iysMode)
				if err != nil {
					return err
				}
				imp, err := ops.Importer()
				if err != nil {
					return err
				}
				rep, err := imp.Import(ctx, p, importer.Params{Brand: brand, Name: filepath.Base(args[0]), IYS: mode}, rows)
				if err != nil {
					if rep != nil && rep.Rows > 0 {
						return fmt.Errorf("import %s stopped after %d rows were written: %w; run it again to finish (rows written are skipped)",
							rep.ImportID, rep.Rows, cliError(err))
					}
					return cliError(err)
				}
				return r.emit(importJSON(rep, file), importText(rep, file))
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenant, "tenant", "", "tenant id (required)")
	f.StringVar(&brand, "brand", "", "brand code of every row (default: the tenant's default brand)")
	f.StringVar(&source, "source", "", "source id the consents came from: names it in the evidence and defaults KAYNAK from its type")
	f.StringVar(&sheet, "sheet", "", "XLSX sheet to read (default: the first)")
	f.StringVar(&iysMode, "iys", "upload", `what İYS is told: "upload" (queue rows still within İYS's window) or "already-registered" (İYS holds them; upload none)`)
	requireFlags(cmd, "tenant")
	return cmd
}

func importMode(s string) (importer.Mode, error) {
	switch s {
	case "upload", "":
		return importer.Upload, nil
	case "already-registered":
		return importer.AlreadyRegistered, nil
	}
	return 0, fmt.Errorf("--iys %q: want upload or already-registered", s)
}

// withProgress reports every 100 000 rows read on w, for imports that take
// minutes.
func withProgress(rows iter.Seq2[importer.Row, error], w io.Writer) iter.Seq2[importer.Row, error] {
	const every = 100000
	return func(yield func(importer.Row, error) bool) {
		n, start := 0, time.Now()
		for row, err := range rows {
			if n++; n%every == 0 {
				fmt.Fprintf(w, "izin import: %d rows read (%s)\n", n, time.Since(start).Round(time.Second))
			}
			if !yield(row, err) {
				return
			}
		}
	}
}

type importRowError struct {
	Line    int64  `json:"line"`
	Field   string `json:"field"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message"`
}

func importJSON(rep *importer.Report, file *iysfile.File) map[string]any {
	errors := make([]importRowError, len(rep.Errors))
	for i, e := range rep.Errors {
		errors[i] = importRowError{e.Line, e.Field, e.Reason, e.Message}
	}
	ignored := file.Ignored
	if ignored == nil {
		ignored = []string{}
	}
	return map[string]any{
		"import_id": rep.ImportID, "name": rep.Name, "brand": rep.Brand,
		"rows": rep.Rows, "accepted": rep.Accepted, "unchanged": rep.Unchanged, "refused": rep.Refused,
		"queued_for_iys": rep.QueuedForIYS, "already_registered": rep.AlreadyRegistered, "outside_window": rep.OutsideWindow,
		"errors": errors, "ignored_columns": ignored,
	}
}

func importText(rep *importer.Report, file *iysfile.File) string {
	var b strings.Builder
	fmt.Fprintf(&b, "import %s of %s (brand %s)\n", rep.ImportID, rep.Name, rep.Brand)
	fmt.Fprintf(&b, "%d rows: %d accepted, %d unchanged, %d refused\n", rep.Rows, rep.Accepted, rep.Unchanged, rep.Refused)
	fmt.Fprintf(&b, "İYS: %d queued for upload, %d already registered, %d outside İYS's upload window (not sent)\n",
		rep.QueuedForIYS, rep.AlreadyRegistered, rep.OutsideWindow)
	if len(file.Ignored) > 0 {
		fmt.Fprintf(&b, "ignored columns: %s\n", strings.Join(file.Ignored, ", "))
	}
	if len(rep.Errors) > 0 {
		b.WriteString("refused rows:\n")
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(&b, "  line %d  %s: %s", e.Line, e.Field, e.Message)
		if e.Reason != "" {
			fmt.Fprintf(&b, " [%s]", strings.TrimPrefix(e.Reason, "ERROR_REASON_"))
		}
		b.WriteByte('\n')
	}
	if n := rep.Refused - int64(len(rep.Errors)); n > 0 {
		fmt.Fprintf(&b, "  … and %d more refused rows (the first %d are listed)\n", n, len(rep.Errors))
	}
	return b.String()
}
