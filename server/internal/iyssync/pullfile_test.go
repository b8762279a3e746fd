package iyssync

import (
	"fmt"
	"iter"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/store"
)

func rowsOf(rows []FileRow) iter.Seq2[FileRow, error] {
	return func(yield func(FileRow, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func at(s string) *time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, time.FixedZone("TRT", 3*3600))
	if err != nil {
		panic(err)
	}
	return &t
}

// A file İYS produced makes izin answer what İYS holds, queues nothing
// for İYS, changes nothing when pulled again, and leaves later changes
// made in izin to be queued as usual.
func TestPullFile(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		// izin already holds a consent for this one, newer than the file's.
		recent := time.Now().Add(-time.Hour)
		f.record(t, "+905320000009", &recent, store.ConsentSMS)
		future := time.Now().Add(24 * time.Hour)

		rows := []FileRow{
			{Line: 2, Recipient: "+905320000001", Type: store.ConsentSMS, Status: store.StatusGranted, Source: "HS_WEB",
				ConsentTime: at("2024-01-10 10:00:00"), CreationTime: at("2024-01-10 10:00:05"), TransactionID: "tx-1"},
			// A RET with no record in izin: İYS holds it, so izin does too.
			{Line: 3, Recipient: "+905320000002", Type: store.ConsentSMS, Status: store.StatusRejected, Source: "IYS_MOBIL",
				ConsentTime: at("2024-02-01 09:00:00"), TransactionID: "tx-2"},
			{Line: 4, Recipient: "+905320000003", Type: store.ConsentCall, Status: store.StatusGranted, Source: "HS_ISLAK_IMZA",
				ConsentTime: at("2023-05-05 12:00:00")},
			{Line: 5, Recipient: "+905320000003", Type: store.ConsentCall, Status: store.StatusRejected, Source: "IYS_WEB",
				CreationTime: at("2024-03-03 12:00:00"), TransactionID: "tx-4"},
			{Line: 6, Recipient: "+905320000009", Type: store.ConsentSMS, Status: store.StatusRejected, Source: "IYS_WEB",
				ConsentTime: at("2020-01-01 00:00:00")},
			{Line: 7, Recipient: "0532 000", Type: store.ConsentSMS, Status: store.StatusGranted, Source: "HS_WEB", ConsentTime: at("2024-01-01 00:00:00")},
			{Line: 8, Recipient: "+905320000004", Type: store.ConsentSMS, Status: store.StatusGranted, Source: "WEB", ConsentTime: at("2024-01-01 00:00:00")},
			{Line: 9, Unreadable: `"EVET" is not ONAY or RET`, Field: "status"},
			{Line: 10, Recipient: "+905320000005", Type: store.ConsentSMS, Status: store.StatusGranted, Source: "HS_WEB", ConsentTime: &future},
			{Line: 11, Recipient: "Ayse@Example.com.tr", Type: store.ConsentEmail, Status: store.StatusGranted, Source: "HS_EPOSTA",
				ConsentTime: at("2022-06-01 08:00:00")},
			{Line: 12, Recipient: "+905320000001", Type: store.ConsentSMS, Status: store.StatusGranted, Source: "HS_WEB",
				ConsentTime: at("2024-01-10 10:00:00"), CreationTime: at("2024-01-10 10:00:05"), TransactionID: "tx-1"},
			{Line: 13, Recipient: "+905320000006", Type: store.ConsentEmail, Status: store.StatusGranted, Source: "HS_WEB",
				ConsentTime: at("2024-01-01 00:00:00")},
		}
		p := NewPuller(f.st, f.ten, time.Now).WithChunk(3)
		rep, err := p.PullFile(t.Context(), f.tenant, "", "iys-2024.csv", rowsOf(rows))
		if err != nil {
			t.Fatal(err)
		}
		wantSkips := map[string]int64{SkipOlder: 1, SkipRecipient: 2, SkipSource: 1, SkipUnreadable: 1, SkipDate: 1}
		if rep.Rows != 12 || rep.Applied != 5 || rep.Unchanged != 1 || rep.Skipped != 6 || fmt.Sprint(rep.SkippedBy) != fmt.Sprint(wantSkips) || rep.Brand != "ACME" {
			t.Fatalf("report %+v, want 12 rows: 5 applied, 1 unchanged, skipped %v", rep, wantSkips)
		}
		lines := map[int64]string{}
		for _, s := range rep.Examples {
			lines[s.Line] = s.Reason
		}
		if want := map[int64]string{6: SkipOlder, 7: SkipRecipient, 8: SkipSource, 9: SkipUnreadable, 10: SkipDate, 13: SkipRecipient}; fmt.Sprint(lines) != fmt.Sprint(want) {
			t.Errorf("skipped lines %v, want %v", lines, want)
		}

		for _, c := range []struct {
			rcpt string
			typ  store.ConsentType
			want store.ConsentStatus
		}{
			{"+905320000001", store.ConsentSMS, store.StatusGranted},
			{"+905320000002", store.ConsentSMS, store.StatusRejected},
			{"+905320000003", store.ConsentCall, store.StatusRejected},
			{"+905320000009", store.ConsentSMS, store.StatusGranted}, // izin's newer record stands
			{"+905320000004", store.ConsentSMS, store.StatusNone},
			{"ayse@example.com.tr", store.ConsentEmail, store.StatusGranted},
		} {
			if got := f.check(t, c.rcpt, c.typ); got != c.want {
				t.Errorf("check %s type %d: %v, want %v", c.rcpt, c.typ, got, c.want)
			}
		}
		// The evidence names the file, the line and İYS's transaction.
		evs, err := f.st.ListConsentEvents(t.Context(), store.EventFilter{TenantID: f.tenant, Recipient: "+905320000003", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 2 || evs[0].IYSSource != "IYS_WEB" || evs[0].Reference != "iys-file:iys-2024.csv:5 iys:tx-4" ||
			evs[1].IYSSource != "HS_ISLAK_IMZA" || evs[1].Reference != "iys-file:iys-2024.csv:4" || evs[1].SourceID != nil {
			t.Errorf("events of +905320000003: %+v", evs)
		}

		// Only the consent izin recorded itself is on its way to İYS.
		queued := func() []string {
			var out []string
			for _, u := range f.uploads(t, 0) {
				out = append(out, u.Recipient)
			}
			return out
		}
		if got := queued(); len(got) != 1 || got[0] != "+905320000009" {
			t.Fatalf("uploads %v, want only izin's own consent", got)
		}

		again, err := p.PullFile(t.Context(), f.tenant, "", "iys-2024-copy.csv", rowsOf(rows))
		if err != nil {
			t.Fatal(err)
		}
		if again.Rows != 12 || again.Applied != 0 || again.Unchanged != 6 || again.Skipped != 6 {
			t.Errorf("pulled again: %+v, want nothing applied", again)
		}

		// A change made in izin afterwards goes to İYS as usual.
		f.reject(t, "+905320000001", store.ConsentSMS)
		if got := queued(); len(got) != 2 || !strings.Contains(strings.Join(got, ","), "+905320000001") {
			t.Errorf("uploads %v, want the RET made in izin queued", got)
		}
	})
}

// TestPullFileVolume pulls 100 000 rows into SQLite and reports the rate.
func TestPullFileVolume(t *testing.T) {
	if testing.Short() {
		t.Skip("volume test")
	}
	t.Parallel()
	f := newFixture(t, "sqlite:"+filepath.Join(t.TempDir(), "izin.db"))
	const n = 100000
	base := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := func(yield func(FileRow, error) bool) {
		for i := range n {
			r := FileRow{Line: int64(i + 2), Recipient: fmt.Sprintf("+90532%07d", i), Type: store.ConsentSMS,
				Status: store.StatusGranted, Source: "HS_WEB", TransactionID: fmt.Sprintf("tx-%d", i)}
			if i%10 == 9 {
				r.Status, r.Source, r.Type = store.StatusRejected, "IYS_MOBIL", store.ConsentCall
			}
			c := base.Add(time.Duration(i) * time.Second)
			r.ConsentTime = &c
			if !yield(r, nil) {
				return
			}
		}
	}
	start := time.Now()
	rep, err := NewPuller(f.st, f.ten, time.Now).PullFile(t.Context(), f.tenant, "", "export.csv", rows)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("%d rows in %s: %.0f rows/s", rep.Rows, took.Round(time.Millisecond), float64(rep.Rows)/took.Seconds())
	if rep.Rows != n || rep.Applied != n {
		t.Fatalf("report %+v, want every row applied", rep)
	}
	if ups := f.uploads(t, 0); len(ups) != 0 {
		t.Errorf("%d uploads queued, want none", len(ups))
	}
}
