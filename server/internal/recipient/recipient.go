// Package recipient normalises phone numbers and e-mail addresses, so that
// every spelling of one recipient finds the same consent.
package recipient

import (
	"errors"
	"net/mail"
	"strings"
)

// Kind is phone or e-mail.
type Kind int

const (
	Phone Kind = iota + 1
	Email
)

// Recipient is a normalised recipient.
type Recipient struct {
	// Value is E.164 for phones (+905321234567) and lower case for e-mail.
	Value string
	Kind  Kind
}

// IsMobile tells whether a phone number is a Turkish mobile (+905…), the
// only kind that can receive SMS.
func (r Recipient) IsMobile() bool {
	return r.Kind == Phone && strings.HasPrefix(r.Value, "+905")
}

// Prefix groups numbers by operator block (+90 532 123), the unit that
// SMS-pumping fraud walks through.
func (r Recipient) Prefix() string {
	if r.Kind != Phone || len(r.Value) < 9 {
		return r.Value
	}
	return r.Value[:9]
}

var (
	ErrEmpty        = errors.New("recipient is empty")
	ErrPhoneFormat  = errors.New("not a Turkish phone number: want 10 digits after +90 or 0, e.g. +90 532 123 45 67")
	ErrEmailFormat  = errors.New("not a valid e-mail address")
	ErrForeignPhone = errors.New("only Turkish (+90) numbers can be recorded in İYS")
)

// Parse normalises raw. Phones may be written with spaces, dashes, dots and
// parentheses, with +90, 0090, 90 or 0 in front, or as the bare 10 digits.
func Parse(raw string) (Recipient, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return Recipient{}, ErrEmpty
	}
	if strings.Contains(s, "@") {
		return parseEmail(s)
	}
	return parsePhone(s)
}

func parsePhone(s string) (Recipient, error) {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '\u00a0':
		default:
			return Recipient{}, ErrPhoneFormat
		}
	}
	d := b.String()
	switch {
	case strings.HasPrefix(d, "+90"):
		d = d[3:]
	case strings.HasPrefix(d, "+"):
		return Recipient{}, ErrForeignPhone
	case strings.HasPrefix(d, "0090"):
		d = d[4:]
	case len(d) == 12 && strings.HasPrefix(d, "90"):
		d = d[2:]
	case len(d) == 11 && strings.HasPrefix(d, "0"):
		d = d[1:]
	}
	// Turkish national numbers are 10 digits; geographic ones start with
	// 2–4, mobiles with 5, and 8xx are service numbers.
	if len(d) != 10 || d[0] < '2' || d[0] > '5' {
		return Recipient{}, ErrPhoneFormat
	}
	return Recipient{Value: "+90" + d, Kind: Phone}, nil
}

func parseEmail(s string) (Recipient, error) {
	s = strings.ToLower(s)
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return Recipient{}, ErrEmailFormat
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.HasSuffix(domain, ".") {
		return Recipient{}, ErrEmailFormat
	}
	return Recipient{Value: s, Kind: Email}, nil
}

// Masked shows enough of a recipient for its owner to recognise it and not
// enough for a bystander to learn it: "+90 532 *** ** 67", "a***@example.com".
func (r Recipient) Masked() string {
	switch r.Kind {
	case Phone:
		if len(r.Value) == 13 && strings.HasPrefix(r.Value, "+90") {
			return "+90 " + r.Value[3:6] + " *** ** " + r.Value[11:]
		}
	case Email:
		if local, domain, ok := strings.Cut(r.Value, "@"); ok && local != "" {
			return local[:1] + "***@" + domain
		}
	}
	return "***"
}
