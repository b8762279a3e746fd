package verify_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/evidence"
	"github.com/izinhq/izin/server/internal/outbox"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/verify"
)

var (
	landingRE = regexp.MustCompile(`/l/([A-Za-z0-9_-]{16})(\s|$)`)
	rejectRE  = regexp.MustCompile(`/r/([A-Za-z0-9_-]{16})(\s|$)`)
)

// publish adds a version of every text in lang with a recognisable title,
// straight through the store (as AdminService.CreateConsentText does).
func (e *env) publish(t *testing.T, brandID, lang, tag string) map[store.TextKind]store.ConsentText {
	t.Helper()
	out := map[store.TextKind]store.ConsentText{}
	for _, k := range store.TextKinds {
		title := tag + " title " + lang
		body := tag + " body " + lang
		sum := sha256.Sum256([]byte(title + "\n" + body))
		ct := store.ConsentText{ID: uuid.NewString(), TenantID: e.p.TenantID, BrandID: brandID, Kind: k, Language: lang,
			Title: title, Body: body, SHA256: hex.EncodeToString(sum[:]), CreatedAt: e.clock.now()}
		if err := e.st.CreateConsentText(context.Background(), &ct); err != nil {
			t.Fatal(err)
		}
		out[k] = ct
	}
	return out
}

func (e *env) brand(t *testing.T) *store.Brand {
	t.Helper()
	bs, err := e.st.ListBrands(context.Background(), e.p.TenantID)
	if err != nil || len(bs) == 0 {
		t.Fatalf("brands: %v %v", bs, err)
	}
	return &bs[0]
}

// lastBody is the newest message of a kind for a verification.
func (e *env) lastBody(t *testing.T, verificationID string, kind store.MessageKind) string {
	t.Helper()
	msgs, err := e.st.MessagesOfVerification(context.Background(), e.p.TenantID, verificationID)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Kind == kind {
			return msgs[i].Body
		}
	}
	t.Fatalf("no message of kind %d for %s", kind, verificationID)
	return ""
}

func (e *env) startLanding(t *testing.T, rcpt string) (*verify.View, string) {
	t.Helper()
	v, err := e.svc.Start(context.Background(), e.p, verify.StartRequest{Recipient: rcpt, FirstName: "Ayşe", LastName: "Yılmaz",
		Types: []store.ConsentType{store.ConsentSMS, store.ConsentCall}, Method: store.MethodLandingPage})
	if err != nil {
		t.Fatal(err)
	}
	m := landingRE.FindStringSubmatch(e.lastBody(t, v.ID, store.KindLandingLink))
	if m == nil {
		t.Fatalf("no link in the consent-page SMS")
	}
	return v, m[1]
}

func wantErr(t *testing.T, err error, kind errs.Kind, reason errs.Reason, field string) {
	t.Helper()
	de, ok := errs.As(err)
	if !ok || de.Kind != kind || de.Reason != reason || de.Field != field {
		t.Fatalf("got %#v, want kind %d reason %q field %q", err, kind, reason, field)
	}
}

