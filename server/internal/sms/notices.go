package sms

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Fixed informational texts: the confirmation of a rejection the customer
// sent by SMS, and the test message of a brand's provider. They carry no
// rejection route: there is no consent left to reject.
const (
	rejectionText = "%s: %s ticari ileti izniniz %s tarihinde reddedildi (RET). MERSIS:%s"
	testText      = "%s: izin SMS deneme mesajıdır, bilgilendirme amaçlıdır. Gönderim ayarınız çalışıyor."
)

// RejectionData fills the SMS that confirms a rejection.
type RejectionData struct {
	Brand  string
	Types  []string
	Time   time.Time
	Mersis string
}

// Rejection renders the confirmation of a rejection (RET) sent by SMS.
func (t *Templates) Rejection(d RejectionData) (string, error) {
	brand := strings.TrimSpace(d.Brand)
	if brand == "" {
		return "", errors.New("sms: brand is empty")
	}
	types, err := TypesText(d.Types)
	if err != nil {
		return "", err
	}
	if d.Time.IsZero() {
		return "", errors.New("sms: rejection time is zero")
	}
	m, err := mersis(d.Mersis)
	if err != nil {
		return "", err
	}
	return single(fmt.Sprintf(rejectionText, brand, types, d.Time.In(t.loc).Format(timeLayout), m))
}

// Test renders the informational test message of a brand.
func (t *Templates) Test(brand string) (string, error) {
	brand = strings.TrimSpace(brand)
	if brand == "" {
		return "", errors.New("sms: brand is empty")
	}
	return single(fmt.Sprintf(testText, brand))
}

func single(body string) (string, error) {
	if err := CheckSingleSegment(body); err != nil {
		return "", err
	}
	return body, nil
}
