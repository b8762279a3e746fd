package e2e

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/store"
)

// env is one bad-input case's world: a fresh tenant with a call-centre
// source on a shared server, reached through one transport.
type env struct {
	s        *server
	tr       transport
	tn       *tenant
	sourceID string
	c        client // the source's CHECK+WRITE key
	admin    client // the tenant's ADMIN key
	vars     map[string]string
	vars2    *env // a second tenant, when a case needs one
}

func newEnv(t *testing.T, s *server, tr transport) *env {
	tn := s.newTenant(t, "Bad inputs "+t.Name())
	id, key := s.newSource(t, tn, "Store 1", store.SourceStore)
	return &env{s: s, tr: tr, tn: tn, sourceID: id, c: s.client(tr, key), admin: s.client(tr, tn.AdminKey),
		vars: map[string]string{}}
}

// start starts an SMS-code verification for SMS and CALL.
func (e *env) start(ctx context.Context, t *testing.T, recipient string) *izinv1.Verification {
	t.Helper()
	return must(e.c.StartVerification(ctx, &izinv1.StartVerificationRequest{Recipient: recipient, Types: smsAndCall,
		Method: izinv1.VerificationMethod_VERIFICATION_METHOD_SMS_CODE}))(t).GetVerification()
}

func (e *env) get(ctx context.Context, t *testing.T, id string) *izinv1.Verification {
	t.Helper()
	return must(e.c.GetVerification(ctx, &izinv1.GetVerificationRequest{Id: id}))(t).GetVerification()
}

const sampleID = "0b7e4a52-3c55-4b0e-9a43-6a4f8f1d2c11" // a well-formed id no one has

var smsCode = izinv1.VerificationMethod_VERIFICATION_METHOD_SMS_CODE

