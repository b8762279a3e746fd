// Package izin is the Go client of izin, the consent server for commercial
// electronic messages in Turkey (ETK, KVKK, İYS).
//
// Create a Client with NewClient, check a recipient's consent with Check
// (or BatchCheck and StreamCheck for lists), obtain consent provably with
// StartSMSVerification and SubmitCode, record a rejection with Reject, and
// follow every change with Watch:
//
//	c, err := izin.NewClient("izin.example.com:443", izin.WithAPIKey(key))
//	res, err := c.Check(ctx, "+90 532 123 45 67")
//	if res.Granted(izin.SMS) { ... }
//
// TLS with the system roots is the default; WithInsecure is for a local
// server. Unary calls get a default deadline (WithTimeout), and idempotent
// ones are retried on UNAVAILABLE and rate limits (WithRetry). Errors from
// the server are *Error values carrying the code, the violated fields, the
// reason and the retry delay; see AsError.
//
// The generated clients (Consent, Verification, Admin) reach every method
// with the same key, deadline, retries and errors.
package izin
