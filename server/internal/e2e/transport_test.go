package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
)

// transport names a way to reach izin.
type transport string

const (
	grpcTransport transport = "grpc"
	restTransport transport = "rest"
)

var transports = []transport{grpcTransport, restTransport}

// client is the API as the tests use it, whatever the wire. Every error it
// returns is an *apiError.
type client interface {
	Transport() transport
	CheckConsent(ctx context.Context, req *izinv1.CheckConsentRequest) (*izinv1.CheckConsentResponse, error)
	BatchCheckConsents(ctx context.Context, req *izinv1.BatchCheckConsentsRequest) (*izinv1.BatchCheckConsentsResponse, error)
	RecordConsent(ctx context.Context, req *izinv1.RecordConsentRequest) (*izinv1.RecordConsentResponse, error)
	RejectConsent(ctx context.Context, req *izinv1.RejectConsentRequest) (*izinv1.RejectConsentResponse, error)
	ListConsentEvents(ctx context.Context, req *izinv1.ListConsentEventsRequest) (*izinv1.ListConsentEventsResponse, error)
	StartVerification(ctx context.Context, req *izinv1.StartVerificationRequest) (*izinv1.StartVerificationResponse, error)
	GetVerification(ctx context.Context, req *izinv1.GetVerificationRequest) (*izinv1.GetVerificationResponse, error)
	SubmitCode(ctx context.Context, req *izinv1.SubmitCodeRequest) (*izinv1.SubmitCodeResponse, error)
	ResendCode(ctx context.Context, req *izinv1.ResendCodeRequest) (*izinv1.ResendCodeResponse, error)
	CancelVerification(ctx context.Context, req *izinv1.CancelVerificationRequest) (*izinv1.CancelVerificationResponse, error)
	ListMessages(ctx context.Context, req *izinv1.ListMessagesRequest) (*izinv1.ListMessagesResponse, error)
}

// client returns a client of transport tr that authenticates with key
// ("" sends no key at all).
func (s *server) client(tr transport, key string) client {
	switch tr {
	case grpcTransport:
		return &grpcClient{key: key, consent: izinv1.NewConsentServiceClient(s.conn),
			verify: izinv1.NewVerificationServiceClient(s.conn), admin: izinv1.NewAdminServiceClient(s.conn)}
	case restTransport:
		return &restClient{base: "http://" + s.HTTPAddr, key: key, http: &http.Client{Timeout: 20 * time.Second}}
	}
	panic("unknown transport " + string(tr))
}

// apiError is an error answer, the same for both transports.
type apiError struct {
	Code       codes.Code
	HTTPStatus int // REST only
	Message    string
	Fields     []*errdetails.BadRequest_FieldViolation
	Reason     string // google.rpc.ErrorInfo.reason
	Domain     string
	Metadata   map[string]string
	Retry      *time.Duration // google.rpc.RetryInfo.retry_delay
}

func (e *apiError) Error() string {
	var fields []string
	for _, f := range e.Fields {
		fields = append(fields, f.GetField())
	}
	s := e.Code.String()
	if e.HTTPStatus != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.HTTPStatus)
	}
	s += ": " + e.Message
	if len(fields) > 0 {
		s += fmt.Sprintf(" fields=%v", fields)
	}
	if e.Reason != "" {
		s += fmt.Sprintf(" reason=%s metadata=%v", e.Reason, e.Metadata)
	}
	return s
}

// HasField tells whether a field violation names field.
func (e *apiError) HasField(field string) bool {
	for _, f := range e.Fields {
		if f.GetField() == field {
			return true
		}
	}
	return false
}

// fromStatus reads the google.rpc details of st.
func fromStatus(st *status.Status, httpStatus int) *apiError {
	e := &apiError{Code: st.Code(), HTTPStatus: httpStatus, Message: st.Message()}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.BadRequest:
			e.Fields = append(e.Fields, d.GetFieldViolations()...)
		case *errdetails.ErrorInfo:
			e.Reason, e.Domain, e.Metadata = d.GetReason(), d.GetDomain(), d.GetMetadata()
		case *errdetails.RetryInfo:
			delay := d.GetRetryDelay().AsDuration()
			e.Retry = &delay
		}
	}
	return e
}

