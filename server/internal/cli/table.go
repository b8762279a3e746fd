package cli

import (
	"bytes"
	"fmt"
	"text/tabwriter"
	"time"
)

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

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
