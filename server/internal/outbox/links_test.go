package outbox

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/linktoken"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/store"
)

func TestSetPublicURL(t *testing.T) {
	q := NewQueue(sms.DefaultTemplates(), time.Now)
	for _, tc := range []struct {
		in   string
		want string // "" means refused
	}{
		{"https://izin.example.com.tr/", "https://izin.example.com.tr"},
		{"http://localhost:8080", "http://localhost:8080"},
		{"ftp://izin.example", ""},
		{"izin.example.com", ""},
		{"https://izin.example/path", ""},
		{"https://izin.example/?a=b", ""},
		{"https://user:pw@izin.example", ""},
		{"https://" + strings.Repeat("a", 40) + ".example", ""},
	} {
		err := q.SetPublicURL(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("SetPublicURL(%q) accepted", tc.in)
			}
			continue
		}
		if err != nil || q.PublicURL() != tc.want {
			t.Errorf("SetPublicURL(%q) = %v, base %q; want %q", tc.in, err, q.PublicURL(), tc.want)
		}
	}
}

// Links in SMS are capabilities: the copy of the body kept for a real
// provider hides the token, and the rejection link's row is written in the
// transaction of the confirmation.
func TestLinksInMessages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	q := NewQueue(sms.DefaultTemplates(), time.Now)
	if err := q.SetPublicURL("https://izin.example"); err != nil {
		t.Fatal(err)
	}
	token, _, err := linktoken.New()
	if err != nil {
		t.Fatal(err)
	}
	var landingID, confID string
	err = f.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if landingID, err = q.QueueLandingLink(ctx, tx, f.tenant, f.brand, "+905321234567", "v1", token,
			[]store.ConsentType{store.ConsentSMS, store.ConsentCall}); err != nil {
			return err
		}
		confID, err = q.QueueConfirmation(ctx, tx, f.tenant, f.brand, "+905321234567", store.Individual, nil,
			[]store.ConsentType{store.ConsentSMS}, time.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	landing := f.message(t, landingID)
	if !strings.Contains(landing.Body, "https://izin.example/l/"+token+" ") || strings.Contains(landing.RedactedBody, token) ||
		!strings.Contains(landing.RedactedBody, "/l/****************") || landing.Kind != store.KindLandingLink {
		t.Fatalf("landing message body %q, redacted %q", landing.Body, landing.RedactedBody)
	}
	conf := f.message(t, confID)
	m := regexp.MustCompile(`https://izin\.example/r/([A-Za-z0-9_-]{16}) `).FindStringSubmatch(conf.Body)
	if m == nil || strings.Contains(conf.RedactedBody, m[1]) {
		t.Fatalf("confirmation body %q, redacted %q", conf.Body, conf.RedactedBody)
	}
	l, err := f.st.RejectLinkByToken(ctx, linktoken.Hash(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	if l.MessageID != confID || l.Recipient != "+905321234567" || l.Types != "1" || l.TenantID != f.tenant.ID || l.UsedAt != nil {
		t.Fatalf("reject link %+v", l)
	}
}
