package sms

import (
	"errors"
	"fmt"
	"strings"
	"text/template"
	"time"
)

// Default texts. At the worst case a brand can set up (an 11-character
// sender, all three types, "RET <11 characters> yazıp 3338'e gönderin") both
// render to 146 characters, under the 150 limit for Turkish text.
const (
	DefaultActivationTemplate = "{{.Code}} kodunu ileterek {{.Types}} ile ticari ileti izni verirsiniz. " +
		"Ret: {{.RejectRoute}}. MERSIS:{{.Mersis}}"
	// The route is a link in practice (see LinkRoute); no punctuation follows
	// it, so no phone takes a full stop for part of the address.
	DefaultConfirmationTemplate = "{{.Brand}}: {{.Types}} izniniz {{.Time}} kaydedildi. " +
		"Ret: {{.RejectRoute}} MERSIS:{{.Mersis}}"
	// DefaultLandingTemplate invites the customer to the consent page. It
	// records nothing, so it carries no rejection route; the page and the
	// activation SMS that follows do.
	DefaultLandingTemplate = "{{.Brand}}: {{.Types}} izni vermek için formu doldurun: {{.Link}} MERSIS:{{.Mersis}}"
)

// MaxLinkBaseLen is the longest public URL (scheme and host) whose links fit
// the default templates for every sender and type combination; see
// ValidateLinkBase.
const MaxLinkBaseLen = 35

// CodeLength is the number of digits in an activation code.
const CodeLength = 6

// mersisLength is the number of digits in a MERSIS number.
const mersisLength = 16

// timeLayout is how the confirmation states when consent was recorded.
const timeLayout = "02.01.2006 15:04"

// ActivationData fills the activation (consent request) SMS.
type ActivationData struct {
	Brand       string   // brand / SMS sender title
	Code        string   // CodeLength digits
	Types       []string // TypeSMS, TypeCall, TypeEmail
	RejectRoute string   // e.g. DefaultRejectRoute("ACME", "3338")
	Mersis      string   // 16 digits
}

// ConfirmationData fills the SMS that confirms a recorded consent.
type ConfirmationData struct {
	Brand       string
	Types       []string
	Time        time.Time // when consent was recorded; shown in Turkish time
	RejectRoute string
	Mersis      string
}

// activationView and confirmationView are what templates see: Types is the
// Turkish text ("SMS ve arama") and Time is "27.11.2026 14:05" in Turkish
// time, so templates need no functions.
type activationView struct {
	Brand, Code, Types, RejectRoute, Mersis string
}

type confirmationView struct {
	Brand, Types, Time, RejectRoute, Mersis string
}

type landingView struct {
	Brand, Types, Link, Mersis string
}

// LandingData fills the SMS that carries a consent-page link.
type LandingData struct {
	Brand  string
	Types  []string
	Link   string // the page's full URL
	Mersis string
}

// Templates renders a brand's activation and confirmation SMS. It is safe
// for concurrent use.
type Templates struct {
	activation   *template.Template
	confirmation *template.Template
	landing      *template.Template
	loc          *time.Location
}

// NewTemplates parses text/template sources for the activation and
// confirmation SMS. Templates see these fields, all strings:
//
//	activation:   .Brand .Code .Types .RejectRoute .Mersis
//	confirmation: .Brand .Types .Time .RejectRoute .Mersis
//
// .Types is already Turkish ("SMS, arama ve e-posta") and .Time is
// "27.11.2026 14:05" in Turkish time. The activation text must show .Code,
// and both must show .Types, .RejectRoute and .Mersis (the confirmation also
// .Time), because those are what the law asks the customer to be told. This
// is checked by rendering, so a field hidden behind {{if}} does not count.
// Length is checked when rendering; use ValidateWorstCase for a brand.
func NewTemplates(activationTmpl, confirmationTmpl string) (*Templates, error) {
	a, err := template.New("activation").Parse(activationTmpl)
	if err != nil {
		return nil, fmt.Errorf("sms: activation template: %w", err)
	}
	c, err := template.New("confirmation").Parse(confirmationTmpl)
	if err != nil {
		return nil, fmt.Errorf("sms: confirmation template: %w", err)
	}
	// Private-use markers cannot occur in template text by accident, so
	// finding one in the output proves the field is rendered.
	const (
		mBrand  = "\ue000brand\ue000"
		mCode   = "\ue000code\ue000"
		mTypes  = "\ue000types\ue000"
		mRoute  = "\ue000route\ue000"
		mMersis = "\ue000mersis\ue000"
		mTime   = "\ue000time\ue000"
	)
	out, err := execute(a, activationView{Brand: mBrand, Code: mCode, Types: mTypes, RejectRoute: mRoute, Mersis: mMersis})
	if err != nil {
		return nil, fmt.Errorf("sms: activation template: %w", err)
	}
	if err := requireFields("activation", out, []string{mCode, mTypes, mRoute, mMersis}, []string{".Code", ".Types", ".RejectRoute", ".Mersis"}); err != nil {
		return nil, err
	}
	out, err = execute(c, confirmationView{Brand: mBrand, Types: mTypes, Time: mTime, RejectRoute: mRoute, Mersis: mMersis})
	if err != nil {
		return nil, fmt.Errorf("sms: confirmation template: %w", err)
	}
	if err := requireFields("confirmation", out, []string{mTypes, mTime, mRoute, mMersis}, []string{".Types", ".Time", ".RejectRoute", ".Mersis"}); err != nil {
		return nil, err
	}
	l := template.Must(template.New("landing").Parse(DefaultLandingTemplate))
	return &Templates{activation: a, confirmation: c, landing: l, loc: istanbul()}, nil
}

