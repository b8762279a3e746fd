package izin_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"slices"
	"strings"
	"time"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	izin "github.com/izinhq/izin/sdk/go"
)

// exampleClient returns a client of an in-process fake izin server, so
// that the examples run under go test without a real server. Real code
// creates its client as in ExampleNewClient.
func exampleClient() (*izin.Client, func()) {
	dial, stop := newFake().serve()
	c, err := izin.NewClient("passthrough:///izin", izin.WithInsecure(), izin.WithAPIKey("izin_example"), izin.WithDialOptions(dial))
	if err != nil {
		log.Fatal(err)
	}
	return c, func() { c.Close(); stop() }
}

func ExampleNewClient() {
	c, err := izin.NewClient("izin.example.com:443",
		izin.WithAPIKey(os.Getenv("IZIN_API_KEY")),             // TLS with the system roots by default
		izin.WithTimeout(5*time.Second),                        // for calls whose context has no deadline
		izin.WithRetry(4, 200*time.Millisecond, 3*time.Second), // idempotent calls only
	)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	res, err := c.Check(context.Background(), "+90 532 123 45 67")
	if err != nil {
		log.Fatal(err)
	}
	if res.Allowed(izin.SMS) {
		fmt.Println("send the campaign SMS")
	}
}

func ExampleClient_Check() {
	c, done := exampleClient()
	defer done()
	ctx := context.Background()

	res, err := c.Check(ctx, "0532 123 45 67")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.GetRecipient())
	for _, r := range res.GetResults() {
		fmt.Println(r.GetType(), r.GetStatus(), r.GetAllowed())
	}
	fmt.Println("may send SMS:", res.Allowed(izin.SMS))
	// Output:
	// +905321234567
	// CONSENT_TYPE_SMS CONSENT_STATUS_NONE false
	// CONSENT_TYPE_CALL CONSENT_STATUS_NONE false
	// CONSENT_TYPE_EMAIL CONSENT_STATUS_NONE false
	// may send SMS: false
}

// The SMS-code flow: start a verification, let the customer read the code
// to you, submit it; the consent is then granted.
func ExampleClient_SubmitCode() {
	c, done := exampleClient()
	defer done()
	ctx := context.Background()

	v, err := c.StartSMSVerification(ctx, "+90 532 123 45 67", izin.SMS, izin.Call)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.GetStatus(), "attempts left:", v.GetAttemptsLeft())

	// A wrong code is an *izin.Error telling the attempts left.
	_, err = c.SubmitCode(ctx, v.GetId(), "000000")
	if e, ok := izin.AsError(err); ok && izin.IsInvalidCode(err) {
		fmt.Println(izin.CodeName(e.Code), e.Field, e.Reason, "attempts left:", e.Metadata["attempts_left"])
	}

	// The code the customer read out (the fake server always sends 123456).
	resp, err := c.SubmitCode(ctx, v.GetId(), "123456")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.GetVerification().GetStatus())

	res, err := c.Check(ctx, "05321234567")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("SMS granted:", res.Granted(izin.SMS), "e-mail granted:", res.Granted(izin.Email))
	// Output:
	// VERIFICATION_STATUS_PENDING attempts left: 3
	// INVALID_ARGUMENT code ERROR_REASON_INVALID_CODE attempts left: 2
	// VERIFICATION_STATUS_VERIFIED
	// SMS granted: true e-mail granted: false
}

func ExampleClient_Reject() {
	c, done := exampleClient()
	defer done()
	ctx := context.Background()

	if _, err := c.Reject(ctx, "+90 532 123 45 67", izin.SMS); err != nil {
		log.Fatal(err)
	}
	res, err := c.Check(ctx, "+90 532 123 45 67", izin.OnlyTypes(izin.SMS))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status(izin.SMS), res.Rejected(izin.SMS))
	// Output: CONSENT_STATUS_REJECTED true
}

