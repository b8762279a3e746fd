package izin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The consent types, for short.
const (
	SMS   = izinv1.ConsentType_CONSENT_TYPE_SMS
	Call  = izinv1.ConsentType_CONSENT_TYPE_CALL
	Email = izinv1.ConsentType_CONSENT_TYPE_EMAIL
)

// MaxBatchSize is the most checks one BatchCheckConsents call takes;
// BatchCheck splits larger inputs into calls of this size.
const MaxBatchSize = 1000

// CheckOption refines a Check.
type CheckOption func(*izinv1.CheckConsentRequest)

// OnlyTypes asks about these types only (default: all three).
func OnlyTypes(types ...izinv1.ConsentType) CheckOption {
	return func(r *izinv1.CheckConsentRequest) { r.Types = append(r.Types, types...) }
}

// ForBrand checks the consent given to this brand code (default: the
// tenant's default brand).
func ForBrand(code string) CheckOption {
	return func(r *izinv1.CheckConsentRequest) { r.Brand = code }
}

// AsMerchant checks a merchant (TACIR) recipient, who may be messaged
// without prior consent unless they rejected.
func AsMerchant() CheckOption {
	return func(r *izinv1.CheckConsentRequest) { r.RecipientType = izinv1.RecipientType_RECIPIENT_TYPE_MERCHANT }
}

// CheckResult is a CheckConsentResponse with accessors by consent type.
// The embedded response gives the normalised Recipient and the Results.
type CheckResult struct {
	*izinv1.CheckConsentResponse
}

// NewCheckResult wraps a response, e.g. one from BatchCheck or StreamCheck.
func NewCheckResult(r *izinv1.CheckConsentResponse) *CheckResult {
	return &CheckResult{CheckConsentResponse: r}
}

// Result returns the result for type t, or nil when t was not asked.
func (r *CheckResult) Result(t izinv1.ConsentType) *izinv1.ConsentResult {
	for _, res := range r.GetResults() {
		if res.GetType() == t {
			return res
		}
	}
	return nil
}

// Status returns the status of type t (UNSPECIFIED when t was not asked).
func (r *CheckResult) Status(t izinv1.ConsentType) izinv1.ConsentStatus {
	return r.Result(t).GetStatus()
}

// Granted reports whether the recipient gave consent (ONAY) for type t.
func (r *CheckResult) Granted(t izinv1.ConsentType) bool {
	return r.Status(t) == izinv1.ConsentStatus_CONSENT_STATUS_GRANTED
}

// Rejected reports whether the recipient rejected (RET) type t.
func (r *CheckResult) Rejected(t izinv1.ConsentType) bool {
	return r.Status(t) == izinv1.ConsentStatus_CONSENT_STATUS_REJECTED
}

// Allowed reports whether a commercial message of type t may be sent now:
// granted, or a merchant recipient who has not rejected.
func (r *CheckResult) Allowed(t izinv1.ConsentType) bool {
	return r.Result(t).GetAllowed()
}

// Check asks whether recipient (a phone number in any common spelling, or
// an e-mail address) consented to commercial messages, per consent type.
func (c *Client) Check(ctx context.Context, recipient string, opts ...CheckOption) (*CheckResult, error) {
	req := &izinv1.CheckConsentRequest{Recipient: recipient}
	for _, o := range opts {
		o(req)
	}
	resp, err := c.consent.CheckConsent(ctx, req)
	if err != nil {
		return nil, err
	}
	return NewCheckResult(resp), nil
}

// BatchCheck checks any number of recipients with BatchCheckConsents calls
// of at most MaxBatchSize checks each, one after another, and returns one
// item per check in the order given. A malformed recipient gets an error
// in its own item (decode it with StatusError); the others are answered.
// When a call fails, the items answered before it are returned with the
// error.
func (c *Client) BatchCheck(ctx context.Context, checks []*izinv1.CheckConsentRequest) ([]*izinv1.CheckConsentItem, error) {
	items := make([]*izinv1.CheckConsentItem, 0, len(checks))
	for start := 0; start < len(checks); start += MaxBatchSize {
		chunk := checks[start:min(start+MaxBatchSize, len(checks))]
		resp, err := c.consent.BatchCheckConsents(ctx, &izinv1.BatchCheckConsentsRequest{Checks: chunk})
		if err != nil {
			return items, err
		}
		if got := len(resp.GetItems()); got != len(chunk) {
			return items, fmt.Errorf("izin: BatchCheckConsents answered %d items for %d checks", got, len(chunk))
		}
		items = append(items, resp.GetItems()...)
	}
	return items, nil
}

