// Package audit is the append-only, hash-chained audit log (DOMAIN.md P1): who,
// when, from where and what — entity, id, before → after — for every write,
// sign-in, failed sign-in, export and unmasking of personal data.
//
// Invariants:
//   - Rows are written in the same transaction as the change they describe, so a
//     change without its audit row (or the reverse) cannot be committed.
//   - Rows are never updated or deleted by the app (triggers refuse it).
//   - Each row's hash covers its content and the previous row's hash; Verify
//     recomputes the chain and names the first row that does not match.
//
// The chain is linear because every write goes through the single writer
// connection: reading the last hash and inserting happen in one transaction.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"dealerdesk/app/db"
)

// Who is the actor part of an audit row.
type Who struct {
	UserID    int64
	UserName  string
	APIKeyID  int64
	IP        string
	RequestID string
	StoreID   int64
}

// Entry is one audit row to write.
type Entry struct {
	Who      Who
	At       int64 // unix ms
	Action   string
	Entity   string
	EntityID string
	StoreID  int64 // the store the record belongs to (defaults to Who.StoreID)
	Before   any   // nil, or a value marshalled to JSON
	After    any
	Result   string // "ok" by default; "denied", "failed"
}

// Row is a stored audit row.
type Row struct {
	ID        int64           `json:"id"`
	At        int64           `json:"at"`
	UserID    *int64          `json:"userId"`
	UserName  string          `json:"userName"`
	APIKeyID  *int64          `json:"apiKeyId,omitempty"`
	IP        string          `json:"ip"`
	Action    string          `json:"action"`
	Entity    string          `json:"entity"`
	EntityID  string          `json:"entityId"`
	StoreID   *int64          `json:"storeId"`
	Before    json.RawMessage `json:"before"`
	After     json.RawMessage `json:"after"`
	Result    string          `json:"result"`
	RequestID string          `json:"requestId"`
	PrevHash  string          `json:"-"`
	Hash      string          `json:"-"`
}

const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

