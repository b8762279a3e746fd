package consent_test

import (
	"context"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/errs"
)

// A change's explicit inputs are refused when İYS would refuse them, never
// replaced: a zero consent time is not "now", and a source İYS does not
// know is not stored into the evidence.
func TestChangeInputsRefused(t *testing.T) {
	ctx := context.Background()
	zero := time.Time{}
	tests := []struct {
		name  string
		req   consent.ChangeRequest
		field string
	}{
		{"zero consent time", consent.ChangeRequest{ConsentTime: &zero}, "consent_time"},
		{"unknown source", consent.ChangeRequest{IYSSource: "HS_FOO"}, "iys_source"},
		{"not İYS's own source", consent.ChangeRequest{IYSSource: "IYS_mobil"}, "iys_source"},
		{"lower case", consent.ChangeRequest{IYSSource: "hs_web"}, "iys_source"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.req.Recipient, tc.req.Types = "+905321234567", sms
			_, err := e.svc.Record(ctx, e.p, tc.req)
			if de, ok := errs.As(err); !ok || de.Kind != errs.KindInvalid || de.Field != tc.field {
				t.Fatalf("err = %v, want a refusal of %s", err, tc.field)
			}
		})
	}
	// Known sources and an unset time still pass.
	e := newEnv(t)
	if _, err := e.svc.Record(ctx, e.p, consent.ChangeRequest{Recipient: "+905321234567", Types: sms, IYSSource: "HS_ISLAK_IMZA"}); err != nil {
		t.Fatal(err)
	}
}
