package crm

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	sq "github.com/Masterminds/squirrel"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
)

// ListFilter selects customers for the list page (every field has its index).
type ListFilter struct {
	StoreID     int64    `json:"storeId"`
	Grades      []string `json:"grades"`
	Stages      []string `json:"stages"`
	Status      string   `json:"status"` // active (default) | lost | dormant | all
	OwnerID     int64    `json:"ownerId"`
	Pool        bool     `json:"pool"` // only unowned (the shared pool)
	Channels    []string `json:"channels"`
	SeriesID    int64    `json:"seriesId"`
	CreatedFrom int64    `json:"createdFrom"`
	CreatedTo   int64    `json:"createdTo"`
	Overdue     bool     `json:"overdue"`
	Tag         string   `json:"tag"`
	Q           string   `json:"q"`    // name prefix, or ≥3 digits: phone suffix
	Sort        string   `json:"sort"` // created (newest first, default) | next (next follow-up) | updated | name
	Cursor      string   `json:"cursor"`
	Limit       int      `json:"limit"`
	Count       bool     `json:"count"` // also count (capped)
}

// CustomerList is a page of customers; Total is counted only on request and
// capped (TotalCapped: "10,000+") — an unbounded COUNT(*) is what makes peers slow.
type CustomerList struct {
	Items       []Customer `json:"items"`
	Next        string     `json:"next"`
	Total       *int       `json:"total,omitempty"`
	TotalCapped bool       `json:"totalCapped,omitempty"`
}

// countCap is the most the list counts exactly.
const countCap = 10000

var sorts = map[string]struct {
	col  string
	desc bool
}{
	"created": {"c.created_at", true},
	"updated": {"c.updated_at", true},
	"next":    {"c.next_followup_at", false},
	"name":    {"c.name", false},
}

// Validate checks the filter's values.
func (f *ListFilter) Validate() error {
	e := apperr.Fields{}
	for _, g := range f.Grades {
		if len(g) > 2 {
			e.Add("grades", "invalid_format")
		}
	}
	for _, st := range f.Stages {
		if !oneOf(st, Stages) {
			e.Add("stages", "invalid_format")
		}
	}
	for _, c := range f.Channels {
		if !oneOf(c, Channels) {
			e.Add("channels", "crm.channel_unknown")
		}
	}
	if f.Status == "" {
		f.Status = "active"
	}
	if !oneOf(f.Status, []string{"active", "lost", "dormant", "all"}) {
		e.Add("status", "invalid_format")
	}
	if f.Sort == "" {
		f.Sort = "created"
	}
	if _, ok := sorts[f.Sort]; !ok {
		e.Add("sort", "invalid_format")
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 200 {
		e.Add("limit", "out_of_range", "min", 1, "max", 200)
	}
	f.Q = strings.TrimSpace(f.Q)
	f.Tag = strings.TrimSpace(f.Tag)
	if len([]rune(f.Q)) > 50 {
		e.Add("q", "too_long", "max", 50)
	}
	return e.Err()
}

func digitsOnly(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
		default:
			return "", false
		}
	}
	return b.String(), b.Len() > 0
}

