package iyssync

import (
	"iter"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/importer"
	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/store"
)

// Imported consents reach İYS like any other change; one older than İYS's
// 3 business days is refused by İYS with H467 and shows so.
func TestImportedConsentsReachIYS(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		recent := time.Now().Add(-time.Hour)
		old := time.Now().AddDate(0, 0, -20)
		rows := []importer.Row{
			{Line: 2, Recipient: "05321234561", Type: store.ConsentSMS, Status: store.StatusGranted, IYSSource: "HS_ISLAK_IMZA",
				ConsentTime: &recent, EvidenceReference: "box-1/form-1"},
			{Line: 3, Recipient: "05321234562", Type: store.ConsentCall, Status: store.StatusGranted, IYSSource: "HS_ISLAK_IMZA",
				ConsentTime: &old, EvidenceReference: "box-1/form-2"},
		}
		var seq iter.Seq2[importer.Row, error] = func(yield func(importer.Row, error) bool) {
			for _, r := range rows {
				if !yield(r, nil) {
					return
				}
			}
		}
		rep, err := importer.New(f.st, f.ten, time.Now).Import(t.Context(), f.p, importer.Params{Name: "forms.csv"}, seq)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Accepted != 2 {
			t.Fatalf("import: %+v, want 2 rows accepted", rep)
		}
		sr := f.sync(t)
		if sr.Sent != 1 || sr.Accepted != 1 || sr.Refused != 1 {
			t.Fatalf("run: %+v, want the old one refused in the bulk request and the other sent and accepted in the same run", sr)
		}
		got, ok := f.fake.Stored(f.key("+905321234561", iys.SMS))
		if !ok || got.Status != iys.Granted || got.Source != iys.SourceWetSig {
			t.Errorf("İYS holds %+v, %v; want the imported ONAY from HS_ISLAK_IMZA", got, ok)
		}
		refused := f.uploads(t, store.IYSRefused)
		if len(refused) != 1 || refused[0].Recipient != "+905321234562" || refused[0].ErrorCode != "H467" {
			t.Errorf("refused uploads %+v: want the 20-day-old consent with H467", refused)
		}
	})
}