// --- gRPC ---

type grpcClient struct {
	key     string
	consent izinv1.ConsentServiceClient
	verify  izinv1.VerificationServiceClient
	admin   izinv1.AdminServiceClient
}

func (c *grpcClient) Transport() transport { return grpcTransport }

func (c *grpcClient) ctx(ctx context.Context) context.Context {
	if c.key == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.key)
}

// call runs one unary call and turns its error into an *apiError.
func call[Req, Resp any](ctx context.Context, c *grpcClient, f func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req) (Resp, error) {
	resp, err := f(c.ctx(ctx), req)
	if err != nil {
		var zero Resp
		return zero, grpcError(err)
	}
	return resp, nil
}

func grpcError(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return &apiError{Code: codes.Unknown, Message: "not a gRPC status: " + err.Error()}
	}
	return fromStatus(st, 0)
}

func (c *grpcClient) CheckConsent(ctx context.Context, r *izinv1.CheckConsentRequest) (*izinv1.CheckConsentResponse, error) {
	return call(ctx, c, c.consent.CheckConsent, r)
}

func (c *grpcClient) BatchCheckConsents(ctx context.Context, r *izinv1.BatchCheckConsentsRequest) (*izinv1.BatchCheckConsentsResponse, error) {
	return call(ctx, c, c.consent.BatchCheckConsents, r)
}

func (c *grpcClient) RecordConsent(ctx context.Context, r *izinv1.RecordConsentRequest) (*izinv1.RecordConsentResponse, error) {
	return call(ctx, c, c.consent.RecordConsent, r)
}

func (c *grpcClient) CancelVerification(ctx context.Context, r *izinv1.CancelVerificationRequest) (*izinv1.CancelVerificationResponse, error) {
	return call(ctx, c, c.verify.CancelVerification, r)
}

func (c *grpcClient) RejectConsent(ctx context.Context, r *izinv1.RejectConsentRequest) (*izinv1.RejectConsentResponse, error) {
	return call(ctx, c, c.consent.RejectConsent, r)
}

func (c *grpcClient) ListConsentEvents(ctx context.Context, r *izinv1.ListConsentEventsRequest) (*izinv1.ListConsentEventsResponse, error) {
	return call(ctx, c, c.consent.ListConsentEvents, r)
}

func (c *grpcClient) StartVerification(ctx context.Context, r *izinv1.StartVerificationRequest) (*izinv1.StartVerificationResponse, error) {
	return call(ctx, c, c.verify.StartVerification, r)
}

func (c *grpcClient) GetVerification(ctx context.Context, r *izinv1.GetVerificationRequest) (*izinv1.GetVerificationResponse, error) {
	return call(ctx, c, c.verify.GetVerification, r)
}

func (c *grpcClient) SubmitCode(ctx context.Context, r *izinv1.SubmitCodeRequest) (*izinv1.SubmitCodeResponse, error) {
	return call(ctx, c, c.verify.SubmitCode, r)
}

func (c *grpcClient) ResendCode(ctx context.Context, r *izinv1.ResendCodeRequest) (*izinv1.ResendCodeResponse, error) {
	return call(ctx, c, c.verify.ResendCode, r)
}

func (c *grpcClient) ListMessages(ctx context.Context, r *izinv1.ListMessagesRequest) (*izinv1.ListMessagesResponse, error) {
	return call(ctx, c, c.admin.ListMessages, r)
}

// --- REST ---

type restClient struct {
	base string
	key  string
	http *http.Client
}

func (c *restClient) Transport() transport { return restTransport }

var (
	marshalJSON   = protojson.MarshalOptions{UseProtoNames: true}
	unmarshalJSON = protojson.UnmarshalOptions{} // strict: an unknown field in an answer is a failure
)

