package grpcserver

import (
	"testing"

	"github.com/izinhq/izin/server/internal/store"
)

// TestMethodScopes pins who may call what: moving the table into the proto
// changed no method's scope.
func TestMethodScopes(t *testing.T) {
	want := map[string]store.Scope{
		"/izin.v1.ConsentService/CheckConsent":            store.ScopeCheck,
		"/izin.v1.ConsentService/BatchCheckConsents":      store.ScopeCheck,
		"/izin.v1.ConsentService/StreamCheckConsents":     store.ScopeCheck,
		"/izin.v1.ConsentService/ListConsentEvents":       store.ScopeCheck,
		"/izin.v1.ConsentService/WatchConsentEvents":      store.ScopeCheck,
		"/izin.v1.ConsentService/RecordConsent":           store.ScopeWrite,
		"/izin.v1.ConsentService/RejectConsent":           store.ScopeWrite,
		"/izin.v1.ConsentService/ImportConsents":          store.ScopeWrite,
		"/izin.v1.VerificationService/StartVerification":  store.ScopeWrite,
		"/izin.v1.VerificationService/GetVerification":    store.ScopeWrite,
		"/izin.v1.VerificationService/SubmitCode":         store.ScopeWrite,
		"/izin.v1.VerificationService/ResendCode":         store.ScopeWrite,
		"/izin.v1.VerificationService/CancelVerification": store.ScopeWrite,
		"/izin.v1.AdminService/ListMessages":              store.ScopeAdmin,
		"/izin.v1.AdminService/CreateBrand":               store.ScopeAdmin,
		"/izin.v1.AdminService/ListBrands":                store.ScopeAdmin,
		"/izin.v1.AdminService/CreateSource":              store.ScopeAdmin,
		"/izin.v1.AdminService/ListSources":               store.ScopeAdmin,
		"/izin.v1.AdminService/CreateApiKey":              store.ScopeAdmin,
		"/izin.v1.AdminService/ListApiKeys":               store.ScopeAdmin,
		"/izin.v1.AdminService/RevokeApiKey":              store.ScopeAdmin,
		"/izin.v1.AdminService/SetIysConfig":              store.ScopeAdmin,
		"/izin.v1.AdminService/GetIysStatus":              store.ScopeAdmin,
		"/izin.v1.AdminService/ListIysUploads":            store.ScopeAdmin,
		"/izin.v1.AdminService/CreateConsentText":         store.ScopeAdmin,
		"/izin.v1.AdminService/ListConsentTexts":          store.ScopeWrite,
		"/izin.v1.AdminService/GetConsentText":            store.ScopeWrite,
		"/izin.v1.AdminService/SetSmsConfig":              store.ScopeAdmin,
		"/izin.v1.AdminService/GetSmsStatus":              store.ScopeAdmin,
		"/izin.v1.AdminService/SendTestSms":               store.ScopeAdmin,
		"/izin.v1.AdminService/ListInboundMessages":       store.ScopeAdmin,
		"/izin.v1.AdminService/CreateWebhook":             store.ScopeAdmin,
		"/izin.v1.AdminService/ListWebhooks":              store.ScopeAdmin,
		"/izin.v1.AdminService/DeleteWebhook":             store.ScopeAdmin,
		"/izin.v1.AdminService/RotateWebhookSecret":       store.ScopeAdmin,
		"/izin.v1.AdminService/ListWebhookDeliveries":     store.ScopeAdmin,
		"/izin.v1.AdminService/ReplayWebhookDeliveries":   store.ScopeAdmin,
	}
	got := methodScopes()
	for m, w := range want {
		if got[m] != w {
			t.Errorf("%s: scope %v, want %v", m, got[m], w)
		}
	}
	for m := range got {
		if _, ok := want[m]; !ok {
			t.Errorf("%s has a scope but is not in this table", m)
		}
	}
}