// LandingLink renders the SMS with the consent-page link. It fails, rather
// than truncating, if the text does not fit in one SMS.
func (t *Templates) LandingLink(d LandingData) (string, error) {
	v := landingView{Brand: strings.TrimSpace(d.Brand), Link: strings.TrimSpace(d.Link)}
	var err error
	if v.Brand == "" {
		return "", errors.New("sms: brand is empty")
	}
	if v.Link == "" {
		return "", errors.New("sms: link is empty")
	}
	if v.Types, err = TypesText(d.Types); err != nil {
		return "", err
	}
	if v.Mersis, err = mersis(d.Mersis); err != nil {
		return "", err
	}
	return render(t.landing, v)
}

// LinkRoute is the rejection route of a confirmation SMS when izin serves
// the rejection page: the link itself.
func LinkRoute(base, token string) string {
	return strings.TrimRight(base, "/") + "/r/" + token
}

// ValidateLinkBase checks that links under base (e.g. https://izin.example)
// fit the consent-page and confirmation SMS of t for the longest sender
// title and every type combination, so a server with a long public URL
// refuses to start instead of failing to send.
func ValidateLinkBase(t *Templates, base string) error {
	const (
		sender = "ABCDEFGHIJK" // the longest title İYS allows
		token  = "0123456789abcdef"
		mersis = "0000000000000000"
	)
	at := time.Date(2026, time.November, 27, 14, 5, 0, 0, t.loc)
	for _, types := range [][]string{{TypeSMS, TypeCall, TypeEmail}, {TypeSMS, TypeCall}, {TypeSMS}} {
		if _, err := t.LandingLink(LandingData{Brand: sender, Types: types, Link: strings.TrimRight(base, "/") + "/l/" + token, Mersis: mersis}); err != nil {
			return fmt.Errorf("public URL %q is too long for the consent-page SMS: %w", base, err)
		}
		if _, err := t.Confirmation(ConfirmationData{Brand: sender, Types: types, Time: at, RejectRoute: LinkRoute(base, token), Mersis: mersis}); err != nil {
			return fmt.Errorf("public URL %q is too long for the confirmation SMS: %w", base, err)
		}
	}
	return nil
}

// DefaultTemplates returns the built-in Turkish templates.
func DefaultTemplates() *Templates {
	t, err := NewTemplates(DefaultActivationTemplate, DefaultConfirmationTemplate)
	if err != nil {
		panic(err) // the defaults are constants covered by tests
	}
	return t
}

// Activation renders the activation SMS. It fails, rather than truncating,
// if the text does not fit in one SMS (see CheckSingleSegment).
func (t *Templates) Activation(d ActivationData) (string, error) {
	v := activationView{Brand: strings.TrimSpace(d.Brand), Code: d.Code}
	var err error
	if v.Brand == "" {
		return "", errors.New("sms: brand is empty")
	}
	if len(d.Code) != CodeLength || !allDigits(d.Code) {
		return "", fmt.Errorf("sms: activation code must be %d digits", CodeLength)
	}
	if v.Types, err = TypesText(d.Types); err != nil {
		return "", err
	}
	if v.RejectRoute, err = rejectRoute(d.RejectRoute); err != nil {
		return "", err
	}
	if v.Mersis, err = mersis(d.Mersis); err != nil {
		return "", err
	}
	return render(t.activation, v)
}

