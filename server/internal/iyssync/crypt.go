package iyssync

import (
	"errors"
	"fmt"

	"github.com/izinhq/izin/server/internal/seal"
)

// credentialsPurpose labels the key derived from the server secret for İYS
// passwords, so that it differs from every other key derived from it.
const credentialsPurpose = "izin iys-credentials v1"

// Sealer encrypts İYS passwords at rest (package seal), bound to the
// brand id, so that a value copied to another brand's row does not open.
type Sealer struct {
	s *seal.Sealer
}

// NewSealer derives the credentials key from the server secret.
func NewSealer(secret []byte) (*Sealer, error) {
	s, err := seal.New(secret, credentialsPurpose)
	if err != nil {
		return nil, fmt.Errorf("iyssync: %w", err)
	}
	return &Sealer{s: s}, nil
}

// Seal encrypts a password for the brand.
func (s *Sealer) Seal(password, brandID string) ([]byte, error) {
	return s.s.Seal(password, brandID)
}

// ErrUnseal is returned for a sealed value that does not open: corrupt, of
// another brand, or sealed under another server secret.
var ErrUnseal = errors.New("iyssync: the stored İYS password cannot be decrypted (was the server secret changed?)")

// Open decrypts a password sealed for the brand.
func (s *Sealer) Open(sealed []byte, brandID string) (string, error) {
	pt, err := s.s.Open(sealed, brandID)
	if errors.Is(err, seal.ErrUnseal) {
		return "", ErrUnseal
	}
	return pt, err
}
