// Package linktoken makes the tokens of the links izin sends by SMS (the
// consent page, the rejection page). A token is a bearer capability: it is
// unguessable, short enough for a single-segment SMS, and stored only as a
// hash, so a copy of the database does not hold working links.
package linktoken

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// Bytes of randomness per token: 96 bits cannot be guessed online, and they
// encode to 16 URL-safe characters.
const Bytes = 12

// Len is the length of an encoded token.
const Len = 16

// New returns a fresh token and the hash to store for it.
func New() (token, hash string, err error) {
	b := make([]byte, Bytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("linktoken: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, Hash(token), nil
}

// Hash is the stored form of a token: lookups go by hash, so the database
// index compares hashes, never the secret itself.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Valid tells whether s has the shape of a token, so malformed input is
// refused before it reaches the database.
func Valid(s string) bool {
	if len(s) != Len {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}
