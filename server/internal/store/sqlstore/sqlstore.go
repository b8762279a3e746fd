// Package sqlstore implements store.Store with gorm on PostgreSQL and on an
// embedded, pure-Go SQLite database.
package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"
	sqlite3 "modernc.org/sqlite"

	"github.com/izinhq/izin/server/internal/store"
)

// Dialect names the database engine behind a Store.
type Dialect string

const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// Store is the gorm implementation of store.Store.
type Store struct {
	db      *gorm.DB // reads
	w       *gorm.DB // writes and transactions; the same pool on PostgreSQL
	pools   []*sql.DB
	dialect Dialect
	// onCommit is OnConsentCommit's function; nil until one is set.
	onCommit atomic.Pointer[func(tenantID string)]
}

var _ store.Store = (*Store)(nil)

// ParseURL tells the dialect and driver DSN of a database URL:
// postgres://… or postgresql://…, or sqlite:PATH.
func ParseURL(url string) (Dialect, string, error) {
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return Postgres, url, nil
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
		if path == "" {
			return "", "", errors.New("database url: sqlite: needs a file path, e.g. sqlite:data/izin.db")
		}
		return SQLite, path, nil
	default:
		return "", "", fmt.Errorf("database url %q: want postgres://… or sqlite:PATH", url)
	}
}

// Open connects to the database at url. It does not migrate; call Migrate.
func Open(ctx context.Context, url string) (*Store, error) {
	dialect, dsn, err := ParseURL(url)
	if err != nil {
		return nil, err
	}
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true, // single statements need no wrapping transaction
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	s := &Store{dialect: dialect}
	switch dialect {
	case Postgres:
		s.db, err = openPostgres(dsn, cfg)
		s.w = s.db
	case SQLite:
		s.db, s.w, err = openSQLite(dsn, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	for _, g := range []*gorm.DB{s.db, s.w} {
		p, err := g.DB()
		if err != nil {
			return nil, err
		}
		if len(s.pools) == 0 || s.pools[0] != p {
			s.pools = append(s.pools, p)
		}
	}
	if dialect == Postgres {
		s.pools[0].SetMaxOpenConns(32)
		s.pools[0].SetMaxIdleConns(32)
		s.pools[0].SetConnMaxIdleTime(5 * time.Minute)
	}
	for _, p := range s.pools {
		if err := p.PingContext(ctx); err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("connect to %s database: %w", dialect, err)
		}
	}
	return s, nil
}

func openPostgres(dsn string, cfg *gorm.Config) (*gorm.DB, error) {
	connCfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	// pgx returns timestamptz values in time.Local; the store's times are
	// UTC on both engines. (Our own pool rather than postgres.Open, whose
	// handling of a timezone= URL parameter would replace this hook.)
	sqlDB := stdlib.OpenDB(*connCfg, stdlib.OptionAfterConnect(func(_ context.Context, conn *pgx.Conn) error {
		conn.TypeMap().RegisterType(&pgtype.Type{
			Name:  "timestamptz",
			OID:   pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		return nil
	}))
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), cfg)
	if err != nil {
		_ = sqlDB.Close()
	}
	return db, err
}

// openSQLite opens two pools on one file: readers, and a single writer
// connection. SQLite allows one writer at a time; queueing writers on Go's
// pool instead of on SQLite's busy timeout means a transaction never waits
// behind writers that hold every pooled connection, and WAL lets checks read
// while a write is in progress.
func openSQLite(path string, cfg *gorm.Config) (read, write *gorm.DB, err error) {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, nil, err
		}
	}
	// synchronous(FULL) fsyncs every commit: a recorded consent or
	// rejection survives a power cut, not only a crash of the process.
	// Times are stored and compared as text, so they must all be written in
	// one zone: _timezone=UTC converts them on the way in and out. IMMEDIATE
	// transactions take the write lock up front rather than failing half-way
	// when another process writes the same file.
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_txlock=immediate" +
		"&_time_format=sqlite&_timezone=UTC"
	open := func(conns int) (*gorm.DB, error) {
		sqlDB, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, err
		}
		sqlDB.SetMaxOpenConns(conns)
		sqlDB.SetMaxIdleConns(conns)
		db, err := gorm.Open(sqlite.Dialector{DriverName: "sqlite", Conn: sqlDB}, cfg)
		if err != nil {
			_ = sqlDB.Close()
		}
		return db, err
	}
	// The writer opens first so that WAL mode is set before readers attach.
	if write, err = open(1); err != nil {
		return nil, nil, err
	}
	if read, err = open(4); err != nil {
		if p, e := write.DB(); e == nil {
			_ = p.Close()
		}
		return nil, nil, err
	}
	return read, write, nil
}

