package evidence

import (
	"strings"
	"unicode/utf8"
)

// Client is the browser that sent a consent-page request, kept as evidence
// of where consent or a rejection was given.
type Client struct {
	IP        string
	UserAgent string
}

// Limits of what is kept of a client, in bytes.
const (
	MaxIP        = 64
	MaxUserAgent = 512
)

// Clean returns c as it is kept: valid UTF-8, within MaxIP and
// MaxUserAgent, cut at a character boundary. A browser decides its user
// agent, so its length and bytes are never trusted.
func (c Client) Clean() Client {
	return Client{IP: cut(c.IP, MaxIP), UserAgent: cut(c.UserAgent, MaxUserAgent)}
}

func cut(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
