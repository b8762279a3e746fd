// Package landing serves the pages a customer opens from an SMS: the
// consent page (/l/{token}), where they read the texts, tick the ETK box
// and, if they wish, the KVKK box, and get the activation code; and the
// rejection page (/r/{token}) linked from the confirmation SMS.
//
// The pages are server-rendered from embedded templates, use no JavaScript
// and no outside assets (one embedded stylesheet under /static/), speak
// Turkish and English, and send strict security headers. Both forms carry a
// CSRF check. The link token is never logged and never written into a page:
// forms post back to their own address and the language link is relative.
package landing

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/evidence"
	"github.com/izinhq/izin/server/internal/linktoken"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/verify"
)

// Flow is the consent-page side of a verification (*verify.Service).
type Flow interface {
	OpenPage(ctx context.Context, token, lang string, c evidence.Client) (*verify.Page, error)
	SubmitPage(ctx context.Context, token string, f verify.PageForm) (*verify.Page, error)
}

// Rejects is the rejection link of a confirmation SMS (*consent.Service).
type Rejects interface {
	OpenRejectLink(ctx context.Context, token string) (*consent.RejectPage, error)
	RejectByLink(ctx context.Context, token string, c evidence.Client) (*consent.RejectPage, error)
}

// maxBody is the largest form a client may send.
const maxBody = 16 << 10

// Handler serves the pages. Make one with New.
type Handler struct {
	flow          Flow
	rejects       Rejects
	key           []byte
	log           *slog.Logger
	trustProxy    bool
	secureCookies bool
	now           func() time.Time
	mux           *http.ServeMux
}

// Option changes a Handler.
type Option func(*Handler)

// TrustForwardedFor takes the client address from the last entry of
// X-Forwarded-For, as a single reverse proxy in front of izin appends it.
// Off by default: without such a proxy a client could forge the header.
func TrustForwardedFor() Option { return func(h *Handler) { h.trustProxy = true } }

// SecureCookies marks the CSRF cookie Secure even when the request reached
// izin over plain HTTP (TLS ended at a proxy). Pass the result of checking
// that the public URL is https.
func SecureCookies(on bool) Option { return func(h *Handler) { h.secureCookies = on } }

// WithClock sets the clock that decides whether a time is shown with its
// date (tests).
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// New returns the handler of /l/, /r/ and /static/. key signs the forms'
// CSRF fields: use DeriveKey on the server secret. New panics when key is
// shorter than 32 bytes, a programming error.
func New(flow Flow, rejects Rejects, key []byte, log *slog.Logger, opts ...Option) http.Handler {
	if len(key) < 32 {
		panic("landing: the CSRF key must be at least 32 bytes (use landing.DeriveKey)")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{flow: flow, rejects: rejects, key: append([]byte(nil), key...), log: log, now: time.Now}
	for _, o := range opts {
		o(h)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /l/{token}", h.openConsent)
	mux.HandleFunc("POST /l/{token}", h.submitConsent)
	mux.HandleFunc("GET /r/{token}", h.openReject)
	mux.HandleFunc("POST /r/{token}", h.submitReject)
	mux.HandleFunc("GET /static/{name}", serveStatic)
	notFound := func(w http.ResponseWriter, r *http.Request) {
		h.problem(w, r, pickLang(r), http.StatusNotFound, probNotFound, nil)
	}
	// Any other address under the mounted prefixes; other methods get 405.
	mux.HandleFunc("GET /", notFound)
	mux.HandleFunc("POST /", notFound)
	h.mux = mux
	return h
}

// csp allows the embedded stylesheet and icon and nothing else: no script,
// no inline style, no framing, forms only to izin itself.
const csp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP sets the security headers of every answer, pages and errors
// alike, then routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	hd.Set("X-Robots-Tag", "noindex, nofollow")
	if !strings.HasPrefix(r.URL.Path, "/static/") {
		hd.Set("Cache-Control", "no-store")
	}
	h.mux.ServeHTTP(w, r)
}

// client is the evidence of who sent a request.
func (h *Handler) client(r *http.Request) evidence.Client {
	ip := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ip = host
	}
	if h.trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if last := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(last) != nil {
				ip = last
			}
		}
	}
	return evidence.Client{IP: ip, UserAgent: r.UserAgent()}.Clean()
}

