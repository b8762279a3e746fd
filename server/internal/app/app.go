// Package app assembles izin from its configuration: the store, the domain
// services, the outbox worker and the gRPC and HTTP servers.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/izinhq/izin/gen/go/openapi"
	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/callbacks"
	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/grpcserver"
	"github.com/izinhq/izin/server/internal/importer"
	"github.com/izinhq/izin/server/internal/iyssync"
	"github.com/izinhq/izin/server/internal/landing"
	"github.com/izinhq/izin/server/internal/metrics"
	"github.com/izinhq/izin/server/internal/outbox"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/smsconfig"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/tenancy"
	"github.com/izinhq/izin/server/internal/texts"
	"github.com/izinhq/izin/server/internal/verify"
	"github.com/izinhq/izin/server/internal/webhook"
)

// Config is everything izin reads from flags and IZIN_* variables.
type Config struct {
	DatabaseURL string
	GRPCAddr    string
	HTTPAddr    string
	// Secret keys activation-code hashes (hex, at least 32 bytes). When
	// empty it is read from SecretFile, which is created on first start.
	Secret      string
	SecretFile  string
	AutoMigrate bool
	KeyCacheTTL time.Duration
	// IYS configures the synchronisation with İYS.
	IYS IYSConfig
	// MetricsAddr serves Prometheus metrics; empty turns them off. The
	// default listens on loopback only: the numbers are per tenant.
	MetricsAddr string
	// PublicURL is where customers' phones reach the consent and rejection
	// pages (scheme and host, no path), used in the links izin sends by SMS.
	// Empty means http://localhost plus the port of HTTPAddr, for development.
	PublicURL string
	// LandingTTL is how long a consent-page link works before it is sent.
	LandingTTL time.Duration
	// WebhookAllowPrivate lets webhooks target http URLs and private,
	// loopback or link-local addresses (tests, development).
	WebhookAllowPrivate bool
	// WebhookSchedule and WebhookPoll replace the dispatcher's retry
	// schedule (webhook.Schedule) and its poll interval; tests shorten them.
	WebhookSchedule []time.Duration
	WebhookPoll     time.Duration
	// Outbox tunes the SMS sender's timing; zero values keep the defaults.
	// Tests shorten it so that outages pass in milliseconds.
	Outbox OutboxTiming
}

// OutboxTiming is the SMS sender's timing.
type OutboxTiming struct {
	Poll        time.Duration // how often the sender looks when not woken (default 1 s)
	RetryBase   time.Duration // first wait after a failed send (default ~2 s)
	BreakerOpen time.Duration // first wait of an open circuit (default 15 s)
	ReportAfter time.Duration // first poll of a delivery report (default 1 min)
	ReportPoll  time.Duration // how often the report poller looks (default 15 s)
	InboundPoll time.Duration // how often inbound SMS are polled (default 30 s)
}

// PublicURL is the base of the links izin sends by SMS: cfg.PublicURL, or
// for development the local HTTP port.
func PublicURL(cfg Config) string {
	if cfg.PublicURL != "" {
		return cfg.PublicURL
	}
	port := "8080"
	if _, p, err := net.SplitHostPort(cfg.HTTPAddr); err == nil && p != "" && p != "0" {
		port = p
	}
	return "http://localhost:" + port
}

// Defaults are the settings of a fresh checkout.
func Defaults() Config {
	return Config{
		DatabaseURL: "sqlite:data/izin.db",
		GRPCAddr:    ":9090",
		HTTPAddr:    ":8080",
		SecretFile:  "data/secret",
		AutoMigrate: true,
		KeyCacheTTL: 5 * time.Second,
		IYS:         DefaultIYSConfig(),
		MetricsAddr: "127.0.0.1:9464",
		LandingTTL:  time.Hour,
	}
}

// OpenStore opens and, if asked, migrates the database.
func OpenStore(ctx context.Context, cfg Config, migrate bool) (*sqlstore.Store, error) {
	st, err := sqlstore.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if migrate {
		if _, err := st.Migrate(ctx); err != nil {
			_ = st.Close()
			return nil, err
		}
	}
	return st, nil
}

