package app

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestWarnHolidayCoverage(t *testing.T) {
	tests := []struct {
		name     string
		holidays []string
		now      time.Time
		want     string // "" for no log line
	}{
		{"years of coverage left", nil, time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC), ""},
		{"under a year left", nil, time.Date(2036, 3, 1, 12, 0, 0, 0, time.UTC), "covered_until=2036-12-31"},
		{"ended", nil, time.Date(2037, 3, 1, 12, 0, 0, 0, time.UTC), "has passed"},
		{"extended with --iys-holidays", []string{"2037-01-27,2037-01-28"}, time.Date(2036, 3, 1, 12, 0, 0, 0, time.UTC), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			cfg := Config{IYS: DefaultIYSConfig()}
			cfg.IYS.Holidays = tt.holidays
			a := &App{log: slog.New(slog.NewTextHandler(&buf, nil)), cfg: cfg}
			a.warnHolidayCoverage(tt.now)
			got := buf.String()
			if tt.want == "" {
				if got != "" {
					t.Fatalf("logged %q, want nothing", got)
				}
				return
			}
			if n := strings.Count(got, "\n"); n != 1 || !strings.Contains(got, "level=WARN") || !strings.Contains(got, tt.want) {
				t.Fatalf("logged %q, want one WARN line saying %q", got, tt.want)
			}
		})
	}
}
