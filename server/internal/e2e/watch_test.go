package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/store"
)

// TestWatchConsentEvents follows a tenant from the beginning, then live,
// then across a disconnect, while another tenant with the same brand code
// and recipients writes beside it: every event of the tenant arrives once,
// in order, as ListConsentEvents has it, and nothing of the other tenant.
func TestWatchConsentEvents(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(string(eng), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, eng)
			ctx := testCtx(t)
			tn := s.newTenant(t, "Watch "+string(eng))
			_, key := s.newSource(t, tn, "CRM", store.SourceCRM)
			checkKey := s.newKey(t, tn, store.ScopeCheck)
			other := s.newTenant(t, "Watch other "+string(eng))
			_, otherKey := s.newSource(t, other, "CRM", store.SourceCRM)
			c, oc := s.client(grpcTransport, key), s.client(grpcTransport, otherKey)
			grantTo(ctx, t, c, 0, 5)
			grantTo(ctx, t, oc, 0, 3)

			// The backlog, from cursor 0, is the tenant's log in order.
			w := s.watch(t, checkKey, &izinv1.WatchConsentEventsRequest{})
			got, beat := w.untilHeartbeat(t)
			listed := must(c.ListConsentEvents(ctx, &izinv1.ListConsentEventsRequest{PageSize: 1000}))(t).GetEvents()
			slices.Reverse(listed)
			if !slices.Equal(seqsOf(got), seqRange(1, 10)) || beat != 10 || len(listed) != 10 {
				t.Fatalf("backlog %v, heartbeat %d (%d listed); want 1…10 and 10", seqsOf(got), beat, len(listed))
			}
			for i := range got {
				if got[i].GetId() != listed[i].GetId() || got[i].GetHash() != listed[i].GetHash() ||
					got[i].GetRecipient() != listed[i].GetRecipient() || got[i].GetBrandCode() != tn.BrandCode {
					t.Errorf("event %d: %v; listed as %v", got[i].GetSequence(), got[i], listed[i])
				}
			}

			// Live: each change arrives as it is committed; the other
			// tenant's do not.
			for round := range 3 {
				grantTo(ctx, t, oc, 10+round, 11+round)
				grantTo(ctx, t, c, 10+round, 11+round)
				evs := w.events(t, 2)
				want := int64(11 + 2*round)
				if !slices.Equal(seqsOf(evs), []int64{want, want + 1}) ||
					evs[0].GetRecipient() != fmt.Sprintf("+9053260000%02d", 10+round) {
					t.Fatalf("round %d: events %v of %s, want %d and %d of the tenant's new record", round, seqsOf(evs),
						evs[0].GetRecipient(), want, want+1)
				}
			}
			must(c.RejectConsent(ctx, &izinv1.RejectConsentRequest{Recipient: "0532 600 00 00", Types: smsAndCall}))(t)
			if evs := w.events(t, 2); evs[0].GetStatus() != izinv1.ConsentStatus_CONSENT_STATUS_REJECTED || evs[1].GetSequence() != 18 {
				t.Fatalf("after a rejection: %v", evs)
			}

			// Disconnect, write, resume from the last sequence: no gap, no
			// repeat.
			last := w.last
			w.cancel()
			grantTo(ctx, t, c, 20, 25)
			grantTo(ctx, t, oc, 20, 25)
			w = s.watch(t, checkKey, &izinv1.WatchConsentEventsRequest{AfterSequence: last})
			got, beat = w.untilHeartbeat(t)
			if !slices.Equal(seqsOf(got), seqRange(last+1, last+10)) || beat != last+10 {
				t.Fatalf("after resuming from %d: %v, heartbeat %d; want %d…%d", last, seqsOf(got), beat, last+1, last+10)
			}

			// Everything the tenant's watch sent is the tenant's.
			mine, _ := s.watch(t, key, &izinv1.WatchConsentEventsRequest{}).untilHeartbeat(t)
			theirs, _ := s.watch(t, otherKey, &izinv1.WatchConsentEventsRequest{}).untilHeartbeat(t)
			ids := map[string]bool{}
			for _, e := range listAll(ctx, t, c) {
				ids[e.GetId()] = true
			}
			if len(mine) != len(ids) || len(theirs) != 2*(3+3+5) {
				t.Fatalf("the tenant's watch sent %d events of %d; the other's %d, want %d", len(mine), len(ids), len(theirs), 22)
			}
			for _, e := range mine {
				if !ids[e.GetId()] {
					t.Errorf("event %s (%d) is not the tenant's", e.GetId(), e.GetSequence())
				}
			}
			for _, e := range theirs {
				if ids[e.GetId()] {
					t.Errorf("the other tenant's watch sent the tenant's event %s", e.GetId())
				}
			}

			t.Run("filters", func(t *testing.T) {
				for _, tc := range []struct {
					name string
					req  *izinv1.WatchConsentEventsRequest
					want []int64
				}{
					// The other tenant's brand has the same code.
					{"brand", &izinv1.WatchConsentEventsRequest{Brand: tn.BrandCode}, seqsOf(mine)},
					{"recipient", &izinv1.WatchConsentEventsRequest{Recipient: "+90 532 600 00 00"}, []int64{1, 2, 17, 18}},
					{"recipient after a cursor", &izinv1.WatchConsentEventsRequest{Recipient: "05326000000", AfterSequence: 2},
						[]int64{17, 18}},
				} {
					t.Run(tc.name, func(t *testing.T) {
						got, beat := s.watch(t, checkKey, tc.req).untilHeartbeat(t)
						if !slices.Equal(seqsOf(got), tc.want) || beat != int64(len(ids)) {
							t.Errorf("events %v, heartbeat %d; want %v and %d", seqsOf(got), beat, tc.want, len(ids))
						}
					})
				}
			})
		})
	}
}

