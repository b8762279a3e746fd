// Package store defines what izin keeps and the interfaces of its storage.
// The records here are plain structs; the gorm implementation lives in
// store/sqlstore and serves both SQLite and PostgreSQL.
package store

import "errors"

var (
	// ErrNotFound is returned when a record does not exist for the tenant
	// that asked, so another tenant's records are indistinguishable from
	// missing ones.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict is returned when a unique key already exists.
	ErrConflict = errors.New("store: already exists")
	// ErrLastAdminKey refuses revoking a tenant's last live admin key,
	// which would lock the tenant out of its own administration.
	ErrLastAdminKey = errors.New("store: the tenant's last admin key")
)
