package sandbox

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/recipient"
)

// The admin API, under /sandbox/, is the sandbox's own: İYS has nothing
// like it. It needs no token.
//
//	GET  /sandbox/                 what the sandbox serves, as text
//	POST /sandbox/changes          record changes as İYS would hold them (Change, or a list)
//	GET  /sandbox/consents         the consents held; filters iysCode, brandCode, recipient, type;
//	                               format=csv writes one brand's consents as İYS's change file
//	POST /sandbox/reset            forget every consent, change and bulk request
func (s *Server) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /sandbox/{$}", s.handleHelp)
	mux.HandleFunc("POST /sandbox/changes", s.handleEmit)
	mux.HandleFunc("GET /sandbox/consents", s.handleConsents)
	mux.HandleFunc("POST /sandbox/reset", s.handleReset)
}

// Change is a change for the admin API to record, in İYS's field names.
// Source is a citizen's channel at İYS (IYS_MOBIL, IYS_WEB, …), which izin
// pulls from the change feed, or a company's HS_* source, as if another
// integrator had uploaded it (izin's feed pull leaves those alone; they
// are in the daily file and in /sandbox/consents?format=csv).
type Change struct {
	// IYSCode may be left out: it is then the İYS code last used with
	// BrandCode in API requests.
	IYSCode       string `json:"iysCode"`
	BrandCode     string `json:"brandCode"`
	Recipient     string `json:"recipient"`
	RecipientType string `json:"recipientType"` // default BIREYSEL
	Type          string `json:"type"`
	Status        string `json:"status"`
	Source        string `json:"source"`
	// ConsentDate and CreationDate are "YYYY-MM-DD HH:mm:ss", Türkiye
	// time; both default to now. An earlier CreationDate puts the change in
	// that day's daily file.
	ConsentDate  string `json:"consentDate"`
	CreationDate string `json:"creationDate"`
}

// Held is a consent the sandbox holds, with its brand.
type Held struct {
	IYSCode   string
	BrandCode string
	iys.Consent
	// Changes counts the changes stored for the consent.
	Changes int
}

const adminHelp = `izin's İYS sandbox: İYS's API with its rules and refusal codes, in memory.

İYS API (any user name and password are accepted):
  POST /oauth2/token
  POST /sps/{iysCode}/brands/{brandCode}/consents            one consent
  POST /sps/{iysCode}/brands/{brandCode}/consents/request    up to 1000, answered by request id
  GET  /sps/{iysCode}/brands/{brandCode}/consents/request/{requestId}
  POST /sps/{iysCode}/brands/{brandCode}/consents/status
  GET  /sps/{iysCode}/brands/{brandCode}/consents/changes    citizens' changes, with a cursor
  GET  /sps/{iysCode}/brands/{brandCode}/changes/{YYYY-MM-DD}/file   a past day's changes as CSV

Sandbox admin (no token):
  POST /sandbox/changes    {"brandCode":"654321","recipient":"+905321234567","type":"MESAJ",
                            "status":"RET","source":"IYS_MOBIL"}   (or a list of them)
  GET  /sandbox/consents   ?iysCode=&brandCode=&recipient=&type=   &format=csv (one brand)
  POST /sandbox/reset
`

func (s *Server) handleHelp(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(adminHelp))
}

func adminError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