// where builds the filter conditions (scope first).
func (f ListFilter) where(scope sq.Sqlizer, now int64) sq.And {
	w := sq.And{scope}
	if f.Status == "all" {
		w = append(w, sq.NotEq{"c.status": "merged"})
	} else {
		// One status implies "not merged"; saying so too lets the partial
		// indexes (WHERE status <> 'merged') serve it: SQLite matches a partial
		// index's condition only against terms written in the query.
		w = append(w, sq.Eq{"c.status": f.Status}, sq.NotEq{"c.status": "merged"})
	}
	if f.StoreID != 0 {
		w = append(w, sq.Eq{"c.store_id": f.StoreID})
	}
	if len(f.Grades) > 0 {
		w = append(w, sq.Eq{"c.grade": f.Grades})
	}
	if len(f.Stages) > 0 {
		w = append(w, sq.Eq{"c.stage": f.Stages})
	}
	if len(f.Channels) > 0 {
		w = append(w, sq.Eq{"c.channel": f.Channels})
	}
	if f.OwnerID != 0 {
		w = append(w, sq.Eq{"c.owner_id": f.OwnerID})
	}
	if f.Pool {
		w = append(w, sq.Expr("c.owner_id IS NULL"))
	}
	if f.SeriesID != 0 {
		w = append(w, sq.Eq{"c.series_id": f.SeriesID})
	}
	if f.CreatedFrom != 0 {
		w = append(w, sq.GtOrEq{"c.created_at": f.CreatedFrom})
	}
	if f.CreatedTo != 0 {
		w = append(w, sq.Lt{"c.created_at": f.CreatedTo})
	}
	if f.Overdue {
		w = append(w, sq.Lt{"c.sla_due_at": now}, sq.Eq{"c.status": "active"})
	}
	if f.Tag != "" {
		// A probe of the tag's primary key per customer the list walks, instead
		// of collecting every customer with the tag group-wide first.
		w = append(w, sq.Expr("EXISTS (SELECT 1 FROM customer_tag t WHERE t.customer_id = c.id AND t.tag = ?)", f.Tag))
	}
	if _, phone := f.phoneSuffix(); f.Q != "" && !phone {
		if utf8.RuneCountInString(f.Q) == 1 {
			// One character is mostly a surname, and common ones match 5–8% of
			// customers: the list's own order finds a page soonest. The unary +
			// keeps SQLite from reading every such customer through a name
			// index and sorting them.
			w = append(w, sq.Expr("+c.name >= ? AND +c.name < ?", f.Q, f.Q+string(unicode.MaxRune)))
		} else {
			// A name: few customers match, a name index finds them all.
			w = append(w, sq.Expr("c.name >= ? AND c.name < ?", f.Q, f.Q+string(unicode.MaxRune)))
		}
	}
	return w
}

// phoneSuffix returns the reversed digits of a q of 3 or more digits (a phone
// suffix, "the last 4 digits"), for a range on customer_phone.phone_rev.
func (f ListFilter) phoneSuffix() (string, bool) {
	if d, ok := digitsOnly(f.Q); ok && len(d) >= 3 {
		return reverse(d), true
	}
	return "", false
}

// from is the list's FROM: the customer and the names it shows. A phone suffix
// matches about 100 customers group-wide for 4 digits (1,000 for 3): the query
// starts from them (CROSS JOIN keeps that loop outermost) and sorts them, rather
// than walking the scope's index and testing every customer against the phones.
func (f ListFilter) from(q sq.SelectBuilder) sq.SelectBuilder {
	joins := strings.TrimPrefix(customerFrom, " FROM customer c")
	rev, ok := f.phoneSuffix()
	if !ok {
		return q.From("customer c" + joins)
	}
	ph := sq.Select("DISTINCT customer_id").From("customer_phone").Where("phone_rev >= ? AND phone_rev < ?", rev, rev+";")
	return q.FromSelect(ph, "ph").JoinClause("CROSS JOIN customer c ON c.id = ph.customer_id" + joins)
}

// ListCustomers returns a page of the customers the actor may read.
func (s *Service) ListCustomers(ctx context.Context, a auth.Actor, f ListFilter) (CustomerList, error) {
	if err := auth.Require(a, auth.PermCustomerRead); err != nil {
		return CustomerList{Items: []Customer{}}, err
	}
	return s.list(ctx, f, scopeOf(a))
}

// scopeOf is the actor's data scope on the customer table.
func scopeOf(a auth.Actor) sq.Sqlizer {
	return auth.Filter(a, auth.PermCustomerRead, auth.Columns{Store: "c.store_id", Owner: "c.owner_id", Department: "c.department_id"})
}

// ListPool lists the store's shared pool: unowned active customers anyone who
// may own customers can see and claim.
func (s *Service) ListPool(ctx context.Context, a auth.Actor, f ListFilter) (CustomerList, error) {
	if f.StoreID == 0 {
		f.StoreID = a.StoreID
	}
	if err := storeAccess(a, auth.PermCustomerWrite, f.StoreID); err != nil {
		return CustomerList{Items: []Customer{}}, err
	}
	f.Pool, f.Status, f.OwnerID = true, "active", 0
	return s.list(ctx, f, sq.Eq{"c.store_id": f.StoreID})
}

