package apidocs

import (
	"strings"
	"testing"

	"github.com/izinhq/izin/gen/go/openapi"
)

func TestRenderServedSpec(t *testing.T) {
	html, err := Render(openapi.Spec)
	if err != nil {
		t.Fatal(err)
	}
	page := string(html)
	for _, want := range []string{
		"/v1/consents:check", "/v1/verifications/{id}:submit", "/v1/messages", // fixed REST paths
		`id="op-ConsentService_CheckConsent"`, `href="#type-v1CheckConsentRequest"`,
		"CONSENT_TYPE_SMS", // enum values are listed
		"recipient_type",   // proto field names, as the gateway speaks
		"Authorization: Bearer", "/openapi.json",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Self-contained: no scripts and nothing loaded from elsewhere.
	for _, bad := range []string{"<script", "src=\"http", "href=\"http", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
}

func TestRenderRejectsGarbage(t *testing.T) {
	if _, err := Render([]byte("not json")); err == nil {
		t.Fatal("garbage spec rendered")
	}
}
