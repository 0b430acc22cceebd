// Package db opens the SQLite database of DealerDesk: one writer connection whose
// transactions start with BEGIN IMMEDIATE, and a pool of read-only readers, both in
// WAL mode with foreign keys on and synchronous=FULL. It also runs the embedded,
// forward-only migrations and holds the settings-table helpers.
//
// Why one writer: with deferred transactions 8 goroutines doing read-then-write
// failed 2,328 of 2,400 times with SQLITE_BUSY on this kind of machine; with one
// writer connection and BEGIN IMMEDIATE none did (see shared/research/perf.md).
// Why FULL: acknowledged writes must survive a power cut, not only a crash; at about
// 2.7k commits/s it is far above what a store produces.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Querier is what store functions take, so they run inside or outside a transaction.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is the opened database: W is the single writer, R the reader pool.
type DB struct {
	W    *sql.DB
	R    *sql.DB
	Path string
}

// Options tune Open. The zero value is what production uses.
type Options struct {
	Readers int // size of the reader pool; default min(4, 2×CPUs)
}

func dsn(path string, extra url.Values) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "cache_size(-16000)")
	q.Add("_pragma", "temp_store(MEMORY)")
	for k, vs := range extra {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	return "file:" + filepath.ToSlash(path) + "?" + q.Encode()
}

// Open opens (creating if needed) the database file at path and checks that the
// pragmas it depends on took effect; it refuses to run without them.
func Open(ctx context.Context, path string, opt Options) (*DB, error) {
	w, err := sql.Open("sqlite", dsn(path, url.Values{"_txlock": {"immediate"}}))
	if err != nil {
		return nil, fmt.Errorf("db: open writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	n := opt.Readers
	if n <= 0 {
		n = min(4, 2*runtime.NumCPU())
	}
	r, err := sql.Open("sqlite", dsn(path, url.Values{"_pragma": {"query_only(1)"}}))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("db: open readers: %w", err)
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	d := &DB{W: w, R: r, Path: path}
	if err := d.checkPragmas(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close closes both pools.
func (d *DB) Close() error {
	return errors.Join(d.R.Close(), d.W.Close())
}

func (d *DB) checkPragmas(ctx context.Context) error {
	want := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"synchronous", "2"},
		{"busy_timeout", "5000"},
	}
	for _, pool := range []struct {
		name string
		db   *sql.DB
	}{{"writer", d.W}, {"reader", d.R}} {
		for _, p := range want {
			var got string
			if err := pool.db.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(&got); err != nil {
				return fmt.Errorf("db: read pragma %s: %w", p.pragma, err)
			}
			if strings.ToLower(got) != p.want {
				return fmt.Errorf("db: %s connection has %s=%s, need %s; refusing to run", pool.name, p.pragma, got, p.want)
			}
		}
	}
	if err := d.checkImmediate(ctx); err != nil {
		return err
	}
	return nil
}

// checkImmediate proves that a transaction on the writer takes the write lock at
// BEGIN: while one is open, a second connection cannot BEGIN IMMEDIATE.
func (d *DB) checkImmediate(ctx context.Context) error {
	probe, err := sql.Open("sqlite", "file:"+filepath.ToSlash(d.Path)+"?_pragma=busy_timeout(0)")
	if err != nil {
		return fmt.Errorf("db: open probe: %w", err)
	}
	defer probe.Close()
	tx, err := d.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin on writer: %w", err)
	}
	defer tx.Rollback()
	conn, err := probe.Conn(ctx)
	if err != nil {
		return fmt.Errorf("db: probe conn: %w", err)
	}
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	if err == nil {
		conn.ExecContext(ctx, "ROLLBACK")
		return errors.New("db: writer transactions are not BEGIN IMMEDIATE (_txlock=immediate had no effect); refusing to run")
	}
	if !IsBusy(err) {
		return fmt.Errorf("db: probe immediate: %w", err)
	}
	return nil
}

// IsBusy reports whether err is SQLITE_BUSY or SQLITE_LOCKED.
func IsBusy(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	return false
}

// IsUnique reports whether err is a UNIQUE or PRIMARY KEY constraint violation.
func IsUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// UniqueColumn returns "table.column" of a UNIQUE violation, or "".
func UniqueColumn(err error) string {
	if !IsUnique(err) {
		return ""
	}
	msg := err.Error()
	if i := strings.Index(msg, "UNIQUE constraint failed: "); i >= 0 {
		rest := msg[i+len("UNIQUE constraint failed: "):]
		// modernc appends the result code: "… failed: store.code (2067)"; a
		// composite key lists "t.a, t.b". Keep the first column.
		if j := strings.IndexAny(rest, ", ()"); j >= 0 {
			rest = rest[:j]
		}
		return strings.TrimSpace(rest)
	}
	return ""
}

// IsForeignKey reports whether err is a FOREIGN KEY constraint violation.
func IsForeignKey(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// IDs runs a query whose rows hold one integer each (the records a job works
// through) and returns them, with the rows closed, so the caller can then write
// each record in its own transaction.
func IDs(ctx context.Context, q Querier, query string, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// WriteTx runs fn in one write transaction on the writer (BEGIN IMMEDIATE). It
// commits when fn returns nil and rolls back otherwise.
func (d *DB) WriteTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	return nil
}
