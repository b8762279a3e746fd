package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/izinhq/izin/server/internal/errs"
)

// maxURLLen bounds a target URL (the proto says the same).
const maxURLLen = 2048

// CheckURL validates a target: an absolute https URL without credentials
// whose host, when it is an address, is public. With allowPrivate (tests,
// development) http and private addresses pass too. Names are checked
// again at connect time, by the dialer of NewClient.
func CheckURL(raw string, allowPrivate bool) error {
	bad := func(reason string) error {
		return errs.Invalid("url", "%s", reason)
	}
	if len(raw) > maxURLLen {
		return bad(fmt.Sprintf("at most %d characters", maxURLLen))
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return bad("an absolute URL, e.g. https://example.com/hooks/izin")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowPrivate:
	default:
		return bad("must use https")
	}
	if u.User != nil {
		return bad("must not carry credentials")
	}
	if u.Fragment != "" {
		return bad("must not have a fragment")
	}
	if addr, err := netip.ParseAddr(u.Hostname()); err == nil && !allowPrivate && !public(addr) {
		return bad("the address " + addr.String() + " is private, loopback or link-local (the server's --webhook-allow-private allows it)")
	}
	if !allowPrivate && u.Hostname() == "localhost" {
		return bad("localhost is refused (the server's --webhook-allow-private allows it)")
	}
	return nil
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// public reports whether an address may be dialled without allowPrivate.
func public(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate() && !cgnat.Contains(a) &&
		!a.IsLoopback() && !a.IsLinkLocalUnicast() && !a.IsMulticast() && !a.IsUnspecified()
}

// ErrPrivateAddress is the dialer's refusal of a non-public address.
var ErrPrivateAddress = errors.New("webhook: refusing to connect to a private, loopback or link-local address")

// NewClient returns the HTTP client of deliveries: it follows no
// redirects, and unless allowPrivate its dialer refuses non-public
// addresses at connect time, after DNS resolution, so a name that
// resolves (or re-resolves) to an internal address does not pass.
func NewClient(timeout time.Duration, allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: timeout}
	if !allowPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !public(ap.Addr()) {
				return fmt.Errorf("%w: %s", ErrPrivateAddress, address)
			}
			return nil
		}
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		Proxy:                 nil, // a proxy would connect on our behalf, past the check
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a 3xx is the answer, and a failure
		},
	}
}
