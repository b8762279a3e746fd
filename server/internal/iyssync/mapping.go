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
	rt, okRT := recipientTypesFromIYS[c.RecipientType]
	typ, okType := typesFromIYS[c.Type]
	st, okStatus := statusesFromIYS[c.Status]
	if !okRT || !okType || !okStatus {
		return 0, 0, 0, false
	}
	return rt, typ, st, true
}

// İYS's values and izin's. An empty recipient type is İYS's default,
// BIREYSEL.
var (
	recipientTypesFromIYS = map[iys.RecipientType]store.RecipientType{
		iys.Individual: store.Individual, "": store.Individual, iys.Merchant: store.Merchant,
	}
	typesFromIYS = map[iys.ConsentType]store.ConsentType{
		iys.SMS: store.ConsentSMS, iys.Call: store.ConsentCall, iys.Email: store.ConsentEmail,
	}
	statusesFromIYS = map[iys.Status]store.ConsentStatus{
		iys.Granted: store.StatusGranted, iys.Rejected: store.StatusRejected,
	}
)

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
