// Package push delivers a test server's callback (a delivery report or an
// inbound SMS) to izin the way a provider would: one HTTP POST, with
// whatever authentication that provider uses, expecting a 2xx.
package push

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Request is one callback to deliver.
type Request struct {
	URL         string
	ContentType string
	Body        []byte
	// BasicUser and BasicPassword, when BasicPassword is set, go in an
	// Authorization header.
	BasicUser, BasicPassword string
	Header                   http.Header
}

// Post sends r and returns an error unless the answer is 2xx.
func Post(ctx context.Context, r Request) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	req.Header.Set("Content-Type", r.ContentType)
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if r.BasicPassword != "" {
		req.SetBasicAuth(r.BasicUser, r.BasicPassword)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("push %s: %w", r.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("push %s: HTTP %d: %s", r.URL, resp.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}
