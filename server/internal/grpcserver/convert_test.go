package grpcserver

import (
	"slices"
	"testing"
	"time"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/store"
)

// A KVKK event shows as no ETK type with its KVKK status; an ETK event
// keeps its type and shows no KVKK status of its own.
func TestEventPBTypes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ev       store.ConsentEvent
		wantType izinv1.ConsentType
		wantKVKK izinv1.KvkkStatus
	}{
		{"sms", store.ConsentEvent{Type: store.ConsentSMS, Status: store.StatusGranted, KVKK: store.KVKKGranted},
			izinv1.ConsentType_CONSENT_TYPE_SMS, izinv1.KvkkStatus_KVKK_STATUS_UNSPECIFIED},
		{"email rejected", store.ConsentEvent{Type: store.ConsentEmail, Status: store.StatusRejected},
			izinv1.ConsentType_CONSENT_TYPE_EMAIL, izinv1.KvkkStatus_KVKK_STATUS_UNSPECIFIED},
		{"kvkk granted", store.ConsentEvent{Type: store.ConsentKVKK, Status: store.StatusGranted, KVKK: store.KVKKGranted},
			izinv1.ConsentType_CONSENT_TYPE_UNSPECIFIED, izinv1.KvkkStatus_KVKK_STATUS_GRANTED},
		{"kvkk withdrawn", store.ConsentEvent{Type: store.ConsentKVKK, Status: store.StatusRejected, KVKK: store.KVKKWithdrawn},
			izinv1.ConsentType_CONSENT_TYPE_UNSPECIFIED, izinv1.KvkkStatus_KVKK_STATUS_WITHDRAWN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := eventPB(&tc.ev)
			if got.GetType() != tc.wantType || got.GetKvkk() != tc.wantKVKK {
				t.Errorf("type %s, kvkk %s; want %s, %s", got.GetType(), got.GetKvkk(), tc.wantType, tc.wantKVKK)
			}
			if got.GetEvidence().GetKvkk() != izinv1.KvkkStatus(tc.ev.KVKK) {
				t.Errorf("evidence kvkk %s, want the event's %d", got.GetEvidence().GetKvkk(), tc.ev.KVKK)
			}
		})
	}
}

// Comma-separated columns become lists without empty entries.
func TestSplitComma(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"a,b", []string{"a", "b"}},
		{"a,,b,", []string{"a", "b"}},
		{",", nil},
	} {
		if got := splitComma(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("splitComma(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A key lists every scope its own one includes.
func TestAPIKeyPBScopes(t *testing.T) {
	check, write, admin := izinv1.ApiKeyScope_API_KEY_SCOPE_CHECK, izinv1.ApiKeyScope_API_KEY_SCOPE_WRITE, izinv1.ApiKeyScope_API_KEY_SCOPE_ADMIN
	for _, tc := range []struct {
		scope store.Scope
		want  []izinv1.ApiKeyScope
	}{
		{store.ScopeCheck, []izinv1.ApiKeyScope{check}},
		{store.ScopeWrite, []izinv1.ApiKeyScope{check, write}},
		{store.ScopeAdmin, []izinv1.ApiKeyScope{check, write, admin}},
	} {
		if got := apiKeyPB(&store.APIKey{Scope: tc.scope}).GetScopes(); !slices.Equal(got, tc.want) {
			t.Errorf("scope %s lists %v, want %v", tc.scope, got, tc.want)
		}
	}
}

// Unset times stay unset rather than becoming the zero time.
func TestTimes(t *testing.T) {
	if ts(time.Time{}) != nil || tsPtr(nil) != nil || timePtr(nil) != nil {
		t.Error("an unset time was given a value")
	}
	now := time.Date(2026, 12, 4, 1, 2, 3, 0, time.UTC)
	if got := timePtr(ts(now)); got == nil || !got.Equal(now) {
		t.Errorf("round trip of %v gave %v", now, got)
	}
	if statusPB(nil) != nil {
		t.Error("no error gave an item status")
	}
}