func nullID(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

func marshal(v any) (sql.NullString, error) {
	if v == nil {
		return sql.NullString{}, nil
	}
	if r, ok := v.(json.RawMessage); ok {
		return sql.NullString{String: string(r), Valid: len(r) > 0}, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return sql.NullString{}, err
	}
	if string(b) == "null" {
		return sql.NullString{}, nil
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// Write appends an entry inside the caller's write transaction q.
func Write(ctx context.Context, q db.Querier, e Entry) error {
	if e.Result == "" {
		e.Result = "ok"
	}
	if e.StoreID == 0 {
		e.StoreID = e.Who.StoreID
	}
	before, err := marshal(e.Before)
	if err != nil {
		return fmt.Errorf("audit: encode before: %w", err)
	}
	after, err := marshal(e.After)
	if err != nil {
		return fmt.Errorf("audit: encode after: %w", err)
	}
	var prev string
	var lastID, lastAt int64
	err = q.QueryRowContext(ctx, `SELECT id, hash, at FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&lastID, &prev, &lastAt)
	if errors.Is(err, sql.ErrNoRows) {
		prev = genesis
	} else if err != nil {
		return fmt.Errorf("audit: read chain head: %w", err)
	}
	// Times never go backwards along the chain (a service may read the clock just
	// before waiting for the writer), so a time range is an id range for queries.
	e.At = max(e.At, lastAt)
	r := Row{ID: lastID + 1, At: e.At, UserName: e.Who.UserName, IP: e.Who.IP, Action: e.Action, Entity: e.Entity,
		EntityID: e.EntityID, Result: e.Result, RequestID: e.Who.RequestID, PrevHash: prev}
	if e.Who.UserID != 0 {
		r.UserID = &e.Who.UserID
	}
	if e.Who.APIKeyID != 0 {
		r.APIKeyID = &e.Who.APIKeyID
	}
	if e.StoreID != 0 {
		r.StoreID = &e.StoreID
	}
	if before.Valid {
		r.Before = json.RawMessage(before.String)
	}
	if after.Valid {
		r.After = json.RawMessage(after.String)
	}
	// The id is part of the hashed content; it is taken as last id + 1, which is safe
	// because this runs inside a write transaction on the single writer.
	_, err = q.ExecContext(ctx, `INSERT INTO audit_log(id, at, user_id, user_name, api_key_id, ip, action, entity, entity_id, store_id, before_json, after_json, result, request_id, prev_hash, hash)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		r.ID, e.At, nullID(e.Who.UserID), e.Who.UserName, nullID(e.Who.APIKeyID), e.Who.IP, e.Action, e.Entity, e.EntityID,
		nullID(e.StoreID), before, after, e.Result, e.Who.RequestID, prev, r.computeHash())
	if err != nil {
		return fmt.Errorf("audit: insert: %w", err)
	}
	return nil
}

// computeHash is SHA-256 over the previous hash and the row's fields, each
// length-prefixed so no two different rows encode the same.
func (r Row) computeHash() string {
	var b strings.Builder
	field := func(s string) {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
		b.WriteByte('|')
	}
	ptr := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	field(r.PrevHash)
	field(strconv.FormatInt(r.ID, 10))
	field(strconv.FormatInt(r.At, 10))
	field(ptr(r.UserID))
	field(r.UserName)
	field(ptr(r.APIKeyID))
	field(r.IP)
	field(r.Action)
	field(r.Entity)
	field(r.EntityID)
	field(ptr(r.StoreID))
	field(string(r.Before))
	field(string(r.After))
	field(r.Result)
	field(r.RequestID)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// Columns are the audit_log columns in the order Scan reads them.
const Columns = `id, at, user_id, user_name, api_key_id, ip, action, entity, entity_id, store_id, before_json, after_json, result, request_id, prev_hash, hash`

// Scan reads one row selected with Columns.
func Scan(sc interface{ Scan(...any) error }) (Row, error) {
	var r Row
	var uid, kid, sid sql.NullInt64
	var before, after sql.NullString
	if err := sc.Scan(&r.ID, &r.At, &uid, &r.UserName, &kid, &r.IP, &r.Action, &r.Entity, &r.EntityID, &sid,
		&before, &after, &r.Result, &r.RequestID, &r.PrevHash, &r.Hash); err != nil {
		return r, err
	}
	if uid.Valid {
		r.UserID = &uid.Int64
	}
	if kid.Valid {
		r.APIKeyID = &kid.Int64
	}
	if sid.Valid {
		r.StoreID = &sid.Int64
	}
	if before.Valid {
		r.Before = json.RawMessage(before.String)
	}
	if after.Valid {
		r.After = json.RawMessage(after.String)
	}
	return r, nil
}

// VerifyResult is the outcome of a chain check.
type VerifyResult struct {
	OK       bool   `json:"ok"`
	Checked  int64  `json:"checked"`
	BrokenAt int64  `json:"brokenAt,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// Verify recomputes the whole hash chain in id order.
func Verify(ctx context.Context, q db.Querier) (VerifyResult, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+Columns+` FROM audit_log ORDER BY id`)
	if err != nil {
		return VerifyResult{}, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()
	prev := genesis
	var n int64
	var lastID int64
	for rows.Next() {
		r, err := Scan(rows)
		if err != nil {
			return VerifyResult{}, fmt.Errorf("audit: verify scan: %w", err)
		}
		n++
		if lastID != 0 && r.ID != lastID+1 {
			return VerifyResult{Checked: n, BrokenAt: lastID + 1, Reason: "missing"}, nil
		}
		lastID = r.ID
		if r.PrevHash != prev {
			return VerifyResult{Checked: n, BrokenAt: r.ID, Reason: "chain"}, nil
		}
		if r.computeHash() != r.Hash {
			return VerifyResult{Checked: n, BrokenAt: r.ID, Reason: "content"}, nil
		}
		prev = r.Hash
	}
	if err := rows.Err(); err != nil {
		return VerifyResult{}, fmt.Errorf("audit: verify: %w", err)
	}
	return VerifyResult{OK: true, Checked: n}, nil
}
