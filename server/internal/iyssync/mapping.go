package iyssync

import (
	"fmt"
	"strings"

	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/store"
)

// consentOf is the consent İYS receives for an upload.
func consentOf(u *store.IYSUpload) iys.Consent {
	return iys.Consent{
		Recipient:     u.Recipient,
		RecipientType: recipientTypeIYS(u.RecipientType),
		Type:          consentTypeIYS(u.Type),
		Status:        statusIYS(u.Status),
		Source:        iys.Source(u.Source),
		ConsentDate:   u.ConsentTime,
	}
}

func recipientTypeIYS(t store.RecipientType) iys.RecipientType {
	if t == store.Merchant {
		return iys.Merchant
	}
	return iys.Individual
}

func consentTypeIYS(t store.ConsentType) iys.ConsentType {
	switch t {
	case store.ConsentSMS:
		return iys.SMS
	case store.ConsentCall:
		return iys.Call
	case store.ConsentEmail:
		return iys.Email
	}
	return iys.ConsentType(fmt.Sprint(int(t)))
}

func statusIYS(s store.ConsentStatus) iys.Status {
	if s == store.StatusRejected {
		return iys.Rejected
	}
	return iys.Granted
}

// fromIYS maps İYS's values of a change to izin's; ok is false for a value
// izin does not know.
func fromIYS(c iys.Consent) (rt store.RecipientType, typ store.ConsentType, st store.ConsentStatus, ok bool) {
	switch c.RecipientType {
	case iys.Individual, "":
		rt = store.Individual
	case iys.Merchant:
		rt = store.Merchant
	default:
		return 0, 0, 0, false
	}
	switch c.Type {
	case iys.SMS:
		typ = store.ConsentSMS
	case iys.Call:
		typ = store.ConsentCall
	case iys.Email:
		typ = store.ConsentEmail
	default:
		return 0, 0, 0, false
	}
	switch c.Status {
	case iys.Granted:
		st = store.StatusGranted
	case iys.Rejected:
		st = store.StatusRejected
	default:
		return 0, 0, 0, false
	}
	return rt, typ, st, true
}

// StateName is the name of an upload state, as the API spells it without
// its prefix.
func StateName(s store.IYSUploadState) string {
	switch s {
	case store.IYSPending:
		return "PENDING"
	case store.IYSSubmitted:
		return "SUBMITTED"
	case store.IYSAccepted:
		return "ACCEPTED"
	case store.IYSRefused:
		return "REFUSED"
	case store.IYSSkipped:
		return "SKIPPED"
	}
	return "UNSPECIFIED"
}

// ParseState reads a state name (case-insensitive; "" is every state).
func ParseState(s string) (store.IYSUploadState, error) {
	switch strings.ToUpper(strings.TrimPrefix(strings.ToUpper(s), "IYS_UPLOAD_STATE_")) {
	case "", "ALL", "UNSPECIFIED":
		return 0, nil
	case "PENDING":
		return store.IYSPending, nil
	case "SUBMITTED":
		return store.IYSSubmitted, nil
	case "ACCEPTED":
		return store.IYSAccepted, nil
	case "REFUSED":
		return store.IYSRefused, nil
	case "SKIPPED":
		return store.IYSSkipped, nil
	}
	return 0, fmt.Errorf("state %q: want PENDING, SUBMITTED, ACCEPTED, REFUSED or SKIPPED", s)
}
