package consent_test

import (
	"context"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/store/sqlstore/sqlitetest"
	"github.com/izinhq/izin/server/internal/tenancy"
)

type env struct {
	st  *sqlstore.Store
	svc *consent.Service
	p   auth.Principal
	now time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st := sqlitetest.Open(t)
	ten := tenancy.New(st, nil, time.Minute)
	c, err := ten.CreateTenant(ctx, tenancy.NewTenant{Name: "Acme", Mersis: "0123456789012345",
		Brand: store.Brand{Code: "ACME", Name: "Acme", Sender: "ACME"}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	e.svc = consent.New(st, ten, nil, func() time.Time { return e.now })
	e.p = auth.Principal{TenantID: c.Tenant.ID, KeyID: c.KeyInfo.ID, Scope: store.ScopeAdmin}
	return e
}

type step struct {
	op      string // "grant" or "reject"
	types   []store.ConsentType
	rtype   store.RecipientType
	at      time.Duration // consent time relative to now (0: now)
	advance time.Duration // move the clock before the step
	// expectations
	wantReason errs.Reason
	wantKind   errs.Kind
	wantEvents int
	want       map[store.ConsentType]store.ConsentStatus // state after the step, by check
	allowed    map[store.ConsentType]bool
}

var (
	sms   = []store.ConsentType{store.ConsentSMS}
	call  = []store.ConsentType{store.ConsentCall}
	both  = []store.ConsentType{store.ConsentSMS, store.ConsentCall}
	email = []store.ConsentType{store.ConsentEmail}
)

func TestStateMachine(t *testing.T) {
	G, R, N := store.StatusGranted, store.StatusRejected, store.StatusNone
	tests := []struct {
		name  string
		steps []step
	}{
		{"grant then reject then grant again", []step{
			{op: "grant", types: both, wantEvents: 2, want: map[store.ConsentType]store.ConsentStatus{store.ConsentSMS: G, store.ConsentCall: G, store.ConsentEmail: N}},
			{op: "reject", types: sms, advance: time.Minute, wantEvents: 1, want: map[store.ConsentType]store.ConsentStatus{store.ConsentSMS: R, store.ConsentCall: G}},
			{op: "grant", types: sms, advance: time.Minute, wantEvents: 1, want: map[store.ConsentType]store.ConsentStatus{store.ConsentSMS: G}},
		}},
		{"ONAY after ONAY and RET after RET change nothing", []step{
			{op: "grant", types: sms, wantEvents: 1},
			{op: "grant", types: sms, advance: time.Minute, wantEvents: 0, want: map[store.ConsentType]store.ConsentStatus{store.ConsentSMS: G}},
			{op: "reject", types: sms, advance: time.Minute, wantEvents: 1},
			{op: "reject", types: sms, advance: time.Minute, wantEvents: 0, want: map[store.ConsentType]store.ConsentStatus{store.ConsentSMS: R}},
		}},
		{"first record cannot be RET for an individual", []step{
			{op: "reject", types: sms, wantKind: errs.KindFailedPrecondition, wantReason: errs.ReasonFirstRecordRejected,
				want: map[store.ConsentType]store.ConsentStatus{store.ConsentSMS: N}},
		}},
		{"rejecting all types skips those without a record", []step{
			{op: "grant", types: call, wantEvents: 1},
			{op: "reject", types: nil, advance: time.Minute, wantEvents: 1, want: map[store.ConsentType]store.ConsentStatus{store.ConsentSMS: N, store.ConsentCall: R}},
		}},
		{"merchant is allowed without record and can reject first", []step{
			{op: "grant", types: nil, rtype: store.Merchant, wantEvents: 0, wantKind: -1},
			{op: "reject", types: sms, rtype: store.Merchant, wantEvents: 1,
				want:    map[store.ConsentType]store.ConsentStatus{store.ConsentSMS: R, store.ConsentCall: N},
				allowed: map[store.ConsentType]bool{store.ConsentSMS: false, store.ConsentCall: true}},
		}},
		{"an event older than the current record is refused", []step{
			{op: "grant", types: sms, wantEvents: 1},
			{op: "reject", types: sms, at: -time.Hour, wantKind: errs.KindFailedPrecondition, wantReason: errs.ReasonInvalidConsentTime,
				want: map[store.ConsentType]store.ConsentStatus{store.ConsentSMS: G}},
		}},
		{"consent dates before 2015-05-01 or in the future are refused", []step{
			{op: "grant", types: sms, at: -12 * 365 * 24 * time.Hour, wantKind: errs.KindInvalid, wantReason: errs.ReasonInvalidConsentTime},
			{op: "grant", types: sms, at: time.Hour, wantKind: errs.KindInvalid, wantReason: errs.ReasonInvalidConsentTime,
				want: map[store.ConsentType]store.ConsentStatus{store.ConsentSMS: N}},
		}},
		{"a historic consent date is kept", []step{
			{op: "grant", types: sms, at: -400 * 24 * time.Hour, wantEvents: 1, want: map[store.ConsentType]store.ConsentStatus{store.ConsentSMS: G}},
		}},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			for i, s := range tt.steps {
				e.now = e.now.Add(s.advance)
				req := consent.ChangeRequest{Recipient: "0532 123 45 67", RecipientType: s.rtype, Types: s.types}
				if s.at != 0 {
					at := e.now.Add(s.at)
					req.ConsentTime = &at
				}
				if s.wantKind == -1 { // a merchant check, not a change
					res, err := e.svc.Check(ctx, e.p, consent.CheckRequest{Recipient: req.Recipient, RecipientType: store.Merchant})
					if err != nil || !res.Results[0].Allowed || res.Results[0].Status != N {
						t.Fatalf("step %d: merchant without record: %+v %v", i, res, err)
					}
					continue
				}
				var res *consent.ChangeResponse
				var err error
				if s.op == "grant" {
					res, err = e.svc.Record(ctx, e.p, req)
				} else {
					res, err = e.svc.Reject(ctx, e.p, req)
				}
				if s.wantReason != "" {
					de, ok := errs.As(err)
					if !ok || de.Reason != s.wantReason || de.Kind != s.wantKind {
						t.Fatalf("step %d: error %v, want kind %d reason %s", i, err, s.wantKind, s.wantReason)
					}
				} else {
					if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					if len(res.Events) != s.wantEvents {
						t.Fatalf("step %d: %d events, want %d", i, len(res.Events), s.wantEvents)
					}
					for _, ev := range res.Events {
						if ev.Hash == "" || ev.Seq == 0 || ev.APIKeyID == nil || *ev.APIKeyID != e.p.KeyID {
							t.Fatalf("step %d: event lacks chain or evidence: %+v", i, ev)
						}
					}
				}
				if s.want == nil {
					continue
				}
				check, err := e.svc.Check(ctx, e.p, consent.CheckRequest{Recipient: "+905321234567", RecipientType: s.rtype})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range check.Results {
					if want, ok := s.want[r.Type]; ok && r.Status != want {
						t.Fatalf("step %d: type %d is %d, want %d", i, r.Type, r.Status, want)
					}
					if want, ok := s.allowed[r.Type]; ok && r.Allowed != want {
						t.Fatalf("step %d: type %d allowed=%v, want %v", i, r.Type, r.Allowed, want)
					}
					if r.Status == G && !r.Allowed {
						t.Fatalf("step %d: GRANTED but not allowed", i)
					}
				}
			}
		})
	}
}

