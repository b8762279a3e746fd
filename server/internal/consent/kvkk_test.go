package consent_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/evidence"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/texts"
)

// kvkkStep is one call of a KVKK scenario and what it must leave.
type kvkkStep struct {
	reject   bool // RejectConsent; otherwise RecordConsent
	types    []store.ConsentType
	kvkk     store.KVKKStatus // record: the choice
	withdraw bool             // reject: withdraw_kvkk
	at       time.Duration    // consent time relative to now (0: now)
	rtype    store.RecipientType

	wantField  string // an invalid request naming this field
	wantReason errs.Reason
	wantETK    int // ETK events written
	wantKVKKEv int // KVKK events written (0 or 1)
	wantKVKK   store.KVKKStatus
	want       map[store.ConsentType]store.ConsentStatus // ETK state after, by check
}

func TestKVKKState(t *testing.T) {
	G, R, N := store.StatusGranted, store.StatusRejected, store.StatusNone
	yes, no, gone, unset := store.KVKKGranted, store.KVKKDeclined, store.KVKKWithdrawn, store.KVKKUnspecified
	tests := []struct {
		name  string
		steps []kvkkStep
	}{
		{"an ETK rejection keeps the KVKK state", []kvkkStep{
			{types: both, kvkk: yes, wantETK: 2, wantKVKKEv: 1, wantKVKK: yes, want: map[store.ConsentType]store.ConsentStatus{store.ConsentSMS: G, store.ConsentCall: G}},
			{reject: true, types: sms, wantETK: 1, wantKVKK: yes, want: map[store.ConsentType]store.ConsentStatus{store.ConsentSMS: R, store.ConsentCall: G}},
			{reject: true, wantETK: 1, wantKVKK: yes, want: map[store.ConsentType]store.ConsentStatus{store.ConsentSMS: R, store.ConsentCall: R}},
			{types: sms, wantETK: 1, wantKVKK: yes, want: map[store.ConsentType]store.ConsentStatus{store.ConsentSMS: G}},
		}},
		{"KVKK alone changes no ETK type, once", []kvkkStep{
			{kvkk: yes, wantKVKKEv: 1, wantKVKK: yes, want: map[store.ConsentType]store.ConsentStatus{store.ConsentSMS: N, store.ConsentCall: N, store.ConsentEmail: N}},
			{kvkk: yes, wantKVKK: yes},
		}},
		{"withdrawing alone leaves ETK as it was", []kvkkStep{
			{types: both, kvkk: yes, wantETK: 2, wantKVKKEv: 1, wantKVKK: yes},
			{reject: true, withdraw: true, wantKVKKEv: 1, wantKVKK: gone, want: map[store.ConsentType]store.ConsentStatus{store.ConsentSMS: G, store.ConsentCall: G}},
			{reject: true, withdraw: true, wantKVKK: gone},
		}},
		{"withdrawing with types", []kvkkStep{
			{types: both, kvkk: yes, wantETK: 2, wantKVKKEv: 1, wantKVKK: yes},
			{reject: true, types: sms, withdraw: true, wantETK: 1, wantKVKKEv: 1, wantKVKK: gone, want: map[store.ConsentType]store.ConsentStatus{store.ConsentSMS: R, store.ConsentCall: G}},
		}},
		{"withdrawing what was not given changes nothing", []kvkkStep{
			{reject: true, withdraw: true, wantKVKK: unset},
			{kvkk: no, wantKVKKEv: 1, wantKVKK: no},
			{reject: true, withdraw: true, wantKVKK: no},
		}},
		{"the newest answer stands", []kvkkStep{
			{types: sms, kvkk: yes, wantETK: 1, wantKVKKEv: 1, wantKVKK: yes},
			{types: sms, kvkk: no, wantKVKKEv: 1, wantKVKK: no, want: map[store.ConsentType]store.ConsentStatus{store.ConsentSMS: G}},
			{kvkk: yes, wantKVKKEv: 1, wantKVKK: yes},
			{reject: true, withdraw: true, wantKVKKEv: 1, wantKVKK: gone},
			{kvkk: no, wantKVKKEv: 1, wantKVKK: no},
		}},
		{"withdrawing beside types without a record is no first RET", []kvkkStep{
			{kvkk: yes, wantKVKKEv: 1, wantKVKK: yes},
			{reject: true, types: sms, withdraw: true, wantKVKKEv: 1, wantKVKK: gone, want: map[store.ConsentType]store.ConsentStatus{store.ConsentSMS: N}},
			{reject: true, types: sms, wantReason: errs.ReasonFirstRecordRejected, wantKVKK: gone},
		}},
		{"a KVKK change older than the state is refused", []kvkkStep{
			{kvkk: yes, wantKVKKEv: 1, wantKVKK: yes},
			{kvkk: no, at: -time.Hour, wantReason: errs.ReasonInvalidConsentTime, wantField: "consent_time", wantKVKK: yes},
		}},
		{"per recipient type", []kvkkStep{
			{kvkk: yes, wantKVKKEv: 1, wantKVKK: yes},
			{kvkk: no, rtype: store.Merchant, wantKVKKEv: 1, wantKVKK: no},
			{kvkk: yes, wantKVKK: yes},
		}},
		{"requests the rules refuse name the field", []kvkkStep{
			{wantField: "types"},
			{kvkk: gone, wantField: "kvkk"},
			{kvkk: 9, wantField: "kvkk"},
			// Withdrawing is RejectConsent's: a record ignores it.
			{types: sms, withdraw: true, wantETK: 1, wantKVKK: unset},
		}},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			for i, s := range tt.steps {
				e.now = e.now.Add(time.Minute)
				req := consent.ChangeRequest{Recipient: "0532 123 45 67", RecipientType: s.rtype, Types: s.types,
					KVKK: s.kvkk, WithdrawKVKK: s.withdraw, Reference: "form-7"}
				if s.at != 0 {
					at := e.now.Add(s.at)
					req.ConsentTime = &at
				}
				op := e.svc.Record
				if s.reject {
					op = e.svc.Reject
				}
				res, err := op(ctx, e.p, req)
				switch {
				case s.wantReason != "":
					if de, ok := errs.As(err); !ok || de.Reason != s.wantReason || de.Field != s.wantField {
						t.Fatalf("step %d: %v, want reason %s on field %q", i, err, s.wantReason, s.wantField)
					}
				case s.wantField != "":
					if de, ok := errs.As(err); !ok || de.Kind != errs.KindInvalid || de.Field != s.wantField {
						t.Fatalf("step %d: %v, want an invalid %s", i, err, s.wantField)
					}
					continue
				case err != nil:
					t.Fatalf("step %d: %v", i, err)
				default:
					expectKVKKEvents(t, i, res, s, e)
				}
				check, err := e.svc.Check(ctx, e.p, consent.CheckRequest{Recipient: "+905321234567", RecipientType: s.rtype})
				if err != nil {
					t.Fatal(err)
				}
				if check.KVKK.Status != s.wantKVKK {
					t.Fatalf("step %d: check says KVKK %v, want %v", i, check.KVKK.Status, s.wantKVKK)
				}
				for _, r := range check.Results {
					if r.KVKK != s.wantKVKK {
						t.Errorf("step %d: %v result has KVKK %v, want %v", i, r.Type, r.KVKK, s.wantKVKK)
					}
					if want, ok := s.want[r.Type]; ok && r.Status != want {
						t.Errorf("step %d: %v is %v, want %v", i, r.Type, r.Status, want)
					}
				}
				if res != nil && (res.KVKK.Status != check.KVKK.Status || res.KVKK.EventID != check.KVKK.EventID) {
					t.Errorf("step %d: the answer's KVKK %+v differs from the check's %+v", i, res.KVKK, check.KVKK)
				}
			}
			verifyChain(t, e)
		})
	}
}