func (s *Service) list(ctx context.Context, f ListFilter, scope sq.Sqlizer) (CustomerList, error) {
	out := CustomerList{Items: []Customer{}}
	if err := f.Validate(); err != nil {
		return out, err
	}
	now := s.now()
	page, count, err := f.queries(scope, now)
	if err != nil {
		return out, err
	}
	query, args, err := page.ToSql()
	if err != nil {
		return out, err
	}
	rows, err := s.db.R.QueryContext(ctx, query, args...)
	if err != nil {
		return out, fmt.Errorf("crm: list customers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCustomer(rows, now)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, c)
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	rows.Close()
	if len(out.Items) > f.Limit {
		last := out.Items[f.Limit-1]
		out.Items = out.Items[:f.Limit]
		out.Next = api.Cursor{Sort: sortValue(f.Sort, last), ID: last.ID}.Encode()
	}
	if err := loadTags(ctx, s.db.R, out.Items); err != nil {
		return out, err
	}
	if f.Count {
		cq, cargs, err := count.ToSql()
		if err != nil {
			return out, err
		}
		var n int
		if err := s.db.R.QueryRowContext(ctx, cq, cargs...).Scan(&n); err != nil {
			return out, fmt.Errorf("crm: count customers: %w", err)
		}
		if n > countCap {
			n, out.TotalCapped = countCap, true
		}
		out.Total = &n
	}
	return out, nil
}

// queries builds the statements of a validated filter: the page (limit + 1 rows
// from the cursor on) and the count capped at countCap + 1.
func (f ListFilter) queries(scope sq.Sqlizer, now int64) (page, count sq.Sqlizer, err error) {
	w := f.where(scope, now)
	if f.Sort == "next" {
		// Sorting by the next follow-up lists (and counts) only those with one.
		w = append(w, sq.Expr("c.next_followup_at IS NOT NULL"))
	}
	srt := sorts[f.Sort]
	q := f.from(sq.Select(customerCols)).Where(w)
	if f.Cursor != "" {
		c, err := api.ParseCursor(f.Cursor)
		if err != nil {
			return nil, nil, err
		}
		var v any = c.Sort
		if f.Sort != "name" {
			n, err := strconv.ParseInt(c.Sort, 10, 64)
			if err != nil {
				return nil, nil, apperr.Field("cursor", "invalid_format")
			}
			v = n
		}
		op := ">"
		if srt.desc {
			op = "<"
		}
		// A row value: the index seeks straight to the cursor. The same
		// condition as (col < v OR (col = v AND id < i)), which SQLite cannot
		// use as a range, so a deep page walked every row before it.
		q = q.Where(fmt.Sprintf("(%s, c.id) %s (?, ?)", srt.col, op), v, c.ID)
	}
	dir := "ASC"
	if srt.desc {
		dir = "DESC"
	}
	page = q.OrderBy(srt.col+" "+dir, "c.id "+dir).Limit(uint64(f.Limit + 1))
	count = sq.Select("count(*)").FromSelect(f.from(sq.Select("1")).Where(w).Limit(countCap+1), "x")
	return page, count, nil
}

func sortValue(sort string, c Customer) string {
	switch sort {
	case "updated":
		return strconv.FormatInt(c.UpdatedAt, 10)
	case "next":
		return strconv.FormatInt(deref(c.NextFollowupAt), 10)
	case "name":
		return c.Name
	}
	return strconv.FormatInt(c.CreatedAt, 10)
}

// BulkInput applies one action to many customers.
type BulkInput struct {
	IDs     []int64 `json:"ids"`
	Action  string  `json:"action"` // assign | tag | untag | release
	OwnerID int64   `json:"ownerId"`
	Tag     string  `json:"tag"`
	Reason  string  `json:"reason"`
}

// BulkResult says what happened per customer.
type BulkResult struct {
	Done   int               `json:"done"`
	Failed map[string]string `json:"failed"` // id → error code
}

// Bulk runs an action on each selected customer (up to 500), each with its own
// checks; one failing customer does not stop the rest.
func (s *Service) Bulk(ctx context.Context, a auth.Actor, in BulkInput) (BulkResult, error) {
	res := BulkResult{Failed: map[string]string{}}
	in.Tag = strings.TrimSpace(in.Tag)
	f := apperr.Fields{}
	if len(in.IDs) == 0 || len(in.IDs) > 500 {
		f.Add("ids", "out_of_range", "min", 1, "max", 500)
	}
	switch in.Action {
	case "assign":
		if in.OwnerID == 0 {
			f.Add("ownerId", "required")
		}
	case "tag", "untag":
		if in.Tag == "" || len([]rune(in.Tag)) > 20 {
			f.Add("tag", "required")
		}
	case "release":
		if strings.TrimSpace(in.Reason) == "" {
			f.Add("reason", "required")
		}
	default:
		f.Add("action", "invalid_format")
	}
	if err := f.Err(); err != nil {
		return res, err
	}
	for _, id := range in.IDs {
		var err error
		switch in.Action {
		case "assign":
			_, err = s.Reassign(ctx, a, id, AssignInput{OwnerID: in.OwnerID})
		case "release":
			err = s.Release(ctx, a, id, ReleaseInput{Reason: in.Reason})
		default:
			err = s.tagOne(ctx, a, id, in.Tag, in.Action == "tag")
		}
		if err != nil {
			e := apperr.As(err)
			if e.Kind == apperr.Internal {
				return res, err
			}
			code := e.Code
			for _, fe := range e.Fields {
				code = fe.Code
			}
			res.Failed[strconv.FormatInt(id, 10)] = code
			continue
		}
		res.Done++
	}
	return res, nil
}

func (s *Service) tagOne(ctx context.Context, a auth.Actor, id int64, tag string, add bool) error {
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		c, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if add {
			_, err = tx.ExecContext(ctx, `INSERT OR IGNORE INTO customer_tag (customer_id, tag, store_id) VALUES (?, ?, ?)`, id, tag, c.StoreID)
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM customer_tag WHERE customer_id = ? AND tag = ?`, id, tag)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE customer SET updated_at = ?, version = version + 1 WHERE id = ?`, s.now(), id); err != nil {
			return err
		}
		if err := markIndex(ctx, tx, id); err != nil {
			return err
		}
		action := "untag"
		if add {
			action = "tag"
		}
		return s.audit(ctx, tx, a, action, "customer", id, c.StoreID, nil, map[string]any{"tag": tag})
	})
}

