package sms

import (
	"strings"
	"testing"
	"time"
)

// The fixed notices fit one SMS for the longest sender (11 characters) and
// all three types.
func TestNoticesFit(t *testing.T) {
	tpl := DefaultTemplates()
	at := time.Date(2026, 12, 4, 9, 30, 0, 0, time.UTC)
	body, err := tpl.Rejection(RejectionData{Brand: "ABCDEFGHIJK", Types: []string{TypeSMS, TypeCall, TypeEmail}, Time: at,
		Mersis: "0123456789012345"})
	if err != nil {
		t.Fatalf("Rejection: %v", err)
	}
	if !strings.Contains(body, "04.12.2026 12:30") || !strings.Contains(body, "RET") || !strings.Contains(body, "0123456789012345") {
		t.Errorf("rejection body %q", body)
	}
	if _, err := tpl.Rejection(RejectionData{Brand: "A", Types: []string{TypeSMS}, Mersis: "0123456789012345"}); err == nil {
		t.Error("a rejection without a time was rendered")
	}
	body, err = tpl.Test("ABCDEFGHIJK")
	if err != nil || !strings.HasPrefix(body, "ABCDEFGHIJK: ") {
		t.Fatalf("Test = %q, %v", body, err)
	}
	if _, err := tpl.Test(" "); err == nil {
		t.Error("a test message without a brand was rendered")
	}
}
