package sms

import (
	"strings"
	"unicode"
)

// Keyword replies customers send, in NormalizeKeyword's form.
const (
	KeywordRET   = "RET"
	KeywordIPTAL = "IPTAL"
	KeywordEVET  = "EVET"
)

// NormalizeKeyword folds a word the way customers' phones vary it: Turkish
// upper case (i → İ, ı → I), then the dotted capital İ read as I, so that
// "iptal", "İPTAL", "IPTAL" and "ıptal" are one keyword; surrounding
// punctuation is dropped.
func NormalizeKeyword(word string) string {
	w := strings.TrimFunc(word, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	w = strings.ToUpperSpecial(unicode.TurkishCase, w)
	return strings.ReplaceAll(w, "İ", "I")
}

// ParseKeyword reads a reply as a keyword and the words after it (a brand
// name, usually): "ret  markam" → ("RET", ["MARKAM"]). An empty reply has
// no keyword.
func ParseKeyword(body string) (keyword string, rest []string) {
	words := strings.Fields(body)
	if len(words) == 0 {
		return "", nil
	}
	for _, w := range words[1:] {
		if n := NormalizeKeyword(w); n != "" {
			rest = append(rest, n)
		}
	}
	return NormalizeKeyword(words[0]), rest
}
