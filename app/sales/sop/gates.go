package sop

import (
	"context"
	"fmt"

	"dealerdesk/app/db"
)

// The built-in gates read what crm records; each is one indexed lookup.
func builtinGates() []Gate {
	exists := func(key, query string) Gate {
		return Gate{Key: key, Check: func(ctx context.Context, q db.Querier, id int64) (bool, error) {
			var ok int
			if err := q.QueryRowContext(ctx, query, id).Scan(&ok); err != nil {
				return false, fmt.Errorf("sop: gate %s for customer %d: %w", key, id, err)
			}
			return ok == 1, nil
		}}
	}
	return []Gate{
		// A first contact recorded (crm sets first_contact_at on the first reached follow-up).
		exists("contacted", `SELECT first_contact_at IS NOT NULL FROM customer WHERE id = ?`),
		// Intent grade and intended series set (意向级别与意向车系).
		exists("intent_set", `SELECT grade <> '' AND series_id IS NOT NULL FROM customer WHERE id = ?`),
		// An invitation accepted (a follow-up with result invited) or already a visit.
		exists("invited", `SELECT EXISTS (SELECT 1 FROM followup WHERE customer_id = ?1 AND result IN ('invited', 'visited'))
			OR EXISTS (SELECT 1 FROM showroom_visit WHERE customer_id = ?1)`),
		// A showroom visit recorded: the traffic log, or a follow-up done as a visit.
		exists("visited", `SELECT EXISTS (SELECT 1 FROM showroom_visit WHERE customer_id = ?1)
			OR EXISTS (SELECT 1 FROM followup WHERE customer_id = ?1 AND (method = 'visit' OR result = 'visited'))`),
		// A next follow-up is scheduled, so the customer is not left without a plan.
		exists("followup_planned", `SELECT next_followup_at IS NOT NULL FROM customer WHERE id = ?`),
	}
}
