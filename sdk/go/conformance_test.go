package izin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	izin "github.com/izinhq/izin/sdk/go"
)

// scenario is sdk/conformance/scenario.json. Unknown fields are refused, so
// that a new kind of expectation fails here until this runner checks it.
type scenario struct {
	Description         string `json:"description"`
	Version             int    `json:"version"`
	Recipient           string `json:"recipient"`
	NormalizedRecipient string `json:"normalized_recipient"`
	Steps               []step `json:"steps"`
}

type step struct {
	Name        string       `json:"name"`
	Op          string       `json:"op"`
	Recipient   string       `json:"recipient"`
	APIKey      string       `json:"api_key"`
	Types       []string     `json:"types"`
	Code        string       `json:"code"`
	Expect      *expectation `json:"expect"`
	ExpectError *expectedErr `json:"expect_error"`
}

type expectation struct {
	NormalizedRecipient string            `json:"normalized_recipient"`
	Results             map[string]string `json:"results"`
	Status              string            `json:"status"`
	AttemptsLeft        *int32            `json:"attempts_left"`
	BodyContains        []string          `json:"body_contains"`
	CodePattern         string            `json:"code_pattern"`
}

type expectedErr struct {
	Code     string            `json:"code"`
	Field    string            `json:"field"`
	Reason   string            `json:"reason"`
	Metadata map[string]string `json:"metadata"`
}