// TestWatchRefused: the auth chain applies to the stream (any valid key
// of the tenant has the CHECK scope it needs), and its request is
// validated.
func TestWatchRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t, sqliteEngine)
	tn := s.newTenant(t, "Watch refused")
	revoked, k, err := s.App.Tenancy.CreateAPIKey(context.Background(), tn.ID, "old", store.ScopeCheck, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.Tenancy.RevokeAPIKey(context.Background(), tn.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	checkKey := s.newKey(t, tn, store.ScopeCheck)
	for _, tc := range []struct {
		name  string
		key   string
		req   *izinv1.WatchConsentEventsRequest
		code  codes.Code
		field string
	}{
		{"no key", "", &izinv1.WatchConsentEventsRequest{}, codes.Unauthenticated, ""},
		{"unknown key", "izin_live_nope", &izinv1.WatchConsentEventsRequest{}, codes.Unauthenticated, ""},
		{"revoked key", revoked, &izinv1.WatchConsentEventsRequest{}, codes.Unauthenticated, ""},
		{"negative cursor", checkKey, &izinv1.WatchConsentEventsRequest{AfterSequence: -1}, codes.InvalidArgument, "after_sequence"},
		{"unknown brand", checkKey, &izinv1.WatchConsentEventsRequest{Brand: "NOPE"}, codes.InvalidArgument, "brand"},
		{"bad recipient", checkKey, &izinv1.WatchConsentEventsRequest{Recipient: "12ab"}, codes.InvalidArgument, "recipient"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := s.watch(t, tc.key, tc.req).err(t)
			if e.Code != tc.code || (tc.field != "" && !e.HasField(tc.field)) {
				t.Errorf("got %v, want %v naming %q", e, tc.code, tc.field)
			}
		})
	}
	t.Run("check key", func(t *testing.T) {
		if _, beat := s.watch(t, checkKey, &izinv1.WatchConsentEventsRequest{}).untilHeartbeat(t); beat != 0 {
			t.Errorf("heartbeat at %d for a tenant without events", beat)
		}
	})
}

// TestWatchAcrossInstances: two servers share one database; a watch on the
// first sees what the second commits (found by its poll) as well as its own.
func TestWatchAcrossInstances(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(string(eng), func(t *testing.T) {
			t.Parallel()
			db := databaseURL(t, eng)
			s1 := startServerAt(t, eng, db)
			s2 := startServerAt(t, eng, db)
			ctx := testCtx(t)
			tn := s1.newTenant(t, "Watch instances "+string(eng))
			_, key := s1.newSource(t, tn, "CRM", store.SourceCRM)
			w := s1.watch(t, key, &izinv1.WatchConsentEventsRequest{})
			if got, beat := w.untilHeartbeat(t); len(got) != 0 || beat != 0 {
				t.Fatalf("a new tenant's watch: %v, heartbeat %d", seqsOf(got), beat)
			}
			// One server at a time: a commit on s1 would wake the watch
			// and let it read s2's events too.
			for i, writer := range []*server{s2, s1, s2, s2, s1} {
				grantTo(ctx, t, writer.client(grpcTransport, key), i, i+1)
				if got, want := seqsOf(w.events(t, 2)), seqRange(int64(2*i+1), int64(2*i+2)); !slices.Equal(got, want) {
					t.Fatalf("write %d: %v, want %v", i, got, want)
				}
			}
		})
	}
}