// expectKVKKEvents checks the events of a step: how many of each kind, and
// that a KVKK event carries the evidence and is what the state points at.
func expectKVKKEvents(t *testing.T, i int, res *consent.ChangeResponse, s kvkkStep, e *env) {
	t.Helper()
	var etk, kvkk []store.ConsentEvent
	for _, ev := range res.Events {
		if ev.Type == store.ConsentKVKK {
			kvkk = append(kvkk, ev)
		} else {
			etk = append(etk, ev)
		}
		if ev.Type != store.ConsentKVKK && ev.KVKK != store.KVKKUnspecified {
			t.Errorf("step %d: ETK event %v carries KVKK %v", i, ev.Type, ev.KVKK)
		}
	}
	if len(etk) != s.wantETK || len(kvkk) != s.wantKVKKEv {
		t.Fatalf("step %d: %d ETK and %d KVKK events, want %d and %d", i, len(etk), len(kvkk), s.wantETK, s.wantKVKKEv)
	}
	if len(kvkk) == 1 {
		ev := kvkk[0]
		wantStatus := store.StatusRejected
		if ev.KVKK == store.KVKKGranted {
			wantStatus = store.StatusGranted
		}
		if ev.KVKK != s.wantKVKK || ev.Status != wantStatus || ev.Reference != "form-7" ||
			ev.APIKeyID == nil || *ev.APIKeyID != e.p.KeyID || ev.Hash == "" {
			t.Errorf("step %d: KVKK event %+v", i, ev)
		}
		if res.KVKK.EventID != ev.ID || res.KVKK.ConsentTime == nil || !res.KVKK.ConsentTime.Equal(ev.ConsentTime) {
			t.Errorf("step %d: KVKK state %+v does not come from event %s", i, res.KVKK, ev.ID)
		}
	}
}

