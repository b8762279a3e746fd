package store

import "fmt"

// The names below are the proto enum value names without their prefix
// (CONSENT_TYPE_SMS is "SMS"): error messages, logs and the CLI show them,
// so they are written once here rather than in a switch per package.

var consentTypeNames = map[ConsentType]string{
	ConsentSMS: "SMS", ConsentCall: "CALL", ConsentEmail: "EMAIL", ConsentKVKK: "KVKK",
}

var consentStatusNames = map[ConsentStatus]string{
	StatusGranted: "GRANTED", StatusRejected: "REJECTED", StatusNone: "NONE",
}

var verificationStatusNames = map[VerificationStatus]string{
	VerificationPending:   "PENDING",
	VerificationVerified:  "VERIFIED",
	VerificationExpired:   "EXPIRED",
	VerificationFailed:    "FAILED",
	VerificationCancelled: "CANCELLED",
}

var scopeNames = map[Scope]string{
	ScopeCheck: "CHECK", ScopeWrite: "WRITE", ScopeAdmin: "ADMIN",
}

var uploadStateNames = map[IYSUploadState]string{
	IYSPending:   "PENDING",
	IYSSubmitted: "SUBMITTED",
	IYSAccepted:  "ACCEPTED",
	IYSRefused:   "REFUSED",
	IYSSkipped:   "SKIPPED",
}

// enumName is the name of v, or "Type(n)" for a number with no name, so an
// unexpected value is visible rather than blank.
func enumName[T ~int16](names map[T]string, typ string, v T) string {
	if n, ok := names[v]; ok {
		return n
	}
	return fmt.Sprintf("%s(%d)", typ, v)
}

func (t ConsentType) String() string { return enumName(consentTypeNames, "ConsentType", t) }

func (s ConsentStatus) String() string { return enumName(consentStatusNames, "ConsentStatus", s) }

func (s VerificationStatus) String() string {
	return enumName(verificationStatusNames, "VerificationStatus", s)
}

func (s Scope) String() string { return enumName(scopeNames, "Scope", s) }

func (s IYSUploadState) String() string { return enumName(uploadStateNames, "IYSUploadState", s) }
