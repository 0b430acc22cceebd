package crm

import (
	"context"
	"fmt"
	"strings"

	"dealerdesk/app/db"
	"dealerdesk/app/findex"
	"dealerdesk/app/pii"
	"dealerdesk/search"
)

// searchKind is the customers' kind in the global search index.
const searchKind = "customer"

// markIndex queues customers for the search index inside the transaction.
func markIndex(ctx context.Context, q db.Querier, ids ...int64) error {
	return findex.Mark(ctx, q, searchKind, ids...)
}

// searchDocs returns the search documents of the customers that still exist
// (merged ones drop out of the index).
func (s *Service) searchDocs(ctx context.Context, q db.Querier, ids []int64) ([]search.Doc, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	in, args := inArgs(ids)
	return s.loadDocs(ctx, q, `c.id IN `+in+` AND c.status <> 'merged'`, args, 0)
}

// searchAll pages through every customer for a rebuild.
func (s *Service) searchAll(ctx context.Context, q db.Querier, afterID int64, limit int) ([]search.Doc, int64, error) {
	docs, err := s.loadDocs(ctx, q, `c.id > ? AND c.status <> 'merged'`, []any{afterID}, limit)
	if err != nil || len(docs) == 0 {
		return docs, afterID, err
	}
	var last int64
	fmt.Sscanf(strings.TrimPrefix(docs[len(docs)-1].ID, searchKind+":"), "%d", &last)
	return docs, last, nil
}

func (s *Service) loadDocs(ctx context.Context, q db.Querier, where string, args []any, limit int) ([]search.Doc, error) {
	query := `SELECT c.id, c.store_id, COALESCE(c.owner_id, 0), COALESCE(c.department_id, 0), c.name, c.grade, c.status, COALESCE(vs.name, ''),
		(SELECT group_concat(phone, ' ') FROM customer_phone p WHERE p.customer_id = c.id),
		(SELECT group_concat(tag, char(31)) FROM customer_tag t WHERE t.customer_id = c.id), c.wechat
		FROM customer c LEFT JOIN vehicle_series vs ON vs.id = c.series_id WHERE ` + where + ` ORDER BY c.id`
	if limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("crm: search docs: %w", err)
	}
	defer rows.Close()
	var out []search.Doc
	for rows.Next() {
		var id, store, owner, dept int64
		var name, grade, status, series, wechat string
		var phones, tags *string
		if err := rows.Scan(&id, &store, &owner, &dept, &name, &grade, &status, &series, &phones, &tags, &wechat); err != nil {
			return nil, err
		}
		d := search.Doc{ID: fmt.Sprintf("%s:%d", searchKind, id), Kind: searchKind, StoreID: store, OwnerID: owner, DepartmentID: dept, Title: name}
		if name == "" {
			d.Title = "—"
		}
		if name != "" {
			d.Names = []string{name}
		}
		var masked []string
		if phones != nil {
			d.Digits = strings.Fields(*phones)
			for _, p := range d.Digits {
				masked = append(masked, pii.MaskPhone(p))
			}
		}
		if tags != nil {
			d.Tags = strings.Split(*tags, "\x1f")
		}
		sub := []string{}
		if len(masked) > 0 {
			sub = append(sub, masked[0])
		}
		if grade != "" {
			sub = append(sub, grade)
		}
		if series != "" {
			sub = append(sub, series)
		}
		if status != "active" {
			sub = append(sub, status)
		}
		d.Subtitle = strings.Join(sub, " · ")
		d.Text = wechat
		out = append(out, d)
	}
	return out, rows.Err()
}
