package sms

import (
	"slices"
	"testing"
)

func TestParseKeyword(t *testing.T) {
	tests := []struct {
		body    string
		keyword string
		rest    []string
	}{
		{"RET", "RET", nil},
		{"ret", "RET", nil},
		{" Ret. ", "RET", nil},
		{"RET MARKAM", "RET", []string{"MARKAM"}},
		{"ret  markam", "RET", []string{"MARKAM"}},
		{"iptal", "IPTAL", nil},
		{"İPTAL", "IPTAL", nil},
		{"ıptal", "IPTAL", nil},
		{"IPTAL", "IPTAL", nil},
		{"evet izin", "EVET", []string{"IZIN"}},
		{"EVET İZİN", "EVET", []string{"IZIN"}},
		{"Merhaba, kampanya ne zaman?", "MERHABA", []string{"KAMPANYA", "NE", "ZAMAN"}},
		{"", "", nil},
		{"   ", "", nil},
	}
	for _, tc := range tests {
		k, rest := ParseKeyword(tc.body)
		if k != tc.keyword || !slices.Equal(rest, tc.rest) {
			t.Errorf("ParseKeyword(%q) = %q %q, want %q %q", tc.body, k, rest, tc.keyword, tc.rest)
		}
	}
}