// do sends body (JSON, or nothing) to path and decodes a 2xx answer into
// out, anything else into an *apiError.
func (c *restClient) do(ctx context.Context, method, path string, body []byte, out proto.Message) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return &apiError{Code: codes.Unknown, Message: err.Error()}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &apiError{Code: codes.Unavailable, Message: err.Error()}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return &apiError{Code: codes.Unavailable, HTTPStatus: resp.StatusCode, Message: err.Error()}
	}
	if resp.StatusCode/100 == 2 {
		if err := unmarshalJSON.Unmarshal(raw, out); err != nil {
			return &apiError{Code: codes.Unknown, HTTPStatus: resp.StatusCode,
				Message: fmt.Sprintf("decode %s answer: %v: %s", path, err, raw)}
		}
		return nil
	}
	// The gateway answers errors as google.rpc.Status in JSON:
	// {"code": 3, "message": "...", "details": [{"@type": ...}]}.
	var st spb.Status
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, &st); err != nil {
		return &apiError{Code: codes.Unknown, HTTPStatus: resp.StatusCode,
			Message: fmt.Sprintf("HTTP %d with an undecodable body: %v: %s", resp.StatusCode, err, raw)}
	}
	return fromStatus(status.FromProto(&st), resp.StatusCode)
}

func (c *restClient) post(ctx context.Context, path string, req, out proto.Message) error {
	body, err := marshalJSON.Marshal(req)
	if err != nil {
		return &apiError{Code: codes.Unknown, Message: err.Error()}
	}
	return c.do(ctx, http.MethodPost, path, body, out)
}

// postRaw posts a hand-written JSON body, for what a typed client cannot send.
func (c *restClient) postRaw(ctx context.Context, path, body string, out proto.Message) error {
	return c.do(ctx, http.MethodPost, path, []byte(body), out)
}

func (c *restClient) get(ctx context.Context, path string, q url.Values, out proto.Message) error {
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return c.do(ctx, http.MethodGet, path, nil, out)
}