// badInputs are requests izin must refuse, each with the exact answer.
// call makes the request under test (after any steps it needs); then, if
// set, checks the state afterwards. A zero want means success is expected.
var badInputs = []struct {
	name string
	call func(ctx context.Context, t *testing.T, e *env) error
	want want
	then func(ctx context.Context, t *testing.T, e *env)
}{
	{
		name: "check/malformed phone",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.c.CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: "12ab"})
			return err
		},
		want: want{code: codes.InvalidArgument, http: 400, field: "recipient"},
	},
	{
		name: "check/foreign phone",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.c.CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: "+1 202 555 0100"})
			return err
		},
		want: want{code: codes.InvalidArgument, http: 400, field: "recipient"},
	},
	{
		name: "check/empty recipient",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.c.CheckConsent(ctx, &izinv1.CheckConsentRequest{})
			return err
		},
		want: want{code: codes.InvalidArgument, http: 400, field: "recipient"},
	},
	{
		name: "check/unknown brand",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.c.CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: walkRecipient, Brand: "NOPE"})
			return err
		},
		want: want{code: codes.InvalidArgument, http: 400, field: "brand"},
	},
	{
		name: "check/unknown enum value",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			if rc, ok := e.c.(*restClient); ok {
				return rc.postRaw(ctx, "/v1/consents:check",
					`{"recipient":"05321234567","types":["CONSENT_TYPE_FOO"]}`, &izinv1.CheckConsentResponse{})
			}
			_, err := e.c.CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: "05321234567",
				Types: []izinv1.ConsentType{99}})
			return err
		},
		want: want{code: codes.InvalidArgument, http: 400},
	},
	{
		name: "start/unknown enum value",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			if rc, ok := e.c.(*restClient); ok {
				return rc.postRaw(ctx, "/v1/verifications", `{"recipient":"05321234567",`+
					`"types":["CONSENT_TYPE_FOO"],"method":"VERIFICATION_METHOD_SMS_CODE"}`, &izinv1.StartVerificationResponse{})
			}
			_, err := e.c.StartVerification(ctx, &izinv1.StartVerificationRequest{Recipient: "05321234567",
				Types: []izinv1.ConsentType{99}, Method: smsCode})
			return err
		},
		want: want{code: codes.InvalidArgument, http: 400},
		then: func(ctx context.Context, t *testing.T, e *env) { expectNoMessages(ctx, t, e, "05321234567") },
	},
	{
		name: "start/unknown method value",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.c.StartVerification(ctx, &izinv1.StartVerificationRequest{Recipient: "05321234567",
				Types: smsAndCall, Method: 42})
			return err
		},
		want: want{code: codes.InvalidArgument, http: 400, field: "method"},
	},
	{
		name: "start/malformed phone",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.c.StartVerification(ctx, &izinv1.StartVerificationRequest{Recipient: "12ab",
				Types: smsAndCall, Method: smsCode})
			return err
		},
		want: want{code: codes.InvalidArgument, http: 400, field: "recipient"},
	},
	{
		name: "start/landline cannot get SMS",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.c.StartVerification(ctx, &izinv1.StartVerificationRequest{Recipient: "0212 123 45 67",
				Types: smsAndCall, Method: smsCode})
			return err
		},
		want: want{code: codes.InvalidArgument, http: 400, field: "recipient", reason: "ERROR_REASON_RECIPIENT_MISMATCH"},
	},
	{
		name: "start/e-mail consent for a phone",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.c.StartVerification(ctx, &izinv1.StartVerificationRequest{Recipient: "05321234567",
				Types: []izinv1.ConsentType{izinv1.ConsentType_CONSENT_TYPE_EMAIL}, Method: smsCode})
			return err
		},
		want: want{code: codes.InvalidArgument, http: 400, field: "types", reason: "ERROR_REASON_RECIPIENT_MISMATCH"},
	},
	{
		name: "start/missing types",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.c.StartVerification(ctx, &izinv1.StartVerificationRequest{Recipient: "05321234567", Method: smsCode})
			return err
		},
		want: want{code: codes.InvalidArgument, http: 400, field: "types"},
		then: func(ctx context.Context, t *testing.T, e *env) { expectNoMessages(ctx, t, e, "05321234567") },
	},
	{
		name: "start/missing method",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.c.StartVerification(ctx, &izinv1.StartVerificationRequest{Recipient: "05321234567", Types: smsAndCall})
			return err
		},
		want: want{code: codes.InvalidArgument, http: 400, field: "method"},
	},
	{
		name: "auth/wrong API key",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.s.client(e.tr, "izin_thisisnotakeyanyoneeverissued").CheckConsent(ctx,
				&izinv1.CheckConsentRequest{Recipient: walkRecipient})
			return err
		},
		want: want{code: codes.Unauthenticated, http: 401, reason: "ERROR_REASON_INVALID_API_KEY"},
	},
	{
		name: "auth/not an izin key",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.s.client(e.tr, "hunter2").CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: walkRecipient})
			return err
		},
		want: want{code: codes.Unauthenticated, http: 401, reason: "ERROR_REASON_INVALID_API_KEY"},
	},
	{
		name: "auth/no key",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.s.client(e.tr, "").CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: walkRecipient})
			return err
		},
		want: want{code: codes.Unauthenticated, http: 401, reason: "ERROR_REASON_INVALID_API_KEY"},
	},
	{
		name: "auth/revoked key",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			key, k, err := e.s.App.Tenancy.CreateAPIKey(ctx, e.tn.ID, "soon revoked", store.ScopeCheck, "")
			if err != nil {
				t.Fatal(err)
			}
			c := e.s.client(e.tr, key)
			must(c.CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: walkRecipient}))(t)
			if _, err := e.s.App.Tenancy.RevokeAPIKey(ctx, e.tn.ID, k.ID); err != nil {
				t.Fatal(err)
			}
			_, err = c.CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: walkRecipient})
			return err
		},
		want: want{code: codes.Unauthenticated, http: 401, reason: "ERROR_REASON_INVALID_API_KEY"},
	},
	{
		name: "auth/check key cannot start a verification",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			c := e.s.client(e.tr, e.s.newKey(t, e.tn, store.ScopeCheck))
			must(c.CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: walkRecipient}))(t) // it may check
			_, err := c.StartVerification(ctx, &izinv1.StartVerificationRequest{Recipient: "05321234567",
				Types: smsAndCall, Method: smsCode})
			return err
		},
		want: want{code: codes.PermissionDenied, http: 403, reason: "ERROR_REASON_SCOPE_MISSING"},
		then: func(ctx context.Context, t *testing.T, e *env) { expectNoMessages(ctx, t, e, "05321234567") },
	},
	{
		name: "auth/source key cannot read messages",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.c.ListMessages(ctx, &izinv1.ListMessagesRequest{})
			return err
		},
		want: want{code: codes.PermissionDenied, http: 403, reason: "ERROR_REASON_SCOPE_MISSING"},
	},
	{
		name: "tenancy/get another tenant's verification",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			other := otherTenantVerification(ctx, t, e)
			_, err := e.c.GetVerification(ctx, &izinv1.GetVerificationRequest{Id: other})
			return err
		},
		want: want{code: codes.NotFound, http: 404},
	},
	{
		name: "tenancy/submit to another tenant's verification",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			other := otherTenantVerification(ctx, t, e)
			_, err := e.c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: other, Code: e.vars["other_code"]})
			return err
		},
		want: want{code: codes.NotFound, http: 404},
		then: func(ctx context.Context, t *testing.T, e *env) {
			// The owner's verification is untouched: still pending, no attempt used.
			v := must(e.vars2.c.GetVerification(ctx, &izinv1.GetVerificationRequest{Id: e.vars["other_id"]}))(t).GetVerification()
			if v.GetStatus() != izinv1.VerificationStatus_VERIFICATION_STATUS_PENDING || v.GetAttemptsLeft() != 3 {
				t.Errorf("the owner's verification is %v with %d attempts left, want PENDING with 3", v.GetStatus(), v.GetAttemptsLeft())
			}
		},
	},
	{
		name: "tenancy/unknown verification id",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: sampleID, Code: "123456"})
			return err
		},
		want: want{code: codes.NotFound, http: 404},
	},
	{
		name: "tenancy/consent of another tenant is not visible",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			verifyWithCode(ctx, t, e.c, e.admin, "0532 765 43 21")
			b := e.s.newTenant(t, "Tenant B "+t.Name())
			res := must(e.s.client(e.tr, b.AdminKey).CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: "05327654321"}))(t)
			expectResults(t, res.GetResults(), map[izinv1.ConsentType]izinv1.ConsentStatus{
				izinv1.ConsentType_CONSENT_TYPE_SMS:   izinv1.ConsentStatus_CONSENT_STATUS_NONE,
				izinv1.ConsentType_CONSENT_TYPE_CALL:  izinv1.ConsentStatus_CONSENT_STATUS_NONE,
				izinv1.ConsentType_CONSENT_TYPE_EMAIL: izinv1.ConsentStatus_CONSENT_STATUS_NONE,
			}, allTypes)
			evs := must(e.s.client(e.tr, b.AdminKey).ListConsentEvents(ctx, &izinv1.ListConsentEventsRequest{}))(t)
			if n := len(evs.GetEvents()); n != 0 {
				t.Errorf("tenant B lists %d consent events of tenant A", n)
			}
			msgs := must(e.s.client(e.tr, b.AdminKey).ListMessages(ctx, &izinv1.ListMessagesRequest{}))(t)
			if n := len(msgs.GetMessages()); n != 0 {
				t.Errorf("tenant B lists %d messages of tenant A", n)
			}
			// ... while tenant A sees its grant.
			res = must(e.c.CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: "05327654321",
				Types: []izinv1.ConsentType{izinv1.ConsentType_CONSENT_TYPE_SMS}}))(t)
			if res.GetResults()[0].GetStatus() != izinv1.ConsentStatus_CONSENT_STATUS_GRANTED {
				t.Errorf("tenant A's own check says %v, want GRANTED", res.GetResults()[0].GetStatus())
			}
			return nil
		},
	},
	{
		name: "id/get not a uuid",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.c.GetVerification(ctx, &izinv1.GetVerificationRequest{Id: "not-a-uuid"})
			return err
		},
		want: want{code: codes.InvalidArgument, http: 400, field: "id"},
	},
	{
		name: "id/submit not a uuid",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: "not-a-uuid", Code: "123456"})
			return err
		},
		want: want{code: codes.InvalidArgument, http: 400, field: "id"},
	},
	{
		name: "code/not digits",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			v := e.start(ctx, t, "0532 111 11 11")
			e.vars["id"] = v.GetId()
			_, err := e.c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: v.GetId(), Code: "12ab56"})
			return err
		},
		want: want{code: codes.InvalidArgument, http: 400, field: "code"},
		then: func(ctx context.Context, t *testing.T, e *env) {
			// A malformed code is refused before it costs an attempt.
			if v := e.get(ctx, t, e.vars["id"]); v.GetAttemptsLeft() != 3 {
				t.Errorf("a malformed code used an attempt: %d left, want 3", v.GetAttemptsLeft())
			}
		},
	},
	{
		name: "code/expired",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			v := e.start(ctx, t, "0532 222 22 22")
			e.vars["id"] = v.GetId()
			code := codeOf(ctx, t, e.admin, "0532 222 22 22", v.GetId())
			res := e.s.App.Store.DB().WithContext(ctx).Exec("UPDATE verifications SET expire_at = ? WHERE id = ?",
				time.Now().Add(-time.Second).UTC(), v.GetId())
			if res.Error != nil || res.RowsAffected != 1 {
				t.Fatalf("expire the verification: %v (%d rows)", res.Error, res.RowsAffected)
			}
			_, err := e.c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: v.GetId(), Code: code})
			return err
		},
		want: want{code: codes.FailedPrecondition, http: 400, reason: "ERROR_REASON_VERIFICATION_EXPIRED"},
		then: func(ctx context.Context, t *testing.T, e *env) {
			if v := e.get(ctx, t, e.vars["id"]); v.GetStatus() != izinv1.VerificationStatus_VERIFICATION_STATUS_EXPIRED {
				t.Errorf("after an expired code the verification is %v, want EXPIRED", v.GetStatus())
			}
			expectNoConsent(ctx, t, e, "0532 222 22 22")
		},
	},
	{
		name: "code/too many wrong codes",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			v := e.start(ctx, t, "0532 333 33 33")
			e.vars["id"] = v.GetId()
			code := codeOf(ctx, t, e.admin, "0532 333 33 33", v.GetId())
			for _, left := range []string{"2", "1"} {
				_, err := e.c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: v.GetId(), Code: wrongCode(code)})
				expectError(t, e.tr, err, want{code: codes.InvalidArgument, http: 400, field: "code",
					reason: "ERROR_REASON_INVALID_CODE", meta: map[string]string{"attempts_left": left}})
			}
			_, err := e.c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: v.GetId(), Code: wrongCode(code)})
			expectError(t, e.tr, err, want{code: codes.FailedPrecondition, http: 400, reason: "ERROR_REASON_TOO_MANY_ATTEMPTS"})
			got := e.get(ctx, t, v.GetId())
			if got.GetStatus() != izinv1.VerificationStatus_VERIFICATION_STATUS_FAILED || got.GetAttemptsLeft() != 0 {
				t.Errorf("after three wrong codes: %v with %d attempts left, want FAILED with 0", got.GetStatus(), got.GetAttemptsLeft())
			}
			// Now even the right code is refused.
			_, err = e.c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: v.GetId(), Code: code})
			return err
		},
		want: want{code: codes.FailedPrecondition, http: 400, reason: "ERROR_REASON_VERIFICATION_CLOSED"},
		then: func(ctx context.Context, t *testing.T, e *env) {
			if v := e.get(ctx, t, e.vars["id"]); v.GetStatus() != izinv1.VerificationStatus_VERIFICATION_STATUS_FAILED {
				t.Errorf("the right code revived a failed verification: %v", v.GetStatus())
			}
			expectNoConsent(ctx, t, e, "0532 333 33 33")
		},
	},
	{
		name: "code/verified twice",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			v := e.start(ctx, t, "0532 444 44 44")
			code := codeOf(ctx, t, e.admin, "0532 444 44 44", v.GetId())
			must(e.c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: v.GetId(), Code: code}))(t)
			_, err := e.c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: v.GetId(), Code: code})
			return err
		},
		want: want{code: codes.FailedPrecondition, http: 400, reason: "ERROR_REASON_VERIFICATION_CLOSED",
			meta: map[string]string{"status": "VERIFIED"}},
		then: func(ctx context.Context, t *testing.T, e *env) {
			evs := must(e.c.ListConsentEvents(ctx, &izinv1.ListConsentEventsRequest{Recipient: "0532 444 44 44"}))(t)
			if n := len(evs.GetEvents()); n != 2 {
				t.Errorf("a code submitted twice wrote %d events, want 2", n)
			}
		},
	},
	{
		name: "reject/no record",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.c.RejectConsent(ctx, &izinv1.RejectConsentRequest{Recipient: "0532 555 55 55",
				Types: []izinv1.ConsentType{izinv1.ConsentType_CONSENT_TYPE_SMS}})
			return err
		},
		want: want{code: codes.FailedPrecondition, http: 400, reason: "ERROR_REASON_FIRST_RECORD_REJECTED"},
		then: func(ctx context.Context, t *testing.T, e *env) {
			evs := must(e.c.ListConsentEvents(ctx, &izinv1.ListConsentEventsRequest{}))(t)
			if n := len(evs.GetEvents()); n != 0 {
				t.Errorf("a refused rejection wrote %d events", n)
			}
		},
	},
	{
		name: "resend/within 60 s",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			v := e.start(ctx, t, "0532 666 66 66")
			e.vars["id"] = v.GetId()
			_, err := e.c.ResendCode(ctx, &izinv1.ResendCodeRequest{Id: v.GetId()})
			if err != nil {
				if ae, ok := err.(*apiError); ok && ae.Retry != nil && *ae.Retry > 60*time.Second {
					t.Errorf("RetryInfo delay %v is longer than the 60 s resend interval", *ae.Retry)
				}
			}
			return err
		},
		want: want{code: codes.ResourceExhausted, http: 429, reason: "ERROR_REASON_RATE_LIMITED", retry: true},
		then: func(ctx context.Context, t *testing.T, e *env) {
			msgs := must(e.admin.ListMessages(ctx, &izinv1.ListMessagesRequest{Recipient: "0532 666 66 66"}))(t)
			if n := len(msgs.GetMessages()); n != 1 {
				t.Errorf("a refused resend left %d messages, want the first one only", n)
			}
		},
	},
	{
		name: "idempotency/replay sends once",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			req := &izinv1.StartVerificationRequest{Recipient: "0532 777 77 77", Types: smsAndCall, Method: smsCode,
				IdempotencyKey: "order-4711"}
			first := must(e.c.StartVerification(ctx, req))(t).GetVerification()
			again := must(e.c.StartVerification(ctx, req))(t).GetVerification()
			if first.GetId() != again.GetId() || !equalStrings(first.GetMessageIds(), again.GetMessageIds()) {
				t.Errorf("replay answered verification %s %v, want the first %s %v",
					again.GetId(), again.GetMessageIds(), first.GetId(), first.GetMessageIds())
			}
			msgs := must(e.admin.ListMessages(ctx, &izinv1.ListMessagesRequest{Recipient: "05327777777"}))(t).GetMessages()
			if len(msgs) != 1 || msgs[0].GetKind() != izinv1.MessageKind_MESSAGE_KIND_ACTIVATION {
				t.Errorf("after a replay the sandbox holds %v, want one activation SMS", messageIDs(msgs))
			}
			return nil
		},
	},
	{
		name: "idempotency/key reused for another recipient",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			req := &izinv1.StartVerificationRequest{Recipient: "0532 888 88 88", Types: smsAndCall, Method: smsCode,
				IdempotencyKey: "order-4712"}
			must(e.c.StartVerification(ctx, req))(t)
			req.Recipient = "0532 888 88 89"
			_, err := e.c.StartVerification(ctx, req)
			return err
		},
		want: want{code: codes.FailedPrecondition, http: 400, field: "idempotency_key",
			reason: "ERROR_REASON_IDEMPOTENCY_KEY_REUSED"},
		then: func(ctx context.Context, t *testing.T, e *env) { expectNoMessages(ctx, t, e, "0532 888 88 89") },
	},
	{
		name: "resend/after the interval the old code stops working",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			const to = "0532 121 21 21"
			v := e.start(ctx, t, to)
			e.vars["id"] = v.GetId()
			e.vars["old"] = codeOf(ctx, t, e.admin, to, v.GetId())
			res := e.s.App.Store.DB().WithContext(ctx).Exec("UPDATE verifications SET last_sent_at = ? WHERE id = ?",
				time.Now().Add(-61*time.Second).UTC(), v.GetId())
			if res.Error != nil || res.RowsAffected != 1 {
				t.Fatalf("age the last send: %v (%d rows)", res.Error, res.RowsAffected)
			}
			r := must(e.c.ResendCode(ctx, &izinv1.ResendCodeRequest{Id: v.GetId()}))(t).GetVerification()
			if r.GetStatus() != izinv1.VerificationStatus_VERIFICATION_STATUS_PENDING || len(r.GetMessageIds()) != 2 ||
				r.GetAttemptsLeft() != 3 {
				t.Errorf("after a resend: %v with messages %v and %d attempts left; want PENDING, 2 messages, 3 attempts",
					r.GetStatus(), r.GetMessageIds(), r.GetAttemptsLeft())
			}
			e.vars["new"] = codeOf(ctx, t, e.admin, to, v.GetId())
			if e.vars["new"] == e.vars["old"] {
				t.Skip("the new code happens to equal the old one (one in a million)")
			}
			_, err := e.c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: v.GetId(), Code: e.vars["old"]})
			return err
		},
		want: want{code: codes.InvalidArgument, http: 400, field: "code", reason: "ERROR_REASON_INVALID_CODE",
			meta: map[string]string{"attempts_left": "2"}},
		then: func(ctx context.Context, t *testing.T, e *env) {
			sub := must(e.c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: e.vars["id"], Code: e.vars["new"]}))(t)
			if sub.GetVerification().GetStatus() != izinv1.VerificationStatus_VERIFICATION_STATUS_VERIFIED {
				t.Fatalf("the new code gave %v, want VERIFIED", sub.GetVerification().GetStatus())
			}
			// The evidence names both activation messages and the confirmation.
			for _, ev := range sub.GetEvents() {
				if ids := ev.GetEvidence().GetMessageIds(); len(ids) != 3 {
					t.Errorf("evidence names messages %v, want both activations and the confirmation", ids)
				}
			}
		},
	},
	{
		name: "cancel/then submit",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			v := e.start(ctx, t, "0532 131 31 31")
			code := codeOf(ctx, t, e.admin, "0532 131 31 31", v.GetId())
			cv := must(e.c.CancelVerification(ctx, &izinv1.CancelVerificationRequest{Id: v.GetId()}))(t).GetVerification()
			if cv.GetStatus() != izinv1.VerificationStatus_VERIFICATION_STATUS_CANCELLED {
				t.Errorf("cancelled verification is %v", cv.GetStatus())
			}
			_, err := e.c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: v.GetId(), Code: code})
			return err
		},
		want: want{code: codes.FailedPrecondition, http: 400, reason: "ERROR_REASON_VERIFICATION_CLOSED",
			meta: map[string]string{"status": "CANCELLED"}},
		then: func(ctx context.Context, t *testing.T, e *env) { expectNoConsent(ctx, t, e, "0532 131 31 31") },
	},
	{
		name: "record/consent time in the future",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.c.RecordConsent(ctx, &izinv1.RecordConsentRequest{Recipient: "0532 141 41 41", Types: smsAndCall,
				ConsentTime: timestamppb.New(time.Now().Add(time.Hour))})
			return err
		},
		want: want{code: codes.InvalidArgument, http: 400, field: "consent_time", reason: "ERROR_REASON_INVALID_CONSENT_TIME"},
		then: func(ctx context.Context, t *testing.T, e *env) { expectNoConsent(ctx, t, e, "0532 141 41 41") },
	},
	{
		name: "record/consent time before İYS",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.c.RecordConsent(ctx, &izinv1.RecordConsentRequest{Recipient: "0532 141 41 42", Types: smsAndCall,
				ConsentTime: timestamppb.New(time.Date(2015, 4, 30, 12, 0, 0, 0, time.UTC))})
			return err
		},
		want: want{code: codes.InvalidArgument, http: 400, field: "consent_time", reason: "ERROR_REASON_INVALID_CONSENT_TIME"},
	},
	{
		name: "record/older than the current record",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			must(e.c.RecordConsent(ctx, &izinv1.RecordConsentRequest{Recipient: "0532 141 41 43", Types: smsAndCall,
				ConsentTime: timestamppb.New(time.Now().Add(-time.Hour))}))(t)
			_, err := e.c.RejectConsent(ctx, &izinv1.RejectConsentRequest{Recipient: "0532 141 41 43",
				ConsentTime: timestamppb.New(time.Now().Add(-2 * time.Hour))})
			return err
		},
		want: want{code: codes.FailedPrecondition, http: 400, field: "consent_time", reason: "ERROR_REASON_INVALID_CONSENT_TIME"},
		then: func(ctx context.Context, t *testing.T, e *env) {
			// The refused rejection changed nothing: both stay granted.
			res := must(e.c.CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: "0532 141 41 43", Types: smsAndCall}))(t)
			for _, r := range res.GetResults() {
				if r.GetStatus() != izinv1.ConsentStatus_CONSENT_STATUS_GRANTED || !r.GetAllowed() {
					t.Errorf("%v is %v after a refused rejection, want GRANTED", r.GetType(), r.GetStatus())
				}
			}
		},
	},
	{
		name: "record/twice changes nothing",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			req := &izinv1.RecordConsentRequest{Recipient: "0532 141 41 44", Types: smsAndCall}
			first := must(e.c.RecordConsent(ctx, req))(t)
			again := must(e.c.RecordConsent(ctx, req))(t)
			if len(first.GetEvents()) != 2 || len(again.GetEvents()) != 0 {
				t.Errorf("recording twice wrote %d then %d events, want 2 then 0", len(first.GetEvents()), len(again.GetEvents()))
			}
			must(e.c.RejectConsent(ctx, &izinv1.RejectConsentRequest{Recipient: "0532 141 41 44"}))(t)
			rej := must(e.c.RejectConsent(ctx, &izinv1.RejectConsentRequest{Recipient: "0532 141 41 44"}))(t)
			if len(rej.GetEvents()) != 0 {
				t.Errorf("rejecting twice wrote %d events the second time, want 0", len(rej.GetEvents()))
			}
			return nil
		},
	},
	{
		name: "check/merchant without a record may be messaged",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			res := must(e.c.CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: "0532 151 51 51",
				RecipientType: izinv1.RecipientType_RECIPIENT_TYPE_MERCHANT}))(t)
			for _, r := range res.GetResults() {
				if r.GetStatus() != izinv1.ConsentStatus_CONSENT_STATUS_NONE || !r.GetAllowed() {
					t.Errorf("merchant %v: %v allowed=%v, want NONE allowed", r.GetType(), r.GetStatus(), r.GetAllowed())
				}
			}
			if res.GetRecipientType() != izinv1.RecipientType_RECIPIENT_TYPE_MERCHANT {
				t.Errorf("recipient type %v, want MERCHANT", res.GetRecipientType())
			}
			return nil
		},
	},
	{
		name: "list/events page by page",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			verifyWithCode(ctx, t, e.c, e.admin, "0532 161 61 61")
			var seqs []int64
			token := ""
			for range 4 {
				page := must(e.c.ListConsentEvents(ctx, &izinv1.ListConsentEventsRequest{PageSize: 1, PageToken: token}))(t)
				for _, ev := range page.GetEvents() {
					seqs = append(seqs, ev.GetSequence())
				}
				if token = page.GetNextPageToken(); token == "" {
					break
				}
			}
			if len(seqs) != 2 || seqs[0] != 2 || seqs[1] != 1 {
				t.Errorf("paging one by one listed sequences %v, want [2 1]", seqs)
			}
			return nil
		},
	},
	{
		name: "list/bad page token",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.c.ListConsentEvents(ctx, &izinv1.ListConsentEventsRequest{PageToken: "!!not a token!!"})
			return err
		},
		want: want{code: codes.InvalidArgument, http: 400, field: "page_token"},
	},
	{
		name: "list/messages of a malformed recipient",
		call: func(ctx context.Context, t *testing.T, e *env) error {
			_, err := e.admin.ListMessages(ctx, &izinv1.ListMessagesRequest{Recipient: "12ab"})
			return err
		},
		want: want{code: codes.InvalidArgument, http: 400, field: "recipient"},
	},
}