func TestLandingPageFlow(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		b := e.brand(t)
		tr := e.publish(t, b.ID, "tr", "v-a")
		en := e.publish(t, b.ID, "en", "v-a")

		v, token := e.startLanding(t, "0532 123 45 67")
		if v.Status != store.VerificationPending || v.Method != store.MethodLandingPage {
			t.Fatalf("started %+v", v.Verification)
		}
		if !strings.HasSuffix(v.LandingURL, "/l/"+token) || !strings.HasPrefix(v.LandingURL, outbox.DefaultPublicURL) {
			t.Fatalf("landing URL %q does not match the SMS link %q", v.LandingURL, token)
		}
		// No code exists before the page is sent.
		_, err := e.svc.Submit(ctx, e.p, v.ID, "123456")
		wantErr(t, err, errs.KindFailedPrecondition, errs.ReasonPageNotSubmitted, "")

		client := evidence.Client{IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (iPhone)"}
		page, err := e.svc.OpenPage(ctx, token, "en", client)
		if err != nil {
			t.Fatal(err)
		}
		if page.State != verify.PageOpen || page.Language != "en" || page.ETK.Title != en[store.TextETK].Title ||
			page.Privacy.Body != en[store.TextPrivacy].Body || page.Explicit.ID != en[store.TextExplicit].ID {
			t.Fatalf("page %+v does not show the English texts", page)
		}
		if page.MaskedRecipient != "+90 532 *** ** 67" || page.FirstName != "Ayşe" || page.Mersis != "0123456789012345" ||
			page.BrandName != b.Name || page.PageViewedAt == nil {
			t.Fatalf("page details %+v", page)
		}
		// Turkish is the default, and a language without texts falls back to it.
		for _, lang := range []string{"tr", "", "de"} {
			p, err := e.svc.OpenPage(ctx, token, lang, client)
			if err != nil || p.Language != "tr" || p.ETK.ID != tr[store.TextETK].ID {
				t.Fatalf("OpenPage(%q) = %+v, %v; want the Turkish texts", lang, p, err)
			}
			if !p.PageViewedAt.Equal(*page.PageViewedAt) {
				t.Fatalf("a later view moved the first view time")
			}
		}
		// A version published now does not change what this customer reads.
		e.publish(t, b.ID, "en", "v-b")

		_, err = e.svc.SubmitPage(ctx, token, verify.PageForm{Language: "en", KVKK: true, Client: client})
		wantErr(t, err, errs.KindInvalid, "", "etk")

		e.clock.add(30 * time.Second)
		sent, err := e.svc.SubmitPage(ctx, token, verify.PageForm{Language: "en", ETK: true, Client: client})
		if err != nil {
			t.Fatal(err)
		}
		if sent.State != verify.PageCodeSent || sent.KVKK != store.KVKKDeclined || sent.ETK.ID != en[store.TextETK].ID {
			t.Fatalf("after submit: %+v", sent)
		}
		_, err = e.svc.SubmitPage(ctx, token, verify.PageForm{Language: "en", ETK: true, KVKK: true, Client: client})
		wantErr(t, err, errs.KindFailedPrecondition, errs.ReasonVerificationClosed, "")
		if p, err := e.svc.OpenPage(ctx, token, "", client); err != nil || p.State != verify.PageCodeSent || p.Language != "en" {
			t.Fatalf("reopened after submit: %+v %v", p, err)
		}

		res, err := e.svc.Submit(ctx, e.p, v.ID, e.code(t, v.ID))
		if err != nil {
			t.Fatal(err)
		}
		// SMS and CALL granted, and the KVKK choice as an event of its own.
		if res.View.Status != store.VerificationVerified || res.View.KVKK != store.KVKKDeclined || len(res.Events) != 3 {
			t.Fatalf("verified: %+v, %d events", res.View.Verification, len(res.Events))
		}
		for i, ev := range res.Events {
			wantType, wantStatus, wantKVKK := store.ConsentSMS, store.StatusGranted, store.KVKKUnspecified
			switch i {
			case 1:
				wantType = store.ConsentCall
			case 2:
				wantType, wantStatus, wantKVKK = store.ConsentKVKK, store.StatusRejected, store.KVKKDeclined
			}
			if ev.Type != wantType || ev.Status != wantStatus || ev.KVKK != wantKVKK {
				t.Errorf("event %d: type %v status %v kvkk %v, want %v %v %v", i, ev.Type, ev.Status, ev.KVKK, wantType, wantStatus, wantKVKK)
			}
			if ev.Method != store.MethodLandingPage || ev.IPAddress != client.IP || ev.UserAgent != client.UserAgent ||
				ev.TickedBoxes != "etk" || ev.PageViewAt == nil || ev.PageSubmitAt == nil ||
				!ev.PageSubmitAt.After(*ev.PageViewAt) || ev.VerificationID == nil || *ev.VerificationID != v.ID {
				t.Fatalf("event evidence %+v", ev)
			}
			for _, k := range store.TextKinds {
				if want := verify.TextRef(ptr(en[k])); !strings.Contains(ev.Texts, want) {
					t.Errorf("event texts %q lack %q", ev.Texts, want)
				}
			}
			if !strings.Contains(ev.Texts, "activation_sms:sha256:") {
				t.Errorf("event texts %q lack the activation SMS", ev.Texts)
			}
		}
		if res.Results[0].KVKK != store.KVKKDeclined || res.KVKK.Status != store.KVKKDeclined || res.KVKK.EventID != res.Events[2].ID {
			t.Fatalf("result %+v, KVKK %+v: want the KVKK choice from its event", res.Results[0], res.KVKK)
		}
		if p, err := e.svc.OpenPage(ctx, token, "tr", client); err != nil || p.State != verify.PageVerified {
			t.Fatalf("page after verification: %+v %v", p, err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestLandingPageRefusals(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		b := e.brand(t)
		e.publish(t, b.ID, "tr", "x")
		c := evidence.Client{IP: "198.51.100.1"}

		t.Run("unknown and malformed tokens", func(t *testing.T) {
			for _, tok := range []string{"AAAAAAAAAAAAAAAA", "short", "../../etc/passwd", ""} {
				_, err := e.svc.OpenPage(ctx, tok, "tr", c)
				wantErr(t, err, errs.KindNotFound, "", "")
				_, err = e.svc.SubmitPage(ctx, tok, verify.PageForm{ETK: true})
				wantErr(t, err, errs.KindNotFound, "", "")
			}
		})
		t.Run("expired link", func(t *testing.T) {
			_, token := e.startLanding(t, "05321110001")
			e.clock.add(verify.DefaultLandingTTL + time.Second)
			_, err := e.svc.OpenPage(ctx, token, "tr", c)
			wantErr(t, err, errs.KindFailedPrecondition, errs.ReasonVerificationExpired, "")
			_, err = e.svc.SubmitPage(ctx, token, verify.PageForm{ETK: true})
			wantErr(t, err, errs.KindFailedPrecondition, errs.ReasonVerificationExpired, "")
		})
		t.Run("cancelled", func(t *testing.T) {
			v, token := e.startLanding(t, "05321110002")
			if _, err := e.svc.Cancel(ctx, e.p, v.ID); err != nil {
				t.Fatal(err)
			}
			_, err := e.svc.OpenPage(ctx, token, "tr", c)
			wantErr(t, err, errs.KindFailedPrecondition, errs.ReasonVerificationClosed, "")
		})
		t.Run("resend before the page is sent replaces the link", func(t *testing.T) {
			v, token := e.startLanding(t, "05321110003")
			e.clock.add(2 * time.Minute)
			rv, err := e.svc.Resend(ctx, e.p, v.ID)
			if err != nil {
				t.Fatal(err)
			}
			m := landingRE.FindStringSubmatch(e.lastBody(t, v.ID, store.KindLandingLink))
			if m == nil || m[1] == token || !strings.HasSuffix(rv.LandingURL, "/l/"+m[1]) {
				t.Fatalf("resend: url %q, sms token %v, old %q", rv.LandingURL, m, token)
			}
			_, err = e.svc.OpenPage(ctx, token, "tr", c)
			wantErr(t, err, errs.KindNotFound, "", "")
			if _, err := e.svc.OpenPage(ctx, m[1], "tr", c); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("concurrent submits send one code", func(t *testing.T) {
			v, token := e.startLanding(t, "05321110004")
			var wg sync.WaitGroup
			errsCh := make(chan error, 4)
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := e.svc.SubmitPage(ctx, token, verify.PageForm{ETK: true, KVKK: true, Client: c})
					errsCh <- err
				}()
			}
			wg.Wait()
			close(errsCh)
			ok := 0
			for err := range errsCh {
				if err == nil {
					ok++
				} else if de, _ := errs.As(err); de == nil || de.Reason != errs.ReasonVerificationClosed {
					t.Errorf("unexpected error %v", err)
				}
			}
			msgs, err := e.st.MessagesOfVerification(ctx, e.p.TenantID, v.ID)
			if err != nil {
				t.Fatal(err)
			}
			codes := 0
			for _, m := range msgs {
				if m.Kind == store.KindActivation {
					codes++
				}
			}
			if ok != 1 || codes != 1 {
				t.Fatalf("%d submits succeeded and %d codes were sent, want 1 and 1", ok, codes)
			}
		})
	})
}

func TestLandingNeedsTexts(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		// A brand created straight in the store has no texts at all.
		nb := &store.Brand{ID: uuid.NewString(), TenantID: e.p.TenantID, Code: "BARE", Name: "Bare", Sender: "BARE", CreatedAt: e.clock.now()}
		if err := e.st.CreateBrand(ctx, nb); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.Start(ctx, e.p, verify.StartRequest{Recipient: "05321234567", Brand: "BARE",
			Types: []store.ConsentType{store.ConsentSMS}, Method: store.MethodLandingPage})
		wantErr(t, err, errs.KindFailedPrecondition, errs.ReasonConsentTextMissing, "")
		// English alone is not enough: the page falls back to Turkish.
		e.publish(t, nb.ID, "en", "only-en")
		_, err = e.svc.Start(ctx, e.p, verify.StartRequest{Recipient: "05321234567", Brand: "BARE",
			Types: []store.ConsentType{store.ConsentSMS}, Method: store.MethodLandingPage})
		wantErr(t, err, errs.KindFailedPrecondition, errs.ReasonConsentTextMissing, "")
	})
}

