package inventory

import (
	"context"
	"fmt"
	"strings"

	"dealerdesk/app/db"
	"dealerdesk/search"
)

// searchKind is the global search's kind for vehicles: the box finds a car by
// the last 6–8 characters of its VIN (or any part of it) and by its model.
const searchKind = "vehicle"

func (s *Service) searchDocs(ctx context.Context, q db.Querier, ids []int64) ([]search.Doc, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	marks := strings.Repeat("?,", len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return loadDocs(ctx, q, `v.id IN (`+marks[:len(marks)-1]+`)`, args, 0)
}

func (s *Service) searchAll(ctx context.Context, q db.Querier, afterID int64, limit int) ([]search.Doc, int64, error) {
	docs, err := loadDocs(ctx, q, `v.id > ?`, []any{afterID}, limit)
	if err != nil || len(docs) == 0 {
		return docs, afterID, err
	}
	var last int64
	fmt.Sscanf(strings.TrimPrefix(docs[len(docs)-1].ID, searchKind+":"), "%d", &last)
	return docs, last, nil
}

// statusLabel is the status as the search box shows it (documents are built
// once for everyone; the group works in Chinese).
var statusLabel = map[string]string{StatusOrdered: "已订购", StatusInTransit: "在途", StatusInStock: "在库", StatusReserved: "已预订", StatusSold: "已售", StatusDelivered: "已交付"}

func loadDocs(ctx context.Context, q db.Querier, where string, args []any, limit int) ([]search.Doc, error) {
	query := `SELECT v.id, v.store_id, v.vin, v.status, v.color, b.name, s.name, m.name, m.model_year FROM vehicle v
		JOIN vehicle_model m ON m.id = v.model_id JOIN vehicle_series s ON s.id = m.series_id JOIN vehicle_brand b ON b.id = s.brand_id
		WHERE ` + where + ` ORDER BY v.id`
	if limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("inventory: search docs: %w", err)
	}
	defer rows.Close()
	var out []search.Doc
	for rows.Next() {
		var id, store int64
		var vin, status, color, brand, series, model string
		var year int
		if err := rows.Scan(&id, &store, &vin, &status, &color, &brand, &series, &model, &year); err != nil {
			return nil, err
		}
		out = append(out, search.Doc{ID: fmt.Sprintf("%s:%d", searchKind, id), Kind: searchKind, StoreID: store,
			Title:    fmt.Sprintf("%s %s %s", brand, series, model),
			Subtitle: fmt.Sprintf("%s · %s · %s", vin, color, statusLabel[status]),
			Digits:   []string{vin},
			Text:     fmt.Sprintf("%s %s %s %d %s", brand, series, model, year, color)})
	}
	return out, rows.Err()
}