func TestRecipientAndTypes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct {
		name      string
		req       consent.ChangeRequest
		wantField string
	}{
		{"malformed phone", consent.ChangeRequest{Recipient: "12ab", Types: sms}, "recipient"},
		{"e-mail consent for a phone", consent.ChangeRequest{Recipient: "05321234567", Types: []store.ConsentType{store.ConsentEmail}}, "types"},
		{"SMS consent for an address", consent.ChangeRequest{Recipient: "a@b.com.tr", Types: sms}, "types"},
		{"unknown brand", consent.ChangeRequest{Recipient: "05321234567", Types: sms, Brand: "NOPE"}, "brand"},
		{"confirmation to an address", consent.ChangeRequest{Recipient: "a@b.com.tr", Types: email, SendConfirmation: true}, "send_confirmation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Record(ctx, e.p, tt.req)
			de, ok := errs.As(err)
			if !ok || de.Kind != errs.KindInvalid || de.Field != tt.wantField {
				t.Fatalf("got %v, want an invalid %s", err, tt.wantField)
			}
		})
	}
	// E-mail consent for an address works and is found by any spelling.
	if _, err := e.svc.Record(ctx, e.p, consent.ChangeRequest{Recipient: " Ali@Example.com ", Types: email}); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.Check(ctx, e.p, consent.CheckRequest{Recipient: "ali@example.COM", Types: []store.ConsentType{store.ConsentEmail}})
	if err != nil || res.Results[0].Status != store.StatusGranted || res.Recipient != "ali@example.com" {
		t.Fatalf("check e-mail: %+v %v", res, err)
	}
}

