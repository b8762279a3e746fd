package sandbox

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/izinhq/izin/server/internal/iys"
)

// apiErr is one entry of İYS's errors list.
type apiErr struct {
	Code     string `json:"code,omitempty"`
	Message  string `json:"message"`
	Location []any  `json:"location,omitempty"`
	Value    any    `json:"value,omitempty"`
	Index    *int   `json:"index,omitempty"`
}

// İYS's messages for the codes the fake answers (from İYS's documentation).
var messages = map[string]string{
	"H014": "Gönderilen istek json formatına uygun değil!",
	"H091": "İzin ekleme sayısı en fazla %d olmalıdır.",
	"H092": "Çoklu izin ekleme isteği geçerli olmalıdır.",
	"H093": "%s bulunamadı.",
	"H110": "Durum (status) bulunamadı.",
	"H111": "İzin tipi (type) bulunamadı.",
	"H112": "İzin tarihi (consentDate) bulunamadı.",
	"H113": "İzin kaynağı (source) bulunamadı.",
	"H114": "Alıcı (recipient) bulunamadı.",
	"H115": "Durum (status) için uygun değerler: ONAY, RET",
	"H116": "Alıcı tipi (recipientType) için uygun değerler: BIREYSEL, TACIR",
	"H117": "İzin tipi (type) için uygun değerler: ARAMA, MESAJ, EPOSTA",
	"H118": "%s kabul edilemedi. İstek gövdesinde bulunabilecek değerler: recipientType, retailerAccess, recipient, retailerCode, source, type, consentDate, status olmalıdır.",
	"H119": "İzin kaynağı (source) için uygun değerler: HS_FIZIKSEL_ORTAM, HS_ISLAK_IMZA, HS_WEB, HS_CAGRI_MERKEZI, HS_SOSYAL_MEDYA, HS_EPOSTA, HS_MESAJ, HS_MOBIL, HS_EORTAM, HS_ETKINLIK, HS_2015, HS_ATM, HS_KARAR",
	"H120": "Alıcı (recipient) kabul edilemedi. Geçerli bir eposta adresi giriniz.",
	"H121": "Alıcı (recipient) için E164 uluslararası([+][country code][area code][local phone number]) formatına uygun bir telefon numarası girilmelidir. (örn. +905992000000)",
	"H124": "Saniyede kabul edilen istek limitine ulaşıldı. Lütfen daha sonra tekrar deneyiniz.",
	"H155": "İzin kaynağı “1 Mayıs 2015 öncesi” olan izinler için, izin tarihi sadece 2015-05-01 00:00:00 olabilir.",
	"H156": "İzinler için 1 Mayıs 2015’den önceki tarihler kabul edilmemektedir.",
	"H157": "Geçerli bir tarih girilmelidir.",
	"H158": "İzin tarihi yyyy-mm-dd hh:mm:ss formatında olmalıdır.",
	"H160": "Alıcı için telefon numaraları 15 karakterden uzun olmamalıdır.",
	"H162": "Mevcut tarih ve saatten ileri bir tarih ve saat girilmemelidir.",
	"H170": "Alıcı tipi (recipientType) bulunamadı.",
	"H174": "İzin durumu (status) güncellemesi için farklı bir durum girilmelidir. İzin durumu: %s",
	"H175": "İlk defa kaydedilen bir iznin durum (status) bilgisi RET olmamalıdır.",
	"H178": "Sistemdeki iznin tarihinden önceki tarihli izinlerle güncelleme yapılamaz.",
	"H183": "limit değeri geçerli olmalıdır.",
	"H194": "İzin listede daha önce tanımlandı. Liste içinde izinler alıcı tipi (recipientType), tip (type) ve alıcı (recipient) değerleri için tekrarlanamaz.",
	"H351": "Eksik veya geçersiz jeton!",
	"H353": "%s, kullanıcı izinleriyle eşleştiriliemiyor",
	"H408": "HS_KARAR kaynağından iletilen izinler için durum bilgisi RET olmalıdır.",
	"H462": "TACIR izinleri güncellenirken izin tarihi (consentDate) verilmelidir",
	"H463": "TACIR izinleri güncellenirken izin kaynağı (source) verilmelidir.",
	"H464": "İzin tipi (type) MESAJ için, alıcı (recipient) telefon formatında olmalıdır.",
	"H467": "Üç iş günü öncesinde alınan izinler kaydedilemez.",
	"H470": "Beklenmedik bir hata oluştu.",
	// ASSUMPTION (see iys/wire.go): the text for a report date out of range.
	"H501": "Tarih formatı yyyy-mm-dd olmalı ve dünden en fazla 7 gün önceye kadar bir gün verilmelidir.",
}

