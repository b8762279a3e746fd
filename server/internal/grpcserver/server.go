// Package grpcserver is izin's transport: thin gRPC handlers over the
// domain services, one interceptor chain, and the REST gateway that dials
// the gRPC port so that REST passes through the same chain.
package grpcserver

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"buf.build/go/protovalidate"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/protobuf/encoding/protojson"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/apidocs"
	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/importer"
	"github.com/izinhq/izin/server/internal/iyssync"
	"github.com/izinhq/izin/server/internal/outbox"
	"github.com/izinhq/izin/server/internal/smsconfig"
	"github.com/izinhq/izin/server/internal/tenancy"
	"github.com/izinhq/izin/server/internal/texts"
	"github.com/izinhq/izin/server/internal/verify"
	"github.com/izinhq/izin/server/internal/webhook"
)

// Services are the domain services the handlers call.
type Services struct {
	Log     *slog.Logger
	Auth    *auth.Authenticator
	Consent *consent.Service
	// Watch streams consent events (ConsentService.WatchConsentEvents).
	Watch    *consent.Watcher
	Verify   *verify.Service
	Tenancy  *tenancy.Service
	Messages *outbox.Lister
	// Import imports historic consents (ConsentService.ImportConsents).
	Import *importer.Service
	IYS    *iyssync.Service
	// Texts publishes and reads consent texts (AdminService.*ConsentText*).
	Texts *texts.Service
	// SMS administers brands' SMS providers (AdminService.*Sms*).
	SMS *smsconfig.Service
	// Webhooks administers webhooks (AdminService.*Webhook*).
	Webhooks *webhook.Service
}

// NewGRPC returns a gRPC server with every izin service, health and
// reflection registered.
func NewGRPC(s Services) (*grpc.Server, *health.Server, error) {
	v, err := protovalidate.New()
	if err != nil {
		return nil, nil, fmt.Errorf("protovalidate: %w", err)
	}
	ic := &interceptors{log: s.Log, auth: s.Auth, validator: v, scopes: methodScopes()}
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(ic.unary),
		grpc.ChainStreamInterceptor(ic.stream),
		grpc.MaxRecvMsgSize(8<<20),
	)
	izinv1.RegisterConsentServiceServer(srv, &consentHandler{svc: s.Consent, watch: s.Watch, importer: s.Import, validator: v, ic: ic})
	izinv1.RegisterVerificationServiceServer(srv, &verificationHandler{svc: s.Verify})
	izinv1.RegisterAdminServiceServer(srv, &adminHandler{tenancy: s.Tenancy, messages: s.Messages, iys: s.IYS, texts: s.Texts,
		sms: s.SMS, webhooks: s.Webhooks})
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	reflection.Register(srv)
	return srv, hs, nil
}

// DialTarget turns a listen address (":9090") into one a client can dial.
func DialTarget(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// NewGateway returns the HTTP handler: the REST gateway (dialing the gRPC
// server at grpcTarget), the OpenAPI spec, the REST reference page rendered
// from it (/docs), the probes (/healthz and /livez for liveness, /readyz
// served by ready) and, when pages is not nil, the customer pages it serves
// under /l/ (consent), /r/ (rejection) and /static/.
//
// mount, when not nil, adds routes of its own (the SMS providers' callbacks).
func NewGateway(ctx context.Context, grpcTarget string, openapi []byte, pages, ready http.Handler,
	mount func(*http.ServeMux)) (http.Handler, func() error, error) {
	conn, err := grpc.NewClient(grpcTarget, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, nil, fmt.Errorf("dial gRPC for the gateway: %w", err)
	}
	gw := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}),
		runtime.WithErrorHandler(errorHandler),
	)
	for _, reg := range []func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
		izinv1.RegisterConsentServiceHandler,
		izinv1.RegisterVerificationServiceHandler,
		izinv1.RegisterAdminServiceHandler,
	} {
		if err := reg(ctx, gw, conn); err != nil {
			_ = conn.Close()
			return nil, nil, err
		}
	}
	docs, err := apidocs.Render(openapi)
	if err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// The page is self-contained: only its inline stylesheet may load.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
		w.Header().Set("Referrer-Policy", "no-referrer")
		_, _ = w.Write(docs)
	})
	// Liveness: the process answers. It asks nothing of the database, so
	// a database outage makes izin unready, not restarted.
	live := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(`{"status":"SERVING"}` + "\n"))
	}
	mux.HandleFunc("GET /healthz", live)
	mux.HandleFunc("GET /livez", live)
	if ready != nil {
		mux.Handle("GET /readyz", ready)
	}
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openapi)
	})
	if pages != nil {
		for _, prefix := range []string{"/l/", "/r/", "/static/"} {
			mux.Handle(prefix, pages)
		}
	}
	if mount != nil {
		mount(mux)
	}
	mux.Handle("/", gw)
	return securityHeaders(mux), conn.Close, nil
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			w.Header().Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}
