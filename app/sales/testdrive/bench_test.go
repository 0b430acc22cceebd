package testdrive_test

import (
	"context"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/auth"
	"dealerdesk/app/sales/testdrive"
)

// benchStore is a store with five test-drive cars, six consultants and a year
// of bookings behind it (about 11 a day: 4,000 drives), as a busy 4S store has.
func benchStore(b *testing.B) (*apptest.Env, auth.Actor, []int64, []int64, int64) {
	b.Helper()
	env := apptest.NewDemo(b)
	ctx := context.Background()
	mgr, err := auth.ActorOf(ctx, env.App.DB.R, env.UserID("sales_manager"))
	if err != nil {
		b.Fatal(err)
	}
	var model int64
	if err := env.App.DB.R.QueryRow(`SELECT id FROM vehicle_model ORDER BY id LIMIT 1`).Scan(&model); err != nil {
		b.Fatal(err)
	}
	var cars []int64
	for i := 0; i < 5; i++ {
		c, err := env.App.TestDrive.CreateCar(ctx, mgr, testdrive.CarInput{ModelID: model, Plate: "浙AD10" + string(rune('0'+i)) + "0"})
		if err != nil {
			b.Fatal(err)
		}
		cars = append(cars, c.ID)
	}
	var consultants []int64
	rows, err := env.App.DB.R.Query(`SELECT u.id FROM app_user u JOIN role r ON r.id = u.role_id WHERE u.store_id = 1 AND r.code = 'sales' ORDER BY u.id`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		consultants = append(consultants, id)
	}
	rows.Close()
	var res struct {
		CustomerID int64 `json:"customerId"`
	}
	env.As("sales").Do("POST", "/leads", map[string]any{"phone": "13800009999", "channel": "phone", "assign": "me", "name": "压测"}).JSON(b, &res)
	// A year back: 11 slots a day, car and consultant rotating, nothing overlapping.
	day0 := time.Date(2025, 11, 23, 9, 0, 0, 0, shanghai)
	tx, err := env.App.DB.W.Begin()
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for d := 0; d < 365; d++ {
		for k := 0; k < 11; k++ {
			start := day0.AddDate(0, 0, d).Add(time.Duration(k) * 45 * time.Minute).UnixMilli()
			if _, err := tx.Exec(`INSERT INTO test_drive (store_id, customer_id, car_id, consultant_id, start_at, end_at, status, created_at, updated_at)
				VALUES (1, ?, ?, ?, ?, ?, 'no_show', 0, 0)`, res.CustomerID, cars[n%5], consultants[n%len(consultants)], start, start+40*60000); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return env, mgr, cars, consultants, res.CustomerID
}

// BenchmarkCalendarWeek reads a week of a store's calendar (cars, consultants,
// bookings with the scope check per row) out of a year of history.
func BenchmarkCalendarWeek(b *testing.B) {
	env, mgr, _, _, _ := benchStore(b)
	ctx := context.Background()
	from := time.Date(2026, 6, 1, 0, 0, 0, 0, shanghai).UnixMilli()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cal, err := env.App.TestDrive.Calendar(ctx, mgr, testdrive.CalendarFilter{From: from, To: from + 7*86400000})
		if err != nil || len(cal.Items) != 77 {
			b.Fatalf("%d items, %v", len(cal.Items), err)
		}
	}
}

// BenchmarkBook books drives one after another through the service: the
// overlap check, the insert (and its trigger), the reminder task, timeline and
// audit in one write transaction. Run with -benchtime=1000x (the calendar has
// room for a few thousand future slots).
func BenchmarkBook(b *testing.B) {
	env, mgr, cars, consultants, cust := benchStore(b)
	ctx := context.Background()
	day0 := time.Date(2026, 11, 24, 9, 0, 0, 0, shanghai)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		slot := i / len(cars)
		start := day0.AddDate(0, 0, slot/16).Add(time.Duration(slot%16) * 30 * time.Minute).UnixMilli()
		_, err := env.App.TestDrive.Book(ctx, mgr, testdrive.BookInput{CustomerID: cust, CarID: cars[i%len(cars)], ConsultantID: consultants[i%len(consultants)],
			StartAt: start, EndAt: start + 30*60000})
		if err != nil {
			b.Fatalf("booking %d: %v", i, err)
		}
	}
}