// TestConformance runs the language-neutral scenario against a real izin
// started by sdk/conformance/with-server.sh.
func TestConformance(t *testing.T) {
	target, apiKey, adminKey, path := os.Getenv("IZIN_GRPC_TARGET"), os.Getenv("IZIN_API_KEY"), os.Getenv("IZIN_ADMIN_KEY"), os.Getenv("IZIN_SCENARIO")
	if target == "" || apiKey == "" || adminKey == "" || path == "" {
		msg := "no izin server: run through ../conformance/with-server.sh go test -run TestConformance ./... (it sets IZIN_GRPC_TARGET, IZIN_API_KEY, IZIN_ADMIN_KEY, IZIN_SCENARIO)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sc scenario
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if sc.Version != 1 {
		t.Fatalf("scenario version %d; this runner knows version 1", sc.Version)
	}
	if len(sc.Steps) == 0 {
		t.Fatal("scenario has no steps")
	}

	clients := map[string]*izin.Client{}
	client := func(key string) *izin.Client {
		if c, ok := clients[key]; ok {
			return c
		}
		c, err := izin.NewClient(target, izin.WithInsecure(), izin.WithAPIKey(key), izin.WithTimeout(20*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		clients[key] = c
		return c
	}

	r := &runner{sc: sc, client: client, apiKey: apiKey, adminKey: adminKey}
	for i, s := range sc.Steps {
		t.Run(fmt.Sprintf("%02d %s", i+1, s.Name), func(t *testing.T) { r.run(t, s) })
	}
}

type runner struct {
	sc               scenario
	client           func(key string) *izin.Client
	apiKey, adminKey string
	verificationID   string
	code             string
}

func (r *runner) run(t *testing.T, s step) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c := r.client(r.apiKey)
	if s.APIKey != "" {
		c = r.client(s.APIKey)
	}
	recipient := r.sc.Recipient
	if s.Recipient != "" {
		recipient = s.Recipient
	}
	types := consentTypes(t, s.Types)

	var err error
	switch s.Op {
	case "check":
		var res *izin.CheckResult
		if res, err = c.Check(ctx, recipient); err == nil && s.Expect != nil {
			if want := s.Expect.NormalizedRecipient; want != "" && res.GetRecipient() != want {
				t.Errorf("recipient %q, want %q", res.GetRecipient(), want)
			}
			for typ, want := range s.Expect.Results {
				ct := consentTypes(t, []string{typ})[0]
				if got := strings.TrimPrefix(res.Status(ct).String(), "CONSENT_STATUS_"); got != want {
					t.Errorf("%s is %s, want %s", typ, got, want)
				}
			}
		}
	case "start_sms_verification":
		var v *izinv1.Verification
		if v, err = c.StartSMSVerification(ctx, recipient, types...); err == nil {
			if v.GetId() == "" {
				t.Fatal("verification without id")
			}
			r.verificationID, r.code = v.GetId(), ""
			r.expectVerification(t, s.Expect, v)
		}
	case "read_code":
		r.readCode(ctx, t, recipient, s.Expect)
	case "submit_code":
		if r.verificationID == "" || r.code == "" {
			t.Fatal("submit_code needs start_sms_verification and read_code before it")
		}
		var code string
		switch s.Code {
		case "right":
			code = r.code
		case "wrong":
			n, _ := strconv.Atoi(r.code)
			code = fmt.Sprintf("%06d", (n+1)%1_000_000)
		default:
			code = s.Code
		}
		var resp *izinv1.SubmitCodeResponse
		if resp, err = c.SubmitCode(ctx, r.verificationID, code); err == nil {
			r.expectVerification(t, s.Expect, resp.GetVerification())
		}
	case "reject":
		_, err = c.Reject(ctx, recipient, types...)
	default:
		t.Fatalf("unknown op %q", s.Op)
	}
	checkError(t, err, s.ExpectError)
}

func (r *runner) expectVerification(t *testing.T, want *expectation, v *izinv1.Verification) {
	t.Helper()
	if want == nil {
		return
	}
	if got := strings.TrimPrefix(v.GetStatus().String(), "VERIFICATION_STATUS_"); want.Status != "" && got != want.Status {
		t.Errorf("verification status %s, want %s", got, want.Status)
	}
	if want.AttemptsLeft != nil && v.GetAttemptsLeft() != *want.AttemptsLeft {
		t.Errorf("attempts_left %d, want %d", v.GetAttemptsLeft(), *want.AttemptsLeft)
	}
}

var leadingCode = regexp.MustCompile(`^[0-9]+`)

// readCode takes the code from the newest ACTIVATION message to the
// recipient, read with the admin key; its body starts with the code.
func (r *runner) readCode(ctx context.Context, t *testing.T, recipient string, want *expectation) {
	t.Helper()
	msgs, err := r.client(r.adminKey).Messages(ctx, recipient)
	if err != nil {
		t.Fatalf("Messages: %v", err)
	}
	var body string
	for _, m := range msgs { // newest first
		if m.GetKind() == izinv1.MessageKind_MESSAGE_KIND_ACTIVATION {
			body = m.GetBody()
			break
		}
	}
	if body == "" {
		t.Fatalf("no ACTIVATION message among %d messages to %s", len(msgs), recipient)
	}
	r.code = leadingCode.FindString(body)
	if want == nil {
		return
	}
	for _, s := range want.BodyContains {
		if !strings.Contains(body, s) {
			t.Errorf("activation SMS %q lacks %q", body, s)
		}
	}
	if want.CodePattern != "" && !regexp.MustCompile(want.CodePattern).MatchString(r.code) {
		t.Errorf("code %q (from %q) does not match %s", r.code, body, want.CodePattern)
	}
}

func checkError(t *testing.T, err error, want *expectedErr) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error; want %s", want.Code)
	}
	e, ok := izin.AsError(err)
	if !ok {
		t.Fatalf("error %v is not an *izin.Error", err)
	}
	if got := izin.CodeName(e.Code); got != want.Code {
		t.Errorf("code %s, want %s (%v)", got, want.Code, err)
	}
	if want.Field != "" && e.Field != want.Field {
		t.Errorf("field %q, want %q (violations %+v)", e.Field, want.Field, e.Violations)
	}
	if want.Reason != "" && e.Reason != want.Reason {
		t.Errorf("reason %q, want %q", e.Reason, want.Reason)
	}
	for k, v := range want.Metadata {
		if e.Metadata[k] != v {
			t.Errorf("metadata[%q] = %q, want %q (metadata %v)", k, e.Metadata[k], v, e.Metadata)
		}
	}
}

func consentTypes(t *testing.T, names []string) []izinv1.ConsentType {
	t.Helper()
	var out []izinv1.ConsentType
	for _, n := range names {
		v, ok := izinv1.ConsentType_value["CONSENT_TYPE_"+n]
		if !ok || v == 0 {
			t.Fatalf("unknown consent type %q", n)
		}
		out = append(out, izinv1.ConsentType(v))
	}
	return out
}
