package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/izinhq/izin/server/internal/store"
)

// --- consent texts ---

func (s *Store) CreateConsentText(ctx context.Context, t *store.ConsentText) error {
	return translate(s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var last struct{ V int }
		err := tx.Model(&store.ConsentText{}).Select("COALESCE(MAX(version), 0) AS v").
			Where("tenant_id = ? AND brand_id = ? AND kind = ? AND language = ?", t.TenantID, t.BrandID, t.Kind, t.Language).
			Scan(&last).Error
		if err != nil {
			return err
		}
		t.Version = last.V + 1
		// The unique key turns a concurrent publisher of the same version
		// into ErrConflict instead of a second "version n".
		return tx.Create(t).Error
	}))
}

func (s *Store) ListConsentTexts(ctx context.Context, f store.ConsentTextFilter) ([]store.ConsentText, error) {
	q := s.db.WithContext(ctx).Where("tenant_id = ?", f.TenantID)
	if f.BrandID != "" {
		q = q.Where("brand_id = ?", f.BrandID)
	}
	var all []store.ConsentText
	if err := q.Order("brand_id, kind, language, version DESC").Find(&all).Error; err != nil {
		return nil, translate(err)
	}
	if f.AllVersions {
		return all, nil
	}
	// Newest first within each brand, kind and language, so the first row of
	// each group is the current version. A brand has a handful of texts.
	out := all[:0]
	type key struct {
		brand    string
		kind     store.TextKind
		language string
	}
	seen := map[key]bool{}
	for _, t := range all {
		k := key{t.BrandID, t.Kind, t.Language}
		if !seen[k] {
			seen[k] = true
			out = append(out, t)
		}
	}
	return out, nil
}

func (s *Store) ConsentTexts(ctx context.Context, tenantID string, ids []string) ([]store.ConsentText, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []store.ConsentText
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND id IN ?", tenantID, ids).
		Order("kind, language, version").Find(&out).Error
	return out, translate(err)
}

// --- consent page and rejection links ---

func (s *Store) VerificationByLandingToken(ctx context.Context, tokenHash string) (*store.Verification, error) {
	if tokenHash == "" {
		return nil, fmt.Errorf("%w: empty token", store.ErrNotFound)
	}
	return first(s.db.WithContext(ctx).Where("landing_token_hash = ?", tokenHash), &store.Verification{})
}

func (s *Store) RejectLinkByToken(ctx context.Context, tokenHash string) (*store.RejectLink, error) {
	return first(s.db.WithContext(ctx).Where("token_hash = ?", tokenHash), &store.RejectLink{})
}

func (t *txStore) LockLandingVerification(ctx context.Context, tokenHash string) (*store.Verification, error) {
	if tokenHash == "" {
		return nil, fmt.Errorf("%w: empty token", store.ErrNotFound)
	}
	return first(t.db.WithContext(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).
		Where("landing_token_hash = ?", tokenHash), &store.Verification{})
}

func (t *txStore) InsertRejectLink(ctx context.Context, l *store.RejectLink) error {
	return translate(t.db.WithContext(ctx).Create(l).Error)
}

func (t *txStore) MarkRejectLinkUsed(ctx context.Context, tokenHash string, at time.Time) error {
	return translate(t.db.WithContext(ctx).Model(&store.RejectLink{}).
		Where("token_hash = ? AND used_at IS NULL", tokenHash).Update("used_at", at).Error)
}
