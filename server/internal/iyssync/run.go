package iyssync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/store"
)

// Run synchronises every Interval until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.opts.Interval)
	defer t.Stop()
	for {
		if _, err := w.RunOnce(ctx, ""); err != nil && ctx.Err() == nil {
			w.log.Error("iys: synchronisation run", "err", err)
		}
		if w.beat != nil {
			w.beat()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce synchronises the enabled brands of a tenant ("" for every tenant)
// once: upload, poll results, pull changes, reconcile daily files. Failures
// of one brand are reported and do not stop the others; the error is for
// failures of izin's own store.
func (w *Worker) RunOnce(ctx context.Context, tenantID string) (*Report, error) {
	cfgs, err := w.store.ListIYSConfigs(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("iys: list configurations: %w", err)
	}
	rep := &Report{Brands: []BrandReport{}}
	var firstErr error
	for i := range cfgs {
		cfg := &cfgs[i]
		if !cfg.Enabled {
			continue
		}
		br, err := w.syncBrand(ctx, cfg)
		rep.Brands = append(rep.Brands, br)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
	}
	return rep, firstErr
}

// brandRun is one brand's run: its configuration, client and report.
type brandRun struct {
	cfg    *store.IYSConfig
	brand  *store.Brand
	client Client
	rep    *BrandReport
	now    time.Time
}

func (w *Worker) syncBrand(ctx context.Context, cfg *store.IYSConfig) (BrandReport, error) {
	rep := BrandReport{TenantID: cfg.TenantID, BrandID: cfg.BrandID, BrandCode: cfg.BrandCode}
	b, err := w.dir.BrandByID(ctx, cfg.TenantID, cfg.BrandID)
	if err != nil {
		return rep, fmt.Errorf("iys: brand %s: %w", cfg.BrandID, err)
	}
	rep.BrandCode = b.Code
	client, err := w.client(cfg)
	if err != nil {
		rep.Errors = append(rep.Errors, err.Error())
		return rep, w.finishRun(ctx, cfg, &rep, false)
	}
	r := &brandRun{cfg: cfg, brand: b, client: client, rep: &rep, now: w.opts.Now()}
	var storeErr error
	note := func(step string, err error) {
		if err == nil {
			return
		}
		var se *storeError
		if errors.As(err, &se) {
			storeErr = errors.Join(storeErr, err)
		}
		rep.Errors = append(rep.Errors, step+": "+err.Error())
		w.log.Warn("iys: "+step+" failed", "tenant_id", cfg.TenantID, "brand", b.Code, "err", err)
	}
	note("upload", w.upload(ctx, r))
	note("poll", w.poll(ctx, r))
	pullErr := w.pull(ctx, r)
	note("pull", pullErr)
	if pullErr == nil {
		note("reconcile", w.reconcile(ctx, r))
	}
	return rep, errors.Join(storeErr, w.finishRun(ctx, cfg, &rep, pullErr == nil))
}

// storeError marks a failure of izin's own database, as opposed to İYS's.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

func storeErr(err error, what string) error {
	if err == nil {
		return nil
	}
	return &storeError{fmt.Errorf("%s: %w", what, err)}
}

// finishRun records the run's errors (or their absence) and, after a
// successful pull, its time on the brand's cursor row.
func (w *Worker) finishRun(ctx context.Context, cfg *store.IYSConfig, rep *BrandReport, pulled bool) error {
	now := w.opts.Now().UTC()
	err := w.store.InTx(context.WithoutCancel(ctx), func(ctx context.Context, tx store.Tx) error {
		c, err := tx.LockIYSCursor(ctx, cfg.TenantID, cfg.BrandID, now)
		if err != nil {
			return err
		}
		c.LastError = truncate(strings.Join(rep.Errors, "; "), 2000)
		if pulled {
			c.LastPullAt = &now
		}
		c.UpdatedAt = now
		return tx.PutIYSCursor(ctx, c)
	})
	return storeErr(err, "record run status")
}

func (w *Worker) client(cfg *store.IYSConfig) (Client, error) {
	pw, err := w.sealer.Open(cfg.PasswordEnc, cfg.BrandID)
	if err != nil {
		return nil, err
	}
	base := cfg.BaseURL
	if base == "" {
		base = w.opts.BaseURL
	}
	return w.clients.get(cfg.BrandID, base, iys.Credentials{Username: cfg.Username, Password: pw})
}

// clientCache keeps one client per brand and account, so that its token is
// reused: İYS allows about 10 token requests an hour from one address.
type clientCache struct {
	factory ClientFactory
	mu      sync.Mutex
	m       map[string]Client
}

func (c *clientCache) get(brandID, base string, creds iys.Credentials) (Client, error) {
	key := brandID + "\x00" + base + "\x00" + creds.Username + "\x00" + creds.Password
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.m[key]; ok {
		return cl, nil
	}
	cl, err := c.factory(base, creds)
	if err != nil {
		return nil, err
	}
	for k := range c.m {
		if strings.HasPrefix(k, brandID+"\x00") {
			delete(c.m, k) // the brand's previous account or address
		}
	}
	c.m[key] = cl
	return cl, nil
}
