package store

import (
	"fmt"
	"testing"
)

func TestEnumNames(t *testing.T) {
	tests := []struct {
		v    fmt.Stringer
		want string
	}{
		{ConsentSMS, "SMS"},
		{ConsentCall, "CALL"},
		{ConsentEmail, "EMAIL"},
		{ConsentKVKK, "KVKK"},
		{ConsentType(9), "ConsentType(9)"},
		{StatusGranted, "GRANTED"},
		{StatusRejected, "REJECTED"},
		{StatusNone, "NONE"},
		{ConsentStatus(0), "ConsentStatus(0)"},
		{VerificationPending, "PENDING"},
		{VerificationVerified, "VERIFIED"},
		{VerificationExpired, "EXPIRED"},
		{VerificationFailed, "FAILED"},
		{VerificationCancelled, "CANCELLED"},
		{VerificationStatus(6), "VerificationStatus(6)"},
		{ScopeCheck, "CHECK"},
		{ScopeWrite, "WRITE"},
		{ScopeAdmin, "ADMIN"},
		{Scope(0), "Scope(0)"},
		{IYSPending, "PENDING"},
		{IYSSubmitted, "SUBMITTED"},
		{IYSAccepted, "ACCEPTED"},
		{IYSRefused, "REFUSED"},
		{IYSSkipped, "SKIPPED"},
		{IYSUploadState(0), "IYSUploadState(0)"},
	}
	for _, tc := range tests {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("%T(%d).String() = %q, want %q", tc.v, tc.v, got, tc.want)
		}
	}
	// %d still prints the number: the column and hash forms never go
	// through String.
	if got := fmt.Sprintf("%d", ConsentEmail); got != "3" {
		t.Errorf("%%d of ConsentEmail = %q, want 3", got)
	}
}
