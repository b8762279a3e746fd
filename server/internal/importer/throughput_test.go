package importer_test

import (
	"context"
	"fmt"
	"iter"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/importer"
	"github.com/izinhq/izin/server/internal/store"
)

// generated yields n rows without keeping them: distinct recipients granted
// SMS or calls, every tenth rejected again a few rows later, one in a
// hundred refused for a malformed number. Memory held by the import is
// then the importer's own.
func generated(n int) iter.Seq2[importer.Row, error] {
	return func(yield func(importer.Row, error) bool) {
		for i := range n {
			at := t2019.Add(time.Duration(i) * time.Second)
			typ := sms
			if i%2 == 1 {
				typ = call
			}
			r := row(fmt.Sprintf("05%09d", 300000000+i), typ, G, at)
			switch {
			case i%100 == 99:
				r.Recipient = "05 12"
			case i%10 == 9:
				// Row i-5 granted this recipient and type: reject it.
				r = row(fmt.Sprintf("05%09d", 300000000+i-5), sms+store.ConsentType((i-5)%2), R, at.Add(time.Hour))
			}
			r.EvidenceReference = "kutu-" + strconv.Itoa(i/500) + "/form-" + strconv.Itoa(i)
			r.Line = int64(i + 2)
			if !yield(r, nil) {
				return
			}
		}
	}
}

// peakHeap samples the heap in use until stop is called, and returns the
// peak.
func peakHeap() (stop func() uint64) {
	var (
		peak uint64
		wg   sync.WaitGroup
		done = make(chan struct{})
	)
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapInuse)
	}
	wg.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		sample()
		return peak
	}
}

// TestThroughput imports generated rows and reports rows per second and
// the peak heap. It imports 20 000 rows on SQLite by default (2000 under
// the race detector), to stay fast; IZIN_IMPORT_BENCH=N imports N rows on
// each engine, e.g.
//
//	IZIN_IMPORT_BENCH=1000000 go test ./server/internal/importer -run TestThroughput -v -timeout 60m
func TestThroughput(t *testing.T) {
	n, all := 20000, false
	if raceEnabled {
		n = 2000 // what is measured then is the race detector
	}
	if v := os.Getenv("IZIN_IMPORT_BENCH"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			t.Fatalf("IZIN_IMPORT_BENCH=%q: want a number of rows", v)
		}
		all = true
	}
	for _, eng := range engines {
		if !all && eng.name != "sqlite" {
			continue
		}
		t.Run(eng.name, func(t *testing.T) {
			e := newEnv(t, eng.url(t))
			// The clock runs, as it does in production, for the dates of
			// the generated rows to be in the past.
			e.now = time.Now().UTC()
			runtime.GC()
			stop := peakHeap()
			start := time.Now()
			rep, err := e.imp.Import(context.Background(), e.admin, importer.Params{Name: "generated"}, generated(n))
			took := time.Since(start)
			peak := stop()
			if err != nil {
				t.Fatal(err)
			}
			wantRefused := int64(n / 100)
			if rep.Rows != int64(n) || rep.Refused != wantRefused || rep.Unchanged != 0 {
				t.Errorf("report: %d rows, %d accepted, %d unchanged, %d refused; want %d rows, %d refused",
					rep.Rows, rep.Accepted, rep.Unchanged, rep.Refused, n, wantRefused)
			}
			t.Logf("%s: %d rows in %s: %.0f rows/s; peak heap %.1f MiB",
				eng.name, n, took.Round(time.Millisecond), float64(n)/took.Seconds(), float64(peak)/(1<<20))
			// Memory must not grow with the file: a batch in hand, one in
			// flight and the report's capped errors, whatever n is.
			if peak > 256<<20 {
				t.Errorf("peak heap %d MiB: memory grows with the file", peak>>20)
			}
			if all {
				e.verifyChain(t)
			}
		})
	}
}
