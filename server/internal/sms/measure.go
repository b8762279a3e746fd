package sms

import (
	"fmt"
	"strings"
	"unicode/utf16"
)

// Encodings reported in Measurement.Encoding.
const (
	EncodingGSM7 = "GSM7"
	EncodingUCS2 = "UCS2"
)

// Single-segment limits in characters as operators count them (septets for
// GSM7, UTF-16 code units for UCS2); see the package documentation.
const (
	LimitGSM7        = 155 // 160 minus " B001", the operator code operators append
	LimitGSM7Turkish = 150 // also minus 5 septets for the Turkish table's header
	LimitUCS2        = 65  // 70 minus " B001"
)

// Per-part capacities of a concatenated SMS, after its user data header.
const (
	partGSM7        = 153 // 160 - 7 septets (6-octet concatenation header)
	partGSM7Turkish = 149 // 160 - 11 septets (concatenation + language headers)
	partUCS2        = 67  // (140 - 6 octets) / 2
	operatorCodeLen = 5   // " B001"
)

// The tables below are 3GPP TS 23.038 tables in code-point order, so a
// rune's index is its septet value; tests check the positions. Index 0x1B is
// the escape to the extension table, not a character, and is never matched.
const (
	escape = '\x1b'

	// GSM 7-bit default alphabet (TS 23.038 6.2.1).
	gsmDefaultTable = "@£$¥èéùìòÇ\nØø\rÅå" +
		"Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ" +
		" !\"#¤%&'()*+,-./" +
		"0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNO" +
		"PQRSTUVWXYZÄÖÑÜ§" +
		"¿abcdefghijklmno" +
		"pqrstuvwxyzäöñüà"

	// Turkish national language locking-shift table (TS 23.038 A.3.1): the
	// default alphabet with €ıĞğŞşİç in place of èìØøÆæ¡¿.
	gsmTurkishTable = "@£$¥€éùıòÇ\nĞğ\rÅå" +
		"Δ_ΦΓΛΩΠΨΣΘΞ\x1bŞşßÉ" +
		" !\"#¤%&'()*+,-./" +
		"0123456789:;<=>?" +
		"İABCDEFGHIJKLMNO" +
		"PQRSTUVWXYZÄÖÑÜ§" +
		"çabcdefghijklmno" +
		"pqrstuvwxyzäöñüà"

	// Characters of the default extension table (TS 23.038 6.2.1.1); each is
	// sent as escape + character, so it costs two septets.
	gsmExtensionChars = "\f^{}\\[~]|€"
)

// Measurement describes how a body will be sent.
type Measurement struct {
	// Encoding is EncodingGSM7 or EncodingUCS2.
	Encoding string
	// Turkish reports that GSM7 needs the Turkish locking-shift table
	// (the body has ğ, Ğ, ı, İ, ş, Ş or ç), which lowers Limit to 150.
	Turkish bool
	// Units is the length as operators count it: septets for GSM7 (extension
	// characters such as { } [ ] € count 2), UTF-16 code units for UCS2
	// (an emoji counts 2).
	Units int
	// Limit is the most Units that fit in one SMS.
	Limit int
	// Segments is how many SMS parts the body would be sent as, including
	// the operator code appended to the last part.
	Segments int
	// NonGSM is the first character that forced UCS2; 0 for GSM7.
	NonGSM rune
}

// Measure returns the encoding, length and segment count of body. The default
// alphabet is preferred because it leaves the most room; the Turkish table is
// used only when a Turkish-only letter needs it. A body that mixes letters
// only the default alphabet has (è ì Ø ø Æ æ ¡ ¿) with Turkish-only letters
// fits neither table and is measured as UCS2, which is what it would cost.
func Measure(body string) Measurement {
	defaultCost := func(r rune) int { return septets(r, gsmDefaultTable) }
	notDefault, found := firstUnencodable(body, defaultCost)
	if !found {
		return measureWith(body, EncodingGSM7, false, LimitGSM7, partGSM7, defaultCost)
	}
	turkishCost := func(r rune) int { return septets(r, gsmTurkishTable) }
	notTurkish, found := firstUnencodable(body, turkishCost)
	if !found {
		return measureWith(body, EncodingGSM7, true, LimitGSM7Turkish, partGSM7Turkish, turkishCost)
	}
	m := measureWith(body, EncodingUCS2, false, LimitUCS2, partUCS2, ucs2Units)
	// Name a character that is in neither table; if each character is in
	// one of them, name the one that clashes with the Turkish letters.
	m.NonGSM = notTurkish
	if turkishCost(notDefault) == 0 {
		m.NonGSM = notDefault
	}
	return m
}

// CheckSingleSegment returns nil if body is not empty and fits in one SMS,
// and otherwise an error that says why; a length error is a *LengthError.
func CheckSingleSegment(body string) error {
	if body == "" {
		return fmt.Errorf("sms: body is empty")
	}
	if m := Measure(body); m.Units > m.Limit {
		return &LengthError{Measurement: m}
	}
	return nil
}

// LengthError reports a body that does not fit in one SMS.
type LengthError struct {
	Measurement Measurement
}

func (e *LengthError) Error() string {
	m := e.Measurement
	msg := fmt.Sprintf("sms: body is %d characters, limit %d", m.Units, m.Limit)
	switch {
	case m.Encoding == EncodingUCS2:
		msg += fmt.Sprintf(" because %q (%U) is not in the GSM alphabet", string(m.NonGSM), m.NonGSM)
	case m.Turkish:
		msg += " for text with Turkish letters"
	}
	return msg
}

// septets returns what r costs with the given locking-shift table and the
// default extension table, or 0 if it cannot be encoded.
func septets(r rune, table string) int {
	switch {
	case r == escape:
		return 0
	case strings.ContainsRune(table, r):
		return 1
	case strings.ContainsRune(gsmExtensionChars, r):
		return 2
	}
	return 0
}

// ucs2Units counts UTF-16 code units: characters outside the Basic
// Multilingual Plane, such as emoji, take a surrogate pair.
func ucs2Units(r rune) int {
	if n := utf16.RuneLen(r); n > 0 {
		return n
	}
	return 1 // not reachable from ranging over a string; U+FFFD is one unit
}

// firstUnencodable returns the first rune that cost cannot encode.
func firstUnencodable(body string, cost func(rune) int) (rune, bool) {
	for _, r := range body {
		if cost(r) == 0 {
			return r, true
		}
	}
	return 0, false
}

func measureWith(body, encoding string, turkish bool, limit, part int, cost func(rune) int) Measurement {
	m := Measurement{Encoding: encoding, Turkish: turkish, Limit: limit, Segments: 1}
	for _, r := range body {
		m.Units += cost(r)
	}
	if m.Units <= limit {
		return m
	}
	// Pack parts the way an SMSC splits: an escape pair or a surrogate pair
	// never straddles two parts, so a part may be left one unit short.
	used := 0
	for _, r := range body {
		c := cost(r)
		if used+c > part {
			m.Segments++
			used = 0
		}
		used += c
	}
	if used+operatorCodeLen > part {
		m.Segments++
	}
	return m
}