// Dialect tells which engine the store runs on.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB exposes the gorm handle (the writer) for tests and maintenance.
func (s *Store) DB() *gorm.DB { return s.w }

// Close closes the connection pools.
func (s *Store) Close() error {
	var err error
	for _, p := range s.pools {
		err = errors.Join(err, p.Close())
	}
	return err
}

// translate maps driver errors to the store's sentinel errors.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return fmt.Errorf("%w: %s", store.ErrConflict, pgErr.ConstraintName)
	}
	var sqErr *sqlite3.Error
	if errors.As(err, &sqErr) {
		// SQLITE_CONSTRAINT_PRIMARYKEY (1555) and SQLITE_CONSTRAINT_UNIQUE (2067).
		if c := sqErr.Code(); c == 1555 || c == 2067 {
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		}
	}
	return err
}

func first[T any](db *gorm.DB, out *T) (*T, error) {
	if err := db.Take(out).Error; err != nil {
		return nil, translate(err)
	}
	return out, nil
}

// InTx runs fn in one transaction.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	var chains []string
	err := translate(s.w.WithContext(ctx).Transaction(func(g *gorm.DB) error {
		tx := &txStore{db: g, dialect: s.dialect}
		err := fn(g.Statement.Context, tx)
		chains = tx.chains
		return err
	}))
	if err == nil {
		s.consentCommitted(chains)
	}
	return err
}

// --- tenancy ---

func (s *Store) CreateTenant(ctx context.Context, t *store.Tenant, b *store.Brand) error {
	return translate(s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(t).Error; err != nil {
			return err
		}
		if err := tx.Create(b).Error; err != nil {
			return err
		}
		return tx.Create(&store.ChainHead{TenantID: t.ID}).Error
	}))
}

func (s *Store) GetTenant(ctx context.Context, id string) (*store.Tenant, error) {
	return first(s.db.WithContext(ctx).Where("id = ?", id), &store.Tenant{})
}

func (s *Store) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	var out []store.Tenant
	return out, translate(s.db.WithContext(ctx).Order("created_at, id").Find(&out).Error)
}

func (s *Store) CreateBrand(ctx context.Context, b *store.Brand) error {
	return translate(s.w.WithContext(ctx).Create(b).Error)
}

func (s *Store) ListBrands(ctx context.Context, tenantID string) ([]store.Brand, error) {
	var out []store.Brand
	return out, translate(s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Order("code").Find(&out).Error)
}

func (s *Store) CreateSource(ctx context.Context, src *store.Source, k *store.APIKey) error {
	return translate(s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(src).Error; err != nil {
			return err
		}
		if k == nil {
			return nil
		}
		return tx.Create(k).Error
	}))
}

func (s *Store) GetSource(ctx context.Context, tenantID, id string) (*store.Source, error) {
	return first(s.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id), &store.Source{})
}

func (s *Store) ListSources(ctx context.Context, tenantID string) ([]store.Source, error) {
	var out []store.Source
	return out, translate(s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Order("created_at, id").Find(&out).Error)
}

func (s *Store) CreateAPIKey(ctx context.Context, k *store.APIKey) error {
	return translate(s.w.WithContext(ctx).Create(k).Error)
}

func (s *Store) APIKeyByHash(ctx context.Context, hash string) (*store.APIKey, error) {
	return first(s.db.WithContext(ctx).Where("hash = ?", hash), &store.APIKey{})
}

func (s *Store) ListAPIKeys(ctx context.Context, tenantID string) ([]store.APIKey, error) {
	var out []store.APIKey
	return out, translate(s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Order("created_at, id").Find(&out).Error)
}

