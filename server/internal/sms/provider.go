package sms

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Message is one SMS to send. ID is our stable message id; providers use it
// as an idempotency key so a resend after a crash is not delivered twice.
type Message struct {
	ID        string
	Sender    string
	Recipient string
	Body      string
}

// Result is what a provider returns for an accepted message.
type Result struct {
	ProviderMessageID string
}

// Provider hands messages to an SMS operator. Send must be idempotent on
// Message.ID, because the outbox worker retries after crashes and timeouts.
// An error that satisfies IsPermanent means retrying cannot help (invalid
// number, rejected sender); any other error is retried.
type Provider interface {
	Name() string
	Send(ctx context.Context, m Message) (Result, error)
}

// ErrPermanent marks provider errors that must not be retried. Match it with
// errors.Is or IsPermanent; create such errors with Permanent or by wrapping
// ErrPermanent with fmt.Errorf("...: %w", ErrPermanent).
var ErrPermanent = errors.New("sms: permanent failure")

// PermanentError wraps a provider error so that it matches ErrPermanent while
// keeping the original error (and its message) for logs and errors.As.
type PermanentError struct {
	Err error
}

func (e *PermanentError) Error() string {
	if e.Err == nil {
		return ErrPermanent.Error()
	}
	return e.Err.Error()
}

func (e *PermanentError) Unwrap() error { return e.Err }

// Is makes every PermanentError match ErrPermanent.
func (e *PermanentError) Is(target error) bool { return target == ErrPermanent }

// Permanent marks err as not retryable. Permanent(nil) is nil so that
// `return Permanent(err)` stays correct on success paths.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err (or anything it wraps) is permanent.
func IsPermanent(err error) bool {
	return errors.Is(err, ErrPermanent)
}

// ErrOutcomeUnknown marks a send whose request may have reached the
// provider but whose answer was lost (a timeout after the request was
// written, a reset connection). Retrying blindly could deliver the message
// twice, so the worker first asks the provider (Reporter.Lookup) whether it
// has the message. Wrap it with Unknown.
var ErrOutcomeUnknown = errors.New("sms: send outcome unknown")

type unknownError struct{ err error }

func (e *unknownError) Error() string        { return e.err.Error() }
func (e *unknownError) Unwrap() error        { return e.err }
func (e *unknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// Unknown marks err as a send of unknown outcome; Unknown(nil) is nil.
func Unknown(err error) error {
	if err == nil {
		return nil
	}
	return &unknownError{err: err}
}

// IsUnknown reports whether err is a send of unknown outcome.
func IsUnknown(err error) bool { return errors.Is(err, ErrOutcomeUnknown) }

// DeliveryState is what a provider knows of a message after accepting it.
type DeliveryState int

const (
	// StateAccepted: the provider holds the message (queued or sent on to
	// the operator) and has not reported its delivery yet.
	StateAccepted DeliveryState = iota + 1
	// StateDelivered: the handset received it.
	StateDelivered
	// StateFailed: it will not be delivered (unknown number, blocked,
	// rejected by the operator).
	StateFailed
	// StateExpired: its validity ran out before the handset took it.
	StateExpired
)

// Report is a delivery report, pushed by the provider or polled from it.
type Report struct {
	// MessageID is izin's message id where the provider echoes it;
	// ProviderMessageID is the provider's. At least one is set.
	MessageID         string
	ProviderMessageID string
	// Recipient, when the provider reports it (E.164, +90...).
	Recipient string
	State     DeliveryState
	// Code is the provider's own status or error code, Detail its short
	// description; both are kept on the message for support.
	Code   string
	Detail string
	At     time.Time
}

// Reporter is a provider that can be asked about a message: to poll
// delivery reports, and to find out whether a send of unknown outcome
// arrived. found is false when the provider has no such message (it never
// got it, so sending again is safe).
type Reporter interface {
	Lookup(ctx context.Context, m Sent) (r Report, found bool, err error)
}

// Sent identifies a message to look up: izin's id, the provider's id if
// the send answered, and when it was first attempted.
type Sent struct {
	Message
	ProviderMessageID string
	FirstAttempt      time.Time
	// Known are the provider ids of izin's other messages to the same
	// recipient since FirstAttempt: a provider that can only be searched
	// by number and time skips them, so another message is not taken for
	// this one.
	Known []string
}

// Inbound is an SMS a customer sent to the brand.
type Inbound struct {
	ProviderMessageID string
	From              string // as the provider sent it; the caller normalises
	To                string // the brand's number or short code, when given
	Body              string
	At                time.Time
}

// Callbacks is a provider that pushes delivery reports or inbound messages
// to izin over HTTP. Each method authenticates the request with the
// brand's credentials (auth) before it trusts a byte of it, and returns
// ErrUnauthenticated when it does not pass. url is the full public URL the
// provider called (Twilio signs it).
type Callbacks interface {
	ParseReports(r *http.Request, url string, auth CallbackAuth) ([]Report, error)
	ParseInbound(r *http.Request, url string, auth CallbackAuth) ([]Inbound, error)
}

// CallbackAuth is what a callback is checked against: the brand's provider
// credentials, and the shared secret izin generated for the brand's
// callback URLs (providers without a signature send it as the basic-auth
// password or a "secret" query parameter).
type CallbackAuth struct {
	Username, Password string
	Secret             string
}

// ErrUnauthenticated is returned for a callback that fails authentication.
var ErrUnauthenticated = errors.New("sms: callback not authenticated")

// Config is a brand's connection to a provider.
type Config struct {
	// BaseURL is the API address; empty means the provider's public API.
	BaseURL string
	// Username and Password are the provider's credentials: the API user
	// and password (Netgsm, Verimor), or the Account SID and auth token
	// (Twilio).
	Username, Password string
	// Sender is the registered sender title (başlık) or number used when a
	// message has none.
	Sender string
	// ReportURL, if set, is where the provider should push delivery
	// reports for each message (providers that take it per message).
	ReportURL string
	// HTTPClient sends the requests; nil means a client with a timeout.
	HTTPClient *http.Client
}
