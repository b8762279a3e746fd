package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/store"
)

// importStream sends msgs on one ImportConsents stream and returns the
// report.
func (s *server) importStream(ctx context.Context, key string, msgs ...*izinv1.ImportConsentsRequest) (*izinv1.ImportConsentsResponse, error) {
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
	stream, err := izinv1.NewConsentServiceClient(s.conn).ImportConsents(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if err := stream.Send(m); err != nil {
			break // the server ended the stream; CloseAndRecv tells why
		}
	}
	return stream.CloseAndRecv()
}

// TestImportConsents streams a historic file of 2500 rows, in three
// messages, to a real server over gRPC, from a store's key: bad rows are
// refused with their field and do not end the stream, the accepted ones
// answer checks at once with their original dates, and the same stream
// sent again changes nothing.
func TestImportConsents(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(string(eng), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, eng)
			tn := s.newTenant(t, "Import "+string(eng))
			_, key := s.newSource(t, tn, "Kadıköy mağazası", store.SourceStore)
			ctx := testCtx(t)
			signed := time.Date(2019, 3, 14, 15, 9, 26, 0, time.FixedZone("TRT", 3*3600))

			const n = 2500
			var rows []*izinv1.ImportRow
			wantRefused := map[int64]string{}
			for i := range n {
				line := int64(i + 2)
				r := &izinv1.ImportRow{Line: line, Recipient: fmt.Sprintf("0534 %03d %02d %02d", i/10000, (i/100)%100, i%100),
					Type: izinv1.ConsentType_CONSENT_TYPE_SMS, Status: izinv1.ConsentStatus_CONSENT_STATUS_GRANTED,
					ConsentTime: timestamppb.New(signed.Add(time.Duration(i) * time.Minute)),
					// No source: the store's key defaults it (HS_FIZIKSEL_ORTAM).
					EvidenceReference: fmt.Sprintf("kutu %d / form %d", i/100, i)}
				switch i % 500 {
				case 7: // refused by validation: an undefined type
					r.Type = 42
					wantRefused[line] = "type"
				case 8: // refused by validation: too long a reference
					r.EvidenceReference = strings.Repeat("x", 513)
					wantRefused[line] = "evidence_reference"
				case 9: // refused by the rules: a first RET of an individual
					r.Status = izinv1.ConsentStatus_CONSENT_STATUS_REJECTED
					wantRefused[line] = "status"
				case 10: // refused by the rules: not a phone number
					r.Recipient = "0534 12"
					wantRefused[line] = "recipient"
				case 11: // a wet signature, explicitly
					r.IysSource = "HS_ISLAK_IMZA"
				}
				rows = append(rows, r)
			}
			msgs := []*izinv1.ImportConsentsRequest{
				{Brand: tn.BrandCode, Name: "kadikoy-2019.xlsx", Rows: rows[:1000]},
				{Rows: rows[1000:2000], Brand: "IGNORED"}, // brand and name of later messages are ignored
				{Rows: rows[2000:]},
			}
			rep, err := s.importStream(ctx, key, msgs...)
			if err != nil {
				t.Fatalf("ImportConsents: %v", err)
			}
			refused := int64(len(wantRefused))
			if rep.GetImportId() == "" || rep.GetRows() != n || rep.GetAccepted() != n-refused || rep.GetUnchanged() != 0 ||
				rep.GetRefused() != refused {
				t.Fatalf("report: %d rows, %d accepted, %d unchanged, %d refused; want %d, %d, 0, %d",
					rep.GetRows(), rep.GetAccepted(), rep.GetUnchanged(), rep.GetRefused(), n, n-refused, refused)
			}
			for _, e := range rep.GetErrors() {
				if want := wantRefused[e.GetLine()]; e.GetField() != want || e.GetMessage() == "" {
					t.Errorf("line %d refused as %q (%s), want %q", e.GetLine(), e.GetField(), e.GetMessage(), want)
				}
			}
			if rep.GetErrors()[2].GetReason() != "ERROR_REASON_FIRST_RECORD_REJECTED" {
				t.Errorf("a first RET is refused with %+v", rep.GetErrors()[2])
			}

			// The imports answer checks, with their original dates.
			c := s.client(grpcTransport, key)
			res := must(c.CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: "+905340000011",
				Types: []izinv1.ConsentType{izinv1.ConsentType_CONSENT_TYPE_SMS}}))(t)
			r0 := res.GetResults()[0]
			if r0.GetStatus() != izinv1.ConsentStatus_CONSENT_STATUS_GRANTED || r0.GetIysSource() != "HS_ISLAK_IMZA" ||
				!r0.GetConsentTime().AsTime().Equal(signed.Add(11*time.Minute)) {
				t.Errorf("check of an imported consent: %+v", r0)
			}
			evs := must(c.ListConsentEvents(ctx, &izinv1.ListConsentEventsRequest{Recipient: "05340000012"}))(t)
			if len(evs.GetEvents()) != 1 {
				t.Fatalf("%d events of an imported recipient", len(evs.GetEvents()))
			}
			ev := evs.GetEvents()[0].GetEvidence()
			if ev.GetIysSource() != "HS_FIZIKSEL_ORTAM" || ev.GetSourceId() == "" ||
				ev.GetReference() != fmt.Sprintf("import:%s %q; kutu 0 / form 12", rep.GetImportId(), "kadikoy-2019.xlsx") {
				t.Errorf("evidence of an imported consent: %+v", ev)
			}

			// Sent again, nothing changes.
			again, err := s.importStream(ctx, key, msgs...)
			if err != nil {
				t.Fatal(err)
			}
			if again.GetRows() != n || again.GetAccepted() != 0 || again.GetUnchanged() != n-refused || again.GetRefused() != refused {
				t.Errorf("second import: %d rows, %d accepted, %d unchanged, %d refused", again.GetRows(), again.GetAccepted(),
					again.GetUnchanged(), again.GetRefused())
			}
			evs = must(c.ListConsentEvents(ctx, &izinv1.ListConsentEventsRequest{PageSize: 1000}))(t)
			if len(evs.GetEvents()) != 1000 || evs.GetEvents()[0].GetSequence() != n-refused {
				t.Errorf("the chain has %d events after the second import, want %d", evs.GetEvents()[0].GetSequence(), n-refused)
			}
		})
	}
}

