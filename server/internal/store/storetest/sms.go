package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/store"
)

func testSMS(t *testing.T, newStore func(t *testing.T) store.Store) {
	runTests(t, newStore, []test{
		{"Config", testSMSConfig},
		{"QueueDepth", testSMSQueueDepth},
		{"Reports", testSMSReports},
		{"ReportPollsAreDisjoint", testReportPollsDisjoint},
		{"ReportBeforeFinish", testReportBeforeFinish},
		{"FailureIsAnnounced", testFailureAnnounced},
		{"Inbound", testInboundMessages},
	})
}

func smsConfig(ten store.Tenant, b store.Brand, hook string) *store.SMSConfig {
	return &store.SMSConfig{BrandID: b.ID, TenantID: ten.ID, Provider: "netgsm", Username: "u", PasswordEnc: []byte{1, 2},
		Enabled: true, HookID: hook, HookSecretEnc: []byte{3}, CreatedAt: base, UpdatedAt: base}
}

func testSMSConfig(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	other, ob := newTenant(t, s)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		name, err := tx.SMSProviderOf(ctx, ten.ID, b.ID)
		if name != "sandbox" || err != nil {
			t.Errorf("SMSProviderOf(no config) = %q, %v; want sandbox", name, err)
		}
		return nil
	})
	if err := s.PutSMSConfig(ctx, smsConfig(ten, b, "hook-a")); err != nil {
		t.Fatal(err)
	}
	c := smsConfig(ten, b, "hook-b")
	c.Provider, c.UpdatedAt = "verimor", at(time.Hour)
	if err := s.PutSMSConfig(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSMSConfig(ctx, ten.ID, b.ID)
	if err != nil || got.Provider != "verimor" || got.HookID != "hook-b" || !got.CreatedAt.Equal(base) {
		t.Fatalf("GetSMSConfig = %+v, %v", got, err)
	}
	if _, err := s.SMSConfigByHook(ctx, "hook-a"); err == nil {
		t.Error("the replaced hook still finds the brand")
	}
	if h, err := s.SMSConfigByHook(ctx, "hook-b"); err != nil || h.BrandID != b.ID {
		t.Errorf("SMSConfigByHook = %+v, %v", h, err)
	}
	// Another tenant cannot take the brand's row over.
	stolen := smsConfig(other, b, "hook-c")
	wantErr(t, "PutSMSConfig(other tenant)", s.PutSMSConfig(ctx, stolen), store.ErrNotFound)
	if _, err := s.GetSMSConfig(ctx, other.ID, b.ID); err == nil {
		t.Error("another tenant reads the configuration")
	}
	if err := s.PutSMSConfig(ctx, smsConfig(other, ob, "hook-a")); err != nil {
		t.Fatalf("a hook freed by a replace is free again: %v", err)
	}
	if list, err := s.ListSMSConfigs(ctx, ten.ID); err != nil || len(list) != 1 {
		t.Errorf("ListSMSConfigs = %d, %v", len(list), err)
	}
	if err := s.RecordSMSOutcome(ctx, b.ID, at(2*time.Hour), ""); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordSMSOutcome(ctx, b.ID, at(3*time.Hour), "503 busy"); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetSMSConfig(ctx, ten.ID, b.ID)
	if got.LastSuccessAt == nil || !got.LastSuccessAt.Equal(at(2*time.Hour)) || got.LastError != "503 busy" ||
		got.LastErrorAt == nil || !got.LastErrorAt.Equal(at(3*time.Hour)) {
		t.Errorf("outcomes = %v %q %v", got.LastSuccessAt, got.LastError, got.LastErrorAt)
	}
	if err := s.SetInboundPolled(ctx, b.ID, at(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	enabled, err := s.EnabledSMSConfigs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range enabled {
		if e.BrandID == b.ID {
			found = e.InboundPolledAt != nil && e.InboundPolledAt.Equal(at(4*time.Hour))
		}
	}
	if !found {
		t.Errorf("EnabledSMSConfigs lacks the brand or its poll time: %+v", enabled)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if name, err := tx.SMSProviderOf(ctx, ten.ID, b.ID); name != "verimor" || err != nil {
			t.Errorf("SMSProviderOf = %q, %v; want verimor", name, err)
		}
		return nil
	})
	c.Enabled = false
	if err := s.PutSMSConfig(ctx, c); err != nil {
		t.Fatal(err)
	}
	if enabled, _ := s.EnabledSMSConfigs(ctx); slices.ContainsFunc(enabled, func(e store.SMSConfig) bool { return e.BrandID == b.ID }) {
		t.Error("a disabled configuration is listed as enabled")
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if name, _ := tx.SMSProviderOf(ctx, ten.ID, b.ID); name != "sandbox" {
			t.Errorf("SMSProviderOf(disabled) = %q, want sandbox", name)
		}
		return nil
	})
}

