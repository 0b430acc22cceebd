package sop

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	sq "github.com/Masterminds/squirrel"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/pii"
)

// BoardFilter selects the customers of the board and the list. Only open
// customers are on them: status active and lifecycle lead, prospect or ordered
// (delivered ones are won, lost and dormant ones are off the board).
type BoardFilter struct {
	StoreID  int64    `json:"storeId" query:"storeId"`
	Owner    string   `json:"owner" query:"owner"` // '' everyone in scope | mine | team | a user id
	Grades   []string `json:"grades" query:"grade"`
	SeriesID int64    `json:"seriesId" query:"seriesId"`
	Q        string   `json:"q" query:"q"` // name prefix, or ≥3 digits: phone suffix
	StageID  int64    `json:"stageId" query:"stageId"`
	Sort     string   `json:"sort" query:"sort"`   // list: days (default) | stage | next | name
	Order    string   `json:"order" query:"order"` // list: asc (default) | desc
	Cursor   string   `json:"cursor" query:"cursor"`
	Limit    int      `json:"limit" query:"limit"` // cards per column (board, default 20) or rows (list, default 50)
}

// Validate checks the filter's values.
func (f *BoardFilter) Validate(defLimit int) error {
	e := apperr.Fields{}
	if f.Owner != "" && f.Owner != "mine" && f.Owner != "team" {
		if n, err := strconv.ParseInt(f.Owner, 10, 64); err != nil || n <= 0 {
			e.Add("owner", "invalid_format")
		}
	}
	for _, g := range f.Grades {
		if len(g) > 2 {
			e.Add("grade", "invalid_format")
		}
	}
	f.Q = strings.TrimSpace(f.Q)
	if utf8.RuneCountInString(f.Q) > 50 {
		e.Add("q", "too_long", "max", 50)
	}
	if f.Sort == "" {
		f.Sort = "days"
	}
	if _, ok := listSorts[f.Sort]; !ok {
		e.Add("sort", "invalid_format")
	}
	if f.Order == "" {
		f.Order = "asc"
	}
	if f.Order != "asc" && f.Order != "desc" {
		e.Add("order", "invalid_format")
	}
	if f.Limit == 0 {
		f.Limit = defLimit
	}
	if f.Limit < 1 || f.Limit > 200 {
		e.Add("limit", "out_of_range", "min", 1, "max", 200)
	}
	return e.Err()
}

// Card is a customer on the board or a row of the list.
type Card struct {
	CustomerID     int64  `json:"customerId"`
	Name           string `json:"name"`
	Phone          string `json:"phone"` // masked
	Grade          string `json:"grade"`
	OwnerID        *int64 `json:"ownerId"`
	OwnerName      string `json:"ownerName"`
	SeriesName     string `json:"seriesName"`
	Lifecycle      string `json:"lifecycle"`
	StageID        int64  `json:"stageId"`
	StageName      string `json:"stageName"`
	EnteredAt      int64  `json:"enteredAt"`
	DaysInStage    int    `json:"daysInStage"`
	Overdue        bool   `json:"overdue"`
	NextFollowupAt *int64 `json:"nextFollowupAt"`
	Version        int64  `json:"version"` // the SOP version a move sends back
}

// Column is one stage of the board with its count and first cards.
type Column struct {
	Stage Stage  `json:"stage"`
	Count int    `json:"count"`
	Cards []Card `json:"cards"`
	Next  string `json:"next"` // cursor of the column's next cards ('' when all shown)
}

// Board is the kanban of a store.
type Board struct {
	StoreID int64    `json:"storeId"`
	Total   int      `json:"total"`
	Columns []Column `json:"columns"`
}

// CardList is a page of the list view.
type CardList struct {
	Items []Card `json:"items"`
	Next  string `json:"next"`
	Total int    `json:"total"`
}