// SavedView is a named filter of a list page.
type SavedView struct {
	ID     int64           `json:"id"`
	Page   string          `json:"page"`
	Name   string          `json:"name"`
	Query  json.RawMessage `json:"query"`
	Shared bool            `json:"shared"`
	Mine   bool            `json:"mine"`
}

// ViewInput saves a view.
type ViewInput struct {
	Page   string          `json:"page"`
	Name   string          `json:"name"`
	Query  json.RawMessage `json:"query"`
	Shared bool            `json:"shared"`
}

// ListViews returns the actor's views of a page and the store's shared ones.
func (s *Service) ListViews(ctx context.Context, a auth.Actor, page string) ([]SavedView, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, page, name, query, shared, user_id FROM saved_view WHERE page = ? AND (user_id = ? OR (shared = 1 AND store_id = ?)) ORDER BY name`,
		page, a.UserID, a.StoreID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []SavedView{}
	for rows.Next() {
		var v SavedView
		var q string
		var shared int
		var uid int64
		if err := rows.Scan(&v.ID, &v.Page, &v.Name, &q, &shared, &uid); err != nil {
			return nil, err
		}
		v.Query, v.Shared, v.Mine = json.RawMessage(q), shared == 1, uid == a.UserID
		out = append(out, v)
	}
	return out, rows.Err()
}

// SaveView stores (or replaces, by name) one of the actor's views. Sharing with
// the store needs customer.assign (managers).
func (s *Service) SaveView(ctx context.Context, a auth.Actor, in ViewInput) (SavedView, error) {
	in.Name = strings.TrimSpace(in.Name)
	f := apperr.Fields{}
	if in.Name == "" {
		f.Add("name", "required")
	}
	limitText(f, "name", in.Name, 30)
	if !oneOf(in.Page, []string{"customers", "pool"}) {
		f.Add("page", "invalid_format")
	}
	var probe ListFilter
	if len(in.Query) == 0 || json.Unmarshal(in.Query, &probe) != nil || len(in.Query) > 4000 {
		f.Add("query", "invalid_format")
	}
	if in.Shared && !a.Has(auth.PermCustomerAssign) {
		f.Add("shared", "forbidden")
	}
	if a.UserID == 0 {
		return SavedView{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	if err := f.Err(); err != nil {
		return SavedView{}, err
	}
	var id int64
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO saved_view (user_id, store_id, page, name, query, shared, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (user_id, page, name) DO UPDATE SET query = excluded.query, shared = excluded.shared RETURNING id`,
			a.UserID, a.StoreID, in.Page, in.Name, string(in.Query), boolInt(in.Shared), s.now()).Scan(&id)
		return err
	})
	return SavedView{ID: id, Page: in.Page, Name: in.Name, Query: in.Query, Shared: in.Shared, Mine: true}, err
}

// DeleteView removes one of the actor's views.
func (s *Service) DeleteView(ctx context.Context, a auth.Actor, id int64) error {
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM saved_view WHERE id = ? AND user_id = ?`, id, a.UserID)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "not_found")
		}
		return nil
	})
}
