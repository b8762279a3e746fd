package iys

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Credentials are an İYS API account's user name and password.
type Credentials struct {
	Username string
	Password string
}

type token struct {
	access     string
	refresh    string
	accessExp  time.Time
	refreshExp time.Time
}

// tokenCall is one token fetch that concurrent callers share.
type tokenCall struct {
	done chan struct{}
	tok  *token
	err  error
}

type tokenCache struct {
	mu       sync.Mutex
	cur      *token
	inflight *tokenCall
}

// accessToken returns a token valid for at least the refresh margin,
// fetching one if needed. Only one fetch runs at a time; callers that arrive
// meanwhile wait for it (or for their own context).
func (c *Client) accessToken(ctx context.Context) (string, error) {
	tc := &c.tokens
	tc.mu.Lock()
	if t := tc.cur; t != nil && c.now().Before(t.accessExp.Add(-c.refreshMargin)) {
		tc.mu.Unlock()
		return t.access, nil
	}
	call := tc.inflight
	if call == nil {
		call = &tokenCall{done: make(chan struct{})}
		tc.inflight = call
		old := tc.cur
		// The fetch outlives a caller that gives up: others may be waiting
		// for it, and a token fetched is a token the next caller can use.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.tokenTimeout)
		go func() {
			defer cancel()
			t, err := c.fetchToken(fctx, old)
			tc.mu.Lock()
			if err == nil {
				tc.cur = t
			}
			tc.inflight = nil
			call.tok, call.err = t, err
			tc.mu.Unlock()
			close(call.done)
		}()
	}
	tc.mu.Unlock()
	select {
	case <-call.done:
		if call.err != nil {
			return "", call.err
		}
		return call.tok.access, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// invalidate forgets the access token used by a request İYS answered 401,
// unless another request has already replaced it. The refresh token is kept.
func (c *Client) invalidate(used string) {
	tc := &c.tokens
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.cur != nil && tc.cur.access == used {
		t := *tc.cur
		t.accessExp = time.Time{}
		tc.cur = &t
	}
}

// fetchToken uses the refresh token while it is valid, and the password
// grant otherwise or when İYS refuses the refresh token.
func (c *Client) fetchToken(ctx context.Context, old *token) (*token, error) {
	if old != nil && old.refresh != "" && c.now().Before(old.refreshExp.Add(-c.refreshMargin)) {
		t, err := c.grant(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old.refresh}})
		if err == nil {
			return t, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
	}
	return c.grant(ctx, url.Values{
		"grant_type": {"password"},
		"username":   {c.creds.Username},
		"password":   {c.creds.Password},
	})
}

func (c *Client) grant(ctx context.Context, form url.Values) (*token, error) {
	issued := c.now()
	body, _, err := c.do(ctx, request{
		op:          "token",
		method:      http.MethodPost,
		path:        pathToken,
		body:        []byte(form.Encode()),
		contentType: "application/x-www-form-urlencoded",
	})
	if err != nil {
		if e, ok := err.(*Error); ok && e.kind == kindRule {
			e.kind = kindAuth // a refused grant is a credentials problem
		}
		return nil, err
	}
	var w wireToken
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("iys: token: decoding answer: %w", err)
	}
	if w.AccessToken == "" {
		return nil, &Error{Op: "token", HTTPStatus: http.StatusOK, Index: -1, kind: kindAuth, Message: "answer without access_token"}
	}
	tt := w.TokenType
	if tt == "" {
		tt = w.TokenTypeAlt
	}
	if tt != "" && !strings.EqualFold(tt, "bearer") {
		return nil, fmt.Errorf("iys: token: unexpected token type %q", tt)
	}
	t := &token{access: w.AccessToken, refresh: w.RefreshToken}
	exp := time.Duration(w.ExpiresIn) * time.Second
	if exp <= 0 {
		exp = 2 * time.Hour // İYS's documented lifetime
	}
	t.accessExp = issued.Add(exp)
	if w.RefreshExpiresIn > 0 {
		t.refreshExp = issued.Add(time.Duration(w.RefreshExpiresIn) * time.Second)
	}
	return t, nil
}

// Authenticate makes sure the client holds a valid access token, fetching
// one if needed: a connectivity and credentials check that sends no data.
func (c *Client) Authenticate(ctx context.Context) error {
	_, err := c.accessToken(ctx)
	return err
}