// nowrap keeps a masked number on one line ("+90 532 *** ** 67"), also
// inside a sentence, by joining its groups with no-break spaces.
func nowrap(s string) string { return strings.ReplaceAll(s, " ", "\u00a0") }

// readForm parses a posted form of at most maxBody bytes; on failure it
// has answered.
func (h *Handler) readForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		status := http.StatusBadRequest
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			status = http.StatusRequestEntityTooLarge
		}
		h.problem(w, r, pickLang(r), status, probBadForm, nil)
		return false
	}
	return true
}

// acceptPost is the start of both forms' POST: a well-formed token, a
// parsable body of bounded size and a valid CSRF field for this form kind
// and token. On false the answer has been written.
func (h *Handler) acceptPost(w http.ResponseWriter, r *http.Request, kind string) (token, lang string, ok bool) {
	token = r.PathValue("token")
	if !linktoken.Valid(token) {
		h.problem(w, r, pickLang(r), http.StatusNotFound, probNotFound, nil)
		return "", "", false
	}
	if !h.readForm(w, r) {
		return "", "", false
	}
	lang = pickLang(r, r.PostForm.Get("lang"))
	if !h.csrfOK(r, kind, token) {
		h.problem(w, r, lang, http.StatusForbidden, probCSRF, nil)
		return "", "", false
	}
	return token, lang, true
}

// openConsent shows the consent page.
func (h *Handler) openConsent(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	lang := pickLang(r)
	if !linktoken.Valid(token) {
		h.problem(w, r, lang, http.StatusNotFound, probNotFound, nil)
		return
	}
	p, err := h.flow.OpenPage(r.Context(), token, lang, h.client(r))
	if err != nil {
		h.domainError(w, r, lang, "open consent page", err)
		return
	}
	h.showPage(w, r, lang, token, p, http.StatusOK, formInput{})
}

// submitConsent takes the consent form.
func (h *Handler) submitConsent(w http.ResponseWriter, r *http.Request) {
	token, lang, ok := h.acceptPost(w, r, "l")
	if !ok {
		return
	}
	textLang := r.PostForm.Get("text_lang")
	if !validLang(textLang) {
		textLang = lang
	}
	in := formInput{ETK: r.PostForm.Get("etk") != "", KVKK: r.PostForm.Get("kvkk") != ""}
	c := h.client(r)
	p, err := h.flow.SubmitPage(r.Context(), token, verify.PageForm{Language: textLang, ETK: in.ETK, KVKK: in.KVKK, Client: c})
	if err != nil {
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.KindInvalid || e.Field != "etk" {
			h.domainError(w, r, lang, "submit consent page", err)
			return
		}
		// The ETK box was not ticked: show the form again with the error
		// next to it, and the KVKK box as the customer left it.
		if p == nil || p.State != verify.PageOpen {
			if p, err = h.flow.OpenPage(r.Context(), token, lang, c); err != nil {
				h.domainError(w, r, lang, "open consent page", err)
				return
			}
		}
		in.ETKError = true
		h.showPage(w, r, lang, token, p, http.StatusUnprocessableEntity, in)
		return
	}
	h.showPage(w, r, lang, token, p, http.StatusOK, formInput{})
}

// formInput is what the customer sent, to show the form again.
type formInput struct {
	ETK, KVKK, ETKError bool
}

// showPage renders a consent page in its state.
func (h *Handler) showPage(w http.ResponseWriter, r *http.Request, lang, token string, p *verify.Page, status int, in formInput) {
	if p == nil {
		h.domainError(w, r, lang, "consent page", errors.New("the domain returned no page"))
		return
	}
	m := catalog[lang]
	v := h.brandView(lang, p.BrandName, p.Company, p.Mersis, p.MaskedRecipient, p.Types)
	v.Name = strings.TrimSpace(strings.TrimSpace(p.FirstName) + " " + strings.TrimSpace(p.LastName))
	v.Source = p.SourceName
	switch p.State {
	case verify.PageOpen:
		textLang := p.Language
		if !validLang(textLang) {
			textLang = langTR
		}
		v.TextLang = textLang
		v.ETK = legal(p.ETK, m.ETKFallback)
		v.Privacy = legal(p.Privacy, m.PrivacyFallback)
		v.Explicit = legal(p.Explicit, m.ExplicitFallback)
		v.ETKBox = fmt.Sprintf(m.ETKBox, p.BrandName, v.Types)
		v.Input = in
		if !p.ExpireAt.IsZero() {
			v.Until = m.clock(p.ExpireAt, h.now())
		}
		v.CSRF = h.csrfMAC(h.csrfNonce(w, r), "l", token)
		h.render(w, r, status, "form", v)
	case verify.PageCodeSent:
		if !p.CodeExpireAt.IsZero() {
			v.Until = m.clock(p.CodeExpireAt, h.now())
			// The page stays viewable after the code ran out; say so
			// rather than promise a code that no longer works.
			v.CodeExpired = !h.now().Before(p.CodeExpireAt)
		}
		switch p.KVKK {
		case store.KVKKGranted:
			v.KVKKChoice = m.KVKKGiven
		case store.KVKKDeclined:
			v.KVKKChoice = m.KVKKNotGiven
		}
		h.render(w, r, status, "sent", v)
	case verify.PageVerified:
		h.render(w, r, status, "done", v)
	default:
		h.domainError(w, r, lang, "consent page", fmt.Errorf("unknown page state %d", p.State))
	}
}

