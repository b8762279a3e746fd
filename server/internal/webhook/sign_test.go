package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestSignOnePerSecret(t *testing.T) {
	s1, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := NewSecret()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(s1, "whsec_"))
	if len(key) < 24 {
		t.Fatalf("key of %d bytes, the specification asks for at least 24", len(key))
	}
	ts := time.Unix(1700000000, 0)
	body := []byte(`{"type":"consent.granted"}`)
	h, err := Sign("msg_1", ts, body, s1, s2)
	if err != nil {
		t.Fatal(err)
	}
	sigs := strings.Split(h, " ")
	if len(sigs) != 2 {
		t.Fatalf("header %q: want two signatures", h)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("msg_1.1700000000." + string(body)))
	if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); sigs[0] != want {
		t.Errorf("signature %q, want %q", sigs[0], want)
	}
	if _, err := Sign("msg_1", ts, body); err == nil {
		t.Error("signing without a secret passed")
	}
	if _, err := Sign("msg_1", ts, body, "nope"); err == nil {
		t.Error("a secret without whsec_ passed")
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url          string
		allowPrivate bool
		ok           bool
	}{
		{"https://hooks.example.com/izin", false, true},
		{"http://hooks.example.com/izin", false, false},
		{"http://127.0.0.1:8080/x", true, true},
		{"https://127.0.0.1/x", false, false},
		{"https://10.1.2.3/x", false, false},
		{"https://169.254.169.254/latest", false, false},
		{"https://[::1]/x", false, false},
		{"https://100.64.0.1/x", false, false},
		{"https://localhost/x", false, false},
		{"https://user:pw@example.com/x", false, false},
		{"/relative", false, false},
		{"ftp://example.com/x", true, false},
		{"https://" + strings.Repeat("a", 2100) + ".com", false, false},
	}
	for _, tc := range tests {
		err := CheckURL(tc.url, tc.allowPrivate)
		if (err == nil) != tc.ok {
			t.Errorf("CheckURL(%.40q, %v) = %v, want ok=%v", tc.url, tc.allowPrivate, err, tc.ok)
		}
	}
}

func TestPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34": true, "2606:2800:220:1::": true,
		"127.0.0.1": false, "10.0.0.1": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.1.1": false, "0.0.0.0": false, "100.100.0.1": false, "224.0.0.1": false,
		"::1": false, "fe80::1": false, "fc00::1": false, "::ffff:127.0.0.1": false, "::": false,
	} {
		if got := public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("public(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestClientRefusesPrivateAtConnect(t *testing.T) {
	c := NewClient(time.Second, false)
	_, err := c.Get("http://127.0.0.1:1/")
	if err == nil || !strings.Contains(err.Error(), "private") {
		t.Errorf("GET loopback: %v, want the dialer's refusal", err)
	}
}

func TestSchedule(t *testing.T) {
	var total time.Duration
	for _, d := range Schedule {
		total += d
	}
	if total < 72*time.Hour || total > 96*time.Hour {
		t.Errorf("schedule spans %s, want about three days", total)
	}
	if _, ok := nextDelay(Schedule, len(Schedule)+1); ok {
		t.Error("a retry after the schedule ran out")
	}
	if d, _ := nextDelay(Schedule, 1); d != 5*time.Second {
		t.Errorf("first retry after %s", d)
	}
}
