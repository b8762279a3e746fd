// Package auth turns an API key into the principal a request acts as.
// Keys are random 256-bit secrets, so one SHA-256 is enough to store them:
// there is nothing for a slow hash to protect against guessing.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
)

// KeyPrefix starts every izin API key, so leaked keys are easy to scan for.
const KeyPrefix = "izin_"

// NewKey returns a fresh secret, the prefix shown to tell keys apart, and
// the hash to store.
func NewKey() (secret, prefix, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // never happens on supported platforms
	}
	secret = KeyPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
	return secret, secret[:len(KeyPrefix)+6], HashKey(secret)
}

// HashKey is the stored form of a key.
func HashKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Principal is who a request acts as.
type Principal struct {
	TenantID   string
	KeyID      string
	SourceID   *string
	SourceType store.SourceType
	Scope      store.Scope
}

// Allows tells whether the principal's scope covers need.
func (p Principal) Allows(need store.Scope) bool { return p.Scope >= need }

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal set by the auth interceptor.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

// KeyStore is what the authenticator reads.
type KeyStore interface {
	APIKeyByHash(ctx context.Context, hash string) (*store.APIKey, error)
	GetSource(ctx context.Context, tenantID, id string) (*store.Source, error)
}

// Authenticator resolves keys, caching answers briefly: the check path must
// not pay a key lookup per request. A revocation made on this replica purges
// the cache at once; other replicas see it within the TTL.
type Authenticator struct {
	keys KeyStore
	ttl  time.Duration
	now  func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	p       Principal
	ok      bool
	expires time.Time
}

const maxCached = 10000

// NewAuthenticator returns an authenticator caching results for ttl.
func NewAuthenticator(keys KeyStore, ttl time.Duration) *Authenticator {
	return &Authenticator{keys: keys, ttl: ttl, now: time.Now, cache: map[string]cached{}}
}

var errBadKey = errs.Unauthenticated("missing, unknown or revoked API key; send Authorization: Bearer <key>")

// Authenticate returns the principal of secret.
func (a *Authenticator) Authenticate(ctx context.Context, secret string) (Principal, error) {
	if !strings.HasPrefix(secret, KeyPrefix) || len(secret) > 128 {
		return Principal{}, errBadKey
	}
	hash := HashKey(secret)
	now := a.now()
	a.mu.Lock()
	c, hit := a.cache[hash]
	a.mu.Unlock()
	if hit && now.Before(c.expires) {
		if !c.ok {
			return Principal{}, errBadKey
		}
		return c.p, nil
	}
	p, ok, err := a.lookup(ctx, hash)
	if err != nil {
		return Principal{}, err
	}
	a.mu.Lock()
	if len(a.cache) >= maxCached {
		clear(a.cache) // crude but bounded; refills from the database
	}
	a.cache[hash] = cached{p: p, ok: ok, expires: now.Add(a.ttl)}
	a.mu.Unlock()
	if !ok {
		return Principal{}, errBadKey
	}
	return p, nil
}

func (a *Authenticator) lookup(ctx context.Context, hash string) (Principal, bool, error) {
	k, err := a.keys.APIKeyByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, false, nil
	}
	if err != nil {
		return Principal{}, false, errs.Internal(err, "look up API key")
	}
	if k.RevokedAt != nil {
		return Principal{}, false, nil
	}
	p := Principal{TenantID: k.TenantID, KeyID: k.ID, SourceID: k.SourceID, Scope: k.Scope}
	if k.SourceID != nil {
		src, err := a.keys.GetSource(ctx, k.TenantID, *k.SourceID)
		if err != nil {
			return Principal{}, false, errs.Internal(err, "look up source of API key")
		}
		p.SourceType = src.Type
	}
	return p, true, nil
}

// Purge forgets every cached key, after a revocation.
func (a *Authenticator) Purge() {
	a.mu.Lock()
	clear(a.cache)
	a.mu.Unlock()
}
