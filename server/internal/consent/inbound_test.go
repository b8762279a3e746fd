package consent_test

import (
	"context"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/consent"
	smspkg "github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/store"
)

// replies records the answers ReceiveSMS queues.
type replies struct{ rejections, confirmations int }

func (r *replies) QueueConfirmation(context.Context, store.OutboxTx, *store.Tenant, *store.Brand, string, store.RecipientType,
	*string, []store.ConsentType, time.Time) (string, error) {
	r.confirmations++
	return "m-conf", nil
}

func (r *replies) QueueRejection(context.Context, store.OutboxTx, *store.Tenant, *store.Brand, string, []store.ConsentType,
	time.Time) (string, error) {
	r.rejections++
	return "m-rej", nil
}

func TestReceiveSMS(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		granted bool // the sender has SMS and CALL granted before
		from    string
		body    string
		pid     string
		repeat  bool // the provider delivers the same message twice
		want    store.InboundAction
		status  store.ConsentStatus // SMS after; 0 for none
		rej     int
		conf    int
	}{
		{"RET rejects", true, "+905321234567", "RET", "1", false, store.InboundRejected, store.StatusRejected, 1, 0},
		{"ret with the brand", true, "905321234567", "ret acme", "2", false, store.InboundRejected, store.StatusRejected, 1, 0},
		{"dotless ıptal", true, "05321234567", "ıptal", "3", false, store.InboundRejected, store.StatusRejected, 1, 0},
		{"a repeat acts once", true, "+905321234567", "RET", "4", true, store.InboundRejected, store.StatusRejected, 1, 0},
		{"RET without a consent", false, "+905321234567", "RET", "5", false, store.InboundIgnored, 0, 0, 0},
		{"EVET opts in", false, "+905321234567", "Evet ACME", "6", false, store.InboundOptedIn, store.StatusGranted, 0, 1},
		{"the brand's keyword", false, "+905321234567", "katıl", "7", false, store.InboundOptedIn, store.StatusGranted, 0, 1},
		{"EVET when granted", true, "+905321234567", "EVET", "8", false, store.InboundIgnored, store.StatusGranted, 0, 0},
		{"unknown words", true, "+905321234567", "Kampanya ne zaman?", "9", false, store.InboundUnknown, store.StatusGranted, 0, 0},
		{"a landline", false, "+902121234567", "RET", "10", false, store.InboundIgnored, 0, 0, 0},
		{"a short code", false, "3338", "RET", "11", false, store.InboundIgnored, 0, 0, 0},
		{"no provider id", true, "+905321234567", "RET", "", true, store.InboundRejected, store.StatusRejected, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.granted {
				if _, err := e.svc.Record(ctx, e.p, consent.ChangeRequest{Recipient: "+905321234567", Types: both}); err != nil {
					t.Fatal(err)
				}
			}
			brands, err := e.st.ListBrands(ctx, e.p.TenantID)
			if err != nil || len(brands) != 1 {
				t.Fatal(brands, err)
			}
			b := brands[0]
			e.now = e.now.Add(time.Minute)
			r := &replies{}
			in := consent.InboundSMS{TenantID: e.p.TenantID, BrandID: b.ID, Provider: "netgsm", OptinKeyword: smspkg.NormalizeKeyword("KATIL"),
				Message: smspkg.Inbound{ProviderMessageID: tc.pid, From: tc.from, Body: tc.body, At: e.now.Add(-time.Second)}}
			first, err := e.svc.ReceiveSMS(ctx, r, in)
			if err != nil {
				t.Fatalf("ReceiveSMS: %v", err)
			}
			if tc.repeat {
				again, err := e.svc.ReceiveSMS(ctx, r, in)
				if err != nil {
					t.Fatalf("ReceiveSMS again: %v", err)
				}
				if again.ID == first.ID {
					t.Error("the repeat was kept under the first one's id")
				}
			}
			if first.Action != tc.want || r.rejections != tc.rej || r.confirmations != tc.conf {
				t.Fatalf("action %v (%s), answers %d/%d; want %v, %d/%d", first.Action, first.Detail, r.rejections,
					r.confirmations, tc.want, tc.rej, tc.conf)
			}
			kept, err := e.st.ListInboundMessages(ctx, store.InboundFilter{TenantID: e.p.TenantID, Limit: 10})
			if err != nil || len(kept) != 1 || kept[0].Body != tc.body {
				t.Fatalf("kept %+v, %v; want the one message", kept, err)
			}
			res, err := e.svc.Check(ctx, e.p, consent.CheckRequest{Recipient: "+905321234567", Types: sms})
			if err != nil {
				t.Fatal(err)
			}
			got := res.Results[0].Status
			if tc.status == 0 && got != store.StatusNone || tc.status != 0 && got != tc.status {
				t.Errorf("SMS is %v after, want %v", got, tc.status)
			}
		})
	}
}

// A RET reaches the number's merchant (TACIR) consents where it has some,
// and records none where it has none.
func TestReceiveSMSMerchant(t *testing.T) {
	ctx := context.Background()
	for _, hasMerchant := range []bool{true, false} {
		e := newEnv(t)
		if hasMerchant {
			if _, err := e.svc.Record(ctx, e.p, consent.ChangeRequest{Recipient: "+905321234567", Types: sms,
				RecipientType: store.Merchant}); err != nil {
				t.Fatal(err)
			}
		}
		brands, err := e.st.ListBrands(ctx, e.p.TenantID)
		if err != nil {
			t.Fatal(err)
		}
		e.now = e.now.Add(time.Minute)
		if _, err := e.svc.ReceiveSMS(ctx, &replies{}, consent.InboundSMS{TenantID: e.p.TenantID, BrandID: brands[0].ID,
			Provider: "verimor", Message: smspkg.Inbound{ProviderMessageID: "1", From: "+905321234567", Body: "RET"}}); err != nil {
			t.Fatal(err)
		}
		res, err := e.svc.Check(ctx, e.p, consent.CheckRequest{Recipient: "+905321234567", RecipientType: store.Merchant, Types: sms})
		if err != nil {
			t.Fatal(err)
		}
		want := store.StatusNone
		if hasMerchant {
			want = store.StatusRejected
		}
		if got := res.Results[0].Status; got != want {
			t.Errorf("merchant record %v: SMS is %v after RET, want %v", hasMerchant, got, want)
		}
	}
}
