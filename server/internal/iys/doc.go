// Package iys is a client for the API of İYS (İleti Yönetim Sistemi), the
// Turkish national registry of commercial electronic message consents, and
// the business-day calendar that İYS's 3-business-day upload rule is
// computed with.
//
// Every ONAY (consent) and RET (rejection) a company collects must reach İYS
// within 3 business days; citizens also reject at İYS itself, and those
// changes are pulled back through Changes and DailyChanges.
//
// The client:
//   - caches the OAuth2 access token and refreshes it before it expires, with
//     the refresh token while that is valid and the password grant
//     otherwise; concurrent callers share one refresh;
//   - re-authenticates once when İYS answers 401;
//   - retries network errors, 5xx and the codes İYS documents as "send
//     again" with exponential backoff and jitter, and 429 (H124) after the
//     Retry-After delay, within a bounded number of attempts and never past
//     the caller's context;
//   - never retries a refusal for a rule (for example H175, the first record
//     for a recipient cannot be RET): it returns an *Error that keeps İYS's
//     code, message and location, with an English cause from codes.go.
//
// What was taken from İYS's public material and what is assumed is listed in
// wire.go, which holds every wire shape, path and assumption in one place, so
// that a correction against the live API touches one file.
//
// Package sandbox is an in-memory fake İYS over real HTTP, for tests (through
// package iystest) and for integrators (izin iys sandbox).
package iys
