package iys

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// RecipientType is İYS's alıcı tipi.
type RecipientType string

// Recipient types.
const (
	Individual RecipientType = "BIREYSEL"
	Merchant   RecipientType = "TACIR"
)

// ConsentType is İYS's izin tipi: the channel a consent is for.
type ConsentType string

// Consent types.
const (
	SMS   ConsentType = "MESAJ"
	Call  ConsentType = "ARAMA"
	Email ConsentType = "EPOSTA"
)

// Status is ONAY (granted) or RET (rejected).
type Status string

// Statuses.
const (
	Granted  Status = "ONAY"
	Rejected Status = "RET"
)

// Source is İYS's izin kaynağı. HS_* sources are what a company sends; IYS_*
// sources appear only in changes made by citizens at İYS, and İYS refuses
// them in uploads.
type Source string

// Sources a company sends (from İYS's list of accepted values).
const (
	SourcePhysical   Source = "HS_FIZIKSEL_ORTAM"
	SourceWetSig     Source = "HS_ISLAK_IMZA"
	SourceWeb        Source = "HS_WEB"
	SourceCallCenter Source = "HS_CAGRI_MERKEZI"
	SourceSocial     Source = "HS_SOSYAL_MEDYA"
	SourceEmail      Source = "HS_EPOSTA"
	SourceMessage    Source = "HS_MESAJ"
	SourceMobile     Source = "HS_MOBIL"
	SourceElectronic Source = "HS_EORTAM"
	SourceEvent      Source = "HS_ETKINLIK"
	SourceATM        Source = "HS_ATM"
	Source2015       Source = "HS_2015"  // recorded before 1 May 2015; date must be 2015-05-01 00:00:00
	SourceDecision   Source = "HS_KARAR" // the company's own decision; status must be RET
)

// Sources of changes made at İYS by citizens, as they appear in İYS's change
// feed (values seen in public İYS client code; İYS may add more, so treat
// any IYS_ prefix as "made at İYS").
const (
	SourceIYSCallCenter Source = "IYS_CM"        // İYS call centre
	SourceIYSWeb        Source = "IYS_WEB"       // İYS web site / e-Devlet
	SourceIYSMobile     Source = "IYS_MOBIL"     // İYS mobile app
	SourceIYSSMS        Source = "IYS_KISAMESAJ" // RET by SMS to İYS's short number
	SourceIYSEmail      Source = "IYS_EPOSTA"
)

// HSSources lists the sources İYS accepts in uploads.
var HSSources = []Source{SourcePhysical, SourceWetSig, SourceWeb, SourceCallCenter, SourceSocial,
	SourceEmail, SourceMessage, SourceMobile, SourceElectronic, SourceEvent, Source2015, SourceATM, SourceDecision}

// FromIYS reports whether the source is one of İYS's own channels, i.e. the
// change was made by the citizen at İYS.
func (s Source) FromIYS() bool { return strings.HasPrefix(string(s), "IYS_") }

// Uploadable reports whether İYS takes the source in a company's upload
// (one of HSSources).
func (s Source) Uploadable() bool { return slices.Contains(HSSources, s) }

// Consent is one consent record as İYS knows it. The JSON form is İYS's:
// consentDate is "YYYY-MM-DD HH:mm:ss" in Europe/Istanbul.
type Consent struct {
	Recipient      string
	RecipientType  RecipientType
	Type           ConsentType
	Status         Status
	Source         Source
	ConsentDate    time.Time // when the recipient gave it; sent at second precision
	RetailerCode   int64     // optional: the retailer (bayi) that collected it
	RetailerAccess []int64   // optional: retailers allowed to see it

	// Set by İYS in answers (status query, changes); never sent.
	CreationDate  time.Time // when İYS recorded it
	TransactionID string
}

// MarshalJSON writes the fields İYS accepts in an upload, and nothing else.
// An empty RecipientType is sent as BIREYSEL, the default.
func (c Consent) MarshalJSON() ([]byte, error) { return json.Marshal(c.toWire()) }

