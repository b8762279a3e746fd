package grpcserver

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/iyssync"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/verify"
)

// The store enums share their numbers with the proto enums, so these are
// casts; validation has already refused unknown values.

func consentTypes(in []izinv1.ConsentType) []store.ConsentType {
	out := make([]store.ConsentType, len(in))
	for i, t := range in {
		out[i] = store.ConsentType(t)
	}
	return out
}

func consentTypesPB(in []store.ConsentType) []izinv1.ConsentType {
	out := make([]izinv1.ConsentType, len(in))
	for i, t := range in {
		out[i] = izinv1.ConsentType(t)
	}
	return out
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func tsPtr(t *time.Time) *timestamppb.Timestamp {
	if t == nil {
		return nil
	}
	return ts(*t)
}

func timePtr(t *timestamppb.Timestamp) *time.Time {
	if t == nil {
		return nil
	}
	v := t.AsTime()
	return &v
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func resultsPB(in []consent.Result) []*izinv1.ConsentResult {
	out := make([]*izinv1.ConsentResult, len(in))
	for i, r := range in {
		out[i] = &izinv1.ConsentResult{
			Type: izinv1.ConsentType(r.Type), Status: izinv1.ConsentStatus(r.Status), Allowed: r.Allowed,
			ConsentTime: tsPtr(r.ConsentTime), SourceId: str(r.SourceID), IysSource: r.IYSSource, EventId: r.EventID,
			Kvkk: izinv1.KvkkStatus(r.KVKK),
		}
	}
	return out
}

// kvkkPB is a KVKK state, also when none was recorded (status
// UNSPECIFIED), so that REST answers always hold kvkk.status.
func kvkkPB(k consent.KVKKState) *izinv1.KvkkState {
	return &izinv1.KvkkState{Status: izinv1.KvkkStatus(k.Status), ConsentTime: tsPtr(k.ConsentTime),
		EventId: k.EventID, SourceId: str(k.SourceID)}
}

func eventPB(e *store.ConsentEvent) *izinv1.ConsentEvent {
	var msgIDs []string
	if e.MessageIDs != "" {
		msgIDs = splitComma(e.MessageIDs)
	}
	// A KVKK event is of no ETK type: it shows as UNSPECIFIED, with kvkk.
	typ, kvkk := izinv1.ConsentType(e.Type), izinv1.KvkkStatus_KVKK_STATUS_UNSPECIFIED
	if e.Type == store.ConsentKVKK {
		typ, kvkk = izinv1.ConsentType_CONSENT_TYPE_UNSPECIFIED, izinv1.KvkkStatus(e.KVKK)
	}
	return &izinv1.ConsentEvent{
		Id: e.ID, Sequence: e.Seq, BrandCode: e.BrandCode, Recipient: e.Recipient,
		RecipientType: izinv1.RecipientType(e.RecipientType), Type: typ, Kvkk: kvkk,
		Status: izinv1.ConsentStatus(e.Status), ConsentTime: ts(e.ConsentTime), CreateTime: ts(e.CreatedAt),
		Evidence: &izinv1.Evidence{
			SourceId: str(e.SourceID), ApiKeyId: str(e.APIKeyID), OperatorId: e.OperatorID,
			VerificationId: str(e.VerificationID), Method: izinv1.VerificationMethod(e.Method),
			MessageIds: msgIDs, IysSource: e.IYSSource, Reference: e.Reference,
			IpAddress: e.IPAddress, UserAgent: e.UserAgent, Texts: splitComma(e.Texts),
			PageViewTime: tsPtr(e.PageViewAt), PageSubmitTime: tsPtr(e.PageSubmitAt),
			TickedBoxes: splitComma(e.TickedBoxes), Kvkk: izinv1.KvkkStatus(e.KVKK),
		},
		PreviousHash: e.PrevHash, Hash: e.Hash,
	}
}

func eventsPB(in []store.ConsentEvent) []*izinv1.ConsentEvent {
	out := make([]*izinv1.ConsentEvent, len(in))
	for i := range in {
		out[i] = eventPB(&in[i])
	}
	return out
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

func verificationPB(v *verify.View) *izinv1.Verification {
	return &izinv1.Verification{
		Id: v.ID, Status: izinv1.VerificationStatus(v.Status), Method: izinv1.VerificationMethod(v.Method),
		Recipient: v.Recipient, RecipientType: izinv1.RecipientType(v.RecipientType), Types: consentTypesPB(v.Types),
		BrandCode: v.BrandCode, ExpireTime: ts(v.ExpireAt), AttemptsLeft: int32(v.AttemptsLeft),
		CreateTime: ts(v.CreatedAt), VerifyTime: tsPtr(v.VerifiedAt), MessageIds: v.MessageIDs, SourceId: str(v.SourceID),
		LandingUrl: v.LandingURL, PageViewTime: tsPtr(v.PageViewedAt), PageSubmitTime: tsPtr(v.PageSubmittedAt),
		Kvkk: izinv1.KvkkStatus(v.KVKK), SmsStatus: izinv1.MessageStatus(v.SMSStatus), SmsError: v.SMSError,
	}
}

func messagePB(m *store.Message) *izinv1.Message {
	return &izinv1.Message{
		Id: m.ID, Recipient: m.Recipient, Body: m.Body, Status: izinv1.MessageStatus(m.Status),
		CreateTime: ts(m.CreatedAt), Kind: izinv1.MessageKind(m.Kind), Sender: m.Sender,
		VerificationId: str(m.VerificationID), Provider: m.Provider, ProviderMessageId: m.ProviderMessageID,
		SendTime: tsPtr(m.SentAt), Attempts: int32(m.Attempts), LastError: m.LastError,
		StatusCode: m.StatusCode, StatusTime: tsPtr(m.StatusAt),
	}
}

func iysUploadPB(u *iyssync.Upload) *izinv1.IysUpload {
	return &izinv1.IysUpload{EventId: u.EventID, Brand: u.BrandCode, Recipient: u.Recipient,
		RecipientType: izinv1.RecipientType(u.RecipientType), Type: izinv1.ConsentType(u.Type),
		Status: izinv1.ConsentStatus(u.Status), Source: u.Source, ConsentTime: ts(u.ConsentTime),
		State: izinv1.IysUploadState(u.State), Deadline: ts(u.Deadline), RequestId: u.RequestID,
		TransactionId: u.TransactionID, ErrorCode: u.ErrorCode, ErrorMessage: u.ErrorMessage,
		Attempts: int32(u.Attempts), UpdateTime: ts(u.UpdatedAt)}
}

func brandPB(b *store.Brand) *izinv1.Brand {
	return &izinv1.Brand{Code: b.Code, Name: b.Name, Sender: b.Sender, RejectRoute: b.RejectRoute,
		IsDefault: b.IsDefault, CreateTime: ts(b.CreatedAt)}
}

func sourcePB(s *store.Source) *izinv1.Source {
	return &izinv1.Source{Id: s.ID, Name: s.Name, Type: izinv1.SourceType(s.Type), CreateTime: ts(s.CreatedAt)}
}

func apiKeyPB(k *store.APIKey) *izinv1.ApiKey {
	// Scopes are cumulative; list every scope the key covers.
	var scopes []izinv1.ApiKeyScope
	for s := store.ScopeCheck; s <= k.Scope; s++ {
		scopes = append(scopes, izinv1.ApiKeyScope(s))
	}
	return &izinv1.ApiKey{Id: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: scopes, SourceId: str(k.SourceID),
		CreateTime: ts(k.CreatedAt), RevokeTime: tsPtr(k.RevokedAt)}
}