// TestImportConsentsRefusals covers what ends an import stream rather than
// a row: the key's scope, the brand, an empty stream.
func TestImportConsentsRefusals(t *testing.T) {
	t.Parallel()
	s := startServer(t, sqliteEngine)
	tn := s.newTenant(t, "Import refusals")
	ctx := testCtx(t)
	row := &izinv1.ImportRow{Recipient: "05321234567", Type: izinv1.ConsentType_CONSENT_TYPE_SMS,
		Status: izinv1.ConsentStatus_CONSENT_STATUS_GRANTED, ConsentTime: timestamppb.New(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)),
		IysSource: "HS_ISLAK_IMZA", EvidenceReference: "kutu 1"}

	_, err := s.importStream(ctx, s.newKey(t, tn, store.ScopeCheck), &izinv1.ImportConsentsRequest{Rows: []*izinv1.ImportRow{row}})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("import with a CHECK key: %v, want PermissionDenied", err)
	}
	_, err = s.importStream(ctx, tn.AdminKey, &izinv1.ImportConsentsRequest{Brand: "NOPE", Rows: []*izinv1.ImportRow{row}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "brand") {
		t.Errorf("import under an unknown brand: %v, want InvalidArgument about the brand", err)
	}
	_, err = s.importStream(ctx, tn.AdminKey, &izinv1.ImportConsentsRequest{Name: strings.Repeat("n", 257)})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("import with too long a name: %v, want InvalidArgument", err)
	}
	rep, err := s.importStream(ctx, tn.AdminKey)
	if err != nil || rep.GetRows() != 0 || rep.GetImportId() == "" {
		t.Errorf("empty import: %+v, %v", rep, err)
	}
	// A row without a line number is numbered by its place in the stream.
	bad := &izinv1.ImportRow{Recipient: "x"}
	rep, err = s.importStream(ctx, tn.AdminKey, &izinv1.ImportConsentsRequest{Rows: []*izinv1.ImportRow{row, bad}})
	if err != nil || rep.GetAccepted() != 1 || rep.GetRefused() != 1 || rep.GetErrors()[0].GetLine() != 2 ||
		rep.GetErrors()[0].GetField() != "recipient" {
		t.Errorf("import as admin: %+v, %v", rep, err)
	}
}