// Confirmation renders the confirmation SMS. It fails, rather than
// truncating, if the text does not fit in one SMS (see CheckSingleSegment).
func (t *Templates) Confirmation(d ConfirmationData) (string, error) {
	v := confirmationView{Brand: strings.TrimSpace(d.Brand)}
	var err error
	if v.Brand == "" {
		return "", errors.New("sms: brand is empty")
	}
	if v.Types, err = TypesText(d.Types); err != nil {
		return "", err
	}
	if d.Time.IsZero() {
		return "", errors.New("sms: confirmation time is zero")
	}
	v.Time = d.Time.In(t.loc).Format(timeLayout)
	if v.RejectRoute, err = rejectRoute(d.RejectRoute); err != nil {
		return "", err
	}
	if v.Mersis, err = mersis(d.Mersis); err != nil {
		return "", err
	}
	return render(t.confirmation, v)
}

// ValidateWorstCase renders both templates for brand and rejectRoute with
// every combination of consent types and a 16-digit MERSIS number, so brand
// setup can refuse a brand whose SMS would not fit in one segment. The
// variable parts other than brand and route have a fixed length, so passing
// here means every real SMS for the brand fits. t must not be nil; pass
// DefaultTemplates() for a brand without its own templates.
func ValidateWorstCase(t *Templates, brand, rejectRoute string) error {
	const (
		code   = "000000"
		mersis = "0000000000000000"
	)
	at := time.Date(2026, time.November, 27, 14, 5, 0, 0, t.loc)
	// Longest first, so an error names the worst case; the rest still run
	// because a custom template may branch on the types.
	combos := [][]string{
		{TypeSMS, TypeCall, TypeEmail},
		{TypeSMS, TypeCall}, {TypeSMS, TypeEmail}, {TypeCall, TypeEmail},
		{TypeSMS}, {TypeCall}, {TypeEmail},
	}
	for _, types := range combos {
		if _, err := t.Activation(ActivationData{Brand: brand, Code: code, Types: types, RejectRoute: rejectRoute, Mersis: mersis}); err != nil {
			return worstCaseError("activation", types, err)
		}
		if _, err := t.Confirmation(ConfirmationData{Brand: brand, Types: types, Time: at, RejectRoute: rejectRoute, Mersis: mersis}); err != nil {
			return worstCaseError("confirmation", types, err)
		}
	}
	return nil
}

func worstCaseError(kind string, types []string, err error) error {
	var le *LengthError
	if !errors.As(err, &le) {
		return err
	}
	text, _ := TypesText(types)
	return fmt.Errorf("%w (%s SMS for %s)", err, kind, text)
}

// RedactCode replaces each occurrence of code in body with "******", for the
// copy of a real provider's message that izin keeps. Only occurrences that
// stand alone are replaced, so digits of the MERSIS number that happen to
// equal the code stay intact.
func RedactCode(body, code string) string {
	if code == "" {
		return body
	}
	var b strings.Builder
	i := 0
	for {
		j := strings.Index(body[i:], code)
		if j < 0 {
			b.WriteString(body[i:])
			return b.String()
		}
		j += i
		end := j + len(code)
		if (j > 0 && isDigit(body[j-1])) || (end < len(body) && isDigit(body[end])) {
			// Part of a longer number: keep one byte and search on.
			b.WriteString(body[i : j+1])
			i = j + 1
			continue
		}
		b.WriteString(body[i:j])
		b.WriteString("******")
		i = end
	}
}

func rejectRoute(s string) (string, error) {
	// Templates add their own punctuation after the route.
	s = strings.TrimRight(strings.TrimSpace(s), ". ")
	if s == "" {
		return "", errors.New("sms: reject route is empty")
	}
	return s, nil
}

func mersis(s string) (string, error) {
	if len(s) != mersisLength || !allDigits(s) {
		return "", fmt.Errorf("sms: MERSIS number must be %d digits", mersisLength)
	}
	return s, nil
}

func requireFields(name, out string, markers, fields []string) error {
	var missing []string
	for i, m := range markers {
		if !strings.Contains(out, m) {
			missing = append(missing, fields[i])
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("sms: %s template must show %s", name, strings.Join(missing, ", "))
	}
	return nil
}

func execute(t *template.Template, data any) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	// Stray spaces and the trailing newline of a template kept in a config
	// file would be sent and counted, but are never meant.
	return strings.TrimSpace(b.String()), nil
}

func render(t *template.Template, data any) (string, error) {
	body, err := execute(t, data)
	if err != nil {
		return "", fmt.Errorf("sms: %s template: %w", t.Name(), err)
	}
	if err := CheckSingleSegment(body); err != nil {
		return "", err
	}
	return body, nil
}

// istanbul returns Turkish time. Turkey has stayed on UTC+3 all year since
// 2016, so a fixed zone gives the same result when the host has no tzdata.
func istanbul() *time.Location {
	if loc, err := time.LoadLocation("Europe/Istanbul"); err == nil {
		return loc
	}
	return time.FixedZone("+03", 3*60*60)
}