// The confirmation SMS of a verification carries a rejection link; using it
// rejects exactly the confirmed types, once, with the browser as evidence.
func TestRejectLink(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ten := e.dir
		cons := consent.New(e.st, ten, nil, e.clock.now)
		v := e.start(t, "05321234567")
		if _, err := e.svc.Submit(ctx, e.p, v.ID, e.code(t, v.ID)); err != nil {
			t.Fatal(err)
		}
		body := e.lastBody(t, v.ID, store.KindConfirmation)
		m := rejectRE.FindStringSubmatch(body)
		if m == nil || sms.CheckSingleSegment(body) != nil {
			t.Fatalf("confirmation %q has no rejection link or does not fit one SMS", body)
		}
		page, err := cons.OpenRejectLink(ctx, m[1])
		if err != nil {
			t.Fatal(err)
		}
		if page.Rejected || page.MaskedRecipient != "+90 532 *** ** 67" || len(page.Types) != 2 {
			t.Fatalf("reject page %+v", page)
		}
		e.clock.add(time.Minute)
		client := evidence.Client{IP: "192.0.2.9", UserAgent: "Mozilla/5.0 (Android)"}
		done, err := cons.RejectByLink(ctx, m[1], client)
		if err != nil || !done.Rejected || done.RejectedAt == nil {
			t.Fatalf("reject: %+v %v", done, err)
		}
		check, err := cons.Check(ctx, e.p, consent.CheckRequest{Recipient: "+905321234567"})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range check.Results {
			want := store.StatusRejected
			if r.Type == store.ConsentEmail {
				want = store.StatusNone
			}
			if r.Status != want {
				t.Errorf("%v: %v, want %v", r.Type, r.Status, want)
			}
		}
		evs, err := e.st.ListConsentEvents(ctx, store.EventFilter{TenantID: e.p.TenantID, Limit: 2})
		if err != nil || len(evs) != 2 {
			t.Fatalf("events %v %v", evs, err)
		}
		for _, ev := range evs {
			if ev.Status != store.StatusRejected || ev.IPAddress != client.IP || ev.IYSSource != consent.RejectLinkSource {
				t.Errorf("rejection event %+v", ev)
			}
		}
		// Twice is not an error and changes nothing.
		again, err := cons.RejectByLink(ctx, m[1], client)
		if err != nil || !again.Rejected || !again.RejectedAt.Equal(*done.RejectedAt) {
			t.Fatalf("second use: %+v %v", again, err)
		}
		if evs2, _ := e.st.ListConsentEvents(ctx, store.EventFilter{TenantID: e.p.TenantID, Limit: 10}); len(evs2) != 4 {
			t.Fatalf("%d events after a second use, want 4", len(evs2))
		}
		_, err = cons.OpenRejectLink(ctx, "AAAAAAAAAAAAAAAA")
		wantErr(t, err, errs.KindNotFound, "", "")
	})
}
