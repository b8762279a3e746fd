package e2e

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/importer"
	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/iys/iystest"
	"github.com/izinhq/izin/server/internal/iyssync"
	"github.com/izinhq/izin/server/internal/store"
)

// volumeRows is the size of a company's first import in the volume tests:
// 100 000 rows, or IZIN_VOLUME_ROWS. Under the race detector, which slows
// the pure-Go SQLite about twentyfold, it is 3000: what is tested there is
// the interleaving, and `make test` runs the volume tests again without
// the race detector at full size.
func volumeRows(t *testing.T) int {
	if v := os.Getenv("IZIN_VOLUME_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("IZIN_VOLUME_ROWS=%q: want a number of rows", v)
		}
		return n
	}
	if raceEnabled {
		return 3000
	}
	return 100000
}

// backlogRows yields n consents granted in the last minutes, each to its own
// number, so that every one is due at İYS.
func backlogRows(n int, now time.Time) iter.Seq2[importer.Row, error] {
	return func(yield func(importer.Row, error) bool) {
		for i := range n {
			at := now.Add(-time.Duration(n-i) * time.Millisecond)
			r := importer.Row{Line: int64(i + 2), Recipient: backlogNumber(i), Type: store.ConsentSMS,
				Status: store.StatusGranted, IYSSource: "HS_WEB", ConsentTime: &at,
				EvidenceReference: "web-form-" + strconv.Itoa(i)}
			if !yield(r, nil) {
				return
			}
		}
	}
}

func backlogNumber(i int) string { return fmt.Sprintf("+90535%07d", i) }

// TestVolumeIYSBacklog is a company's first day at volume: it imports
// 100 000 consents, all due at İYS, and synchronises them with a fake İYS
// while its channels keep writing: rejections of imported consents (which
// queue behind the uploads in flight) and new verifications. Every write
// must answer within the client's deadline while the worker drains the
// backlog, and every change must reach İYS in order. The latencies and the
// worker's pace are printed (see BENCHMARKS.md); nothing here is timed
// against a threshold but the deadline.
//
// It is not parallel with the package's other tests: the deadline is the
// measure, and the many servers of the parallel tests (each with its
// workers) would measure this machine's load instead.
func TestVolumeIYSBacklog(t *testing.T) {
	n := volumeRows(t)
	for _, e := range engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			volumeBacklog(t, e, n)
		})
	}
}

// writeDeadline is the client's deadline for each write made during the
// sync: what an e-commerce checkout would allow before giving up.
const writeDeadline = 5 * time.Second