func testSMSQueueDepth(t *testing.T, s store.Store) {
	ten, b := newTenant(t, s)
	m1 := message(t, ten, b, "+905321112233", at(time.Minute))
	m2 := message(t, ten, b, "+905321112234", at(2*time.Minute))
	m3 := message(t, ten, b, "+905321112235", at(0))
	m3.Status = store.MessageSent
	insertMessages(t, s, m1, m2, m3)
	got, err := s.SMSQueueDepth(t.Context(), ten.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].BrandID != b.ID || got[0].Queued != 2 || got[0].Oldest == nil || !got[0].Oldest.Equal(at(time.Minute)) {
		t.Errorf("SMSQueueDepth = %+v", got)
	}
}

func testSMSReports(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	other, _ := newTenant(t, s)
	m := message(t, ten, b, "+905321112233", base)
	insertMessages(t, s, m)
	m.Status, m.ProviderMessageID, m.ReportDueAt = store.MessageSent, "P-1", ptr(at(time.Minute))
	if err := s.FinishMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	// Not due yet, then due.
	if got, err := s.ClaimReportPolls(ctx, base, at(time.Hour), 10); err != nil || len(got) != 0 {
		t.Fatalf("ClaimReportPolls(early) = %d, %v", len(got), err)
	}
	got, err := s.ClaimReportPolls(ctx, at(time.Minute), at(time.Hour), 10)
	if err != nil || len(got) != 1 || got[0].ReportPolls != 1 {
		t.Fatalf("ClaimReportPolls = %+v, %v", got, err)
	}
	if again, _ := s.ClaimReportPolls(ctx, at(2*time.Minute), at(time.Hour), 10); len(again) != 0 {
		t.Error("a leased report poll was claimed again")
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.MessageForReport(ctx, other.ID, "", "P-1"); err == nil {
			t.Error("another tenant's report found the message")
		}
		if _, err := tx.MessageForReport(ctx, ten.ID, "", ""); err == nil {
			t.Error("a report without ids found a message")
		}
		byID, err := tx.MessageForReport(ctx, ten.ID, m.ID, "")
		if err != nil || byID.ProviderMessageID != "P-1" {
			t.Fatalf("MessageForReport(id) = %+v, %v", byID, err)
		}
		got, err := tx.MessageForReport(ctx, ten.ID, "", "P-1")
		if err != nil || got.ID != m.ID {
			t.Fatalf("MessageForReport(provider id) = %+v, %v", got, err)
		}
		got.Status, got.StatusCode, got.StatusAt, got.ReportDueAt = store.MessageDelivered, "1", ptr(at(time.Minute)), nil
		return tx.UpdateMessageDelivery(ctx, got)
	})
	list, err := s.ListMessages(ctx, store.MessageFilter{TenantID: ten.ID, Limit: 10})
	if err != nil || len(list) != 1 || list[0].Status != store.MessageDelivered || list[0].StatusCode != "1" ||
		list[0].StatusAt == nil || list[0].ReportDueAt != nil {
		t.Errorf("after report: %+v, %v", list, err)
	}
}

