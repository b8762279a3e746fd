package sms

import (
	"fmt"
	"strings"
)

// Consent types accepted in ActivationData.Types and ConfirmationData.Types;
// they match the İYS types MESAJ, ARAMA and EPOSTA.
const (
	TypeSMS   = "SMS"
	TypeCall  = "CALL"
	TypeEmail = "EMAIL"
)

// TypesText renders consent types in Turkish, always in the order SMS,
// arama, e-posta: "SMS", "SMS ve arama", "SMS, arama ve e-posta". Duplicates
// are ignored; an unknown type or an empty list is an error because the text
// is what the customer consents to.
func TypesText(types []string) (string, error) {
	var sms, call, email bool
	for _, t := range types {
		switch t {
		case TypeSMS:
			sms = true
		case TypeCall:
			call = true
		case TypeEmail:
			email = true
		default:
			return "", fmt.Errorf("sms: unknown consent type %q (want %s, %s or %s)", t, TypeSMS, TypeCall, TypeEmail)
		}
	}
	var words []string
	if sms {
		words = append(words, "SMS")
	}
	if call {
		words = append(words, "arama")
	}
	if email {
		words = append(words, "e-posta")
	}
	switch len(words) {
	case 0:
		return "", fmt.Errorf("sms: no consent types")
	case 1:
		return words[0], nil
	}
	return strings.Join(words[:len(words)-1], ", ") + " ve " + words[len(words)-1], nil
}

// DefaultRejectRoute builds the usual Turkish reject instruction,
// DefaultRejectRoute("ACME", "3338") == "RET ACME yazıp 3338'e gönderin".
// The dative suffix follows how the number is read aloud (3338'e, 3330'a,
// 5556'ya, 7772'ye); a number that does not end in a digit is written
// "... yazıp X numarasına gönderin" instead.
func DefaultRejectRoute(keyword, shortNumber string) string {
	keyword = strings.TrimSpace(keyword)
	shortNumber = strings.TrimSpace(shortNumber)
	ret := "RET"
	if keyword != "" {
		ret += " " + keyword
	}
	suffix := dativeSuffix(shortNumber)
	if suffix == "" {
		return ret + " yazıp " + shortNumber + " numarasına gönderin"
	}
	return ret + " yazıp " + shortNumber + suffix + " gönderin"
}

// dativeSuffix returns the apostrophe and dative case ending for a number
// written in digits, chosen by the last word spoken: 3338 is "... sekiz",
// so "3338'e". Only the trailing run of digits counts, which also handles
// grouped numbers such as "0850 123 45 67" (read "... altmış yedi").
func dativeSuffix(number string) string {
	end := len(number)
	start := end
	for start > 0 && isDigit(number[start-1]) {
		start--
	}
	digits := number[start:end]
	if digits == "" {
		return ""
	}
	// Find the rightmost non-zero digit; its place decides the last word.
	place := 0
	for i := len(digits) - 1; i >= 0 && digits[i] == '0'; i-- {
		place++
	}
	if place == len(digits) {
		return "'a" // sıfır
	}
	d := digits[len(digits)-1-place] - '0'
	switch {
	case place == 0:
		// bir, iki, üç, dört, beş, altı, yedi, sekiz, dokuz
		return [...]string{"", "'e", "'ye", "'e", "'e", "'e", "'ya", "'ye", "'e", "'a"}[d]
	case place == 1:
		// on, yirmi, otuz, kırk, elli, altmış, yetmiş, seksen, doksan
		return [...]string{"", "'a", "'ye", "'a", "'a", "'ye", "'a", "'e", "'e", "'a"}[d]
	case place == 2:
		return "'e" // yüz
	case place/3 == 1:
		return "'e" // bin
	default:
		return "'a" // milyon, milyar, trilyon, ...
	}
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