func TestIdempotentRecord(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	req := consent.ChangeRequest{Recipient: "05321234567", Types: sms, IdempotencyKey: "k1"}
	first, err := e.svc.Record(ctx, e.p, req)
	if err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(time.Minute)
	again, err := e.svc.Record(ctx, e.p, req)
	if err != nil || len(again.Events) != 1 || again.Events[0].ID != first.Events[0].ID {
		t.Fatalf("replay: %+v %v", again, err)
	}
	req.Recipient = "05329999999"
	_, err = e.svc.Record(ctx, e.p, req)
	if de, ok := errs.As(err); !ok || de.Reason != errs.ReasonIdempotencyKeyReused {
		t.Fatalf("reused key for another request: %v", err)
	}
}

func TestListEventsPaging(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		e.now = e.now.Add(time.Minute)
		op := e.svc.Record
		if i%2 == 1 {
			op = e.svc.Reject
		}
		if _, err := op(ctx, e.p, consent.ChangeRequest{Recipient: "05321234567", Types: sms}); err != nil {
			t.Fatal(err)
		}
	}
	var seqs []int64
	tok := ""
	for page := 0; page < 10; page++ {
		evs, next, err := e.svc.ListEvents(ctx, e.p, consent.ListRequest{Recipient: "0532 123 45 67", PageSize: 2, PageToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			seqs = append(seqs, ev.Seq)
		}
		if next == "" {
			break
		}
		tok = next
	}
	if len(seqs) != 5 || seqs[0] != 5 || seqs[4] != 1 {
		t.Fatalf("paged sequences %v, want 5..1", seqs)
	}
	if _, _, err := e.svc.ListEvents(ctx, e.p, consent.ListRequest{PageToken: "garbage"}); err == nil {
		t.Fatal("a garbage page token was accepted")
	}
}

func TestChangesAreQueuedForIYS(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec, err := e.svc.Record(ctx, e.p, consent.ChangeRequest{Recipient: "05321234567", Types: both, IYSSource: "HS_WEB"})
	if err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(time.Minute)
	// A rejection made at İYS itself is applied but not sent back to İYS.
	if _, err := e.svc.Reject(ctx, e.p, consent.ChangeRequest{Recipient: "05321234567", Types: sms, IYSSource: "IYS_WEB"}); err != nil {
		t.Fatal(err)
	}
	var ups []store.IYSUpload
	if err := e.st.DB().Order("consent_time, type").Find(&ups).Error; err != nil {
		t.Fatal(err)
	}
	if len(ups) != 2 {
		t.Fatalf("%d uploads queued, want the 2 grants only: %+v", len(ups), ups)
	}
	for i, u := range ups {
		if u.EventID != rec.Events[i].ID || u.State != store.IYSPending || u.Status != store.StatusGranted ||
			u.Source != "HS_WEB" || u.Recipient != "+905321234567" || !u.ConsentTime.Equal(rec.Events[i].ConsentTime) {
			t.Fatalf("upload %d: %+v", i, u)
		}
	}
}
