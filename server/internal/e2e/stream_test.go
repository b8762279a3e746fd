package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/store"
)

// TestStreamCheckConsents sends a campaign list of 1000 checks, some of them
// malformed, over one stream: every request gets exactly one answer, in
// order, with its correlation id; a bad row gets its own error and does not
// end the stream.
func TestStreamCheckConsents(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(string(eng), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, eng)
			tn := s.newTenant(t, "Stream "+string(eng))
			_, key := s.newSource(t, tn, "CRM", store.SourceCRM)
			ctx := testCtx(t)
			// One granted recipient, so the stream answers more than NONE.
			verifyWithCode(ctx, t, s.client(grpcTransport, key), s.client(grpcTransport, tn.AdminKey), walkRecipient)

			const n = 1000
			type row struct {
				req      *izinv1.StreamCheckConsentsRequest
				bad      bool
				recip    string // the normalised recipient of a good row
				granted  bool
				wantType []izinv1.ConsentType
			}
			rows := make([]row, n)
			for i := range rows {
				id := fmt.Sprintf("row-%04d", i)
				switch {
				case i%97 == 13: // malformed number
					rows[i] = row{bad: true, req: &izinv1.StreamCheckConsentsRequest{CorrelationId: id,
						Check: &izinv1.CheckConsentRequest{Recipient: "12ab"}}}
				case i%101 == 7: // unknown type, refused by validation
					rows[i] = row{bad: true, req: &izinv1.StreamCheckConsentsRequest{CorrelationId: id,
						Check: &izinv1.CheckConsentRequest{Recipient: "05321234567", Types: []izinv1.ConsentType{99}}}}
				case i%211 == 5: // no check at all
					rows[i] = row{bad: true, req: &izinv1.StreamCheckConsentsRequest{CorrelationId: id}}
				case i%50 == 0: // the granted recipient
					rows[i] = row{recip: walkE164, granted: true, wantType: smsAndCall,
						req: &izinv1.StreamCheckConsentsRequest{CorrelationId: id,
							Check: &izinv1.CheckConsentRequest{Recipient: "0532 123 45 67", Types: smsAndCall}}}
				default:
					num := fmt.Sprintf("+90 533 %03d %02d %02d", i/10000, (i/100)%100, i%100)
					rows[i] = row{recip: fmt.Sprintf("+90533%03d%02d%02d", i/10000, (i/100)%100, i%100), wantType: allTypes,
						req: &izinv1.StreamCheckConsentsRequest{CorrelationId: id,
							Check: &izinv1.CheckConsentRequest{Recipient: num}}}
				}
			}

			sctx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
			stream, err := izinv1.NewConsentServiceClient(s.conn).StreamCheckConsents(sctx)
			if err != nil {
				t.Fatalf("open stream: %v", err)
			}
			sendErr := make(chan error, 1)
			go func() {
				for i := range rows {
					if err := stream.Send(rows[i].req); err != nil {
						sendErr <- fmt.Errorf("send row %d: %w", i, err)
						return
					}
				}
				sendErr <- stream.CloseSend()
			}()
			bad, good := 0, 0
			for i := 0; ; i++ {
				resp, err := stream.Recv()
				if errors.Is(err, io.EOF) {
					if i != n {
						t.Fatalf("the stream ended after %d answers, want %d", i, n)
					}
					break
				}
				if err != nil {
					t.Fatalf("receive answer %d: %v", i, err)
				}
				if i >= n {
					t.Fatalf("answer %d to %d requests", i, n)
				}
				r := rows[i]
				if resp.GetCorrelationId() != r.req.GetCorrelationId() {
					t.Fatalf("answer %d has correlation id %q, want %q: answers out of order", i,
						resp.GetCorrelationId(), r.req.GetCorrelationId())
				}
				if r.bad {
					bad++
					if resp.GetResult() != nil || resp.GetError() == nil {
						t.Errorf("row %d (malformed): result %v, error %v; want an error only", i, resp.GetResult(), resp.GetError())
						continue
					}
					st := status.FromProto(resp.GetError())
					if st.Code() != codes.InvalidArgument || st.Message() == "" {
						t.Errorf("row %d (malformed): error %v, want InvalidArgument with a message", i, st)
					}
					if e := fromStatus(st, 0); len(e.Fields) == 0 {
						t.Errorf("row %d (malformed): error %v names no field", i, e)
					}
					continue
				}
				good++
				if resp.GetError() != nil {
					t.Errorf("row %d: error %v, want a result", i, resp.GetError())
					continue
				}
				res := resp.GetResult()
				if res.GetRecipient() != r.recip {
					t.Errorf("row %d: recipient %q, want %q", i, res.GetRecipient(), r.recip)
				}
				want := map[izinv1.ConsentType]izinv1.ConsentStatus{}
				for _, typ := range r.wantType {
					want[typ] = izinv1.ConsentStatus_CONSENT_STATUS_NONE
					if r.granted {
						want[typ] = izinv1.ConsentStatus_CONSENT_STATUS_GRANTED
					}
				}
				expectResults(t, res.GetResults(), want, r.wantType)
			}
			if err := <-sendErr; err != nil {
				t.Fatal(err)
			}
			if bad < 20 || good < 900 {
				t.Fatalf("the list had %d malformed and %d good rows; the test wants both kinds", bad, good)
			}
		})
	}
}