// base is the board's customer set: id, stage, entry time, board position of
// the stage, and the sort columns of the list. It walks the store's active
// customers through customer_store_status and looks each one's position up by
// primary key — about 5,000 rows for a busy store, a few milliseconds.
// sortCols adds the list's sort columns (stage position, next follow-up, name).
func (s *Service) base(a auth.Actor, f BoardFilter, storeID int64, first int64, sortCols bool) sq.SelectBuilder {
	w := sq.And{
		auth.Filter(a, auth.PermCustomerRead, auth.Columns{Store: "c.store_id", Owner: "c.owner_id", Department: "c.department_id"}),
		sq.Eq{"c.store_id": storeID},
		// word for word the condition of the partial index customer_board
		sq.Expr("c.status = 'active' AND c.stage IN ('lead', 'prospect', 'ordered')"),
	}
	switch f.Owner {
	case "":
	case "mine":
		w = append(w, sq.Eq{"c.owner_id": a.UserID})
	case "team":
		w = append(w, sq.Eq{"c.department_id": a.DepartmentID})
	default:
		n, _ := strconv.ParseInt(f.Owner, 10, 64)
		w = append(w, sq.Eq{"c.owner_id": n})
	}
	if len(f.Grades) > 0 {
		w = append(w, sq.Eq{"c.grade": f.Grades})
	}
	if f.SeriesID != 0 {
		w = append(w, sq.Eq{"c.series_id": f.SeriesID})
	}
	if f.Q != "" {
		if d, ok := digits(f.Q); ok && len(d) >= 3 {
			rev := reverse(d)
			w = append(w, sq.Expr("EXISTS (SELECT 1 FROM customer_phone p WHERE p.customer_id = c.id AND p.phone_rev >= ? AND p.phone_rev < ?)", rev, rev+";"))
		} else {
			w = append(w, sq.Expr("c.name >= ? AND c.name < ?", f.Q, f.Q+string(unicode.MaxRune)))
		}
	}
	// first is an id read from the database, not user input.
	fst := strconv.FormatInt(first, 10)
	if !sortCols {
		return sq.Select("c.id AS id", "COALESCE(cs.stage_id, "+fst+") AS stage_id", "COALESCE(cs.entered_at, c.created_at) AS entered_at").
			From("customer c LEFT JOIN customer_sop cs ON cs.customer_id = c.id").Where(w)
	}
	return sq.Select("c.id AS id", "COALESCE(cs.stage_id, "+fst+") AS stage_id", "COALESCE(cs.entered_at, c.created_at) AS entered_at",
		"COALESCE(st.position, 0) AS pos", "COALESCE(c.next_followup_at, 9000000000000000) AS next_at", "c.name AS name").
		From("customer c LEFT JOIN customer_sop cs ON cs.customer_id = c.id LEFT JOIN sop_stage st ON st.id = COALESCE(cs.stage_id, " + fst + ")").
		Where(w)
}

