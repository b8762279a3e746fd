// Package sms holds what izin needs to send consent SMS without knowing a
// particular operator: the Provider interface the outbox worker calls, a
// Sandbox provider, length measurement for Turkish operators, and the
// Turkish activation and confirmation templates.
//
// # Single-segment rule
//
// izin never sends a multi-part SMS: a split consent text can arrive out of
// order or partly, and costs double. Every rendered body is checked with
// CheckSingleSegment, and brand setup is checked with ValidateWorstCase, so an
// over-long text is refused instead of being truncated or split.
//
// The limits come from how Turkish operators deliver bulk SMS:
//
//   - Since December 2016 (BTK decision 2016/DK-YED/211) operators append a
//     space and a 4-character operator code (e.g. " B001") to every bulk SMS,
//     which leaves 160-5 = 155 GSM 7-bit characters (LimitGSM7).
//   - Text with ğ, Ğ, ı, İ, ş, Ş or ç is sent with the Turkish national
//     language locking-shift table (3GPP TS 23.038 A.3.1), so those letters
//     cost one character each, but the table identifier takes 5 more septets
//     of user data header: 155-5 = 150 (LimitGSM7Turkish).
//   - Anything outside both tables (emoji, â, ’, tab, ...) is sent as UCS-2:
//     70-5 = 65 characters (LimitUCS2).
package sms
