package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/store"
)

// services are the names gRPC health answers for; "" is the whole server.
var services = []string{"", "izin.v1.ConsentService", "izin.v1.VerificationService", "izin.v1.AdminService"}

// readyz is the body of /readyz.
type readyz struct {
	Status string `json:"status"`
	Checks []struct {
		Name, Status, Reason string
	} `json:"checks"`
}

// getRaw sends a request to the HTTP port and returns the status, headers
// and body.
func (s *server) getRaw(ctx context.Context, t *testing.T, method, path, key, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+s.HTTPAddr+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, raw
}

func (s *server) readyz(ctx context.Context, t *testing.T, query string) (int, readyz) {
	t.Helper()
	code, _, raw := s.getRaw(ctx, t, http.MethodGet, "/readyz"+query, "", "")
	var r readyz
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("/readyz%s answered %d %s: %v", query, code, raw, err)
	}
	return code, r
}

func checkNames(r readyz) []string {
	var out []string
	for _, c := range r.Checks {
		out = append(out, c.Name)
	}
	return out
}

// A fresh server is ready on every engine: /readyz 200 with each check,
// /healthz and /livez alive, gRPC health SERVING for every service; and a
// rate-limited REST call is a 429 that says when to retry.
func TestHealthAndRetryAfter(t *testing.T) {
	t.Parallel()
	for _, e := range engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, e)
			ctx := testCtx(t)

			code, r := s.readyz(ctx, t, "")
			if code != http.StatusOK || r.Status != "SERVING" || !slices.Equal(checkNames(r), []string{"database", "outbox", "iys", "webhooks"}) {
				t.Errorf("/readyz = %d %+v; want 200 SERVING with database, outbox, iys and webhooks", code, r)
			}
			code, r = s.readyz(ctx, t, "?service=izin.v1.VerificationService")
			if code != http.StatusOK || !slices.Equal(checkNames(r), []string{"database", "outbox"}) {
				t.Errorf("/readyz for verifications = %d %+v; want 200 with database and outbox", code, r)
			}
			for _, path := range []string{"/healthz", "/livez"} {
				if code, _, raw := s.getRaw(ctx, t, http.MethodGet, path, "", ""); code != http.StatusOK || !strings.Contains(string(raw), "SERVING") {
					t.Errorf("GET %s = %d %s; want 200 SERVING", path, code, raw)
				}
			}
			hc := healthpb.NewHealthClient(s.conn)
			for _, svc := range services {
				res, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
				if err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
					t.Errorf("gRPC health of %q = %v, %v; want SERVING", svc, res.GetStatus(), err)
				}
			}

			// A resend within the resend interval is refused with Retry-After.
			tn := s.newTenant(t, "Retry-After "+string(e))
			_, key := s.newSource(t, tn, "Kiosk", store.SourceKiosk)
			v := must(s.client(restTransport, key).StartVerification(ctx, &izinv1.StartVerificationRequest{
				Recipient: "0532 919 19 19", Types: smsAndCall, Method: smsCode}))(t).GetVerification()
			code, h, raw := s.getRaw(ctx, t, http.MethodPost, "/v1/verifications/"+v.GetId()+":resend", key, "{}")
			secs, err := strconv.Atoi(h.Get("Retry-After"))
			if code != http.StatusTooManyRequests || err != nil || secs < 1 || secs > 60 {
				t.Errorf("resend at once = %d, Retry-After %q, %s; want 429 with 1 to 60 seconds", code, h.Get("Retry-After"), raw)
			}
		})
	}
}

// While a transaction holds SQLite's one writer connection, izin is not
// ready (the probe cannot begin a write within its deadline) but alive;
// once it is released, izin is ready again. gRPC health follows.
func TestReadyzWhileWriterHeld(t *testing.T) {
	t.Parallel()
	s := startServer(t, sqliteEngine)
	ctx := testCtx(t)
	watch, err := healthpb.NewHealthClient(s.conn).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor := func(want healthpb.HealthCheckResponse_ServingStatus) {
		t.Helper()
		for {
			res, err := watch.Recv()
			if err != nil {
				t.Fatalf("gRPC health watch waiting for %v: %v", want, err)
			}
			if res.GetStatus() == want {
				return
			}
		}
	}
	waitFor(healthpb.HealthCheckResponse_SERVING)

	held, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.App.Store.InTx(context.Background(), func(context.Context, store.Tx) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	// The watch first: /readyz may still answer a cached report from before.
	waitFor(healthpb.HealthCheckResponse_NOT_SERVING)
	code, r := s.readyz(ctx, t, "")
	if code != http.StatusServiceUnavailable || r.Status != "NOT_SERVING" || len(r.Checks) == 0 ||
		r.Checks[0].Name != "database" || r.Checks[0].Status != "failing" {
		t.Errorf("/readyz while the writer is held = %d %+v; want 503 with the database failing", code, r)
	}
	if code, _, _ := s.getRaw(ctx, t, http.MethodGet, "/healthz", "", ""); code != http.StatusOK {
		t.Errorf("/healthz while the writer is held = %d; liveness must not ask the database", code)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	waitFor(healthpb.HealthCheckResponse_SERVING)
}

// With the İYS worker off, readiness does not wait for it.
func TestReadyzIYSOff(t *testing.T) {
	t.Parallel()
	s := startServer(t, sqliteEngine, func(c *app.Config) { c.IYS.Off = true })
	code, r := s.readyz(testCtx(t), t, "")
	if code != http.StatusOK || !slices.Equal(checkNames(r), []string{"database", "outbox", "webhooks"}) {
		t.Errorf("/readyz with İYS off = %d %+v; want 200 with database, outbox and webhooks only", code, r)
	}
}
