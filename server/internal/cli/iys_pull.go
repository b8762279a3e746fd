package cli

import (
	"fmt"
	"iter"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/importer/iysfile"
	"github.com/izinhq/izin/server/internal/iyssync"
)

func (r *root) iysPullCmd() *cobra.Command {
	var tenant, brand, file, sheet string
	cmd := &cobra.Command{
		Use:   "pull",
		Short: "Take İYS's state from a file İYS produced (its consent export or a daily change file)",
		Long: `Take İYS's state as izin's own, from a CSV or XLSX file İYS produced: its export of a
brand's consents, or a daily change file. A company moving to izin from another integrator
starts with what İYS holds. Columns are İYS's (creationDate, transactionId, recipient,
recipientType, type, status, consentDate, source) or their Turkish headings, in any order.

Every row is recorded as a consent change with the row's source (HS_* as well as IYS_*)
and the evidence reference "iys-file:<file>:<line> iys:<transactionId>". None is queued for
upload: İYS holds them already. A row older than izin's record of that consent, or one izin
cannot read, is skipped and counted by reason. Pulling the same file again changes nothing.
Rows are written 1000 per transaction. The command exits 0 when the file was read to the end.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Ctrl-C stops between transactions; running it again finishes.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			f, err := iysfile.Open(file, sheet)
			if err != nil {
				return fmt.Errorf("--from-file: %w", err)
			}
			defer f.Close()
			return r.withTenant(ctx, tenant, func(ops *app.Ops) error {
				rows := fileRows(f)
				if !r.json {
					rows = pullProgress(rows, func(n int, took time.Duration) {
						fmt.Fprintf(r.errOut, "izin iys pull: %d rows read (%s)\n", n, took.Round(time.Second))
					})
				}
				name := filepath.Base(file)
				rep, err := ops.Puller().PullFile(ctx, tenant, brand, name, rows)
				if err != nil {
					if rep != nil && rep.Rows > 0 {
						return fmt.Errorf("pull of %s stopped after %d rows were written: %w; run it again to finish (rows written are unchanged then)",
							name, rep.Rows, cliError(err))
					}
					return cliError(err)
				}
				return r.emit(rep, pullText(rep, f.Ignored))
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&tenant, "tenant", "", "tenant id (required)")
	fl.StringVar(&brand, "brand", "", "izin brand code the file is of (default: the tenant's default brand)")
	fl.StringVar(&file, "from-file", "", "CSV or XLSX file İYS produced (required)")
	fl.StringVar(&sheet, "sheet", "", "XLSX sheet to read (default: the first)")
	requireFlags(cmd, "tenant", "from-file")
	return cmd
}

// fileRows reads İYS's rows for the puller.
func fileRows(f *iysfile.File) iter.Seq2[iyssync.FileRow, error] {
	return func(yield func(iyssync.FileRow, error) bool) {
		for rec, err := range f.Records() {
			if err != nil {
				yield(iyssync.FileRow{}, err)
				return
			}
			row := iyssync.FileRow{Line: rec.Line, Recipient: rec.Recipient, RecipientType: rec.RecipientType, Type: rec.Type,
				Status: rec.Status, Source: rec.IYSSource, ConsentTime: rec.ConsentTime, CreationTime: rec.CreationTime,
				TransactionID: rec.TransactionID}
			if rec.Refused != nil {
				row.Unreadable, row.Field = rec.Refused.Message, rec.Refused.Field
			}
			if !yield(row, nil) {
				return
			}
		}
	}
}

// pullProgress calls report every 100 000 rows read, for files that take
// a while.
func pullProgress(rows iter.Seq2[iyssync.FileRow, error], report func(int, time.Duration)) iter.Seq2[iyssync.FileRow, error] {
	const every = 100000
	return func(yield func(iyssync.FileRow, error) bool) {
		n, start := 0, time.Now()
		for row, err := range rows {
			if n++; n%every == 0 {
				report(n, time.Since(start))
			}
			if !yield(row, err) {
				return
			}
		}
	}
}

func pullText(rep *iyssync.PullReport, ignored []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "pulled %s into brand %s: %d rows: %d applied, %d unchanged, %d skipped\n",
		rep.Name, rep.Brand, rep.Rows, rep.Applied, rep.Unchanged, rep.Skipped)
	if len(ignored) > 0 {
		fmt.Fprintf(&b, "ignored columns: %s\n", strings.Join(ignored, ", "))
	}
	if rep.Skipped > 0 {
		reasons := make([]string, 0, len(rep.SkippedBy))
		for k := range rep.SkippedBy {
			reasons = append(reasons, k)
		}
		sort.Strings(reasons)
		parts := make([]string, len(reasons))
		for i, k := range reasons {
			parts[i] = fmt.Sprintf("%s %d", k, rep.SkippedBy[k])
		}
		fmt.Fprintf(&b, "skipped by reason: %s\n", strings.Join(parts, ", "))
	}
	for _, s := range rep.Examples {
		field := ""
		if s.Field != "" {
			field = " " + s.Field + ":"
		}
		fmt.Fprintf(&b, "  line %d  [%s]%s %s\n", s.Line, s.Reason, field, s.Message)
	}
	if n := rep.Skipped - int64(len(rep.Examples)); n > 0 {
		fmt.Fprintf(&b, "  … and %d more skipped rows (the first %d are listed)\n", n, len(rep.Examples))
	}
	if rep.Applied > 0 {
		b.WriteString("İYS holds what was applied: none of it is queued for upload.\n")
	}
	return b.String()
}