// openReject shows what a rejection link rejects, with its one button.
func (h *Handler) openReject(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	lang := pickLang(r)
	if !linktoken.Valid(token) {
		h.problem(w, r, lang, http.StatusNotFound, probNotFound, nil)
		return
	}
	p, err := h.rejects.OpenRejectLink(r.Context(), token)
	if err != nil {
		h.domainError(w, r, lang, "open rejection link", err)
		return
	}
	h.showReject(w, r, lang, token, p)
}

// submitReject rejects.
func (h *Handler) submitReject(w http.ResponseWriter, r *http.Request) {
	token, lang, ok := h.acceptPost(w, r, "r")
	if !ok {
		return
	}
	p, err := h.rejects.RejectByLink(r.Context(), token, h.client(r))
	if err != nil {
		h.domainError(w, r, lang, "reject by link", err)
		return
	}
	if !p.Rejected {
		h.domainError(w, r, lang, "reject by link", errors.New("the domain did not report the rejection"))
		return
	}
	h.showReject(w, r, lang, token, p)
}

func (h *Handler) showReject(w http.ResponseWriter, r *http.Request, lang, token string, p *consent.RejectPage) {
	if p == nil {
		h.domainError(w, r, lang, "rejection page", errors.New("the domain returned no page"))
		return
	}
	m := catalog[lang]
	v := h.brandView(lang, p.BrandName, p.Company, p.Mersis, p.MaskedRecipient, p.Types)
	if p.Rejected {
		if p.RejectedAt != nil {
			v.Until = m.clock(*p.RejectedAt, h.now())
		}
		h.render(w, r, http.StatusOK, "rejected", v)
		return
	}
	v.CSRF = h.csrfMAC(h.csrfNonce(w, r), "r", token)
	h.render(w, r, http.StatusOK, "reject", v)
}

// The friendly error pages.
type problemKind int

const (
	probNotFound problemKind = iota
	probExpired
	probUsed
	probCSRF
	probRate
	probError
	probBadForm
)

// domainError answers a domain error with its page.
func (h *Handler) domainError(w http.ResponseWriter, r *http.Request, lang, op string, err error) {
	e, ok := errs.As(err)
	switch {
	case ok && e.Kind == errs.KindNotFound:
		h.problem(w, r, lang, http.StatusNotFound, probNotFound, nil)
	case ok && e.Kind == errs.KindFailedPrecondition && e.Reason == errs.ReasonVerificationExpired:
		h.problem(w, r, lang, http.StatusGone, probExpired, nil)
	case ok && e.Kind == errs.KindFailedPrecondition && e.Reason == errs.ReasonVerificationClosed:
		h.problem(w, r, lang, http.StatusGone, probUsed, e)
	case ok && e.Kind == errs.KindResourceExhausted:
		h.log.InfoContext(r.Context(), "consent page: rate limited", "op", op, "retry_after", e.RetryAfter)
		h.problem(w, r, lang, http.StatusTooManyRequests, probRate, e)
	default:
		h.log.ErrorContext(r.Context(), "consent page failed", "op", op, "err", err)
		h.problem(w, r, lang, http.StatusInternalServerError, probError, nil)
	}
}