func testReportPollsDisjoint(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	const n = 40
	for range n {
		m := message(t, ten, b, "+905321112233", base)
		insertMessages(t, s, m)
		m.Status, m.ReportDueAt = store.MessageSent, ptr(base)
		if err := s.FinishMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	seen := make(chan string, 2*n)
	done := make(chan error, 4)
	for range 4 {
		go func() {
			for {
				got, err := s.ClaimReportPolls(ctx, base, at(time.Hour), 3)
				if err != nil || len(got) == 0 {
					done <- err
					return
				}
				for _, m := range got {
					seen <- m.ID
				}
			}
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	close(seen)
	ids := map[string]bool{}
	for id := range seen {
		if ids[id] {
			t.Fatalf("message %s claimed twice", id)
		}
		ids[id] = true
	}
	if len(ids) != n {
		t.Errorf("claimed %d of %d", len(ids), n)
	}
}

func testInboundMessages(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	in := func(pid string, action store.InboundAction) *store.InboundMessage {
		return &store.InboundMessage{ID: newV7(t), TenantID: ten.ID, BrandID: b.ID, Provider: "netgsm", ProviderMessageID: pid,
			Sender: "+905321112233", Body: "RET", Action: action, ReceivedAt: base, CreatedAt: base}
	}
	first, second := in("1", store.InboundUnknown), in("2", store.InboundUnknown)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.InsertInboundMessage(ctx, first); err != nil {
			return err
		}
		return tx.InsertInboundMessage(ctx, second)
	})
	err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.InsertInboundMessage(ctx, in("1", store.InboundUnknown))
	})
	wantErr(t, "InsertInboundMessage(repeat)", err, store.ErrConflict)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		second.Keyword, second.Action, second.EventIDs = "RET", store.InboundRejected, "e1,e2"
		return tx.UpdateInboundMessage(ctx, second)
	})
	all, err := s.ListInboundMessages(ctx, store.InboundFilter{TenantID: ten.ID, Limit: 10})
	if err != nil || len(all) != 2 || all[0].ID != second.ID || all[0].EventIDs != "e1,e2" {
		t.Fatalf("ListInboundMessages = %+v, %v", all, err)
	}
	unknown, _ := s.ListInboundMessages(ctx, store.InboundFilter{TenantID: ten.ID, Action: store.InboundUnknown, Limit: 10})
	if len(unknown) != 1 || unknown[0].ID != first.ID {
		t.Errorf("unknown only = %+v", unknown)
	}
	page, _ := s.ListInboundMessages(ctx, store.InboundFilter{TenantID: ten.ID, BeforeID: second.ID, Limit: 10})
	if len(page) != 1 || page[0].ID != first.ID {
		t.Errorf("page = %+v", page)
	}
	other, _ := newTenant(t, s)
	if list, _ := s.ListInboundMessages(ctx, store.InboundFilter{TenantID: other.ID, Limit: 10}); len(list) != 0 {
		t.Error("another tenant lists the inbound messages")
	}
}

// A report that comes before the worker records its send is kept: the
// finish adds the provider's id and the time, and leaves the status.
func testReportBeforeFinish(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	m := message(t, ten, b, "+905321112233", base)
	insertMessages(t, s, m)
	claimed, err := s.ClaimMessages(ctx, base, at(time.Minute), 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("ClaimMessages = %d, %v", len(claimed), err)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.MessageForReport(ctx, ten.ID, m.ID, "")
		if err != nil {
			return err
		}
		got.Status, got.StatusCode, got.StatusAt, got.LastError = store.MessageFailed, "NOT_DELIVERED", ptr(at(time.Second)), "unknown number"
		return tx.UpdateMessageDelivery(ctx, got)
	})
	done := claimed[0]
	done.Status, done.ProviderMessageID, done.SentAt, done.Body = store.MessageSent, "P-9", ptr(at(2*time.Second)), done.RedactedBody
	if err := s.FinishMessage(ctx, &done); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListMessages(ctx, store.MessageFilter{TenantID: ten.ID, Limit: 10})
	if err != nil || len(list) != 1 {
		t.Fatal(list, err)
	}
	got := list[0]
	if got.Status != store.MessageFailed || got.StatusCode != "NOT_DELIVERED" || got.LastError != "unknown number" ||
		got.ProviderMessageID != "P-9" || got.SentAt == nil || got.LeaseUntil != nil || got.Body != done.RedactedBody {
		t.Errorf("after a report and then the finish: %+v", got)
	}
}

// A message that failed for good is announced in its finish, once.
func testFailureAnnounced(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	m := message(t, ten, b, "+905321112233", base)
	insertMessages(t, s, m)
	claimed, err := s.ClaimMessages(ctx, base, at(time.Minute), 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("ClaimMessages = %d, %v", len(claimed), err)
	}
	failed := claimed[0]
	failed.Status, failed.LastError = store.MessageFailed, "invalid number"
	for range 2 { // a second finish (a crash's retry) announces nothing more
		if err := s.FinishMessage(ctx, &failed); err != nil {
			t.Fatal(err)
		}
	}
	ns, err := s.UnfannedNotifications(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, x := range ns {
		if x.TenantID == ten.ID && x.Type == store.NotifyMessageFailed && x.RefID == m.ID {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d message.failed notifications, want 1", n)
	}
}
