package importer_test

import (
	"context"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/importer"
	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/store"
)

// TestIYSModes: what İYS is told of an import. Rows within İYS's upload
// window are queued; older ones, and every row of an already-registered
// import, are recorded as skipped uploads; a later change of such a
// recipient is queued at once, as its consent's head.
func TestIYSModes(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			e := newEnv(t, eng.url(t))
			e.imp.WithWindow(iys.DefaultCalendar)
			ctx := context.Background()
			recent := e.now.Add(-2 * time.Hour)
			for _, tc := range []struct {
				name                           string
				mode                           importer.Mode
				rows                           []importer.Row
				queued, registered, outsideWin int64
			}{
				{"upload", importer.Upload, []importer.Row{
					row("05321000001", sms, G, t2019), row("05321000002", sms, G, recent), row("05321000003", call, G, recent)}, 2, 0, 1},
				{"already registered", importer.AlreadyRegistered, []importer.Row{
					row("05321000004", sms, G, t2019), row("05321000005", sms, G, recent)}, 0, 2, 0},
			} {
				rep, err := e.imp.Import(ctx, e.admin, importer.Params{Name: tc.name, IYS: tc.mode}, rowsOf(tc.rows))
				if err != nil {
					t.Fatal(err)
				}
				if rep.Accepted != int64(len(tc.rows)) || rep.QueuedForIYS != tc.queued || rep.AlreadyRegistered != tc.registered || rep.OutsideWindow != tc.outsideWin {
					t.Errorf("%s: %+v; want %d accepted: %d queued, %d already registered, %d outside the window",
						tc.name, rep, len(tc.rows), tc.queued, tc.registered, tc.outsideWin)
				}
			}
			ups, err := e.st.ListIYSUploads(ctx, store.IYSUploadFilter{TenantID: e.admin.TenantID, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			byRecipient := map[string]store.IYSUpload{}
			for _, u := range ups {
				byRecipient[u.Recipient] = u
			}
			for r, want := range map[string]string{"+905321000001": store.IYSSkipOutsideWindow, "+905321000002": "",
				"+905321000003": "", "+905321000004": store.IYSSkipRegistered, "+905321000005": store.IYSSkipRegistered} {
				u := byRecipient[r]
				switch {
				case want == "" && (u.State != store.IYSPending || !u.Head):
					t.Errorf("%s: upload %+v; want pending, its consent's head", r, u)
				case want != "" && (u.State != store.IYSSkipped || u.ErrorCode != want || u.Head):
					t.Errorf("%s: upload %+v; want skipped with %s", r, u, want)
				}
			}
			// İYS holds the 2019 consent: its rejection now goes to İYS at once.
			_, err = e.consent.Reject(ctx, e.admin, consent.ChangeRequest{Recipient: "05321000001", Types: []store.ConsentType{sms}})
			if err != nil {
				t.Fatal(err)
			}
			claimed, err := e.st.ClaimIYSUploads(ctx, e.admin.TenantID, e.brandID(t), e.now, e.now.Add(time.Minute), 100)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]store.ConsentStatus{}
			for _, u := range claimed {
				got[u.Recipient] = u.Status
			}
			if len(claimed) != 3 || got["+905321000001"] != R {
				t.Errorf("claim = %v; want the two recent grants and the RET of the 2019 consent", got)
			}
		})
	}
}

// brandID is the id of the tenant's default brand.
func (e *env) brandID(t *testing.T) string {
	t.Helper()
	b, err := e.ten.Brand(context.Background(), e.admin.TenantID, "")
	if err != nil {
		t.Fatal(err)
	}
	return b.ID
}
