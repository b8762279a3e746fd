package izin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// Defaults of the options.
const (
	// DefaultTimeout is the deadline given to a unary call (retries
	// included) whose context has none. Streams get no default deadline.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxAttempts, DefaultInitialBackoff and DefaultMaxBackoff are
	// the retry policy of idempotent calls.
	DefaultMaxAttempts    = 3
	DefaultInitialBackoff = 100 * time.Millisecond
	DefaultMaxBackoff     = 2 * time.Second
	// DefaultStreamWindow is how many StreamCheck requests may be in flight
	// (sent and not yet answered) at once.
	DefaultStreamWindow = 1000
)

// Client talks to an izin server over gRPC. It is safe for concurrent use;
// create one per server and Close it when done.
type Client struct {
	conn         *grpc.ClientConn
	consent      izinv1.ConsentServiceClient
	verification izinv1.VerificationServiceClient
	admin        izinv1.AdminServiceClient
	cfg          config
}

type config struct {
	apiKey       string
	insecure     bool
	tlsConfig    *tls.Config
	timeout      time.Duration
	retry        retryPolicy
	streamWindow int
	dialOptions  []grpc.DialOption
}

// Option configures a Client.
type Option func(*config)

// WithAPIKey sends key as "authorization: Bearer <key>" on every call. A
// call whose outgoing context already carries an authorization header
// (metadata.AppendToOutgoingContext) keeps its own.
func WithAPIKey(key string) Option { return func(c *config) { c.apiKey = key } }

// WithInsecure uses plaintext gRPC, for a local server or one behind a
// TLS-terminating proxy on the same host. TLS with the system roots is the
// default.
func WithInsecure() Option { return func(c *config) { c.insecure = true } }

// WithTLSConfig uses TLS with the given configuration (e.g. private roots
// or a client certificate) instead of the default one.
func WithTLSConfig(cfg *tls.Config) Option { return func(c *config) { c.tlsConfig = cfg } }

// WithTimeout sets the deadline of a unary call, retries included, whose
// context has none (default DefaultTimeout; 0 means none).
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithRetry sets the retry policy: at most maxAttempts tries in all (1
// disables retries), waiting an exponential backoff with jitter from
// initialBackoff up to maxBackoff after UNAVAILABLE, and the server's
// RetryInfo delay after RESOURCE_EXHAUSTED. Only idempotent calls are
// retried: checks, gets and lists, and StartVerification and RecordConsent
// when they carry an idempotency key; never SubmitCode, RejectConsent or
// streams. A retry that cannot finish before the deadline is not tried.
func WithRetry(maxAttempts int, initialBackoff, maxBackoff time.Duration) Option {
	return func(c *config) {
		c.retry = retryPolicy{maxAttempts: maxAttempts, initialBackoff: initialBackoff, maxBackoff: maxBackoff}
	}
}

// WithStreamWindow bounds how many StreamCheck requests are in flight at
// once (default DefaultStreamWindow), and so the memory a stream holds.
func WithStreamWindow(n int) Option { return func(c *config) { c.streamWindow = n } }

// WithDialOptions adds gRPC dial options, applied after the SDK's own.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(c *config) { c.dialOptions = append(c.dialOptions, opts...) }
}

// NewClient creates a client for target ("host:port", or any gRPC target
// such as "dns:///izin.example.com:443"). It does not connect until the
// first call.
func NewClient(target string, opts ...Option) (*Client, error) {
	cfg := config{
		timeout:      DefaultTimeout,
		retry:        retryPolicy{maxAttempts: DefaultMaxAttempts, initialBackoff: DefaultInitialBackoff, maxBackoff: DefaultMaxBackoff},
		streamWindow: DefaultStreamWindow,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.insecure && cfg.tlsConfig != nil {
		return nil, errors.New("izin: WithInsecure and WithTLSConfig exclude each other")
	}
	if cfg.timeout < 0 {
		return nil, fmt.Errorf("izin: negative timeout %v", cfg.timeout)
	}
	if cfg.retry.maxAttempts < 1 {
		cfg.retry.maxAttempts = 1
	}
	if cfg.retry.initialBackoff <= 0 {
		cfg.retry.initialBackoff = DefaultInitialBackoff
	}
	if cfg.retry.maxBackoff < cfg.retry.initialBackoff {
		cfg.retry.maxBackoff = cfg.retry.initialBackoff
	}
	if cfg.streamWindow < 1 {
		cfg.streamWindow = DefaultStreamWindow
	}

	var creds credentials.TransportCredentials
	switch {
	case cfg.insecure:
		creds = insecure.NewCredentials()
	case cfg.tlsConfig != nil:
		creds = credentials.NewTLS(cfg.tlsConfig)
	default:
		// Nil RootCAs means the system roots.
		creds = credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})
	}
	c := &Client{cfg: cfg}
	dialOpts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithUserAgent("izin-go/" + Version),
		grpc.WithChainUnaryInterceptor(c.unaryInterceptor),
		grpc.WithChainStreamInterceptor(c.streamInterceptor),
	}, cfg.dialOptions...)
	conn, err := grpc.NewClient(target, dialOpts...)
	if err != nil {
		return nil, fmt.Errorf("izin: %w", err)
	}
	c.conn = conn
	c.consent = izinv1.NewConsentServiceClient(conn)
	c.verification = izinv1.NewVerificationServiceClient(conn)
	c.admin = izinv1.NewAdminServiceClient(conn)
	return c, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Conn returns the underlying gRPC connection.
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Consent returns the generated ConsentService client. Its calls get the
// client's API key, timeout, retries and *Error errors like the helpers.
func (c *Client) Consent() izinv1.ConsentServiceClient { return c.consent }

// Verification returns the generated VerificationService client.
func (c *Client) Verification() izinv1.VerificationServiceClient { return c.verification }

// Admin returns the generated AdminService client (needs an ADMIN key).
func (c *Client) Admin() izinv1.AdminServiceClient { return c.admin }

func (c *Client) withAuth(ctx context.Context) context.Context {
	if c.cfg.apiKey == "" {
		return ctx
	}
	if md, ok := metadata.FromOutgoingContext(ctx); ok && len(md.Get("authorization")) > 0 {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.cfg.apiKey)
}

func (c *Client) unaryInterceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	ctx = c.withAuth(ctx)
	if _, ok := ctx.Deadline(); !ok && c.cfg.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.timeout)
		defer cancel()
	}
	attempts := 1
	if idempotent(method, req) {
		attempts = c.cfg.retry.maxAttempts
	}
	return toError(c.cfg.retry.do(ctx, attempts, func() error {
		return invoker(ctx, method, req, reply, cc, opts...)
	}))
}

func (c *Client) streamInterceptor(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	s, err := streamer(c.withAuth(ctx), desc, cc, method, opts...)
	return s, toError(err)
}
