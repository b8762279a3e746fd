// Package callbacks serves what SMS providers send izin: delivery reports
// and the SMS customers send to a brand. Each URL names its provider and
// the brand's unguessable hook id; the provider's own authentication (a
// signature, or the brand's callback secret) is checked before a byte of
// the body is trusted.
package callbacks

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/outbox"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/smsconfig"
	"github.com/izinhq/izin/server/internal/store"
)

// maxBody bounds a callback's body: providers send a few kilobytes at most.
const maxBody = 256 << 10

// Store is what the callbacks read and write.
type Store interface {
	store.Transactor
	smsconfig.HookStore
}

// Server handles provider callbacks.
type Server struct {
	store     Store
	router    *smsconfig.Router
	consent   *consent.Service
	replier   consent.Replier
	publicURL func() string
	log       *slog.Logger
	now       func() time.Time
	// Woken, if set, is called after an inbound SMS queued an answer.
	Woken func()
}

// New returns the callback server. publicURL gives the address providers
// call, which Twilio's signature covers.
func New(s Store, r *smsconfig.Router, c *consent.Service, replier consent.Replier, publicURL func() string,
	log *slog.Logger) *Server {
	return &Server{store: s, router: r, consent: c, replier: replier, publicURL: publicURL, log: log, now: time.Now}
}

// Mount adds the callback routes to mux.
func (s *Server) Mount(mux *http.ServeMux) {
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		mux.HandleFunc(m+" /v1/sms/{provider}/{hook}/reports", s.reports)
		mux.HandleFunc(m+" /v1/inbound/{provider}/{hook}", s.inbound)
	}
}

// open finds the hook of a request and limits its body. It answers the
// request itself and returns nil when the hook is unknown.
func (s *Server) open(w http.ResponseWriter, r *http.Request) (*smsconfig.Hook, string) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	h, err := s.router.OpenHook(r.Context(), s.store, r.PathValue("provider"), r.PathValue("hook"))
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r) // the same answer for a wrong provider as for a wrong hook
		return nil, ""
	}
	if err != nil {
		s.log.Error("callbacks: open hook", "err", err)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return nil, ""
	}
	return h, strings.TrimRight(s.publicURL(), "/") + r.URL.RequestURI()
}

func (s *Server) refuse(w http.ResponseWriter, h *smsconfig.Hook, what string, err error) {
	if errors.Is(err, sms.ErrUnauthenticated) {
		s.log.Warn("callbacks: unauthenticated "+what, "brand_id", h.Config.BrandID, "provider", h.Config.Provider)
		http.Error(w, "unauthenticated", http.StatusUnauthorized)
		return
	}
	s.log.Warn("callbacks: unreadable "+what, "brand_id", h.Config.BrandID, "provider", h.Config.Provider, "err", err)
	http.Error(w, "unreadable callback", http.StatusBadRequest)
}

func (s *Server) reports(w http.ResponseWriter, r *http.Request) {
	h, url := s.open(w, r)
	if h == nil {
		return
	}
	cb, ok := h.Provider.(sms.Callbacks)
	if !ok {
		http.NotFound(w, r)
		return
	}
	reports, err := cb.ParseReports(r, url, h.Auth)
	if err != nil {
		s.refuse(w, h, "delivery report", err)
		return
	}
	err = s.store.InTx(r.Context(), func(ctx context.Context, tx store.Tx) error {
		for _, rep := range reports {
			// A failure is announced (message.failed) in this transaction.
			if _, err := outbox.ApplyReport(ctx, tx, h.Config.TenantID, rep, s.now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// The provider retries a callback that did not answer 2xx.
		s.log.Error("callbacks: apply delivery reports", "brand_id", h.Config.BrandID, "err", err)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	ack(w, h.Config.Provider)
}

func (s *Server) inbound(w http.ResponseWriter, r *http.Request) {
	h, url := s.open(w, r)
	if h == nil {
		return
	}
	cb, ok := h.Provider.(sms.Callbacks)
	if !ok {
		http.NotFound(w, r)
		return
	}
	msgs, err := cb.ParseInbound(r, url, h.Auth)
	if err != nil {
		s.refuse(w, h, "inbound SMS", err)
		return
	}
	types := store.SplitTypes(h.Config.RejectTypes)
	for _, m := range msgs {
		_, err := s.consent.ReceiveSMS(r.Context(), s.replier, consent.InboundSMS{TenantID: h.Config.TenantID,
			BrandID: h.Config.BrandID, Provider: h.Config.Provider, Message: m, Types: types, OptinKeyword: h.Config.OptinKeyword})
		if err != nil {
			s.log.Error("callbacks: receive SMS", "brand_id", h.Config.BrandID, "err", err)
			http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
			return
		}
	}
	if len(msgs) > 0 && s.Woken != nil {
		s.Woken()
	}
	ack(w, h.Config.Provider)
}

// ack answers a callback the way its provider expects: Twilio reads an
// empty TwiML document (no reply SMS), the others any 2xx.
func ack(w http.ResponseWriter, provider string) {
	if provider == smsconfig.Twilio {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Response></Response>`))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("OK\n"))
}