// TestBatchCheckConsents checks several recipients at once; a malformed one
// gets an error in its own item and the others are answered.
func TestBatchCheckConsents(t *testing.T) {
	t.Parallel()
	s := startServer(t, sqliteEngine)
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			t.Parallel()
			tn := s.newTenant(t, "Batch "+string(tr))
			_, key := s.newSource(t, tn, "ERP", store.SourceERP)
			c := s.client(tr, key)
			ctx := testCtx(t)
			verifyWithCode(ctx, t, c, s.client(tr, tn.AdminKey), "05321234567")

			resp := must(c.BatchCheckConsents(ctx, &izinv1.BatchCheckConsentsRequest{Checks: []*izinv1.CheckConsentRequest{
				{Recipient: walkRecipient},
				{Recipient: "12ab"},
				{Recipient: "0533 000 00 01", Types: []izinv1.ConsentType{izinv1.ConsentType_CONSENT_TYPE_CALL}},
				{Recipient: "Ayse@Example.COM"},
				{Recipient: "+90 532 123 45 67", Brand: "NOPE"},
			}}))(t)
			items := resp.GetItems()
			if len(items) != 5 {
				t.Fatalf("got %d items, want 5", len(items))
			}
			for _, i := range []int{1, 4} {
				if items[i].GetResult() != nil || items[i].GetError() == nil {
					t.Errorf("item %d: %v; want an error only", i, items[i])
					continue
				}
				e := fromStatus(status.FromProto(items[i].GetError()), 0)
				field := map[int]string{1: "recipient", 4: "brand"}[i]
				if e.Code != codes.InvalidArgument || !e.HasField(field) {
					t.Errorf("item %d: %v, want InvalidArgument naming %q", i, e, field)
				}
			}
			for _, i := range []int{0, 2, 3} {
				if items[i].GetError() != nil || items[i].GetResult() == nil {
					t.Errorf("item %d: %v; want a result only", i, items[i])
				}
			}
			expectResults(t, items[0].GetResult().GetResults(), map[izinv1.ConsentType]izinv1.ConsentStatus{
				izinv1.ConsentType_CONSENT_TYPE_SMS:   izinv1.ConsentStatus_CONSENT_STATUS_GRANTED,
				izinv1.ConsentType_CONSENT_TYPE_CALL:  izinv1.ConsentStatus_CONSENT_STATUS_GRANTED,
				izinv1.ConsentType_CONSENT_TYPE_EMAIL: izinv1.ConsentStatus_CONSENT_STATUS_NONE,
			}, allTypes)
			expectResults(t, items[2].GetResult().GetResults(), map[izinv1.ConsentType]izinv1.ConsentStatus{
				izinv1.ConsentType_CONSENT_TYPE_CALL: izinv1.ConsentStatus_CONSENT_STATUS_NONE,
			}, []izinv1.ConsentType{izinv1.ConsentType_CONSENT_TYPE_CALL})
			if got := items[3].GetResult().GetRecipient(); got != "ayse@example.com" {
				t.Errorf("e-mail normalised to %q, want ayse@example.com", got)
			}

			// The batch as a whole is validated: an empty one is refused.
			_, err := c.BatchCheckConsents(ctx, &izinv1.BatchCheckConsentsRequest{})
			expectError(t, tr, err, want{code: codes.InvalidArgument, http: 400, field: "checks"})

			expectItemRules(ctx, t, tr, c)
		})
	}
}

// expectItemRules sends items that break the item message's own rules (not
// the domain's): each gets its own InvalidArgument naming the field, the good
// items are answered, and the batch's own rules still refuse the whole
// request.
func expectItemRules(ctx context.Context, t *testing.T, tr transport, c client) {
	t.Helper()
	good := &izinv1.CheckConsentRequest{Recipient: "0533 000 00 02"}
	bad := map[int]struct {
		req   *izinv1.CheckConsentRequest
		field string
	}{
		1: {&izinv1.CheckConsentRequest{}, "recipient"},
		2: {&izinv1.CheckConsentRequest{Recipient: "05321234567", Types: []izinv1.ConsentType{99}}, "types[0]"},
		4: {&izinv1.CheckConsentRequest{Recipient: strings.Repeat("a", 321)}, "recipient"},
		5: {&izinv1.CheckConsentRequest{Recipient: "05321234567", Brand: strings.Repeat("B", 65)}, "brand"},
		6: {&izinv1.CheckConsentRequest{Recipient: "05321234567", RecipientType: 42}, "recipient_type"},
	}
	checks := make([]*izinv1.CheckConsentRequest, 8)
	for i := range checks {
		checks[i] = good
		if b, ok := bad[i]; ok {
			checks[i] = b.req
		}
	}
	items := must(c.BatchCheckConsents(ctx, &izinv1.BatchCheckConsentsRequest{Checks: checks}))(t).GetItems()
	if len(items) != len(checks) {
		t.Fatalf("got %d items, want %d", len(items), len(checks))
	}
	for i, it := range items {
		b, isBad := bad[i]
		if !isBad {
			if it.GetError() != nil || it.GetResult().GetRecipient() != "+905330000002" {
				t.Errorf("item %d: %v; want the result for +905330000002 only", i, it)
			}
			continue
		}
		if it.GetResult() != nil || it.GetError() == nil {
			t.Errorf("item %d: %v; want an error only", i, it)
			continue
		}
		if e := fromStatus(status.FromProto(it.GetError()), 0); e.Code != codes.InvalidArgument || !e.HasField(b.field) {
			t.Errorf("item %d: %v, want InvalidArgument naming %q", i, e, b.field)
		}
	}

	// The batch's own count rule still refuses the whole request,
	// even when some of its items are malformed too.
	tooMany := make([]*izinv1.CheckConsentRequest, 1001)
	for i := range tooMany {
		tooMany[i] = good
	}
	tooMany[3] = bad[1].req
	_, err := c.BatchCheckConsents(ctx, &izinv1.BatchCheckConsentsRequest{Checks: tooMany})
	expectError(t, tr, err, want{code: codes.InvalidArgument, http: 400, field: "checks"})
}