// LoadSecret returns the code-hash key from cfg, creating the key file on
// first use so that a restart keeps pending codes valid.
func LoadSecret(cfg Config) ([]byte, error) {
	raw := strings.TrimSpace(cfg.Secret)
	if raw == "" {
		b, err := os.ReadFile(cfg.SecretFile)
		switch {
		case err == nil:
			raw = strings.TrimSpace(string(b))
		case errors.Is(err, os.ErrNotExist):
			key := make([]byte, 32)
			if _, err := rand.Read(key); err != nil {
				return nil, err
			}
			raw = hex.EncodeToString(key)
			if err := os.MkdirAll(filepath.Dir(cfg.SecretFile), 0o700); err != nil {
				return nil, err
			}
			if err := os.WriteFile(cfg.SecretFile, []byte(raw+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("write secret file: %w", err)
			}
		default:
			return nil, fmt.Errorf("read secret file: %w", err)
		}
	}
	key, err := hex.DecodeString(raw)
	if err != nil || len(key) < 32 {
		return nil, errors.New("secret: want at least 32 bytes, hex-encoded (IZIN_SECRET or the secret file)")
	}
	return key, nil
}

// App is a running izin.
type App struct {
	Store   *sqlstore.Store
	Tenancy *tenancy.Service
	Auth    *auth.Authenticator
	Consent *consent.Service
	// Watch streams consent events, woken by the store's commits.
	Watch    *consent.Watcher
	Verify   *verify.Service
	Import   *importer.Service
	Texts    *texts.Service
	Worker   *outbox.Worker
	Provider sms.Provider // the sandbox: brands without a provider of their own
	// SMS administers brands' providers; Router picks a message's; Reports
	// polls delivery reports; Callbacks hears the providers.
	SMS       *smsconfig.Service
	Router    *smsconfig.Router
	Reports   *outbox.Reports
	Callbacks *callbacks.Server
	Inbound   *callbacks.Poller
	// IYS administers the İYS link; IYSWorker synchronises with İYS.
	IYS       *iyssync.Service
	IYSWorker *iyssync.Worker
	// Webhooks administers webhooks; Dispatcher delivers them.
	Webhooks   *webhook.Service
	Dispatcher *webhook.Dispatcher
	Metrics    *metrics.Registry
	log        *slog.Logger
	cfg        Config
	secret     []byte // the server secret; derive purpose-specific keys from it
	queue      *outbox.Queue
}

// New wires the services over an open store.
func New(cfg Config, st *sqlstore.Store, log *slog.Logger) (*App, error) {
	secret, err := LoadSecret(cfg)
	if err != nil {
		return nil, err
	}
	now := time.Now
	authn := auth.NewAuthenticator(st, cfg.KeyCacheTTL)
	ten := tenancy.New(st, authn, 10*time.Second)
	provider := sms.NewSandbox(0)
	queue := outbox.NewQueue(sms.DefaultTemplates(), now)
	if err := queue.SetPublicURL(PublicURL(cfg)); err != nil {
		return nil, err
	}
	a := &App{
		Store: st, Tenancy: ten, Auth: authn,
		Consent:  consent.New(st, ten, queue, now),
		Verify:   verify.New(st, ten, queue, secret, now),
		Import:   importer.New(st, ten, now),
		Texts:    texts.New(st, ten, now),
		Provider: provider,
		log:      log, cfg: cfg, secret: secret, queue: queue,
	}
	notes := consent.NewNotifier()
	st.OnConsentCommit(notes.Notify)
	a.Watch = consent.NewWatcher(st, ten, notes, now)
	if cfg.LandingTTL > 0 {
		a.Verify.LandingTTL = cfg.LandingTTL
	}
	if err := a.wireSMS(secret); err != nil {
		return nil, err
	}
	if err := a.wireIYS(secret); err != nil {
		return nil, err
	}
	if err := a.wireWebhooks(secret); err != nil {
		return nil, err
	}
	a.Metrics = metrics.New(st, a.IYS, log)
	a.IYSWorker.SetMetrics(a.Metrics)
	return a, nil
}

// Listeners are the bound ports of a running server.
type Listeners struct {
	GRPC    net.Listener
	HTTP    net.Listener
	Metrics net.Listener // nil when metrics are off
}

// Listen binds the configured addresses.
func (a *App) Listen() (*Listeners, error) {
	g, err := net.Listen("tcp", a.cfg.GRPCAddr)
	if err != nil {
		return nil, fmt.Errorf("listen gRPC on %s: %w", a.cfg.GRPCAddr, err)
	}
	h, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		_ = g.Close()
		return nil, fmt.Errorf("listen HTTP on %s: %w", a.cfg.HTTPAddr, err)
	}
	l := &Listeners{GRPC: g, HTTP: h}
	if a.cfg.MetricsAddr != "" {
		if l.Metrics, err = net.Listen("tcp", a.cfg.MetricsAddr); err != nil {
			_, _ = g.Close(), h.Close()
			return nil, fmt.Errorf("listen for metrics on %s: %w", a.cfg.MetricsAddr, err)
		}
	}
	return l, nil
}