func mkErr(code string, args ...any) *apiErr {
	m := messages[code]
	if len(args) > 0 {
		m = fmt.Sprintf(m, args...)
	}
	return &apiErr{Code: code, Message: m}
}

func (e *apiErr) at(loc ...any) *apiErr { e.Location = loc; return e }
func (e *apiErr) val(v any) *apiErr     { e.Value = v; return e }
func (e *apiErr) idx(i int) *apiErr     { e.Index = &i; return e }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErrs(w http.ResponseWriter, status int, errs ...*apiErr) {
	writeJSON(w, status, map[string]any{"errors": errs})
}

type apiHandler func(w http.ResponseWriter, r *http.Request, iysCode, brand string)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", s.handleToken)
	mux.Handle("POST /sps/{iys}/brands/{brand}/consents", s.api(s.handleAdd))
	mux.Handle("POST /sps/{iys}/brands/{brand}/consents/request", s.api(s.handleBulk))
	mux.Handle("GET /sps/{iys}/brands/{brand}/consents/request/{rid}", s.api(s.handleResult))
	mux.Handle("POST /sps/{iys}/brands/{brand}/consents/status", s.api(s.handleStatus))
	mux.Handle("GET /sps/{iys}/brands/{brand}/consents/changes", s.api(s.handleChanges))
	mux.Handle("GET /sps/{iys}/brands/{brand}/changes/{date}/file", s.api(s.handleDailyFile))
	s.adminRoutes(mux)
	return mux
}

// api wraps an endpoint with what every API request goes through: failure
// injection, the rate limiter, the bearer token, and the account's rights.
func (s *Server) api(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.apiRequests++
		now := s.nowLocked()
		if s.dropNext > 0 {
			s.dropNext--
			s.mu.Unlock()
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close() // dropping it is the point; how it closes does not matter
					return
				}
			}
			panic(http.ErrAbortHandler)
		}
		if s.failNext > 0 {
			s.failNext--
			status := s.failStatus
			s.mu.Unlock()
			writeErrs(w, status, mkErr("H470"))
			return
		}
		if s.rateN > 0 && s.rateWindow > 0 {
			if s.rateWinStart.IsZero() || !now.Before(s.rateWinStart.Add(s.rateWindow)) {
				s.rateWinStart, s.rateCount = now, 0
			}
			s.rateCount++
			if s.rateCount > s.rateN {
				s.rateLimited++
				wait := s.rateWinStart.Add(s.rateWindow).Sub(now)
				s.mu.Unlock()
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
				writeErrs(w, http.StatusTooManyRequests, mkErr("H124"))
				return
			}
		}
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		ti, ok := s.access[tok]
		if s.rejectAll || !ok || !now.Before(ti.exp) {
			s.mu.Unlock()
			writeErrs(w, http.StatusUnauthorized, mkErr("H351"))
			return
		}
		acct := s.accounts[ti.user]
		iysCode, brand := r.PathValue("iys"), r.PathValue("brand")
		s.brandIYS[brand] = iysCode
		anyCreds := s.anyCreds
		s.mu.Unlock()
		switch {
		case anyCreds:
			h(w, r, iysCode, brand)
		case acct == nil || acct.iysCode != iysCode:
			writeErrs(w, http.StatusForbidden, mkErr("H353", "iysCode"))
		case !acct.brands[brand]:
			writeErrs(w, http.StatusForbidden, mkErr("H353", "brandCode"))
		default:
			h(w, r, iysCode, brand)
		}
	})
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if s.tokenDelay > 0 {
		time.Sleep(s.tokenDelay)
	}
	form := url.Values{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]string
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "Giriş yöntemi belirtilmemiş."})
			return
		}
		for k, v := range m {
			form.Set(k, v)
		}
	} else {
		if err := r.ParseForm(); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "Giriş yöntemi belirtilmemiş."})
			return
		}
		form = r.PostForm
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenHits++
	now := s.nowLocked()
	var user string
	switch gt := form.Get("grant_type"); gt {
	case "password":
		a, ok := s.accounts[form.Get("username")]
		valid := ok && a.password == form.Get("password")
		if s.anyCreds {
			valid = form.Get("username") != "" && form.Get("password") != ""
		}
		if !valid {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "Kullanıcı kimlik bilgileri geçersiz."})
			return
		}
		user = form.Get("username")
	case "refresh_token":
		rt := form.Get("refresh_token")
		ti, ok := s.refresh[rt]
		if !ok || !now.Before(ti.exp) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "Yenileme jetonu geçersiz."})
			return
		}
		delete(s.refresh, rt) // refresh tokens are single use
		user = ti.user
	case "":
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "Giriş yöntemi belirtilmemiş."})
		return
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "Desteklenmeyen giriş yöntemi."})
		return
	}
	s.grants[form.Get("grant_type")]++
	at, rt := "at-"+randomHex(16), "rt-"+randomHex(16)
	s.access[at] = tokenInfo{user: user, exp: now.Add(s.tokenTTL)}
	s.refresh[rt] = tokenInfo{user: user, exp: now.Add(s.refreshTTL)}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":       at,
		"refresh_token":      rt,
		"expires_in":         int64(s.tokenTTL / time.Second),
		"refresh_expires_in": int64(s.refreshTTL / time.Second),
		"token_type":         "bearer",
	})
}