// TestBadInputs sends every bad input through both transports, each case
// with its own tenant on one server per engine, and checks the exact answer.
func TestBadInputs(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(string(eng), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, eng)
			for _, tr := range transports {
				t.Run(string(tr), func(t *testing.T) {
					t.Parallel()
					for _, tc := range badInputs {
						t.Run(tc.name, func(t *testing.T) {
							t.Parallel()
							ctx := testCtx(t)
							e := newEnv(t, s, tr)
							err := tc.call(ctx, t, e)
							if tc.want.code == codes.OK {
								if err != nil {
									t.Fatalf("unexpected error: %v", err)
								}
							} else {
								expectError(t, tr, err, tc.want)
							}
							if tc.then != nil {
								tc.then(ctx, t, e)
							}
						})
					}
				})
			}
		})
	}
}

// otherTenantVerification starts a verification in a second tenant and
// returns its id; e.vars2 is that tenant's env.
func otherTenantVerification(ctx context.Context, t *testing.T, e *env) string {
	t.Helper()
	b := newEnv(t, e.s, e.tr)
	v := b.start(ctx, t, "0532 999 99 99")
	e.vars["other_id"] = v.GetId()
	e.vars["other_code"] = codeOf(ctx, t, b.admin, "0532 999 99 99", v.GetId())
	e.vars2 = b
	return v.GetId()
}

// expectNoMessages fails t if the tenant queued any SMS to recipient.
func expectNoMessages(ctx context.Context, t *testing.T, e *env, recipient string) {
	t.Helper()
	msgs := must(e.admin.ListMessages(ctx, &izinv1.ListMessagesRequest{Recipient: recipient}))(t)
	if n := len(msgs.GetMessages()); n != 0 {
		t.Errorf("a refused request queued %d SMS to %s", n, recipient)
	}
}

// expectNoConsent fails t unless recipient has no consent record at all.
func expectNoConsent(ctx context.Context, t *testing.T, e *env, recipient string) {
	t.Helper()
	res := must(e.c.CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: recipient}))(t)
	for _, r := range res.GetResults() {
		if r.GetStatus() != izinv1.ConsentStatus_CONSENT_STATUS_NONE {
			t.Errorf("%v is %v, want NONE", r.GetType(), r.GetStatus())
		}
	}
}
