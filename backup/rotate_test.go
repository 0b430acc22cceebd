package backup_test

import (
	"slices"
	"testing"
	"time"

	"dealerdesk/backup"
)

// TestPlan_Calendar rotates 400 days of nightly backups plus manual and
// special ones, with day, week and month boundaries in the store's time zone
// (Asia/Shanghai: the 02:30 nightly run is on the previous day in UTC, so
// drawing the boundaries in UTC would keep different files).
func TestPlan_Calendar(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, loc) }
	now := at(2026, 11, 23, 10, 0) // a Monday
	var all []backup.Entry
	add := func(kind string, t time.Time) string {
		name := backup.FileName(kind, t, "gzip")
		e, ok := backup.ParseFileName(name)
		if !ok {
			panic(name)
		}
		all = append(all, e)
		return name
	}
	for k := 0; k < 400; k++ {
		add(backup.KindScheduled, at(2026, 11, 23-k, 2, 30))
	}
	add(backup.KindManual, at(2026, 11, 23, 9, 0))
	add(backup.KindManual, at(2026, 11, 20, 15, 0))
	add(backup.KindCLI, at(2026, 9, 30, 21, 0))
	future := add(backup.KindScheduled, at(2026, 11, 25, 2, 30)) // made while the clock was wrong
	for _, d := range []time.Time{at(2026, 1, 5, 1, 0), at(2026, 3, 1, 1, 0), at(2026, 6, 1, 1, 0), at(2026, 9, 1, 1, 0), at(2026, 11, 1, 1, 0)} {
		add(backup.KindPreUpgrade, d)
	}
	for _, d := range []time.Time{at(2025, 12, 1, 1, 0), at(2026, 2, 1, 1, 0), at(2026, 4, 1, 1, 0), at(2026, 10, 1, 1, 0)} {
		add(backup.KindPreRestore, d)
	}
	unknown := "dealerdesk-20200101T000000Z-someday_kind.tar.gz.age"
	ue, ok := backup.ParseFileName(unknown)
	if !ok {
		t.Fatal("unknown kinds must parse")
	}
	all = append(all, ue)
	// Shuffle deterministically: Plan must not depend on the input order.
	slices.SortFunc(all, func(a, b backup.Entry) int { return int(a.CreatedAt.Unix()%7 - b.CreatedAt.Unix()%7) })

	keep, remove := backup.Plan(all, now, backup.DefaultPolicy(), loc)

	name := func(kind string, y int, m time.Month, d, h, min int) string {
		return backup.FileName(kind, at(y, m, d, h, min), "gzip")
	}
	s := backup.KindScheduled
	want := []string{
		future,
		// daily: the 7 newest days, the newest backup of each
		name(backup.KindManual, 2026, 11, 23, 9, 0), name(s, 2026, 11, 22, 2, 30), name(s, 2026, 11, 21, 2, 30),
		name(backup.KindManual, 2026, 11, 20, 15, 0), name(s, 2026, 11, 19, 2, 30), name(s, 2026, 11, 18, 2, 30),
		name(s, 2026, 11, 17, 2, 30),
		// weekly: ISO weeks 48 and 47 are covered above; 46 and 45
		name(s, 2026, 11, 15, 2, 30), name(s, 2026, 11, 8, 2, 30),
		// special: the 3 newest of each kind
		name(backup.KindPreUpgrade, 2026, 11, 1, 1, 0),
		// monthly: November is covered; October 2026 back to December 2025
		name(s, 2026, 10, 31, 2, 30),
		name(backup.KindPreRestore, 2026, 10, 1, 1, 0),
		name(backup.KindCLI, 2026, 9, 30, 21, 0),
		name(backup.KindPreUpgrade, 2026, 9, 1, 1, 0),
		name(s, 2026, 8, 31, 2, 30), name(s, 2026, 7, 31, 2, 30), name(s, 2026, 6, 30, 2, 30),
		name(backup.KindPreUpgrade, 2026, 6, 1, 1, 0),
		name(s, 2026, 5, 31, 2, 30), name(s, 2026, 4, 30, 2, 30),
		name(backup.KindPreRestore, 2026, 4, 1, 1, 0),
		name(s, 2026, 3, 31, 2, 30), name(s, 2026, 2, 28, 2, 30),
		name(backup.KindPreRestore, 2026, 2, 1, 1, 0),
		name(s, 2026, 1, 31, 2, 30), name(s, 2025, 12, 31, 2, 30),
		unknown,
	}
	var got []string
	for _, e := range keep {
		got = append(got, e.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("kept %d:\n%v\nwant %d:\n%v", len(got), got, len(want), want)
	}
	if len(keep)+len(remove) != len(all) {
		t.Errorf("kept %d + removed %d != %d entries", len(keep), len(remove), len(all))
	}
	for i := 1; i < len(remove); i++ {
		if remove[i].CreatedAt.After(remove[i-1].CreatedAt) {
			t.Fatal("remove list is not newest first")
		}
	}
	for _, e := range remove {
		if slices.Contains(want, e.Name) {
			t.Errorf("%s both kept and removed", e.Name)
		}
	}
	// The two older backups of days that also have a newer one go.
	for _, n := range []string{name(s, 2026, 11, 23, 2, 30), name(s, 2026, 11, 20, 2, 30), name(s, 2026, 9, 30, 2, 30)} {
		if !slices.ContainsFunc(remove, func(e backup.Entry) bool { return e.Name == n }) {
			t.Errorf("%s should be removed", n)
		}
	}

	// With UTC boundaries the monthly survivors differ (the 02:30 run of
	// November 1st is October 31st in UTC), which is why loc matters.
	keepUTC, _ := backup.Plan(all, now, backup.DefaultPolicy(), time.UTC)
	if slices.EqualFunc(keep, keepUTC, func(a, b backup.Entry) bool { return a.Name == b.Name }) {
		t.Error("time zone made no difference; the test does not exercise local boundaries")
	}

	// A zero policy still keeps the newest backup (and the future and unknown ones).
	keep0, _ := backup.Plan(all, now, backup.Policy{}, loc)
	var got0 []string
	for _, e := range keep0 {
		got0 = append(got0, e.Name)
	}
	if want0 := []string{future, name(backup.KindManual, 2026, 11, 23, 9, 0), unknown}; !slices.Equal(got0, want0) {
		t.Errorf("zero policy kept %v, want %v", got0, want0)
	}
}