func digits(s string) (string, bool) {
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

func reverse(s string) string {
	r := []byte(s)
	slices.Reverse(r)
	return string(r)
}

// boardStore resolves the store and its stages for a read of the board.
func (s *Service) boardStore(ctx context.Context, a auth.Actor, storeID int64) (int64, pipeline, error) {
	if err := auth.Require(a, auth.PermCustomerRead); err != nil {
		return 0, pipeline{}, err
	}
	storeID, err := storeOf(a, storeID)
	if err != nil {
		return 0, pipeline{}, err
	}
	pl, err := s.stagesFor(ctx, s.d.DB.R, storeID)
	return storeID, pl, err
}

// Board returns the kanban of a store: every active stage in order (and an
// inactive one while customers still stand there), each with its count and the
// first Limit cards, longest in the stage first.
func (s *Service) Board(ctx context.Context, a auth.Actor, f BoardFilter) (Board, error) {
	out := Board{Columns: []Column{}}
	if err := f.Validate(20); err != nil {
		return out, err
	}
	if f.Limit > 100 {
		return out, apperr.Field("limit", "out_of_range", "min", 1, "max", 100)
	}
	storeID, pl, err := s.boardStore(ctx, a, f.StoreID)
	if err != nil {
		return out, err
	}
	out.StoreID = storeID
	first, _ := pl.first()
	inner, args, err := s.base(a, f, storeID, first.ID, false).ToSql()
	if err != nil {
		return out, err
	}
	q := `SELECT id, stage_id, entered_at, n FROM (SELECT id, stage_id, entered_at,
		row_number() OVER (PARTITION BY stage_id ORDER BY entered_at, id) AS rn, count(*) OVER (PARTITION BY stage_id) AS n FROM (` + inner + `))
		WHERE rn <= ? ORDER BY stage_id, entered_at, id`
	rows, err := s.d.DB.R.QueryContext(ctx, q, append(args, f.Limit+1)...)
	if err != nil {
		return out, fmt.Errorf("sop: board: %w", err)
	}
	defer rows.Close()
	type hit struct{ id, stage, entered int64 }
	perStage := map[int64][]hit{}
	counts := map[int64]int{}
	var ids []int64
	for rows.Next() {
		var h hit
		var n int
		if err := rows.Scan(&h.id, &h.stage, &h.entered, &n); err != nil {
			return out, err
		}
		perStage[h.stage] = append(perStage[h.stage], h)
		counts[h.stage] = n
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	rows.Close()
	for _, hs := range perStage {
		for i, h := range hs {
			if i < f.Limit {
				ids = append(ids, h.id)
			}
		}
	}
	cards, err := s.cards(ctx, ids, pl)
	if err != nil {
		return out, err
	}
	for _, st := range pl.stages {
		if !st.Active && counts[st.ID] == 0 {
			continue
		}
		s.decorate(&st)
		col := Column{Stage: st, Count: counts[st.ID], Cards: []Card{}}
		hs := perStage[st.ID]
		for i, h := range hs {
			if i == f.Limit {
				last := hs[i-1]
				col.Next = api.Cursor{Sort: strconv.FormatInt(last.entered, 10), ID: last.id}.Encode()
				break
			}
			if c, ok := cards[h.id]; ok {
				col.Cards = append(col.Cards, c)
			}
		}
		out.Total += col.Count
		out.Columns = append(out.Columns, col)
	}
	return out, nil
}

// ColumnPage returns the next cards of one column after a cursor (keyset on
// entry time and id).
func (s *Service) ColumnPage(ctx context.Context, a auth.Actor, f BoardFilter) (CardList, error) {
	out := CardList{Items: []Card{}}
	if err := f.Validate(20); err != nil {
		return out, err
	}
	if f.StageID <= 0 {
		return out, apperr.Field("stageId", "required")
	}
	storeID, pl, err := s.boardStore(ctx, a, f.StoreID)
	if err != nil {
		return out, err
	}
	if _, ok := pl.get(f.StageID); !ok {
		return out, apperr.Field("stageId", "sop.stage_unknown")
	}
	first, _ := pl.first()
	inner, args, err := s.base(a, f, storeID, first.ID, false).ToSql()
	if err != nil {
		return out, err
	}
	q := `SELECT id, entered_at FROM (` + inner + `) WHERE stage_id = ?`
	args = append(args, f.StageID)
	if f.Cursor != "" {
		c, err := api.ParseCursor(f.Cursor)
		if err != nil {
			return out, err
		}
		v, err := strconv.ParseInt(c.Sort, 10, 64)
		if err != nil {
			return out, apperr.Field("cursor", "invalid_format")
		}
		q += ` AND (entered_at, id) > (?, ?)`
		args = append(args, v, c.ID)
	}
	q += ` ORDER BY entered_at, id LIMIT ?`
	args = append(args, f.Limit+1)
	ids, sorts, err := s.page(ctx, q, args)
	if err != nil {
		return out, err
	}
	return s.finishPage(ctx, pl, ids, sorts, f.Limit)
}

// listSorts are the list's sort keys: the columns of base, ties broken by id.
var listSorts = map[string][]string{
	"days":  {"entered_at"}, // longest in the stage first (ascending entry time)
	"stage": {"pos", "entered_at"},
	"next":  {"next_at"},
	"name":  {"name"},
}

// List returns a page of the list view: the board's customers as rows,
// sortable by days in stage, stage, next follow-up or name, keyset paged.
func (s *Service) List(ctx context.Context, a auth.Actor, f BoardFilter) (CardList, error) {
	out := CardList{Items: []Card{}}
	if err := f.Validate(50); err != nil {
		return out, err
	}
	storeID, pl, err := s.boardStore(ctx, a, f.StoreID)
	if err != nil {
		return out, err
	}
	first, _ := pl.first()
	inner, args, err := s.base(a, f, storeID, first.ID, true).ToSql()
	if err != nil {
		return out, err
	}
	cols := listSorts[f.Sort]
	where := ""
	var wargs []any
	if f.StageID != 0 {
		where, wargs = ` WHERE stage_id = ?`, []any{f.StageID}
	}
	if err := s.d.DB.R.QueryRowContext(ctx, `SELECT count(*) FROM (`+inner+`)`+where, append(slices.Clone(args), wargs...)...).Scan(&out.Total); err != nil {
		return out, fmt.Errorf("sop: list count: %w", err)
	}
	key := strings.Join(cols, ", ") + ", id"
	q := `SELECT id, ` + strings.Join(cols, " || '|' || ") + ` FROM (` + inner + `)` + where
	args = append(args, wargs...)
	if f.Cursor != "" {
		c, err := api.ParseCursor(f.Cursor)
		if err != nil {
			return out, err
		}
		parts := []string{c.Sort}
		if len(cols) > 1 {
			parts = strings.Split(c.Sort, "|")
		}
		if len(parts) != len(cols) {
			return out, apperr.Field("cursor", "invalid_format")
		}
		op := ">"
		if f.Order == "desc" {
			op = "<"
		}
		if where == "" {
			q += " WHERE "
		} else {
			q += " AND "
		}
		q += "(" + key + ") " + op + " (" + strings.Repeat("?, ", len(cols)) + "?)"
		for i, col := range cols {
			if col == "name" {
				args = append(args, parts[i])
				continue
			}
			n, err := strconv.ParseInt(parts[i], 10, 64)
			if err != nil {
				return out, apperr.Field("cursor", "invalid_format")
			}
			args = append(args, n)
		}
		args = append(args, c.ID)
	}
	dir := " ASC"
	if f.Order == "desc" {
		dir = " DESC"
	}
	order := make([]string, 0, len(cols)+1)
	for _, c := range append(slices.Clone(cols), "id") {
		order = append(order, c+dir)
	}
	q += " ORDER BY " + strings.Join(order, ", ") + " LIMIT ?"
	args = append(args, f.Limit+1)
	ids, sorts, err := s.page(ctx, q, args)
	if err != nil {
		return out, err
	}
	page, err := s.finishPage(ctx, pl, ids, sorts, f.Limit)
	page.Total = out.Total
	return page, err
}

// page runs a keyset query returning (id, sort value) rows.
func (s *Service) page(ctx context.Context, q string, args []any) ([]int64, []string, error) {
	rows, err := s.d.DB.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("sop: page: %w", err)
	}
	defer rows.Close()
	var ids []int64
	var sorts []string
	for rows.Next() {
		var id int64
		var v string
		if err := rows.Scan(&id, &v); err != nil {
			return nil, nil, err
		}
		ids, sorts = append(ids, id), append(sorts, v)
	}
	return ids, sorts, rows.Err()
}

func (s *Service) finishPage(ctx context.Context, pl pipeline, ids []int64, sorts []string, limit int) (CardList, error) {
	out := CardList{Items: []Card{}}
	if len(ids) > limit {
		out.Next = api.Cursor{Sort: sorts[limit-1], ID: ids[limit-1]}.Encode()
		ids = ids[:limit]
	}
	cards, err := s.cards(ctx, ids, pl)
	if err != nil {
		return out, err
	}
	for _, id := range ids {
		if c, ok := cards[id]; ok {
			out.Items = append(out.Items, c)
		}
	}
	return out, nil
}

// cards loads what a card shows for the given customers (one query).
func (s *Service) cards(ctx context.Context, ids []int64, pl pipeline) (map[int64]Card, error) {
	out := map[int64]Card{}
	if len(ids) == 0 {
		return out, nil
	}
	first, _ := pl.first()
	now := s.now()
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.d.DB.R.QueryContext(ctx, `SELECT c.id, c.name, c.phone, c.grade, c.owner_id, COALESCE(u.name, ''), COALESCE(vs.name, ''), c.stage,
		cs.stage_id, COALESCE(cs.entered_at, c.created_at), COALESCE(cs.version, 0), c.next_followup_at, c.sla_due_at
		FROM customer c LEFT JOIN customer_sop cs ON cs.customer_id = c.id LEFT JOIN app_user u ON u.id = c.owner_id
		LEFT JOIN vehicle_series vs ON vs.id = c.series_id WHERE c.id IN (?`+strings.Repeat(",?", len(ids)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("sop: cards: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c Card
		var owner, stage, next, due sql.NullInt64
		if err := rows.Scan(&c.CustomerID, &c.Name, &c.Phone, &c.Grade, &owner, &c.OwnerName, &c.SeriesName, &c.Lifecycle,
			&stage, &c.EnteredAt, &c.Version, &next, &due); err != nil {
			return nil, err
		}
		c.Phone = pii.MaskPhone(c.Phone)
		if owner.Valid {
			c.OwnerID = &owner.Int64
		}
		if next.Valid {
			c.NextFollowupAt = &next.Int64
		}
		c.StageID = first.ID
		if stage.Valid {
			c.StageID = stage.Int64
		}
		if st, ok := pl.get(c.StageID); ok {
			c.StageName = st.Name
		}
		c.DaysInStage = int(max(0, now-c.EnteredAt) / day)
		c.Overdue = due.Valid && due.Int64 < now
		out[c.CustomerID] = c
	}
	return out, rows.Err()
}
