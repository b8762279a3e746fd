package grpcserver

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/iyssync"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/verify"
	"github.com/izinhq/izin/server/internal/webhook"
)

// WebhookRenderer renders webhook events as the REST API shows them
// (protojson, proto field names, every field), for webhook.Dispatcher.
type WebhookRenderer struct {
	Verify *verify.Service
	Brands interface {
		BrandByID(ctx context.Context, tenantID, id string) (*store.Brand, error)
	}
	Subject interface {
		MessageByID(ctx context.Context, tenantID, id string) (*store.Message, error)
		IYSUploadByEvent(ctx context.Context, tenantID, eventID string) (*store.IYSUpload, error)
	}
}

var webhookJSON = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}

// ConsentEvent renders a consent event as an izin.v1.ConsentEvent.
func (r *WebhookRenderer) ConsentEvent(_ context.Context, e *store.ConsentEvent) ([]byte, error) {
	return webhookJSON.Marshal(eventPB(e))
}

// Notification renders the subject of a notification: a Verification, a
// Message (its body masked) or an IysUpload.
func (r *WebhookRenderer) Notification(ctx context.Context, n *store.Notification) ([]byte, error) {
	var m proto.Message
	switch n.Type {
	case webhook.VerificationVerified, webhook.VerificationExpired, webhook.VerificationFailed:
		v, err := r.Verify.Get(ctx, auth.Principal{TenantID: n.TenantID}, n.RefID)
		if err != nil {
			return nil, err
		}
		m = verificationPB(v)
	case webhook.MessageFailed:
		msg, err := r.Subject.MessageByID(ctx, n.TenantID, n.RefID)
		if err != nil {
			return nil, err
		}
		msg.Body = msg.RedactedBody // a code never leaves in a webhook
		m = messagePB(msg)
	case webhook.IYSRefused:
		u, err := r.Subject.IYSUploadByEvent(ctx, n.TenantID, n.RefID)
		if err != nil {
			return nil, err
		}
		up := &iyssync.Upload{IYSUpload: *u}
		if b, err := r.Brands.BrandByID(ctx, n.TenantID, u.BrandID); err == nil {
			up.BrandCode = b.Code
		}
		m = iysUploadPB(up)
	default:
		return nil, fmt.Errorf("webhook: no rendering for %q", n.Type)
	}
	return webhookJSON.Marshal(m)
}
