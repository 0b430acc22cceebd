package crm

import (
	"dealerdesk/app/auth"
)

// ListSQL returns the statements ListCustomers runs for the actor and filter:
// the page query and the capped count query (run only with Count). The
// benchmark and the plan test EXPLAIN them (bench_test.go).
func (s *Service) ListSQL(a auth.Actor, f ListFilter) (page string, pageArgs []any, count string, countArgs []any, err error) {
	if err := f.Validate(); err != nil {
		return "", nil, "", nil, err
	}
	p, c, err := f.queries(scopeOf(a), s.now())
	if err != nil {
		return "", nil, "", nil, err
	}
	if page, pageArgs, err = p.ToSql(); err != nil {
		return "", nil, "", nil, err
	}
	count, countArgs, err = c.ToSql()
	return page, pageArgs, count, countArgs, err
}
