package landing

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// The forms are protected from cross-site submission twice over: the nonce
// cookie is SameSite=Strict, so another site's form cannot send it, and the
// hidden field must hold an HMAC of that nonce and the link token under a
// key only the server knows, so a field made for one browser or one link
// does not work for another.

const (
	csrfCookie = "izin_csrf"
	csrfField  = "csrf"
	nonceBytes = 18 // 24 characters in base64url
)

// keyLabel separates the landing-page key from every other key derived
// from the server secret.
const keyLabel = "izin landing-page CSRF key v1"

// DeriveKey returns the key the pages sign their forms with, derived from
// the server secret with HMAC-SHA256 over a fixed label, so the secret itself
// is never used for this.
func DeriveKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(keyLabel))
	return m.Sum(nil)
}

// newNonce returns a fresh random nonce.
func newNonce() string {
	b := make([]byte, nonceBytes)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather)
	return base64.RawURLEncoding.EncodeToString(b)
}

// validNonce tells whether s has the shape of a nonce this package makes.
func validNonce(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == nonceBytes
}

// csrfNonce returns the browser's nonce, making and setting a new one when
// it has none. Reusing it keeps a form valid in two tabs of one browser.
func (h *Handler) csrfNonce(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && validNonce(c.Value) {
		return c.Value
	}
	n := newNonce()
	http.SetCookie(w, &http.Cookie{
		Name:     csrfCookie,
		Value:    n,
		Path:     "/",
		HttpOnly: true,
		Secure:   h.secureCookies || r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
	return n
}

// csrfMAC is the hidden-field value for a nonce, a form kind ("l" or "r")
// and a link token.
func (h *Handler) csrfMAC(nonce, kind, token string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(token))
	m.Write([]byte{0})
	m.Write([]byte(nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfOK checks a posted form: the cookie's nonce must be there and the
// field must be its MAC for this link, compared in constant time.
func (h *Handler) csrfOK(r *http.Request, kind, token string) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || !validNonce(c.Value) {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(r.PostForm.Get(csrfField))
	if err != nil {
		return false
	}
	want, _ := base64.RawURLEncoding.DecodeString(h.csrfMAC(c.Value, kind, token))
	return hmac.Equal(got, want)
}