// rest runs one REST call returning a fresh T.
func rest[T any, PT interface {
	*T
	proto.Message
}](f func(out proto.Message) error) (PT, error) {
	out := PT(new(T))
	if err := f(out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *restClient) CheckConsent(ctx context.Context, r *izinv1.CheckConsentRequest) (*izinv1.CheckConsentResponse, error) {
	return rest[izinv1.CheckConsentResponse](func(out proto.Message) error { return c.post(ctx, "/v1/consents:check", r, out) })
}

func (c *restClient) BatchCheckConsents(ctx context.Context, r *izinv1.BatchCheckConsentsRequest) (*izinv1.BatchCheckConsentsResponse, error) {
	return rest[izinv1.BatchCheckConsentsResponse](func(out proto.Message) error { return c.post(ctx, "/v1/consents:batchCheck", r, out) })
}

func (c *restClient) RecordConsent(ctx context.Context, r *izinv1.RecordConsentRequest) (*izinv1.RecordConsentResponse, error) {
	return rest[izinv1.RecordConsentResponse](func(out proto.Message) error { return c.post(ctx, "/v1/consents", r, out) })
}

func (c *restClient) CancelVerification(ctx context.Context, r *izinv1.CancelVerificationRequest) (*izinv1.CancelVerificationResponse, error) {
	return rest[izinv1.CancelVerificationResponse](func(out proto.Message) error {
		return c.post(ctx, idPath(r.GetId())+":cancel", &izinv1.CancelVerificationRequest{}, out)
	})
}

func (c *restClient) RejectConsent(ctx context.Context, r *izinv1.RejectConsentRequest) (*izinv1.RejectConsentResponse, error) {
	return rest[izinv1.RejectConsentResponse](func(out proto.Message) error { return c.post(ctx, "/v1/consents:reject", r, out) })
}

func (c *restClient) ListConsentEvents(ctx context.Context, r *izinv1.ListConsentEventsRequest) (*izinv1.ListConsentEventsResponse, error) {
	q := url.Values{}
	if r.GetRecipient() != "" {
		q.Set("recipient", r.GetRecipient())
	}
	if r.GetBrand() != "" {
		q.Set("brand", r.GetBrand())
	}
	if r.GetPageSize() != 0 {
		q.Set("page_size", strconv.Itoa(int(r.GetPageSize())))
	}
	if r.GetPageToken() != "" {
		q.Set("page_token", r.GetPageToken())
	}
	return rest[izinv1.ListConsentEventsResponse](func(out proto.Message) error { return c.get(ctx, "/v1/consents/events", q, out) })
}

func (c *restClient) StartVerification(ctx context.Context, r *izinv1.StartVerificationRequest) (*izinv1.StartVerificationResponse, error) {
	return rest[izinv1.StartVerificationResponse](func(out proto.Message) error { return c.post(ctx, "/v1/verifications", r, out) })
}

// idPath is /v1/verifications/{id} with the id escaped as a path segment.
func idPath(id string) string { return "/v1/verifications/" + url.PathEscape(id) }

func (c *restClient) GetVerification(ctx context.Context, r *izinv1.GetVerificationRequest) (*izinv1.GetVerificationResponse, error) {
	return rest[izinv1.GetVerificationResponse](func(out proto.Message) error { return c.get(ctx, idPath(r.GetId()), nil, out) })
}

func (c *restClient) SubmitCode(ctx context.Context, r *izinv1.SubmitCodeRequest) (*izinv1.SubmitCodeResponse, error) {
	// The id travels in the path; the body carries the rest.
	body := &izinv1.SubmitCodeRequest{Code: r.GetCode()}
	return rest[izinv1.SubmitCodeResponse](func(out proto.Message) error { return c.post(ctx, idPath(r.GetId())+":submit", body, out) })
}

func (c *restClient) ResendCode(ctx context.Context, r *izinv1.ResendCodeRequest) (*izinv1.ResendCodeResponse, error) {
	return rest[izinv1.ResendCodeResponse](func(out proto.Message) error {
		return c.post(ctx, idPath(r.GetId())+":resend", &izinv1.ResendCodeRequest{}, out)
	})
}

func (c *restClient) ListMessages(ctx context.Context, r *izinv1.ListMessagesRequest) (*izinv1.ListMessagesResponse, error) {
	q := url.Values{}
	if r.GetRecipient() != "" {
		q.Set("recipient", r.GetRecipient())
	}
	if r.GetPageSize() != 0 {
		q.Set("page_size", strconv.Itoa(int(r.GetPageSize())))
	}
	if r.GetPageToken() != "" {
		q.Set("page_token", r.GetPageToken())
	}
	return rest[izinv1.ListMessagesResponse](func(out proto.Message) error { return c.get(ctx, "/v1/messages", q, out) })
}

// --- assertions on errors ---

// want describes an expected error answer.
type want struct {
	code   codes.Code
	http   int               // expected HTTP status on REST
	field  string            // a field violation must name it
	reason string            // google.rpc.ErrorInfo.reason, with its ERROR_REASON_ prefix
	meta   map[string]string // ErrorInfo metadata that must be present
	retry  bool              // a RetryInfo with a positive delay must be present
}

// expectError fails t unless err is the answer w describes.
func expectError(t *testing.T, tr transport, err error, w want) *apiError {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %s", w.code)
	}
	var e *apiError
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want an *apiError", err, err)
	}
	if e.Code != w.code {
		t.Fatalf("got %v, want code %s", e, w.code)
	}
	if tr == restTransport && e.HTTPStatus != w.http {
		t.Errorf("got HTTP %d, want %d (%v)", e.HTTPStatus, w.http, e)
	}
	if tr == grpcTransport && e.HTTPStatus != 0 {
		t.Errorf("gRPC error carries HTTP status %d", e.HTTPStatus)
	}
	if strings.TrimSpace(e.Message) == "" {
		t.Errorf("error has no message: %v", e)
	}
	if w.field != "" && !e.HasField(w.field) {
		t.Errorf("got %v, want a field violation naming %q", e, w.field)
	}
	if w.reason != "" {
		if e.Reason != w.reason {
			t.Errorf("got reason %q, want %q (%v)", e.Reason, w.reason, e)
		}
		if e.Domain != "izin.dev" {
			t.Errorf("got ErrorInfo domain %q, want izin.dev", e.Domain)
		}
	}
	for k, v := range w.meta {
		if got := e.Metadata[k]; got != v {
			t.Errorf("got metadata %s=%q, want %q (%v)", k, got, v, e)
		}
	}
	if w.retry && (e.Retry == nil || *e.Retry <= 0) {
		t.Errorf("got %v, want a RetryInfo with a positive delay", e)
	}
	return e
}

// must fails the test given to its result on err, else returns v:
// res := must(c.CheckConsent(ctx, req))(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}