// Serve runs the servers and the outbox worker until ctx ends, then shuts
// down gracefully: in-flight calls finish, the worker stops between sends.
func (a *App) Serve(ctx context.Context, l *Listeners) error {
	if a.cfg.PublicURL == "" {
		// Development: links point at the port actually bound (":0" in tests).
		if _, port, err := net.SplitHostPort(l.HTTP.Addr().String()); err == nil {
			if err := a.queue.SetPublicURL("http://localhost:" + port); err != nil {
				return err
			}
		}
	}
	gsrv, hs, err := grpcserver.NewGRPC(grpcserver.Services{Log: a.log, Auth: a.Auth, Consent: a.Consent, Watch: a.Watch,
		Verify: a.Verify, Tenancy: a.Tenancy, Messages: outbox.NewLister(a.Store), Import: a.Import, IYS: a.IYS,
		Texts: a.Texts, SMS: a.SMS, Webhooks: a.Webhooks})
	if err != nil {
		return err
	}
	ready := a.newReadiness()
	// Health is known before the first call is served, then kept current.
	healthCtx, stopHealth := context.WithCancel(context.Background())
	defer stopHealth()
	grpcserver.UpdateHealth(healthCtx, hs, ready)
	healthDone := make(chan struct{})
	go func() { defer close(healthDone); grpcserver.WatchHealth(healthCtx, hs, ready, healthEvery) }()
	gwCtx, cancelGW := context.WithCancel(context.Background())
	defer cancelGW()
	handler, closeGW, err := grpcserver.NewGateway(gwCtx, grpcserver.DialTarget(l.GRPC.Addr().String()), openapi.Spec,
		landing.New(a.Verify, a.Consent, landing.DeriveKey(a.secret), a.log, landing.SecureCookies(strings.HasPrefix(a.cfg.PublicURL, "https://"))),
		ready, a.Callbacks.Mount)
	if err != nil {
		return err
	}
	defer func() { _ = closeGW() }()
	hsrv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	msrv := &http.Server{Handler: a.Metrics.Handler(), ReadHeaderTimeout: 10 * time.Second}
	if l.Metrics != nil {
		go func() {
			if err := msrv.Serve(l.Metrics); !errors.Is(err, http.ErrServerClosed) {
				a.log.Error("metrics server", "err", err)
			}
		}()
	}

	workerCtx, stopWorker := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.Worker.Run(workerCtx) }()
	a.runIYS(workerCtx, &wg)
	a.runSMS(workerCtx, &wg)
	a.runWebhooks(workerCtx, &wg)

	errc := make(chan error, 2)
	go func() { errc <- gsrv.Serve(l.GRPC) }()
	go func() {
		if err := hsrv.Serve(l.HTTP); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
			return
		}
		errc <- nil
	}()
	attrs := []any{"grpc", l.GRPC.Addr().String(), "http", l.HTTP.Addr().String(), "database", redactURL(a.cfg.DatabaseURL)}
	if l.Metrics != nil {
		attrs = append(attrs, "metrics", l.Metrics.Addr().String())
	}
	a.log.Info("izin serving", attrs...)
	a.warnHolidayCoverage(time.Now())

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	a.log.Info("izin shutting down")
	stopHealth()
	<-healthDone
	hs.Shutdown()
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_ = hsrv.Shutdown(shutCtx)
	_ = msrv.Shutdown(shutCtx)
	// Watches never end by themselves: end them, or GracefulStop waits
	// for them until the deadline.
	a.Watch.Close()
	stopped := make(chan struct{})
	go func() { gsrv.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-shutCtx.Done():
		gsrv.Stop()
	}
	stopWorker()
	wg.Wait()
	return serveErr
}

// redactURL hides a password in a database URL for logs.
func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 {
		return u
	}
	creds := u[scheme+3 : at]
	if user, _, ok := strings.Cut(creds, ":"); ok {
		return u[:scheme+3] + user + ":***" + u[at:]
	}
	return u
}
