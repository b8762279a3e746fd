package sqlstore

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// While one migrator holds the SQLite migration lock another waits for it,
// here until its deadline; once released, the lock can be taken again.
func TestSQLiteLockerExcludes(t *testing.T) {
	ctx := context.Background()
	url := "sqlite:" + filepath.Join(t.TempDir(), "izin.db")
	newStore := func() (sqliteLocker, *Store) {
		s, err := Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return newSQLiteLocker(), s
	}
	lockOn := func(ctx context.Context, l sqliteLocker, s *Store) (unlock func(), err error) {
		pool, err := s.w.DB()
		if err != nil {
			t.Fatal(err)
		}
		c, err := pool.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.SessionLock(ctx, c); err != nil {
			_ = c.Close()
			return nil, err
		}
		return func() {
			if err := l.SessionUnlock(ctx, c); err != nil {
				t.Errorf("SessionUnlock: %v", err)
			}
			_ = c.Close()
		}, nil
	}
	l1, s1 := newStore()
	l2, s2 := newStore()
	unlock, err := lockOn(ctx, l1, s1)
	if err != nil {
		t.Fatalf("first SessionLock: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if u, err := lockOn(short, l2, s2); err == nil {
		u()
		t.Fatal("second SessionLock succeeded while the first holds the lock")
	} else if !errors.Is(short.Err(), context.DeadlineExceeded) {
		t.Errorf("second SessionLock failed before its deadline: %v", err)
	}
	unlock()
	u, err := lockOn(ctx, l2, s2)
	if err != nil {
		t.Fatalf("SessionLock after the release: %v", err)
	}
	u()
}