func (s *Store) RevokeAPIKey(ctx context.Context, tenantID, id string, at time.Time) (*store.APIKey, error) {
	var out *store.APIKey
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		k, err := first(tx.Where("tenant_id = ? AND id = ?", tenantID, id), &store.APIKey{})
		if err != nil {
			return err
		}
		if k.RevokedAt == nil && k.Scope == store.ScopeAdmin {
			// The tenant's live admin keys, locked so that two revokes of
			// the last two cannot both pass (SQLite has one writer).
			q := tx.Model(&store.APIKey{}).Where("tenant_id = ? AND scope = ? AND revoked_at IS NULL", tenantID, store.ScopeAdmin)
			if s.dialect == Postgres {
				q = q.Clauses(clause.Locking{Strength: "UPDATE"})
			}
			var live []string
			if err := q.Pluck("id", &live).Error; err != nil {
				return err
			}
			if len(live) < 2 {
				return store.ErrLastAdminKey
			}
		}
		if k.RevokedAt == nil {
			at = at.UTC()
			k.RevokedAt = &at
			if err := tx.Model(k).Update("revoked_at", at).Error; err != nil {
				return err
			}
		}
		out = k
		return nil
	})
	return out, translate(err)
}

// --- consent ---

func (s *Store) ConsentStates(ctx context.Context, tenantID, brandID, recipient string, rtype store.RecipientType) ([]store.ConsentState, error) {
	return consentStates(s.db.WithContext(ctx), tenantID, brandID, recipient, rtype)
}

func consentStates(db *gorm.DB, tenantID, brandID, recipient string, rtype store.RecipientType) ([]store.ConsentState, error) {
	var out []store.ConsentState
	err := db.Where("tenant_id = ? AND brand_id = ? AND recipient = ? AND recipient_type = ?",
		tenantID, brandID, recipient, rtype).Find(&out).Error
	return out, translate(err)
}

func (s *Store) ListConsentEvents(ctx context.Context, f store.EventFilter) ([]store.ConsentEvent, error) {
	q := s.db.WithContext(ctx).Where("tenant_id = ?", f.TenantID)
	if f.Recipient != "" {
		q = q.Where("recipient = ?", f.Recipient)
	}
	if f.BrandID != "" {
		q = q.Where("brand_id = ?", f.BrandID)
	}
	if f.BeforeSeq > 0 {
		q = q.Where("seq < ?", f.BeforeSeq)
	}
	var out []store.ConsentEvent
	return out, translate(q.Order("seq DESC").Limit(f.Limit).Find(&out).Error)
}

// --- verifications ---

func (s *Store) GetVerification(ctx context.Context, tenantID, id string) (*store.Verification, error) {
	return first(s.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id), &store.Verification{})
}

// --- messages ---

func (s *Store) ListMessages(ctx context.Context, f store.MessageFilter) ([]store.Message, error) {
	q := s.db.WithContext(ctx).Where("tenant_id = ?", f.TenantID)
	if f.Recipient != "" {
		q = q.Where("recipient = ?", f.Recipient)
	}
	if f.BeforeID != "" {
		q = q.Where("id < ?", f.BeforeID)
	}
	var out []store.Message
	return out, translate(q.Order("id DESC").Limit(f.Limit).Find(&out).Error)
}

func (s *Store) MessagesOfVerification(ctx context.Context, tenantID, verificationID string) ([]store.Message, error) {
	return messagesOfVerification(s.db.WithContext(ctx), tenantID, verificationID)
}

func messagesOfVerification(db *gorm.DB, tenantID, verificationID string) ([]store.Message, error) {
	var out []store.Message
	err := db.Where("tenant_id = ? AND verification_id = ?", tenantID, verificationID).Order("id").Find(&out).Error
	return out, translate(err)
}

func countSends(db *gorm.DB, c store.SendCount) (int64, error) {
	q := db.Model(&store.Message{}).Where("tenant_id = ? AND created_at >= ?", c.TenantID, c.Since.UTC())
	switch {
	case c.Recipient != "":
		q = q.Where("recipient = ?", c.Recipient)
	case c.Prefix != "":
		q = q.Where("recipient_prefix = ?", c.Prefix)
	}
	var n int64
	return n, translate(q.Count(&n).Error)
}