func TestFileName_RoundTrip(t *testing.T) {
	t.Parallel()
	loc := time.FixedZone("CST", 8*3600)
	for _, tc := range []struct {
		kind, compression, want string
	}{
		{backup.KindScheduled, "", "dealerdesk-20261122T183000Z-scheduled.tar.gz.age"},
		{backup.KindPreUpgrade, "gzip", "dealerdesk-20261122T183000Z-pre_upgrade.tar.gz.age"},
		{backup.KindManual, "zstd", "dealerdesk-20261122T183000Z-manual.tar.zst.age"},
	} {
		local := time.Date(2026, 11, 23, 2, 30, 0, 999, loc)
		name := backup.FileName(tc.kind, local, tc.compression)
		if name != tc.want {
			t.Errorf("FileName = %s, want %s", name, tc.want)
		}
		e, ok := backup.ParseFileName(name)
		if !ok || e.Name != name || e.Kind != tc.kind || !e.CreatedAt.Equal(local.Truncate(time.Second)) {
			t.Errorf("ParseFileName(%s) = %+v, %v", name, e, ok)
		}
	}
	for _, bad := range []string{
		"dealerdesk-20261122T183000Z-scheduled.tar.gz.age.json",
		"dealerdesk-20261122T183000Z-scheduled.tar.gz.age.part",
		".dealerdesk-123.part",
		"dealerdesk-20261122T183000Z-Scheduled.tar.gz.age",
		"dealerdesk-20261322T183000Z-scheduled.tar.gz.age",
		"dealerdesk-20261122T183000Z-scheduled.tar.bz2.age",
		"other-20261122T183000Z-scheduled.tar.gz.age",
	} {
		if e, ok := backup.ParseFileName(bad); ok {
			t.Errorf("ParseFileName(%s) = %+v, want false", bad, e)
		}
	}
}
