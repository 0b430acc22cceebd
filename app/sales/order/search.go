package order

import (
	"context"
	"fmt"
	"strings"

	"dealerdesk/app/db"
	"dealerdesk/search"
)

// searchKind is the global search's kind for orders: the box finds an order
// by its contract number, the customer's name or the car's VIN, within the
// actor's customer scope.
const searchKind = "order"

// statusLabel is the status as the search box shows it (documents are built
// once for everyone; the group works in Chinese).
var statusLabel = map[string]string{StatusDraft: "草稿", StatusPendingApproval: "合同审批中", StatusSigned: "已签约", StatusVINAllocated: "已配车",
	StatusPDIDone: "PDI已完成", StatusDeliveryScheduled: "已约交车", StatusDelivered: "已交车", StatusClosed: "已结案", StatusCancelled: "已取消"}

func (s *Service) searchDocs(ctx context.Context, q db.Querier, ids []int64) ([]search.Doc, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	marks := strings.Repeat("?,", len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return searchLoad(ctx, q, `o.id IN (`+marks[:len(marks)-1]+`)`, args, 0)
}

func (s *Service) searchAll(ctx context.Context, q db.Querier, afterID int64, limit int) ([]search.Doc, int64, error) {
	docs, err := searchLoad(ctx, q, `o.id > ?`, []any{afterID}, limit)
	if err != nil || len(docs) == 0 {
		return docs, afterID, err
	}
	var last int64
	fmt.Sscanf(strings.TrimPrefix(docs[len(docs)-1].ID, searchKind+":"), "%d", &last)
	return docs, last, nil
}

func searchLoad(ctx context.Context, q db.Querier, where string, args []any, limit int) ([]search.Doc, error) {
	query := `SELECT o.id, c.store_id, COALESCE(c.owner_id, 0), COALESCE(c.department_id, 0), o.contract_no, o.status, o.vin, c.name,
		COALESCE(vs.name || ' ' || vm.name, '') FROM sales_order o JOIN customer c ON c.id = o.customer_id
		LEFT JOIN vehicle_model vm ON vm.id = o.model_id LEFT JOIN vehicle_series vs ON vs.id = vm.series_id
		WHERE ` + where + ` ORDER BY o.id`
	if limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("order: search docs: %w", err)
	}
	defer rows.Close()
	var out []search.Doc
	for rows.Next() {
		var id, store, owner, dept int64
		var no, status, vin, customer, model string
		if err := rows.Scan(&id, &store, &owner, &dept, &no, &status, &vin, &customer, &model); err != nil {
			return nil, err
		}
		digits := []string{no}
		if vin != "" {
			digits = append(digits, vin)
		}
		out = append(out, search.Doc{ID: fmt.Sprintf("%s:%d", searchKind, id), Kind: searchKind, StoreID: store, OwnerID: owner, DepartmentID: dept,
			Title: no + " " + customer, Subtitle: strings.TrimSpace(model + " · " + statusLabel[status]), Names: []string{customer}, Digits: digits, Text: no + " " + model})
	}
	return out, rows.Err()
}
