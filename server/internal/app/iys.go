package app

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/iyssync"
)

// IYSConfig is the synchronisation with İYS.
type IYSConfig struct {
	// BaseURL is İYS's API address for brands whose configuration names
	// none. Default iyssync.ProductionURL.
	BaseURL string
	// Interval is how often the worker synchronises. Default 1 minute.
	Interval time.Duration
	// PollDelay is how long after a bulk upload its result is first asked
	// for (İYS asks for 5 minutes, the default).
	PollDelay time.Duration
	// Holidays are public holidays (YYYY-MM-DD) to add to the built-in
	// Turkish calendar, e.g. a bridge day or a year not built in.
	Holidays []string
	// Off stops the worker (the API and the CLI still work).
	Off bool
}

// DefaultIYSConfig is the İYS configuration of a fresh checkout.
func DefaultIYSConfig() IYSConfig {
	return IYSConfig{BaseURL: iyssync.ProductionURL, Interval: time.Minute, PollDelay: 5 * time.Minute}
}

// IYSOptions turns the configuration into the worker's options.
func IYSOptions(c IYSConfig) (iyssync.Options, error) {
	var days []string
	for _, h := range c.Holidays {
		for _, d := range strings.Split(h, ",") {
			if d = strings.TrimSpace(d); d == "" {
				continue
			}
			if _, err := time.Parse("2006-01-02", d); err != nil {
				return iyssync.Options{}, fmt.Errorf("iys holidays: %q is not YYYY-MM-DD", d)
			}
			days = append(days, d)
		}
	}
	cal := iys.DefaultCalendar
	if len(days) > 0 {
		cal = iys.NewCalendar(iys.WithHolidays(days...))
	}
	return iyssync.Options{BaseURL: c.BaseURL, Interval: c.Interval, PollDelay: c.PollDelay, Calendar: cal}, nil
}

// wireIYS builds the İYS service and worker.
func (a *App) wireIYS(secret []byte) error {
	svc, worker, opts, err := newIYS(a.cfg, a.Store, a.Tenancy, secret, a.log)
	if err != nil {
		return err
	}
	a.IYS, a.IYSWorker = svc, worker
	// Imports queue for İYS only what its upload window still takes.
	a.Import.WithWindow(opts.Calendar)
	return nil
}

// runIYS starts the İYS worker until ctx ends.
func (a *App) runIYS(ctx context.Context, wg *sync.WaitGroup) {
	if a.cfg.IYS.Off || a.IYSWorker == nil {
		return
	}
	wg.Add(1)
	go func() { defer wg.Done(); a.IYSWorker.Run(ctx) }()
}