// verifyChain checks the tenant's hash chain end to end.
func verifyChain(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	var v evidence.Verifier
	if err := e.st.WalkConsentEvents(ctx, e.p.TenantID, v.Next); err != nil {
		t.Fatalf("hash chain: %v", err)
	}
	var head store.ChainHead
	if err := e.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		head, err = tx.LockChain(ctx, e.p.TenantID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := v.End(head); err != nil {
		t.Fatalf("hash chain: %v", err)
	}
}

// KVKK events never reach İYS, which keeps ETK consents only; the ETK
// events of the same call do.
func TestKVKKNotUploaded(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	res, err := e.svc.Record(ctx, e.p, consent.ChangeRequest{Recipient: "05321234567", Types: both, KVKK: store.KVKKGranted})
	if err != nil || len(res.Events) != 3 {
		t.Fatalf("record: %+v %v", res, err)
	}
	e.now = e.now.Add(time.Minute)
	if _, err := e.svc.Reject(ctx, e.p, consent.ChangeRequest{Recipient: "05321234567", WithdrawKVKK: true}); err != nil {
		t.Fatal(err)
	}
	ups, err := e.st.ListIYSUploads(ctx, store.IYSUploadFilter{TenantID: e.p.TenantID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 2 {
		t.Fatalf("%d İYS uploads, want 2 (SMS and CALL)", len(ups))
	}
	for _, u := range ups {
		if u.Type == store.ConsentKVKK || u.EventID == res.Events[2].ID {
			t.Errorf("KVKK event queued for İYS: %+v", u)
		}
	}
}

// The explicit-consent text a source names goes into the evidence; a text
// of another kind, or none of the tenant's, is refused by name.
func TestKVKKText(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	all, err := e.st.ListConsentTexts(ctx, store.ConsentTextFilter{TenantID: e.p.TenantID})
	if err != nil {
		t.Fatal(err)
	}
	var explicit, etk *store.ConsentText
	for i := range all {
		switch {
		case all[i].Kind == store.TextExplicit && all[i].Language == "tr":
			explicit = &all[i]
		case all[i].Kind == store.TextETK:
			etk = &all[i]
		}
	}
	if explicit == nil || etk == nil {
		t.Fatalf("the tenant lacks default texts: %+v", all)
	}
	for _, tc := range []struct {
		name  string
		req   consent.ChangeRequest
		field string
	}{
		{"an ETK text", consent.ChangeRequest{KVKK: store.KVKKGranted, KVKKTextID: etk.ID}, "kvkk_text_id"},
		{"an unknown text", consent.ChangeRequest{KVKK: store.KVKKGranted, KVKKTextID: "0b7c1bd3-0f1e-4d55-9f7f-3a7c1e2b9d10"}, "kvkk_text_id"},
		{"a text without kvkk", consent.ChangeRequest{Types: sms, KVKKTextID: explicit.ID}, "kvkk_text_id"},
		{"a confirmation without types", consent.ChangeRequest{KVKK: store.KVKKGranted, SendConfirmation: true}, "send_confirmation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Recipient = "05321234567"
			_, err := e.svc.Record(ctx, e.p, tc.req)
			if de, ok := errs.As(err); !ok || de.Kind != errs.KindInvalid || de.Field != tc.field {
				t.Fatalf("got %v, want an invalid %s", err, tc.field)
			}
		})
	}
	res, err := e.svc.Record(ctx, e.p, consent.ChangeRequest{Recipient: "05321234567", KVKK: store.KVKKGranted,
		KVKKTextID: explicit.ID, OperatorID: "agent-4"})
	if err != nil || len(res.Events) != 1 {
		t.Fatalf("record: %+v %v", res, err)
	}
	ev := res.Events[0]
	if ev.Texts != texts.Ref(explicit) || ev.OperatorID != "agent-4" || !strings.HasPrefix(ev.Texts, "explicit_consent/") {
		t.Errorf("KVKK event texts %q operator %q, want %q and agent-4", ev.Texts, ev.OperatorID, texts.Ref(explicit))
	}
}