// StreamCheck checks a campaign list of any size over one
// StreamCheckConsents stream. It sends and receives concurrently, with at
// most the stream window (WithStreamWindow) of checks in flight, so memory
// stays bounded however long checks is; checks is read from one other
// goroutine, as the answers are consumed.
//
// The iterator yields one response per check, in order; the
// correlation_id of the i-th response is the decimal index i (from 0). A
// malformed recipient gets an error in its response's Error field (decode
// it with StatusError), and the stream goes on. A failure of the stream
// itself is yielded once as the error, and the iteration ends. Breaking out
// of the loop cancels the stream.
func (c *Client) StreamCheck(ctx context.Context, checks iter.Seq[*izinv1.CheckConsentRequest]) iter.Seq2[*izinv1.StreamCheckConsentsResponse, error] {
	return func(yield func(*izinv1.StreamCheckConsentsResponse, error) bool) {
		parent := ctx
		ctx, cancel := context.WithCancel(parent)
		defer cancel()
		stream, err := c.consent.StreamCheckConsents(ctx)
		if err != nil {
			yield(nil, toError(err))
			return
		}

		slots := make(chan struct{}, c.cfg.streamWindow)
		done := make(chan sendResult, 1)
		go func() {
			r := sendChecks(ctx, stream, checks, slots)
			if r.err != nil || r.panicked {
				cancel() // unblock Recv
			}
			done <- r
		}()
		var sent *sendResult
		senderResult := func() sendResult {
			if sent == nil {
				r := <-done
				sent = &r
			}
			return *sent
		}
		defer func() {
			cancel()
			r := senderResult()
			if r.panicked {
				panic(r.panicValue)
			}
		}()

		for received := 0; ; received++ {
			resp, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				// The server ended the stream. Normally it has read every
				// check by then; if not, stop the sender, which may be
				// waiting for a slot.
				cancel()
				r := senderResult()
				switch {
				case r.panicked:
					return // re-panicked by the deferred function
				case !r.closed:
					yield(nil, fmt.Errorf("izin: the server ended the stream after %d answers, before all checks were sent", received))
				case received != r.sent:
					yield(nil, fmt.Errorf("izin: the server ended the stream after %d of %d answers", received, r.sent))
				}
				return
			}
			if err != nil {
				cancel()
				r := senderResult()
				if r.panicked {
					return // re-panicked by the deferred function
				}
				if r.err != nil && status.Code(err) == codes.Canceled && parent.Err() == nil {
					err = r.err // the sender failed and cancelled the stream: its error is the cause
				}
				yield(nil, toError(err))
				return
			}
			<-slots
			if id := resp.GetCorrelationId(); id != strconv.Itoa(received) {
				yield(nil, fmt.Errorf("izin: stream answer %d has correlation_id %q", received, id))
				return
			}
			if !yield(resp, nil) {
				return
			}
		}
	}
}

type sendResult struct {
	sent       int
	closed     bool // every check was sent and the sending side closed
	err        error
	panicked   bool
	panicValue any
}

type checkSender interface {
	Send(*izinv1.StreamCheckConsentsRequest) error
	CloseSend() error
}

// sendChecks sends every check, taking a slot for each (the receiver frees
// it), then closes the sending side. A panic of the caller's iterator is
// caught, to be raised again in the caller's goroutine.
func sendChecks(ctx context.Context, stream checkSender, checks iter.Seq[*izinv1.CheckConsentRequest], slots chan<- struct{}) (r sendResult) {
	defer func() {
		if p := recover(); p != nil {
			r.panicked, r.panicValue = true, p
		}
	}()
	for check := range checks {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return r // the receiver stopped; it has its own error
		}
		err := stream.Send(&izinv1.StreamCheckConsentsRequest{Check: check, CorrelationId: strconv.Itoa(r.sent)})
		if errors.Is(err, io.EOF) {
			return r // the stream ended; Recv tells why
		}
		if err != nil {
			r.err = toError(err)
			return r
		}
		r.sent++
	}
	if err := stream.CloseSend(); err != nil {
		r.err = toError(err)
		return r
	}
	r.closed = true
	return r
}

// Reject records that recipient rejected (RET) the given consent types;
// with no types, every type that fits the recipient. It takes effect for
// the very next check. It is retried: the proto declares RejectConsent
// IDEMPOTENT (rejecting again changes nothing).
func (c *Client) Reject(ctx context.Context, recipient string, types ...izinv1.ConsentType) (*izinv1.RejectConsentResponse, error) {
	return c.consent.RejectConsent(ctx, &izinv1.RejectConsentRequest{Recipient: recipient, Types: types})
}

// Record records a consent (ONAY) the source obtained, with its evidence
// (iys_source, reference, operator_id, consent_time). It is retried only
// when req carries an idempotency key.
func (c *Client) Record(ctx context.Context, req *izinv1.RecordConsentRequest) (*izinv1.RecordConsentResponse, error) {
	return c.consent.RecordConsent(ctx, req)
}
