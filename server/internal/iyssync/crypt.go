package iyssync

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// credentialsPurpose labels the key derived from the server secret for İYS
// passwords, so that it differs from every other key derived from it.
const credentialsPurpose = "izin iys-credentials v1"

// sealVersion is the first byte of a sealed value: the format and key
// derivation, so that a later change can tell old values apart.
const sealVersion = 1

// Sealer encrypts İYS passwords at rest with AES-256-GCM, under a key
// derived with HKDF-SHA256 from the server secret. A sealed value is
// version (1 byte) ‖ nonce (12 bytes) ‖ ciphertext and tag; the brand id is
// authenticated with it, so a value copied to another brand's row does not
// open.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer derives the credentials key from the server secret.
func NewSealer(secret []byte) (*Sealer, error) {
	if len(secret) < 32 {
		return nil, errors.New("iyssync: the server secret must be at least 32 bytes")
	}
	key, err := hkdf.Key(sha256.New, secret, nil, credentialsPurpose, 32)
	if err != nil {
		return nil, fmt.Errorf("iyssync: derive credentials key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("iyssync: credentials cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("iyssync: credentials cipher: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts a password for the brand.
func (s *Sealer) Seal(password, brandID string) ([]byte, error) {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(password)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("iyssync: nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:], []byte(password), []byte(brandID)), nil
}

// ErrUnseal is returned for a sealed value that does not open: corrupt, of
// another brand, or sealed under another server secret.
var ErrUnseal = errors.New("iyssync: the stored İYS password cannot be decrypted (was the server secret changed?)")

// Open decrypts a password sealed for the brand.
func (s *Sealer) Open(sealed []byte, brandID string) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n+s.aead.Overhead() || sealed[0] != sealVersion {
		return "", ErrUnseal
	}
	pt, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(brandID))
	if err != nil {
		return "", ErrUnseal
	}
	return string(pt), nil
}