func (s *Store) ClaimMessages(ctx context.Context, now, leaseUntil time.Time, limit int) ([]store.Message, error) {
	if due, err := s.anyDue(ctx, "messages", queuedMessages+" AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)",
		now.UTC(), now.UTC()); !due {
		return nil, err
	}
	var out []store.Message
	// One statement, as ClaimIYSUploads (see claimUpdate there).
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		sub := s.claimMessagesQuery(tx.Session(&gorm.Session{NewDB: true}), now, limit).Select("id")
		ids := "id IN (?)"
		if s.dialect == Postgres {
			ids = "id = ANY(ARRAY(?))"
		}
		return tx.Raw("UPDATE messages SET lease_until = ?, attempts = attempts + 1 WHERE "+ids+" RETURNING *", leaseUntil.UTC(), sub).
			Scan(&out).Error
	})
	slices.SortFunc(out, func(a, b store.Message) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	return out, translate(err)
}

// anyDue tells, with a read, whether a claim would find a row, so that an
// idle poll takes no write lock: on SQLite one writer holds the database,
// and a worker's empty claim every second would queue behind (and hold up)
// every real write.
func (s *Store) anyDue(ctx context.Context, table, where string, args ...any) (bool, error) {
	var ids []string
	if err := s.db.WithContext(ctx).Table(table).Where(where, args...).Limit(1).Pluck("id", &ids).Error; err != nil {
		return false, translate(err)
	}
	return len(ids) > 0, nil
}

// queuedMessages is messages_due's predicate, written into the SQL so that
// SQLite uses the partial index (it does not for a bound parameter).
var queuedMessages = fmt.Sprintf("status = %d", store.MessageQueued)

// claimMessagesQuery selects due queued messages, oldest due first: a range
// of messages_due, whatever the number of messages sent before.
func (s *Store) claimMessagesQuery(tx *gorm.DB, now time.Time, limit int) *gorm.DB {
	q := tx.Model(&store.Message{}).
		Where(queuedMessages+" AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)", now.UTC(), now.UTC()).
		Order("next_attempt_at").Limit(limit)
	if s.dialect == Postgres {
		// Replicas claim disjoint batches. SQLite needs no clause: its
		// IMMEDIATE transaction already excludes other writers.
		q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
	}
	return q
}

// FinishMessage announces a message that failed for good (message.failed)
// in the transaction that records it. A delivery report can come before
// the worker records its send (the provider is quick, or pushes to another
// replica): the report's status is then kept, and only what the send
// learnt (the provider's id, the time) is added.
func (s *Store) FinishMessage(ctx context.Context, m *store.Message) error {
	return translate(s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&store.Message{}).Where("id = ? AND status = ?", m.ID, store.MessageQueued).Updates(map[string]any{
			"status":              m.Status,
			"provider_message_id": m.ProviderMessageID,
			"body":                m.Body,
			"next_attempt_at":     m.NextAttemptAt.UTC(),
			"lease_until":         nil,
			"last_error":          m.LastError,
			"sent_at":             m.SentAt,
			"provider":            m.Provider,
			"attempts":            m.Attempts,
			"outcome_unknown":     m.OutcomeUnknown,
			"first_attempt_at":    m.FirstAttemptAt,
			"report_due_at":       m.ReportDueAt,
			"status_code":         m.StatusCode,
			"status_at":           m.StatusAt,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return tx.Model(&store.Message{}).Where("id = ?", m.ID).Updates(map[string]any{
				"provider_message_id": gorm.Expr("CASE WHEN provider_message_id = '' THEN ? ELSE provider_message_id END", m.ProviderMessageID),
				"body":                m.Body,
				"lease_until":         nil,
				"sent_at":             m.SentAt,
				"provider":            m.Provider,
				"outcome_unknown":     false,
				"first_attempt_at":    m.FirstAttemptAt,
			}).Error
		}
		if m.Status != store.MessageFailed {
			return nil
		}
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		return tx.Create(&store.Notification{ID: id.String(), TenantID: m.TenantID, Type: store.NotifyMessageFailed,
			RefID: m.ID, CreatedAt: time.Now().UTC()}).Error
	}))
}

