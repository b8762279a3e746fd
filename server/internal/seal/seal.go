// Package seal encrypts secrets kept in the database (İYS passwords,
// webhook signing secrets) under keys derived from the server secret, one
// key per purpose, so that a value sealed for one use does not open for
// another.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// version is the first byte of a sealed value: the format and key
// derivation, so that a later change can tell old values apart.
const version = 1

// Sealer encrypts with AES-256-GCM under a key derived with HKDF-SHA256
// from the server secret and a purpose label. A sealed value is version
// (1 byte) ‖ nonce (12 bytes) ‖ ciphertext and tag; the caller's
// associated data (the id of the row's owner) is authenticated with it, so
// a value copied to another row does not open.
type Sealer struct {
	aead cipher.AEAD
}

// New derives the key of purpose from the server secret.
func New(secret []byte, purpose string) (*Sealer, error) {
	if len(secret) < 32 {
		return nil, errors.New("seal: the server secret must be at least 32 bytes")
	}
	key, err := hkdf.Key(sha256.New, secret, nil, purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("seal: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: cipher: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext, bound to ad.
func (s *Sealer) Seal(plaintext, ad string) ([]byte, error) {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:], []byte(plaintext), []byte(ad)), nil
}

// ErrUnseal is returned for a sealed value that does not open: corrupt,
// bound to other data, or sealed under another secret or purpose.
var ErrUnseal = errors.New("seal: the value cannot be decrypted")

// Open decrypts a value sealed with ad.
func (s *Sealer) Open(sealed []byte, ad string) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n+s.aead.Overhead() || sealed[0] != version {
		return "", ErrUnseal
	}
	pt, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(ad))
	if err != nil {
		return "", ErrUnseal
	}
	return string(pt), nil
}
