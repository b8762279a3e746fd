package push

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/izinhq/izin/server/internal/sms"
)

// Receiver starts a server that hands each request to parse, the way
// izin's callback route would: 401 when parse fails authentication, 400 on
// any other error, 200 otherwise. It returns the server's URL.
func Receiver(t testing.TB, parse func(*http.Request) error) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := parse(r); err != nil {
			code := http.StatusBadRequest
			if errors.Is(err, sms.ErrUnauthenticated) {
				code = http.StatusUnauthorized
			}
			http.Error(w, err.Error(), code)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