// --- idempotency ---

func (s *Store) GetIdempotency(ctx context.Context, tenantID, op, key string) (*store.Idempotency, error) {
	return first(s.db.WithContext(ctx).Where("tenant_id = ? AND operation = ? AND key = ?", tenantID, op, key), &store.Idempotency{})
}

// txStore is store.Tx over one gorm transaction.
type txStore struct {
	db      *gorm.DB
	dialect Dialect
	// chains are the tenants whose events the transaction appended, told
	// to OnConsentCommit's function after the commit.
	chains []string
}

func (t *txStore) LockChain(ctx context.Context, tenantID string) (store.ChainHead, error) {
	var h store.ChainHead
	// SQLite ignores the locking clause; its IMMEDIATE transaction already
	// holds the database's write lock.
	err := t.db.WithContext(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).
		Where("tenant_id = ?", tenantID).Take(&h).Error
	return h, translate(err)
}

func (t *txStore) SetChainHead(ctx context.Context, h store.ChainHead) error {
	return translate(t.db.WithContext(ctx).Model(&store.ChainHead{}).Where("tenant_id = ?", h.TenantID).
		Updates(map[string]any{"seq": h.Seq, "hash": h.Hash}).Error)
}

func (t *txStore) ConsentStates(ctx context.Context, tenantID, brandID, recipient string, rtype store.RecipientType) ([]store.ConsentState, error) {
	return consentStates(t.db.WithContext(ctx), tenantID, brandID, recipient, rtype)
}

// consentStateKey and consentStateColumns are consent_states' primary key
// and the columns a put replaces. The columns are named: UpdateAll would set
// updated_at to the wall clock instead of the time the caller gave.
var (
	consentStateKey     = []clause.Column{{Name: "tenant_id"}, {Name: "brand_id"}, {Name: "recipient"}, {Name: "recipient_type"}, {Name: "type"}}
	consentStateColumns = []string{"status", "consent_time", "source_id", "iys_source", "event_id", "kvkk", "updated_at"}
)

func (t *txStore) InsertConsentEvents(ctx context.Context, events []*store.ConsentEvent) error {
	for _, e := range events {
		if !slices.Contains(t.chains, e.TenantID) {
			t.chains = append(t.chains, e.TenantID)
		}
	}
	// Chunked: a bulk writer may append more events than one statement
	// can bind.
	return createChunked(t.db.WithContext(ctx), events)
}

func (t *txStore) InsertVerification(ctx context.Context, v *store.Verification) error {
	return translate(t.db.WithContext(ctx).Create(v).Error)
}

func (t *txStore) LockVerification(ctx context.Context, tenantID, id string) (*store.Verification, error) {
	return first(t.db.WithContext(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).
		Where("tenant_id = ? AND id = ?", tenantID, id), &store.Verification{})
}

func (t *txStore) UpdateVerification(ctx context.Context, v *store.Verification) error {
	// Not Save: it would insert a verification that does not exist, match
	// by id alone across tenants, and overwrite updated_at with the wall
	// clock. SkipHooks keeps the caller's UpdatedAt; Select("*") writes
	// zero values too.
	res := t.db.WithContext(ctx).Session(&gorm.Session{SkipHooks: true}).
		Model(v).Where("tenant_id = ?", v.TenantID).Select("*").Updates(v)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%w: verification %s", store.ErrNotFound, v.ID)
	}
	return nil
}

func (t *txStore) MessagesOfVerification(ctx context.Context, tenantID, verificationID string) ([]store.Message, error) {
	return messagesOfVerification(t.db.WithContext(ctx), tenantID, verificationID)
}

func (t *txStore) InsertMessage(ctx context.Context, m *store.Message) error {
	return translate(t.db.WithContext(ctx).Create(m).Error)
}

func (t *txStore) PutIdempotency(ctx context.Context, rec *store.Idempotency) error {
	return translate(t.db.WithContext(ctx).Create(rec).Error)
}
