package grpcserver

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/store"
)

type fakeSubjects struct{}

func (fakeSubjects) MessageByID(_ context.Context, tenantID, id string) (*store.Message, error) {
	return &store.Message{ID: id, TenantID: tenantID, Body: "Onay kodunuz 123456", RedactedBody: "Onay kodunuz ******",
		Status: store.MessageFailed, Provider: "netgsm", LastError: "operator refused", CreatedAt: time.Unix(1700000000, 0)}, nil
}

func (fakeSubjects) IYSUploadByEvent(_ context.Context, tenantID, eventID string) (*store.IYSUpload, error) {
	return &store.IYSUpload{EventID: eventID, TenantID: tenantID, BrandID: "b1", State: store.IYSRefused,
		ErrorCode: "H178", ConsentTime: time.Unix(1700000000, 0)}, nil
}

type fakeBrands struct{}

func (fakeBrands) BrandByID(_ context.Context, _, id string) (*store.Brand, error) {
	return &store.Brand{ID: id, Code: "ACME"}, nil
}

// message.failed and iys.refused render as the API's Message (its code
// masked) and IysUpload, with proto field names and every field.
func TestWebhookRendererNotifications(t *testing.T) {
	r := &WebhookRenderer{Brands: fakeBrands{}, Subject: fakeSubjects{}}
	for _, tc := range []struct {
		typ  string
		want map[string]any
	}{
		{store.NotifyMessageFailed, map[string]any{"id": "m1", "body": "Onay kodunuz ******",
			"status": "MESSAGE_STATUS_FAILED", "last_error": "operator refused", "verification_id": ""}},
		{store.NotifyIYSRefused, map[string]any{"event_id": "m1", "brand": "ACME", "state": "IYS_UPLOAD_STATE_REFUSED",
			"error_code": "H178"}},
	} {
		raw, err := r.Notification(t.Context(), &store.Notification{TenantID: "t1", Type: tc.typ, RefID: "m1"})
		if err != nil {
			t.Fatalf("%s: %v", tc.typ, err)
		}
		var got map[string]any
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s: %s = %v, want %v (%s)", tc.typ, k, got[k], v, raw)
			}
		}
	}
	if _, err := r.Notification(t.Context(), &store.Notification{Type: "consent.granted"}); err == nil {
		t.Error("a consent event rendered as a notification")
	}
}