// TestWatchImport follows a large import as it is written: every event,
// in order, through many pages, while the watch holds one page at a time.
func TestWatchImport(t *testing.T) {
	t.Parallel()
	n := 20000
	if raceEnabled {
		// The race detector slows the pure-Go SQLite about twentyfold; what
		// is tested there is the interleaving of the import and the watch.
		n = 2000
	}
	for _, eng := range engines {
		t.Run(string(eng), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, eng)
			ctx := testCtx(t)
			tn := s.newTenant(t, "Watch import "+string(eng))
			_, key := s.newSource(t, tn, "Archive", store.SourceStore)
			w := s.watch(t, key, &izinv1.WatchConsentEventsRequest{})
			if _, beat := w.untilHeartbeat(t); beat != 0 {
				t.Fatalf("heartbeat at %d", beat)
			}
			signed := time.Date(2020, 1, 2, 10, 0, 0, 0, time.UTC)
			var msgs []*izinv1.ImportConsentsRequest
			for start := 0; start < n; start += 10000 {
				m := &izinv1.ImportConsentsRequest{Brand: tn.BrandCode, Name: "archive.csv"}
				for i := start; i < min(start+10000, n); i++ {
					m.Rows = append(m.Rows, &izinv1.ImportRow{Line: int64(i + 2),
						Recipient: fmt.Sprintf("+90535%07d", i), Type: izinv1.ConsentType_CONSENT_TYPE_SMS,
						Status:      izinv1.ConsentStatus_CONSENT_STATUS_GRANTED,
						ConsentTime: timestamppb.New(signed.Add(time.Duration(i) * time.Second)), EvidenceReference: "box 1"})
				}
				msgs = append(msgs, m)
			}
			imported := make(chan error, 1)
			go func() {
				rep, err := s.importStream(ctx, key, msgs...)
				if err == nil && rep.GetAccepted() != int64(n) {
					err = fmt.Errorf("accepted %d of %d rows: %v", rep.GetAccepted(), n, rep.GetErrors())
				}
				imported <- err
			}()
			evs := w.events(t, n) // next checks every sequence follows the one before
			if err := <-imported; err != nil {
				t.Fatalf("import: %v", err)
			}
			if evs[0].GetSequence() != 1 || evs[n-1].GetSequence() != int64(n) ||
				evs[n-1].GetRecipient() != fmt.Sprintf("+90535%07d", n-1) {
				t.Fatalf("events %d…%d, the last of %s", evs[0].GetSequence(), evs[n-1].GetSequence(), evs[n-1].GetRecipient())
			}
		})
	}
}

// TestWatchEndsWhenTheServerStops: a stopping server ends its watches as
// unavailable, so that clients resume elsewhere, instead of waiting for
// them until its shutdown deadline.
func TestWatchEndsWhenTheServerStops(t *testing.T) {
	t.Parallel()
	errc := make(chan error, 1)
	parent := testCtx(t)
	start := time.Now()
	t.Run("serve", func(t *testing.T) {
		s := startServer(t, sqliteEngine)
		tn := s.newTenant(t, "Watch stop")
		// A connection of its own: the harness closes s.conn first.
		conn, err := grpc.NewClient(s.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		// The parent's context: this test's ends before its server stops.
		ctx := metadata.AppendToOutgoingContext(parent, "authorization", "Bearer "+tn.AdminKey)
		stream, err := izinv1.NewConsentServiceClient(conn).WatchConsentEvents(ctx, &izinv1.WatchConsentEventsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if m, err := stream.Recv(); err != nil || m.GetHeartbeat() == nil {
			t.Fatalf("first message %v, %v; want a heartbeat", m, err)
		}
		go func() {
			defer conn.Close()
			_, err := stream.Recv()
			errc <- err
		}()
	}) // the server stops here
	select {
	case err := <-errc:
		if st := status.Convert(err); st.Code() != codes.Unavailable || !strings.Contains(st.Message(), "stopping") {
			t.Errorf("the watch ended with %v, want UNAVAILABLE saying the server is stopping", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the watch did not end within 30 s of the server's stop")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the server took %v to stop with a watch open", d)
	}
}
