package testdrive

import (
	"context"
	"fmt"
	"time"

	sq "github.com/Masterminds/squirrel"

	"dealerdesk/app/apperr"
	"dealerdesk/app/attach"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// CalendarFilter selects the bookings of a store over a time range.
type CalendarFilter struct {
	StoreID      int64 `query:"storeId"`
	From         int64 `query:"from"` // unix ms, inclusive; default: today 00:00 in the store's zone
	To           int64 `query:"to"`   // unix ms, exclusive; default: From + 1 day; at most 42 days after From
	CarID        int64 `query:"carId"`
	ConsultantID int64 `query:"consultantId"`
	// Cancelled includes cancelled bookings (off by default: the calendar shows
	// what occupies a car).
	Cancelled bool `query:"cancelled"`
}

// Calendar is the answer of the calendar: the store's cars (the day view's
// columns) and the bookings overlapping the range.
type Calendar struct {
	StoreID int64       `json:"storeId"`
	From    int64       `json:"from"`
	To      int64       `json:"to"`
	Cars    []Car       `json:"cars"`
	Items   []TestDrive `json:"items"`
	// Consultants are the store's active staff who sell (sales.write): the
	// booking form's choice for managers, the calendar's consultant filter.
	Consultants []Consultant `json:"consultants"`
}

// Consultant is a member of staff who runs test drives.
type Consultant struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

func consultants(ctx context.Context, q db.Querier, storeID int64) ([]Consultant, error) {
	rows, err := q.QueryContext(ctx, `SELECT u.id, u.name FROM app_user u WHERE u.store_id = ? AND u.status = 'active'
		AND EXISTS (SELECT 1 FROM role_permission p WHERE p.role_id = u.role_id AND p.permission = ?) ORDER BY u.id`, storeID, auth.PermSalesWrite)
	if err != nil {
		return nil, fmt.Errorf("testdrive: consultants of store %d: %w", storeID, err)
	}
	defer rows.Close()
	out := []Consultant{}
	for rows.Next() {
		var c Consultant
		if err := rows.Scan(&c.ID, &c.Name); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// maxRange bounds a calendar request (a month view and a bit).
const maxRange = 42 * 24 * time.Hour

// Calendar lists a store's bookings in a range. Every reader of the store sees
// every car's occupancy, but the customer (name, route, notes) only of the
// drives whose customer is in their data scope; the others come as hidden.
func (s *Service) Calendar(ctx context.Context, a auth.Actor, f CalendarFilter) (Calendar, error) {
	if err := auth.Require(a, auth.PermCustomerRead); err != nil {
		return Calendar{}, err
	}
	storeID, ok := storeOf(a, f.StoreID)
	if !ok {
		return Calendar{}, apperr.New(apperr.NotFound, "not_found")
	}
	if f.From == 0 {
		r, err := loadRules(ctx, s.d.DB.R, storeID)
		if err != nil {
			return Calendar{}, err
		}
		y, m, d := s.d.Clock.Now().In(r.loc).Date()
		f.From = time.Date(y, m, d, 0, 0, 0, 0, r.loc).UnixMilli()
	}
	if f.To == 0 {
		f.To = f.From + 24*3600*1000
	}
	if f.To <= f.From || f.To-f.From > maxRange.Milliseconds() {
		return Calendar{}, apperr.Field("to", "testdrive.range", "days", int(maxRange.Hours()/24))
	}
	cars, err := listCars(ctx, s.d.DB.R, storeID, false)
	if err != nil {
		return Calendar{}, err
	}
	w := sq.And{sq.Eq{"t.store_id": storeID}, sq.Lt{"t.start_at": f.To}, sq.Gt{"t.end_at": f.From}}
	if !f.Cancelled {
		w = append(w, sq.NotEq{"t.status": StatusCancelled})
	}
	if f.CarID != 0 {
		w = append(w, sq.Eq{"t.car_id": f.CarID})
	}
	if f.ConsultantID != 0 {
		w = append(w, sq.Eq{"t.consultant_id": f.ConsultantID})
	}
	items, err := s.query(ctx, a, w, "t.start_at, t.id", 2000)
	if err != nil {
		return Calendar{}, err
	}
	staff, err := consultants(ctx, s.d.DB.R, storeID)
	if err != nil {
		return Calendar{}, err
	}
	return Calendar{StoreID: storeID, From: f.From, To: f.To, Cars: cars, Items: items, Consultants: staff}, nil
}

// query runs a drive list and hides the customers outside the actor's scope.
func (s *Service) query(ctx context.Context, a auth.Actor, where sq.Sqlizer, order string, limit int) ([]TestDrive, error) {
	cond, args, err := where.ToSql()
	if err != nil {
		return nil, err
	}
	rows, err := s.d.DB.R.QueryContext(ctx, `SELECT `+driveCols+driveFrom+` WHERE `+cond+` ORDER BY `+order+fmt.Sprintf(` LIMIT %d`, limit), args...)
	if err != nil {
		return nil, fmt.Errorf("testdrive: list: %w", err)
	}
	defer rows.Close()
	out := []TestDrive{}
	for rows.Next() {
		t, err := scanDrive(rows)
		if err != nil {
			return nil, err
		}
		if auth.Can(a, auth.PermCustomerRead, t.record()) {
			t.CanWrite = a.Has(auth.PermSalesWrite) && auth.Can(a, auth.PermCustomerWrite, t.record())
		} else {
			t.hide()
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ForCustomer lists a customer's test drives, newest first.
func (s *Service) ForCustomer(ctx context.Context, a auth.Actor, customerID int64) ([]TestDrive, error) {
	if _, err := s.d.CRM.Readable(ctx, s.d.DB.R, a, customerID); err != nil {
		return nil, err
	}
	return s.query(ctx, a, sq.Eq{"t.customer_id": customerID}, "t.start_at DESC, t.id DESC", 200)
}

// StatsFilter selects the period of the stats.
type StatsFilter struct {
	StoreID int64 `query:"storeId"`
	From    int64 `query:"from"` // unix ms; default 30 days ago
	To      int64 `query:"to"`   // unix ms; default now
}

// ConsultantStats counts one consultant's test drives that started in a period.
type ConsultantStats struct {
	ConsultantID   int64   `json:"consultantId"`
	ConsultantName string  `json:"consultantName"`
	Booked         int     `json:"booked"` // every booking of the period, whatever became of it
	Completed      int     `json:"completed"`
	NoShow         int     `json:"noShow"`
	Cancelled      int     `json:"cancelled"`
	Upcoming       int     `json:"upcoming"`   // still booked or in progress
	NoShowRate     float64 `json:"noShowRate"` // no-shows ÷ (completed + no-shows); 0 when none
}

// Stats counts bookings per consultant of a store (no-shows counted, S2): own
// scope sees their own line, team scope their team's, store scope the store's.
func (s *Service) Stats(ctx context.Context, a auth.Actor, f StatsFilter) ([]ConsultantStats, error) {
	if err := auth.Require(a, auth.PermCustomerRead); err != nil {
		return nil, err
	}
	storeID, ok := storeOf(a, f.StoreID)
	if !ok {
		return nil, apperr.New(apperr.NotFound, "not_found")
	}
	if f.To == 0 {
		f.To = s.now()
	}
	if f.From == 0 {
		f.From = f.To - 30*24*3600*1000
	}
	if f.To <= f.From || f.To-f.From > 366*24*3600*1000 {
		return nil, apperr.Field("to", "testdrive.range", "days", 366)
	}
	scope := auth.Filter(a, auth.PermCustomerRead, auth.Columns{Store: "t.store_id", Owner: "t.consultant_id", Department: "u.department_id"})
	cond, args, err := sq.And{sq.Eq{"t.store_id": storeID}, sq.GtOrEq{"t.start_at": f.From}, sq.Lt{"t.start_at": f.To}, scope}.ToSql()
	if err != nil {
		return nil, err
	}
	rows, err := s.d.DB.R.QueryContext(ctx, `SELECT t.consultant_id, COALESCE(u.name, ''), count(*),
		sum(t.status = 'completed'), sum(t.status = 'no_show'), sum(t.status = 'cancelled'), sum(t.status IN ('booked', 'in_progress'))
		FROM test_drive t LEFT JOIN app_user u ON u.id = t.consultant_id WHERE `+cond+` GROUP BY t.consultant_id ORDER BY count(*) DESC, t.consultant_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("testdrive: stats: %w", err)
	}
	defer rows.Close()
	out := []ConsultantStats{}
	for rows.Next() {
		var c ConsultantStats
		if err := rows.Scan(&c.ConsultantID, &c.ConsultantName, &c.Booked, &c.Completed, &c.NoShow, &c.Cancelled, &c.Upcoming); err != nil {
			return nil, err
		}
		if n := c.Completed + c.NoShow; n > 0 {
			c.NoShowRate = float64(c.NoShow) / float64(n)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// attachOwner resolves a test drive for the attachments (the scanned
// agreement, a photo of the licence): read with the customer, write with
// sales.write in the customer's scope.
func (s *Service) attachOwner(ctx context.Context, q db.Querier, id int64) (attach.Owner, error) {
	t, err := loadDrive(ctx, q, id)
	if err != nil {
		return attach.Owner{}, err
	}
	return attach.Owner{Record: t.record(), ReadPerm: auth.PermCustomerRead, WritePerm: auth.PermSalesWrite}, nil
}
