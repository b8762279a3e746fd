package verify

import (
	"context"

	"github.com/izinhq/izin/server/internal/errs"
	"time"

	"github.com/izinhq/izin/server/internal/evidence"
	"github.com/izinhq/izin/server/internal/store"
)

// PageState is where a consent page stands, as the customer sees it.
type PageState int

const (
	// PageOpen: the form can be sent.
	PageOpen PageState = iota + 1
	// PageCodeSent: the form was sent and the activation code is on its
	// way; the customer gives it to the source.
	PageCodeSent
	// PageVerified: the source submitted the code; consent is recorded.
	PageVerified
)

// PageText is one versioned legal text as the page shows it.
type PageText struct {
	ID      string
	Version int
	Title   string
	Body    string
}

// Page is everything the consent page shows. It never carries the code.
type Page struct {
	VerificationID string
	State          PageState
	Company        string // tenant name
	Mersis         string
	BrandName      string
	// SourceName is the channel the customer gives the code to ("" if the
	// verification was started by a key without a source).
	SourceName string
	// MaskedRecipient shows enough of the number to recognise it.
	MaskedRecipient     string
	FirstName, LastName string
	Types               []store.ConsentType
	// Language is the language of the texts below ("tr" or "en"): the one
	// asked for when the brand has texts in it, else Turkish.
	Language                  string
	ETK, Privacy, Explicit    PageText
	ExpireAt                  time.Time // the link stops working
	CodeExpireAt              time.Time // set once the code is sent
	KVKK                      store.KVKKStatus
	PageViewedAt, SubmittedAt *time.Time
}

// PageForm is what the customer sent.
type PageForm struct {
	// Language of the texts the customer was shown; evidence records those.
	Language string
	ETK      bool
	KVKK     bool
	Client   evidence.Client
}

// OpenPage shows the consent page of a link token in language lang ("tr"
// or "en"; anything else means Turkish) and records the first view with
// the client's address.
//
// Errors: errs NotFound for an unknown or malformed token;
// FailedPrecondition with ReasonVerificationExpired when the link or code
// ran out; FailedPrecondition with ReasonVerificationClosed (metadata
// "status") when the verification was cancelled or failed.
func (s *Service) OpenPage(ctx context.Context, token, lang string, c evidence.Client) (*Page, error) {
	return nil, errs.Unimplemented("consent page")
}

// SubmitPage takes the sent form: it needs the ETK box, records the KVKK
// choice either way, and sends the activation code by SMS. A token submits
// once; a second submit is FailedPrecondition with ReasonVerificationClosed.
// A missing ETK box is errs Invalid with field "etk". Send limits give
// RateLimited.
func (s *Service) SubmitPage(ctx context.Context, token string, f PageForm) (*Page, error) {
	return nil, errs.Unimplemented("consent page")
}