func (c Consent) toWire() wireConsent {
	rt := c.RecipientType
	if rt == "" {
		rt = Individual
	}
	w := wireConsent{
		Recipient:      c.Recipient,
		RecipientType:  string(rt),
		Type:           string(c.Type),
		Status:         string(c.Status),
		Source:         string(c.Source),
		RetailerCode:   c.RetailerCode,
		RetailerAccess: c.RetailerAccess,
	}
	if !c.ConsentDate.IsZero() {
		w.ConsentDate = FormatDate(c.ConsentDate)
	}
	return w
}

// UnmarshalJSON reads a consent as İYS answers it.
func (c *Consent) UnmarshalJSON(b []byte) error {
	var w wireConsentOut
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	out, err := fromWire(w)
	if err != nil {
		return err
	}
	*c = out
	return nil
}

func fromWire(w wireConsentOut) (Consent, error) {
	c := Consent{
		Recipient:      w.Recipient,
		RecipientType:  RecipientType(w.RecipientType),
		Type:           ConsentType(w.Type),
		Status:         Status(w.Status),
		Source:         Source(w.Source),
		RetailerCode:   w.RetailerCode,
		RetailerAccess: w.RetailerAccess,
		TransactionID:  w.TransactionID,
	}
	var err error
	if w.ConsentDate != "" {
		if c.ConsentDate, err = ParseDate(w.ConsentDate); err != nil {
			return Consent{}, fmt.Errorf("iys: consentDate %q: %w", w.ConsentDate, err)
		}
	}
	if w.CreationDate != "" {
		if c.CreationDate, err = ParseDate(w.CreationDate); err != nil {
			return Consent{}, fmt.Errorf("iys: creationDate %q: %w", w.CreationDate, err)
		}
	}
	return c, nil
}

// Result is İYS's answer to a single add.
type Result struct {
	TransactionID string
	CreationDate  time.Time
}

// ItemStatus is the state of one consent of a bulk request.
type ItemStatus string

// Item states, as İYS names them.
const (
	ItemSuccess ItemStatus = "success"
	ItemFailure ItemStatus = "failure"
	ItemQueued  ItemStatus = "enqueue"
)

// ItemResult is the outcome of one consent of a bulk request.
type ItemResult struct {
	Index         int // 0-based position in the slice given to AddConsentsAsync
	Status        ItemStatus
	SubrequestID  string
	TransactionID string    // İYS's transaction id, when stored
	CreationDate  time.Time // when İYS stored it
	Err           *Error    // why İYS refused it (Status == ItemFailure)
}

// Pending reports whether İYS has not finished with the item yet.
func (r ItemResult) Pending() bool { return r.Status == ItemQueued || r.Status == "" }

// ChangesPage is one page of İYS's change feed.
type ChangesPage struct {
	Changes []Consent
	// Next is the cursor to pass as after for the following page. It equals
	// the cursor given when the page is empty, so a caller can store it and
	// poll again later.
	Next string
}

const dateLayout = "2006-01-02 15:04:05"

var istanbul = loadIstanbul(time.LoadLocation)

// loadIstanbul returns Europe/Istanbul, or a fixed UTC+3 zone when the time
// zone database is missing. Turkey has kept UTC+3 all year since September
// 2016, so the fallback is exact for every date İYS still accepts in uploads.
func loadIstanbul(load func(string) (*time.Location, error)) *time.Location {
	if loc, err := load("Europe/Istanbul"); err == nil {
		return loc
	}
	return time.FixedZone("+03", 3*60*60)
}

// Istanbul returns the time zone İYS's dates are in.
func Istanbul() *time.Location { return istanbul }

// FormatDate formats t as İYS's "YYYY-MM-DD HH:mm:ss" in Istanbul time,
// dropping fractions of a second.
func FormatDate(t time.Time) string { return t.In(istanbul).Format(dateLayout) }

// ParseDate parses İYS's "YYYY-MM-DD HH:mm:ss" as Istanbul time.
func ParseDate(s string) (time.Time, error) {
	return time.ParseInLocation(dateLayout, s, istanbul)
}