// problem renders an error page.
func (h *Handler) problem(w http.ResponseWriter, r *http.Request, lang string, status int, kind problemKind, e *errs.Error) {
	m := catalog[lang]
	v := h.base(lang)
	switch kind {
	case probNotFound:
		v.Title, v.Lines = m.NotFoundTitle, []string{m.NotFoundBody}
	case probExpired:
		v.Title, v.Lines = m.ExpiredTitle, []string{m.ExpiredBody}
	case probUsed:
		v.Title = m.UsedTitle
		line := m.UsedBody
		if e != nil {
			switch e.Metadata["status"] {
			case "PAGE_SUBMITTED", "PENDING":
				line = m.UsedPending
			case "VERIFIED":
				line = m.UsedVerified
			case "CANCELLED":
				line = m.UsedCancelled
			case "FAILED":
				line = m.UsedFailed
			case "EXPIRED":
				line = m.UsedExpired
			}
		}
		v.Lines = []string{line}
		if line != m.UsedPending && line != m.UsedVerified {
			v.Lines = append(v.Lines, m.AskNewLink)
		}
	case probCSRF:
		v.Title, v.Lines, v.Reload = m.CSRFTitle, []string{m.CSRFBody}, true
	case probRate:
		v.Title, v.Lines = m.RateTitle, []string{m.RateBody}
		if e != nil && e.RetryAfter > 0 {
			secs := int((e.RetryAfter + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			v.Lines = append(v.Lines, fmt.Sprintf(m.RateMinutes, (secs+59)/60))
		}
	case probBadForm:
		v.Title, v.Lines, v.Reload = m.BadFormTitle, []string{m.BadFormBody}, true
	default:
		v.Title, v.Lines = m.ErrorTitle, []string{m.ErrorBody}
	}
	h.render(w, r, status, "problem", v)
}

// render writes page with status, or a bare 500 when the template fails
// (it never should: every template runs in the tests).
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) {
	var buf bytes.Buffer
	if err := pages[page].ExecuteTemplate(&buf, "layout", v); err != nil {
		h.log.ErrorContext(r.Context(), "consent page: template", "page", page, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Language", v.Lang)
	hd.Set("Vary", "Accept-Language, Cookie")
	hd.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// legalText is one legal text, split into paragraphs for the page.
type legalText struct {
	Title      string
	Version    int
	Paragraphs []string
}

// legal prepares a text; paragraphs are separated by blank lines, and a
// single line break inside a paragraph is kept by the stylesheet.
func legal(t verify.PageText, fallbackTitle string) legalText {
	lt := legalText{Title: strings.TrimSpace(t.Title), Version: t.Version}
	if lt.Title == "" {
		lt.Title = fallbackTitle
	}
	lt.Paragraphs = paragraphs(t.Body)
	return lt
}

// paragraphs splits text on blank lines.
func paragraphs(body string) []string {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	var out []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, "\n"))
			cur = nil
		}
	}
	for _, line := range strings.Split(body, "\n") {
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		cur = append(cur, strings.TrimRight(line, " \t"))
	}
	flush()
	return out
}

// view is what the templates see.
type view struct {
	Lang string
	L    *messages
	CSS  string
	Icon string

	Company, Mersis, Brand string
	Phone, Name, Types     string
	Source                 string

	// Consent form.
	TextLang               string
	ETK, Privacy, Explicit legalText
	ETKBox                 string
	Input                  formInput
	CSRF                   string
	Until, KVKKChoice      string
	CodeExpired            bool

	// Error pages.
	Title  string
	Lines  []string
	Reload bool
}

// brandView is what the consent and rejection pages both show: the company
// and brand that ask, the recipient (masked) and the consent types.
func (h *Handler) brandView(lang, brand, company, mersis, masked string, types []store.ConsentType) *view {
	v := h.base(lang)
	v.Brand, v.Company, v.Mersis = brand, company, mersis
	v.Phone = nowrap(masked)
	v.Types = catalog[lang].typeNames(types)
	return v
}

func (h *Handler) base(lang string) *view {
	if !validLang(lang) {
		lang = langTR
	}
	return &view{Lang: lang, L: catalog[lang], CSS: staticURL("izin.css"), Icon: staticURL("icon.svg")}
}

// pages are the parsed templates, each with the layout.
var pages = mustParse("form", "sent", "done", "problem", "reject", "rejected")

func mustParse(names ...string) map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, n := range names {
		t := template.Must(template.New(n).ParseFS(templateFS, "templates/layout.html", "templates/"+n+".html"))
		out[n] = t
	}
	return out
}