func volumeBacklog(t *testing.T, e engine, n int) {
	ctx := testCtx(t)
	s := startServer(t, e, func(c *app.Config) { c.IYS.Off = true })
	fake := iystest.New(t)
	tn := s.newTenant(t, "Volume "+string(e))
	_, key := s.newSource(t, tn, "Web", store.SourceEcommerce)
	admin := izinv1.NewAdminServiceClient(s.conn)
	actx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tn.AdminKey)
	if _, err := admin.SetIysConfig(actx, &izinv1.SetIysConfigRequest{Brand: tn.BrandCode, Config: &izinv1.IysConfig{
		IysCode: iystest.DefaultIYSCode, BrandCode: iystest.DefaultBrand, Username: iystest.DefaultUsername,
		Password: iystest.DefaultPassword, BaseUrl: fake.URL, Enabled: true}}); err != nil {
		t.Fatalf("SetIysConfig: %v", err)
	}

	start := time.Now()
	rep, err := s.App.Import.Import(ctx, auth.Principal{TenantID: tn.ID, Scope: store.ScopeAdmin},
		importer.Params{Name: "backlog.csv"}, backlogRows(n, start))
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if rep.Accepted != int64(n) || rep.QueuedForIYS != int64(n) {
		t.Fatalf("import: %d accepted, %d queued for İYS; want %d of each", rep.Accepted, rep.QueuedForIYS, n)
	}
	t.Logf("%s: imported %d rows in %s", e, n, time.Since(start).Round(time.Millisecond))

	w := iyssync.NewWorker(s.App.Store, s.App.Tenancy, sealer(t), slog.New(slog.NewTextHandler(&testLog{t: t}, nil)),
		iyssync.Options{PollDelay: -1, ReconcileDays: -1})
	syncDone := make(chan struct{})
	var (
		runs            []*iyssync.Report
		syncTook        time.Duration
		syncErr         error
		remainingAtStop int64
	)
	go func() {
		defer close(syncDone)
		began := time.Now()
		// Bounded: each run drains what is due; a few more carry the
		// rejections queued behind uploads that were still in flight.
		for range 20 {
			r, err := w.RunOnce(ctx, tn.ID)
			if err != nil {
				syncErr = err
				return
			}
			runs = append(runs, r)
			st, err := s.App.IYS.Status(ctx, tn.ID)
			if err != nil {
				syncErr = err
				return
			}
			remainingAtStop = st[0].Pending + st[0].Submitted
			if remainingAtStop == 0 {
				break
			}
		}
		syncTook = time.Since(began)
	}()

	// The channels write while the worker drains the backlog.
	consentC := izinv1.NewConsentServiceClient(s.conn)
	verifyC := izinv1.NewVerificationServiceClient(s.conn)
	var (
		mu       sync.Mutex
		rejects  []time.Duration
		starts   []time.Duration
		failures []string
		rejected []int
	)
	call := func(kind string, into *[]time.Duration, f func(ctx context.Context) error) {
		cctx, cancel := context.WithTimeout(ctx, writeDeadline)
		defer cancel()
		began := time.Now()
		err := f(cctx)
		took := time.Since(began)
		mu.Lock()
		defer mu.Unlock()
		*into = append(*into, took)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s after %s: %v", kind, took.Round(time.Millisecond), err))
		}
	}
	const maxCalls = 300 // per kind: bounded even if the sync is slow
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; i < maxCalls; i++ {
			select {
			case <-syncDone:
				return
			default:
			}
			idx := (i * 7919) % n // spread over the backlog
			call("RejectConsent", &rejects, func(cctx context.Context) error {
				_, err := consentC.RejectConsent(metadata.AppendToOutgoingContext(cctx, "authorization", "Bearer "+key),
					&izinv1.RejectConsentRequest{Recipient: backlogNumber(idx), Types: []izinv1.ConsentType{izinv1.ConsentType_CONSENT_TYPE_SMS}})
				if err == nil {
					mu.Lock()
					rejected = append(rejected, idx)
					mu.Unlock()
				}
				return err
			})
		}
	})
	// Starts are limited per key and minute: the channel's starts are
	// spread over keys enough to stay under it, so that no limit answers.
	startKeys := make([]string, maxCalls/(store.DefaultTenantSettings().MaxStartsPerSourceMinute/2)+1)
	for i := range startKeys {
		startKeys[i] = s.newKey(t, tn, store.ScopeWrite)
	}
	wg.Go(func() {
		for i := 0; i < maxCalls; i++ {
			select {
			case <-syncDone:
				return
			default:
			}
			// A new number each time, from prefixes of their own, so that
			// no send limit is what answers.
			to := fmt.Sprintf("+9054%d%07d", 1+i%9, i)
			call("StartVerification", &starts, func(cctx context.Context) error {
				_, err := verifyC.StartVerification(metadata.AppendToOutgoingContext(cctx, "authorization", "Bearer "+startKeys[i%len(startKeys)]),
					&izinv1.StartVerificationRequest{Recipient: to, Types: []izinv1.ConsentType{izinv1.ConsentType_CONSENT_TYPE_SMS},
						Method: izinv1.VerificationMethod_VERIFICATION_METHOD_SMS_CODE})
				return err
			})
		}
	})
	<-syncDone
	wg.Wait()
	if syncErr != nil {
		t.Fatalf("sync: %v", syncErr)
	}
	// A rejection committed after the worker's last look is still queued:
	// send it too, so that every change is accounted for.
	for i := 0; i < 10 && remainingAtStop > 0 || i == 0; i++ {
		r, err := w.RunOnce(ctx, tn.ID)
		if err != nil {
			t.Fatalf("sync: %v", err)
		}
		runs = append(runs, r)
		st, err := s.App.IYS.Status(ctx, tn.ID)
		if err != nil {
			t.Fatal(err)
		}
		remainingAtStop = st[0].Pending + st[0].Submitted
		if remainingAtStop > 0 {
			// A RET given in the second of its ONAY waits for the next
			// second to be sent (see iyssync's sendDate).
			time.Sleep(300 * time.Millisecond)
		}
	}

	for _, f := range failures {
		t.Errorf("a write during the sync failed: %s", f)
	}
	if len(rejects) == 0 || len(starts) == 0 {
		t.Errorf("the sync ended before any write was made (%d rejections, %d starts)", len(rejects), len(starts))
	}
	if remainingAtStop != 0 {
		t.Errorf("%d uploads still on their way after %d runs", remainingAtStop, len(runs))
	}
	var sent, requests, accepted, refused int
	for _, r := range runs {
		for _, b := range r.Brands {
			sent, requests, accepted, refused = sent+b.Sent, requests+b.Requests, accepted+b.Accepted, refused+b.Refused
			for _, msg := range b.Errors {
				t.Errorf("sync run error: %s", msg)
			}
		}
	}
	if want := n + len(rejected); sent != want || accepted != want || refused != 0 {
		t.Errorf("sync sent %d, accepted %d, refused %d; want %d sent and accepted, none refused", sent, accepted, refused, want)
	}
	for _, idx := range rejected {
		k := iystest.Key{IYSCode: iystest.DefaultIYSCode, BrandCode: iystest.DefaultBrand, Recipient: backlogNumber(idx),
			RecipientType: iys.Individual, Type: iys.SMS}
		if got, ok := fake.Stored(k); !ok || got.Status != iys.Rejected || len(fake.History(k)) != 2 {
			t.Errorf("İYS holds %+v for %s (history %d); want ONAY then RET", got, k.Recipient, len(fake.History(k)))
		}
	}
	t.Logf("%s: synchronised %d consents in %d bulk requests over %d runs in %s (%.0f consents/s)",
		e, sent, requests, len(runs), syncTook.Round(time.Millisecond), float64(sent)/syncTook.Seconds())
	t.Logf("%s: during the sync, RejectConsent ×%d: %s; StartVerification ×%d: %s",
		e, len(rejects), latencies(rejects), len(starts), latencies(starts))
}

// latencies summarises durations as p50, p90, p99 and max.
func latencies(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := slices.Sorted(slices.Values(ds))
	q := func(p float64) time.Duration {
		return s[min(len(s)-1, int(p*float64(len(s))))].Round(100 * time.Microsecond)
	}
	return fmt.Sprintf("p50 %s, p90 %s, p99 %s, max %s", q(0.50), q(0.90), q(0.99), s[len(s)-1].Round(100*time.Microsecond))
}