func (s *Server) handleEmit(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var list []Change
	single := !bytes.HasPrefix(bytes.TrimSpace(body), []byte("["))
	if single {
		var c Change
		if err := json.Unmarshal(body, &c); err != nil {
			adminError(w, http.StatusBadRequest, "want a JSON object (or a list of them): %v", err)
			return
		}
		list = []Change{c}
	} else if err := json.Unmarshal(body, &list); err != nil || len(list) == 0 {
		adminError(w, http.StatusBadRequest, "want a non-empty JSON list of changes: %v", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	type valid struct {
		iysCode, brand string
		c              iys.Consent
		created        time.Time
	}
	checked := make([]valid, 0, len(list))
	for i, ch := range list {
		v := valid{created: now}
		var err error
		v.iysCode, v.brand, v.c, err = s.parseChange(ch, now)
		if err == nil && ch.CreationDate != "" {
			if v.created, err = parseAdminDate(ch.CreationDate, now); err != nil {
				err = fmt.Errorf("creationDate: %w", err)
			}
		}
		if err != nil {
			if !single {
				err = fmt.Errorf("change %d: %w", i, err)
			}
			adminError(w, http.StatusBadRequest, "%v", err)
			return
		}
		if v.c.ConsentDate.IsZero() {
			v.c.ConsentDate = v.created
		}
		checked = append(checked, v)
	}
	// Every change was valid: record them all, in order.
	out := make([]map[string]any, 0, len(checked))
	for _, v := range checked {
		c := s.storeLocked(v.iysCode, v.brand, v.c, v.created)
		m := storedJSON(c)
		m["iysCode"], m["brandCode"] = v.iysCode, v.brand
		out = append(out, m)
	}
	if single {
		writeJSON(w, http.StatusCreated, out[0])
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"consents": out})
}

// parseChange checks an admin change: the values İYS knows, a recipient
// that fits the type (written any common way: 0532 123 45 67 is
// +905321234567), dates not in the future. İYS's rules for companies (no
// first RET, no older dates, 3 business days) do not apply: citizens act at
// İYS as they like.
func (s *Server) parseChange(ch Change, now time.Time) (iysCode, brand string, c iys.Consent, err error) {
	brand, iysCode = strings.TrimSpace(ch.BrandCode), strings.TrimSpace(ch.IYSCode)
	if brand == "" {
		return "", "", c, fmt.Errorf("brandCode: required")
	}
	if iysCode == "" {
		if iysCode = s.brandIYS[brand]; iysCode == "" {
			return "", "", c, fmt.Errorf("iysCode: required, as no İYS request for brand %s has been seen yet", brand)
		}
	}
	c.Type = iys.ConsentType(strings.ToUpper(strings.TrimSpace(ch.Type)))
	if c.Type != iys.SMS && c.Type != iys.Call && c.Type != iys.Email {
		return "", "", c, fmt.Errorf("type: want MESAJ, ARAMA or EPOSTA, got %q", ch.Type)
	}
	c.Status = iys.Status(strings.ToUpper(strings.TrimSpace(ch.Status)))
	if c.Status != iys.Granted && c.Status != iys.Rejected {
		return "", "", c, fmt.Errorf("status: want ONAY or RET, got %q", ch.Status)
	}
	c.RecipientType = iys.RecipientType(strings.ToUpper(strings.TrimSpace(ch.RecipientType)))
	switch c.RecipientType {
	case "":
		c.RecipientType = iys.Individual
	case iys.Individual, iys.Merchant:
	default:
		return "", "", c, fmt.Errorf("recipientType: want BIREYSEL or TACIR, got %q", ch.RecipientType)
	}
	rc, perr := recipient.Parse(ch.Recipient)
	switch {
	case perr != nil:
		return "", "", c, fmt.Errorf("recipient: %v", perr)
	case (rc.Kind == recipient.Email) != (c.Type == iys.Email):
		return "", "", c, fmt.Errorf("recipient: %s does not fit type %s", rc.Value, c.Type)
	}
	c.Recipient = rc.Value
	c.Source = iys.Source(strings.ToUpper(strings.TrimSpace(ch.Source)))
	switch {
	case c.Source.FromIYS():
	case hsSources[string(c.Source)]:
	default:
		return "", "", c, fmt.Errorf("source: want an İYS channel (IYS_MOBIL, IYS_WEB, IYS_CM, IYS_KISAMESAJ, IYS_EPOSTA) or an HS_* source, got %q", ch.Source)
	}
	if ch.ConsentDate != "" {
		if c.ConsentDate, err = parseAdminDate(ch.ConsentDate, now); err != nil {
			return "", "", c, fmt.Errorf("consentDate: %w", err)
		}
	}
	return iysCode, brand, c, nil
}

func parseAdminDate(v string, now time.Time) (time.Time, error) {
	t, err := iys.ParseDate(strings.TrimSpace(v))
	switch {
	case err != nil:
		return time.Time{}, fmt.Errorf("want YYYY-MM-DD HH:mm:ss (Türkiye time), got %q", v)
	case t.After(now):
		return time.Time{}, fmt.Errorf("%s is in the future", v)
	}
	return t, nil
}

// Emit records a change as the admin API does, bypassing İYS's rules for
// companies; a zero ConsentDate is created. It returns the consent as
// stored.
func (s *Server) Emit(iysCode, brandCode string, c iys.Consent, created time.Time) iys.Consent {
	if c.RecipientType == "" {
		c.RecipientType = iys.Individual
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if created.IsZero() {
		created = s.nowLocked()
	}
	if c.ConsentDate.IsZero() {
		c.ConsentDate = created
	}
	return s.storeLocked(iysCode, brandCode, c, created)
}

// Filter selects held consents; empty fields match all.
type Filter struct {
	IYSCode, BrandCode, Recipient string
	Type                          iys.ConsentType
}

// Consents returns the consents held that match f, ordered by İYS code,
// brand, recipient, recipient type and type.
func (s *Server) Consents(f Filter) []Held {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Held
	for k, r := range s.records {
		if f.IYSCode != "" && k.IYSCode != f.IYSCode || f.BrandCode != "" && k.BrandCode != f.BrandCode ||
			f.Recipient != "" && k.Recipient != f.Recipient || f.Type != "" && k.Type != f.Type {
			continue
		}
		out = append(out, Held{IYSCode: k.IYSCode, BrandCode: k.BrandCode, Consent: r.current, Changes: len(r.history)})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		for _, p := range [][2]string{{a.IYSCode, b.IYSCode}, {a.BrandCode, b.BrandCode}, {a.Recipient, b.Recipient},
			{string(a.RecipientType), string(b.RecipientType)}, {string(a.Type), string(b.Type)}} {
			if p[0] != p[1] {
				return p[0] < p[1]
			}
		}
		return false
	})
	return out
}

func (s *Server) handleConsents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := Filter{IYSCode: q.Get("iysCode"), BrandCode: q.Get("brandCode"), Type: iys.ConsentType(strings.ToUpper(q.Get("type")))}
	if v := q.Get("recipient"); v != "" {
		rc, err := recipient.Parse(v)
		if err != nil {
			adminError(w, http.StatusBadRequest, "recipient: %v", err)
			return
		}
		f.Recipient = rc.Value
	}
	held := s.Consents(f)
	switch q.Get("format") {
	case "", "json":
		list := make([]map[string]any, 0, len(held))
		for _, h := range held {
			m := storedJSON(h.Consent)
			m["iysCode"], m["brandCode"], m["changes"] = h.IYSCode, h.BrandCode, h.Changes
			list = append(list, m)
		}
		writeJSON(w, http.StatusOK, map[string]any{"consents": list})
	case "csv":
		if f.BrandCode == "" {
			adminError(w, http.StatusBadRequest, "format=csv: give brandCode; İYS's files hold one brand")
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="iys-%s.csv"`, f.BrandCode))
		_, _ = w.Write(changeFile(held))
	default:
		adminError(w, http.StatusBadRequest, "format: want json or csv, got %q", q.Get("format"))
	}
}

// dailyColumns are the columns of İYS's daily change file (iys/wire.go).
var dailyColumns = []string{"creationDate", "transactionId", "recipient", "recipientType", "type", "status", "consentDate", "source"}

// changeFile writes consents in the layout of İYS's daily change file.
func changeFile(cs []Held) []byte {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(dailyColumns)
	for _, h := range cs {
		c := h.Consent
		_ = cw.Write([]string{iys.FormatDate(c.CreationDate), c.TransactionID, c.Recipient, string(c.RecipientType),
			string(c.Type), string(c.Status), iys.FormatDate(c.ConsentDate), string(c.Source)})
	}
	cw.Flush()
	return buf.Bytes()
}

// Reset forgets every consent, change and bulk request; tokens stay valid
// and the change feed's sequence goes on, so a client's cursor never skips
// what comes next.
func (s *Server) Reset() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.records)
	s.records, s.events, s.requests = map[Key]*record{}, nil, map[string]*bulk{}
	return n
}

func (s *Server) handleReset(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"reset": true, "consents_forgotten": s.Reset()})
}