// parsed is a validated consent from a request.
type parsed struct {
	c       iys.Consent
	hasDate bool
}

var (
	dateRe  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`)
	phoneRe = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)
	emailRe = regexp.MustCompile(`^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$`)
)

var allowedFields = map[string]bool{"recipientType": true, "retailerAccess": true, "recipient": true,
	"retailerCode": true, "source": true, "type": true, "consentDate": true, "status": true}

var hsSources = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range iys.HSSources {
		m[string(s)] = true
	}
	return m
}()

var floor2015 = time.Date(2015, 5, 1, 0, 0, 0, 0, iys.Istanbul())

// validate checks one consent object as İYS does before looking at stored
// state: fields, formats and dates (including the 3-business-day rule).
func (s *Server) validate(raw json.RawMessage, now time.Time) (parsed, []*apiErr) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return parsed{}, []*apiErr{mkErr("H014")}
	}
	var errs []*apiErr
	str := func(name string) (string, bool) {
		v, ok := fields[name]
		if !ok || string(v) == "null" {
			return "", false
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			return string(v), true
		}
		return s, s != ""
	}
	for k := range fields {
		if !allowedFields[k] {
			errs = append(errs, mkErr("H118", k).at(k).val(k))
		}
	}
	var p parsed
	status, ok := str("status")
	switch {
	case !ok:
		errs = append(errs, mkErr("H110").at("status"))
	case status != "ONAY" && status != "RET":
		errs = append(errs, mkErr("H115").at("status").val(status))
	}
	typ, ok := str("type")
	switch {
	case !ok:
		errs = append(errs, mkErr("H111").at("type"))
	case typ != "ARAMA" && typ != "MESAJ" && typ != "EPOSTA":
		errs = append(errs, mkErr("H117").at("type").val(typ))
	}
	rtype, ok := str("recipientType")
	switch {
	case !ok:
		errs = append(errs, mkErr("H170").at("recipientType"))
	case rtype != "BIREYSEL" && rtype != "TACIR":
		errs = append(errs, mkErr("H116").at("recipientType").val(rtype))
	}
	merchant := rtype == "TACIR"
	recipient, ok := str("recipient")
	switch {
	case !ok:
		errs = append(errs, mkErr("H114").at("recipient"))
	case typ == "EPOSTA":
		if !emailRe.MatchString(recipient) || len(recipient) > 265 {
			errs = append(errs, mkErr("H120").at("recipient").val(recipient))
		}
	case typ == "MESAJ" || typ == "ARAMA":
		if len(recipient) > 15 {
			errs = append(errs, mkErr("H160").at("recipient").val(recipient))
		}
		if !phoneRe.MatchString(recipient) {
			if typ == "MESAJ" && strings.Contains(recipient, "@") {
				errs = append(errs, mkErr("H464").at("recipient").val(recipient))
			} else {
				errs = append(errs, mkErr("H121").at("recipient").val(recipient))
			}
		}
	}
	source, ok := str("source")
	switch {
	case !ok && !merchant:
		errs = append(errs, mkErr("H113").at("source"))
	case ok && !hsSources[source]:
		errs = append(errs, mkErr("H119").at("source").val(source))
	case source == string(iys.SourceDecision) && status != "RET":
		errs = append(errs, mkErr("H408").at("status").val(status))
	}
	dateStr, ok := str("consentDate")
	switch {
	case !ok && !merchant:
		errs = append(errs, mkErr("H112").at("consentDate"))
	case ok && !dateRe.MatchString(dateStr):
		errs = append(errs, mkErr("H158").at("consentDate").val(dateStr))
	case ok:
		d, err := iys.ParseDate(dateStr)
		switch {
		case err != nil:
			errs = append(errs, mkErr("H157").at("consentDate").val(dateStr))
		case d.Before(floor2015):
			errs = append(errs, mkErr("H156").at("consentDate").val(dateStr))
		case source == string(iys.Source2015) && !d.Equal(floor2015):
			errs = append(errs, mkErr("H155").at("consentDate").val(dateStr))
		case d.After(now):
			errs = append(errs, mkErr("H162").at("consentDate").val(dateStr))
		case source != string(iys.Source2015) && s.cal.Late(d, now):
			errs = append(errs, mkErr("H467").at("consentDate").val(dateStr))
		default:
			p.c.ConsentDate, p.hasDate = d, true
		}
	}
	if v, ok := fields["retailerCode"]; ok && string(v) != "null" {
		if json.Unmarshal(v, &p.c.RetailerCode) != nil {
			errs = append(errs, &apiErr{Message: "retailerCode sayı olmalıdır.", Location: []any{"retailerCode"}})
		}
	}
	if v, ok := fields["retailerAccess"]; ok && string(v) != "null" {
		if json.Unmarshal(v, &p.c.RetailerAccess) != nil {
			errs = append(errs, &apiErr{Message: "retailerAccess sayı listesi olmalıdır.", Location: []any{"retailerAccess"}})
		}
	}
	p.c.Recipient, p.c.RecipientType, p.c.Type = recipient, iys.RecipientType(rtype), iys.ConsentType(typ)
	p.c.Status, p.c.Source = iys.Status(status), iys.Source(source)
	return p, errs
}

// applyLocked applies İYS's rules against the stored state and stores the
// consent when they pass. Rule refusals are answered 400 by İYS.
func (s *Server) applyLocked(iysCode, brand string, p parsed, now time.Time) (iys.Consent, *apiErr) {
	k := Key{IYSCode: iysCode, BrandCode: brand, Recipient: p.c.Recipient, RecipientType: p.c.RecipientType, Type: p.c.Type}
	r := s.records[k]
	c := p.c
	switch {
	case r == nil && c.Status == iys.Rejected:
		return iys.Consent{}, mkErr("H175")
	case r != nil && r.current.Status == c.Status:
		return iys.Consent{}, mkErr("H174", string(c.Status))
	case r != nil && c.RecipientType == iys.Merchant && !p.hasDate:
		return iys.Consent{}, mkErr("H462")
	case r != nil && c.RecipientType == iys.Merchant && c.Source == "":
		return iys.Consent{}, mkErr("H463")
	case r != nil && !c.ConsentDate.Truncate(time.Second).After(r.current.ConsentDate):
		return iys.Consent{}, mkErr("H178")
	}
	if !p.hasDate {
		c.ConsentDate = now // a first TACIR record may come without a date
	}
	return s.storeLocked(iysCode, brand, c, now), nil
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		writeErrs(w, http.StatusBadRequest, mkErr("H014"))
		return nil, false
	}
	return b, true
}

func (s *Server) handleAdd(w http.ResponseWriter, r *http.Request, iysCode, brand string) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	p, errs := s.validate(body, now)
	if len(errs) > 0 {
		status := http.StatusUnprocessableEntity
		if errs[0].Code == "H014" {
			status = http.StatusBadRequest
		}
		writeErrs(w, status, errs...)
		return
	}
	c, e := s.applyLocked(iysCode, brand, p, now)
	if e != nil {
		writeErrs(w, http.StatusBadRequest, e)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"transactionId": c.TransactionID,
		"creationDate":  iys.FormatDate(c.CreationDate),
	})
}

func (s *Server) handleBulk(w http.ResponseWriter, r *http.Request, iysCode, brand string) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil || len(raws) == 0 {
		writeErrs(w, http.StatusBadRequest, mkErr("H092"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(raws) > s.maxBatch {
		writeErrs(w, http.StatusUnprocessableEntity, mkErr("H091", s.maxBatch))
		return
	}
	now := s.nowLocked()
	var errs []*apiErr
	b := &bulk{iysCode: iysCode, brand: brand}
	seen := map[Key]bool{}
	for i, raw := range raws {
		p, es := s.validate(raw, now)
		for _, e := range es {
			errs = append(errs, e.idx(i))
		}
		if len(es) == 0 {
			k := Key{Recipient: p.c.Recipient, RecipientType: p.c.RecipientType, Type: p.c.Type}
			if seen[k] {
				errs = append(errs, mkErr("H194").idx(i))
			}
			seen[k] = true
		}
		b.items = append(b.items, &bulkItem{consent: p.c, hasDate: p.hasDate, subID: uuidish()})
	}
	if len(errs) > 0 {
		writeErrs(w, http.StatusUnprocessableEntity, errs...)
		return
	}
	id := randomHex(16)
	s.requests[id] = b
	if s.asyncPolls == 0 {
		s.processLocked(b, now)
	}
	subs := make([]map[string]any, 0, len(b.items))
	for _, it := range b.items {
		m := consentJSON(it.consent, it.hasDate)
		m["subRequestId"] = it.subID
		m["creationDate"] = iys.FormatDate(now)
		subs = append(subs, m)
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"requestId": id, "subRequests": subs})
}

func (s *Server) processLocked(b *bulk, now time.Time) {
	for _, it := range b.items {
		c, e := s.applyLocked(b.iysCode, b.brand, parsed{c: it.consent, hasDate: it.hasDate}, now)
		if e != nil {
			it.result, it.err = "failure", e
			continue
		}
		it.result, it.txID, it.creation = "success", c.TransactionID, c.CreationDate
	}
	b.processed = true
}

// resultIndexBase mirrors the client's assumption that per-item result
// indexes count from 1 (iys/wire.go).
const resultIndexBase = 1

func (s *Server) handleResult(w http.ResponseWriter, r *http.Request, iysCode, brand string) {
	rid := r.PathValue("rid")
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.requests[rid]
	if !ok || b.iysCode != iysCode || b.brand != brand {
		writeErrs(w, http.StatusUnprocessableEntity, mkErr("H093", rid).at("requestId"))
		return
	}
	b.polls++
	if !b.processed && b.polls > s.asyncPolls {
		s.processLocked(b, s.nowLocked())
	}
	out := make([]map[string]any, 0, len(b.items))
	for i, it := range b.items {
		m := map[string]any{"index": i + resultIndexBase, "subrequestId": it.subID}
		switch it.result {
		case "":
			m["status"] = "enqueue"
		case "failure":
			m["status"] = "failure"
			m["error"] = map[string]string{"code": it.err.Code, "message": it.err.Message}
		default:
			m["status"] = "success"
			m["transactionId"] = it.txID
			m["creationDate"] = iys.FormatDate(it.creation)
		}
		out = append(out, m)
	}
	writeJSON(w, http.StatusOK, out)
}

func consentJSON(c iys.Consent, hasDate bool) map[string]any {
	m := map[string]any{
		"recipient":     c.Recipient,
		"recipientType": string(c.RecipientType),
		"type":          string(c.Type),
		"status":        string(c.Status),
	}
	if c.Source != "" {
		m["source"] = string(c.Source)
	}
	if hasDate {
		m["consentDate"] = iys.FormatDate(c.ConsentDate)
	}
	if c.RetailerCode != 0 {
		m["retailerCode"] = c.RetailerCode
	}
	if len(c.RetailerAccess) > 0 {
		m["retailerAccess"] = c.RetailerAccess
	}
	return m
}

func storedJSON(c iys.Consent) map[string]any {
	m := consentJSON(c, true)
	m["creationDate"] = iys.FormatDate(c.CreationDate)
	m["transactionId"] = c.TransactionID
	return m
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request, iysCode, brand string) {
	var q struct {
		Recipient     string `json:"recipient"`
		RecipientType string `json:"recipientType"`
		Type          string `json:"type"`
	}
	if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
		writeErrs(w, http.StatusBadRequest, mkErr("H014"))
		return
	}
	var errs []*apiErr
	if q.Recipient == "" {
		errs = append(errs, mkErr("H114").at("recipient"))
	}
	if q.RecipientType != "BIREYSEL" && q.RecipientType != "TACIR" {
		errs = append(errs, mkErr("H116").at("recipientType").val(q.RecipientType))
	}
	if q.Type != "ARAMA" && q.Type != "MESAJ" && q.Type != "EPOSTA" {
		errs = append(errs, mkErr("H117").at("type").val(q.Type))
	}
	if len(errs) > 0 {
		writeErrs(w, http.StatusUnprocessableEntity, errs...)
		return
	}
	s.mu.Lock()
	rec, ok := s.records[Key{IYSCode: iysCode, BrandCode: brand, Recipient: q.Recipient,
		RecipientType: iys.RecipientType(q.RecipientType), Type: iys.ConsentType(q.Type)}]
	var c iys.Consent
	if ok {
		c = rec.current
	}
	s.mu.Unlock()
	if !ok {
		// ASSUMPTION (iys/wire.go): no record is a 404.
		writeErrs(w, http.StatusNotFound, &apiErr{Message: "İzin bulunamadı."})
		return
	}
	writeJSON(w, http.StatusOK, storedJSON(c))
}

// Cursors are "<creation ms>_<sequence in hex>", opaque to clients (İYS's
// look like "1604423100000_053a37a1...").
func cursor(e event) string {
	return fmt.Sprintf("%d_%016x", e.consent.CreationDate.UnixMilli(), e.seq)
}

func parseCursor(c string) (int64, bool) {
	if c == "" {
		return 0, true
	}
	_, h, ok := strings.Cut(c, "_")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(h, 16, 64)
	return n, err == nil && n >= 0
}

func (s *Server) handleChanges(w http.ResponseWriter, r *http.Request, iysCode, brand string) {
	q := r.URL.Query()
	after, ok := parseCursor(q.Get("after"))
	if !ok {
		writeErrs(w, http.StatusUnprocessableEntity, &apiErr{Message: "after değeri geçerli olmalıdır.", Location: []any{"after"}, Value: q.Get("after")})
		return
	}
	limit := 500
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 1000 {
			writeErrs(w, http.StatusUnprocessableEntity, mkErr("H183").at("limit").val(v))
			return
		}
		limit = n
	}
	src := q.Get("source")
	s.mu.Lock()
	now := s.nowLocked()
	list := []map[string]any{}
	// ASSUMPTION (iys/wire.go): an empty page comes with an empty after;
	// clients keep their own cursor then.
	next := ""
	for _, e := range s.events {
		if len(list) == limit {
			break
		}
		if e.seq <= after || e.iysCode != iysCode || e.brand != brand {
			continue
		}
		if e.consent.CreationDate.After(now.Add(-s.changesDelay)) {
			break // stop at the first change still hidden, so the cursor never skips it
		}
		if e.consent.CreationDate.Before(now.AddDate(0, 0, -7)) {
			continue
		}
		if src != "" && !strings.HasPrefix(string(e.consent.Source), src+"_") {
			continue
		}
		list = append(list, storedJSON(e.consent))
		next = cursor(e)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"after": next, "list": list})
}

func (s *Server) handleDailyFile(w http.ResponseWriter, r *http.Request, iysCode, brand string) {
	ds := r.PathValue("date")
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked().In(iys.Istanbul())
	day, err := time.ParseInLocation("2006-01-02", ds, iys.Istanbul())
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, iys.Istanbul())
	if err != nil || !day.Before(today) || day.Before(today.AddDate(0, 0, -7)) {
		writeErrs(w, http.StatusUnprocessableEntity, mkErr("H501").at("reportDate").val(ds))
		return
	}
	end := day.AddDate(0, 0, 1)
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(dailyColumns)
	for _, e := range s.events {
		c := e.consent
		if e.iysCode != iysCode || e.brand != brand || c.CreationDate.Before(day) || !c.CreationDate.Before(end) {
			continue
		}
		_ = cw.Write([]string{iys.FormatDate(c.CreationDate), c.TransactionID, c.Recipient, string(c.RecipientType),
			string(c.Type), string(c.Status), iys.FormatDate(c.ConsentDate), string(c.Source)})
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}
