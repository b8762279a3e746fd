package store

import (
	"strconv"
	"strings"
)

// The enums below use the numbers of their izin.v1 proto counterparts, so
// conversion at the API edge is a cast.

// ConsentType is MESAJ, ARAMA or EPOSTA.
type ConsentType int16

const (
	ConsentSMS   ConsentType = 1
	ConsentCall  ConsentType = 2
	ConsentEmail ConsentType = 3
)

// AllConsentTypes is the order results are given in when no type is asked.
var AllConsentTypes = []ConsentType{ConsentSMS, ConsentCall, ConsentEmail}

// ConsentKVKK is not an ETK type: it is the pseudo type under which a
// recipient's KVKK explicit consent is kept, as a consent_states row (its
// KVKK column holds the status) and as consent events in the same hash
// chain. Keeping it beside the ETK rows lets the check path read both in
// its one indexed query; no İYS upload is ever made for it. The API shows
// it as CONSENT_TYPE_UNSPECIFIED with the kvkk field set.
const ConsentKVKK ConsentType = 100

// ConsentStatus is ONAY, RET or no record.
type ConsentStatus int16

const (
	StatusGranted  ConsentStatus = 1
	StatusRejected ConsentStatus = 2
	StatusNone     ConsentStatus = 3
)

// RecipientType is BIREYSEL or TACIR.
type RecipientType int16

const (
	Individual RecipientType = 1
	Merchant   RecipientType = 2
)

// VerificationMethod is SMS code or landing page.
type VerificationMethod int16

const (
	MethodNone        VerificationMethod = 0
	MethodSMSCode     VerificationMethod = 1
	MethodLandingPage VerificationMethod = 2
)

// VerificationStatus is the life cycle of a verification.
type VerificationStatus int16

const (
	VerificationPending   VerificationStatus = 1
	VerificationVerified  VerificationStatus = 2
	VerificationExpired   VerificationStatus = 3
	VerificationFailed    VerificationStatus = 4
	VerificationCancelled VerificationStatus = 5
)

// SourceType is the kind of channel.
type SourceType int16

const (
	SourceEcommerce  SourceType = 1
	SourceKiosk      SourceType = 2
	SourceMobileApp  SourceType = 3
	SourceCRM        SourceType = 4
	SourceERP        SourceType = 5
	SourceCallCenter SourceType = 6
	SourceStore      SourceType = 7
	SourceOther      SourceType = 8
)

// Scope is what an API key may do; a higher scope includes the lower ones.
type Scope int16

const (
	ScopeCheck Scope = 1
	ScopeWrite Scope = 2
	ScopeAdmin Scope = 3
)

// MessageStatus is the delivery state of an outbox message.
type MessageStatus int16

const (
	MessageQueued MessageStatus = 1
	MessageSent   MessageStatus = 2
	MessageFailed MessageStatus = 3 // refused, or reported undelivered
	// Delivery reports after MessageSent (accepted by the provider).
	MessageDelivered MessageStatus = 4
	MessageExpired   MessageStatus = 5
)

// MessageKind says why a message was sent.
type MessageKind int16

const (
	KindActivation   MessageKind = 1
	KindConfirmation MessageKind = 2
	KindLandingLink  MessageKind = 3
	KindTest         MessageKind = 4 // izin sms test
	KindRejection    MessageKind = 5 // confirms a RET sent by SMS
)

// KVKKStatus is the customer's KVKK explicit consent (açık rıza), asked on
// the consent page separately from the ETK consent.
type KVKKStatus int16

const (
	KVKKUnspecified KVKKStatus = 0 // not asked
	KVKKGranted     KVKKStatus = 1
	KVKKDeclined    KVKKStatus = 2
	KVKKWithdrawn   KVKKStatus = 3 // granted before, then withdrawn
)

// TextKind is which legal text a ConsentText holds.
type TextKind int16

const (
	TextETK      TextKind = 1 // ETK consent statement
	TextPrivacy  TextKind = 2 // KVKK privacy notice (aydınlatma metni)
	TextExplicit TextKind = 3 // KVKK explicit consent (açık rıza)
)

// TextKinds are the kinds the consent page shows, in page order.
var TextKinds = []TextKind{TextETK, TextPrivacy, TextExplicit}

// IYSUploadState is where an event stands on its way to İYS.
type IYSUploadState int16

const (
	IYSPending   IYSUploadState = 1 // waiting to be sent
	IYSSubmitted IYSUploadState = 2 // in a bulk request whose result is awaited
	IYSAccepted  IYSUploadState = 3 // İYS stored it
	IYSRefused   IYSUploadState = 4 // İYS refused it for a rule; ErrorCode says which
	// IYSSkipped is never sent: İYS holds it already, or its upload window
	// had closed when it was imported. ErrorCode is IYSSkipRegistered or
	// IYSSkipOutsideWindow.
	IYSSkipped IYSUploadState = 5
)

// Why an upload was skipped.
const (
	IYSSkipRegistered    = "ALREADY_REGISTERED"
	IYSSkipOutsideWindow = "OUTSIDE_WINDOW"
)

// JoinTypes is the column form of a list of consent types: their numbers,
// comma-separated, in order.
func JoinTypes(types []ConsentType) string {
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = strconv.Itoa(int(t))
	}
	return strings.Join(parts, ",")
}

// SplitTypes reads the column form written by JoinTypes.
func SplitTypes(s string) []ConsentType {
	var out []ConsentType
	for _, p := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(p); err == nil {
			out = append(out, ConsentType(n))
		}
	}
	return out
}
