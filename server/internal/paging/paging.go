// Package paging makes and reads the page tokens of izin's List calls. A
// token is opaque to clients: the base64 (URL alphabet, no padding) of a
// cursor naming the last row of the page, in fields joined by ':'. The
// formats are kept as they are, so that a token handed out by an earlier
// release still works.
package paging

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/izinhq/izin/server/internal/errs"
)

// Size is the number of rows of a page asked for n: 100 when unset, at
// most 1000.
func Size(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}

// SeqToken is the cursor of a list ordered by a sequence number:
// "seq:<n>".
func SeqToken(seq int64) string { return encode("seq", strconv.FormatInt(seq, 10)) }

// ParseSeqToken reads a SeqToken; its number is positive.
func ParseSeqToken(tok string) (int64, error) {
	f, ok := decode(tok, "seq", 1)
	if ok {
		if n, err := strconv.ParseInt(f[0], 10, 64); err == nil && n > 0 {
			return n, nil
		}
	}
	return 0, invalid()
}

// TimeIDToken is the cursor of a list ordered by a time and an id:
// "u:<unix µs>:<id>".
func TimeIDToken(t time.Time, id string) string {
	return encode("u", strconv.FormatInt(t.UnixMicro(), 10), id)
}

// ParseTimeIDToken reads a TimeIDToken; its time is in UTC.
func ParseTimeIDToken(tok string) (time.Time, string, error) {
	f, ok := decode(tok, "u", 2)
	if ok {
		if us, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			return time.UnixMicro(us).UTC(), f[1], nil
		}
	}
	return time.Time{}, "", invalid()
}

// IDToken is the cursor of a list ordered by id: the id itself.
func IDToken(id string) string { return encode("", id) }

// ParseIDToken reads an IDToken.
func ParseIDToken(tok string) (string, error) {
	if f, ok := decode(tok, "", 1); ok {
		return f[0], nil
	}
	return "", invalid()
}

// encode joins prefix (if any) and fields.
func encode(prefix string, fields ...string) string {
	s := strings.Join(fields, ":")
	if prefix != "" {
		s = prefix + ":" + s
	}
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// decode returns the n fields after prefix; the last keeps any ':' of its
// own. Every field must be set.
func decode(tok, prefix string, n int) ([]string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, false
	}
	s := string(b)
	if prefix != "" {
		var ok bool
		if s, ok = strings.CutPrefix(s, prefix+":"); !ok {
			return nil, false
		}
	}
	f := strings.SplitN(s, ":", n)
	if len(f) != n {
		return nil, false
	}
	for _, v := range f {
		if v == "" {
			return nil, false
		}
	}
	return f, true
}

func invalid() error {
	return errs.Invalid("page_token", "not a token from a previous page")
}
