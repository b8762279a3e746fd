package sqlstore

import "context"

// MigrateTo applies the migrations up to and including version last.
func (s *Store) MigrateTo(ctx context.Context, last int) ([]string, error) {
	return s.migrateTo(ctx, last)
}