func ExampleClient_BatchCheck() {
	c, done := exampleClient()
	defer done()

	// Any number of checks; the SDK sends them 1000 at a time.
	checks := []*izinv1.CheckConsentRequest{
		{Recipient: "05321234567", Types: []izinv1.ConsentType{izin.SMS}},
		{Recipient: "12ab"},
		{Recipient: "Ayse@Example.com", Types: []izinv1.ConsentType{izin.Email}},
	}
	items, err := c.BatchCheck(context.Background(), checks)
	if err != nil {
		log.Fatal(err)
	}
	for _, it := range items {
		if err := izin.StatusError(it.GetError()); err != nil {
			e, _ := izin.AsError(err)
			fmt.Println("invalid:", e.Field)
			continue
		}
		r := izin.NewCheckResult(it.GetResult())
		fmt.Println(r.GetRecipient(), r.GetResults()[0].GetStatus())
	}
	// Output:
	// +905321234567 CONSENT_STATUS_NONE
	// invalid: recipient
	// ayse@example.com CONSENT_STATUS_NONE
}

func ExampleClient_StreamCheck() {
	c, done := exampleClient()
	defer done()

	// A campaign list of any size, read lazily (here three numbers).
	campaign := slices.Values([]*izinv1.CheckConsentRequest{
		{Recipient: "05321234567", Types: []izinv1.ConsentType{izin.SMS}},
		{Recipient: "05321234568", Types: []izinv1.ConsentType{izin.SMS}},
		{Recipient: "bad", Types: []izinv1.ConsentType{izin.SMS}},
	})
	allowed, skipped := 0, 0
	for resp, err := range c.StreamCheck(context.Background(), campaign) {
		if err != nil {
			log.Fatal(err) // the stream failed; resume from the last answer
		}
		if izin.StatusError(resp.GetError()) != nil || !izin.NewCheckResult(resp.GetResult()).Allowed(izin.SMS) {
			skipped++
			continue
		}
		allowed++
	}
	fmt.Println("allowed:", allowed, "skipped:", skipped)
	// Output: allowed: 0 skipped: 3
}

func ExampleClient_Messages() {
	c, done := exampleClient()
	defer done()
	ctx := context.Background()

	if _, err := c.StartSMSVerification(ctx, "05321234567", izin.SMS); err != nil {
		log.Fatal(err)
	}
	msgs, err := c.Messages(ctx, "+90 532 123 45 67") // needs an ADMIN key
	if err != nil {
		log.Fatal(err)
	}
	code, _, _ := strings.Cut(msgs[0].GetBody(), " ")
	fmt.Println(msgs[0].GetKind(), code)
	// Output: MESSAGE_KIND_ACTIVATION 123456
}

func ExampleAsError() {
	c, done := exampleClient()
	defer done()

	_, err := c.Check(context.Background(), "12ab")
	if e, ok := izin.AsError(err); ok {
		fmt.Println(izin.CodeName(e.Code), e.Field)
	}
	// Output: INVALID_ARGUMENT recipient
}

// A follower keeps the sequence of the last event it handled (here in a
// variable; in a real system, beside what it did with the event, in one
// transaction) and starts from it: after a restart nothing is missed and
// nothing is handled twice. Reconnects within one Watch are automatic.
func ExampleClient_Watch() {
	c, err := izin.NewClient("izin.internal:9090", izin.WithAPIKey(os.Getenv("IZIN_API_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	var last int64 // read from where the follower keeps it
	for m, err := range c.Watch(context.Background(), &izinv1.WatchConsentEventsRequest{AfterSequence: last}) {
		if err != nil {
			log.Fatal(err) // not a reconnectable failure: a revoked key, say
		}
		if e := m.GetEvent(); e != nil {
			fmt.Println(e.GetSequence(), e.GetRecipient(), e.GetType(), e.GetStatus())
			last = e.GetSequence()
		} else {
			last = m.GetHeartbeat().GetSequence() // a filtered watch has read this far
		}
	}
}
