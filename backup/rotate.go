package backup

import (
	"cmp"
	"regexp"
	"slices"
	"time"
)

// Policy says how many backups rotation keeps: the newest backup of each of the
// Daily newest days, Weekly newest ISO weeks and Monthly newest months that
// have a backup (scheduled, manual and cli backups together), and the Special
// newest of each special kind (pre_upgrade, pre_restore). Zero keeps none of
// that class; use DefaultPolicy for the defaults.
type Policy struct{ Daily, Weekly, Monthly, Special int }

// DefaultPolicy is 7 daily, 4 weekly, 12 monthly and 3 of each special kind.
func DefaultPolicy() Policy { return Policy{Daily: 7, Weekly: 4, Monthly: 12, Special: 3} }

// Entry is a backup file as rotation sees it.
type Entry struct {
	Name      string
	Kind      string
	CreatedAt time.Time
}

const fileTimeLayout = "20060102T150405Z"

var fileNameRE = regexp.MustCompile(`^dealerdesk-([0-9]{8}T[0-9]{6}Z)-([a-z][a-z_]{0,31})\.tar\.(gz|zst)\.age$`)

// FileName is the name of a backup file, e.g.
// "dealerdesk-20261123T023000Z-scheduled.tar.gz.age" (zstd: ".tar.zst.age").
// The time is UTC to the second, so names sort by time.
func FileName(kind string, t time.Time, compression string) string {
	ext := "gz"
	if compression == CompressionZstd {
		ext = "zst"
	}
	return "dealerdesk-" + t.UTC().Format(fileTimeLayout) + "-" + kind + ".tar." + ext + ".age"
}

// ParseFileName parses a name made by FileName. It reports false for anything
// else, including sidecars (".json") and partial files (".part").
func ParseFileName(name string) (Entry, bool) {
	sm := fileNameRE.FindStringSubmatch(name)
	if sm == nil {
		return Entry{}, false
	}
	t, err := time.Parse(fileTimeLayout, sm[1])
	if err != nil {
		return Entry{}, false
	}
	return Entry{Name: name, Kind: sm[2], CreatedAt: t}, true
}

// Plan decides which backups to keep; it is pure: the caller passes the clock
// and the store's time zone, in which day, ISO-week and month boundaries are
// drawn. Scheduled, manual and cli backups are rotated grandfather-father-son:
// an entry is kept if it is the newest of its day among the p.Daily newest days
// that have a backup, or the newest of its ISO week among the p.Weekly newest
// weeks, or the newest of its month among the p.Monthly newest months (the
// three rules overlap: the newest backup is usually kept by all three).
// Pre-upgrade and pre-restore snapshots are never rotated with those: the
// p.Special newest of each kind are kept. Counting days "that have a backup"
// rather than calendar days means a PC that was off for a month still keeps
// its last week of backups.
//
// Three safety rules: the newest scheduled, manual or cli backup is always
// kept, even with a zero policy; an entry dated after now (a clock that was wrong when it
// was made) is kept and takes no slot, so it cannot push real backups out; and
// an entry of a kind Plan does not know is kept. Both lists are newest first.
func Plan(entries []Entry, now time.Time, p Policy, loc *time.Location) (keep, remove []Entry) {
	if loc == nil {
		loc = time.Local
	}
	sorted := slices.Clone(entries)
	slices.SortStableFunc(sorted, func(a, b Entry) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.Name, a.Name)
	})

	kept := make([]bool, len(sorted))
	day := func(t time.Time) [2]int { y, m, d := t.In(loc).Date(); return [2]int{y, int(m)*100 + d} }
	week := func(t time.Time) [2]int { y, w := t.In(loc).ISOWeek(); return [2]int{y, w} }
	month := func(t time.Time) [2]int { y, m, _ := t.In(loc).Date(); return [2]int{y, int(m)} }
	// gfs keeps the newest entry of each of the n newest buckets among the
	// entries for which match is true.
	gfs := func(match func(Entry) bool, bucket func(time.Time) [2]int, n int) {
		seen := 0
		var last [2]int
		for i, e := range sorted {
			if seen >= n {
				return
			}
			if !match(e) || e.CreatedAt.After(now) {
				continue
			}
			if b := bucket(e.CreatedAt); seen == 0 || b != last {
				last = b
				seen++
				kept[i] = true
			}
		}
	}
	isGFS := func(e Entry) bool {
		return e.Kind == KindScheduled || e.Kind == KindManual || e.Kind == KindCLI
	}
	// Whatever the policy, the newest backup survives.
	gfs(isGFS, day, 1)
	gfs(isGFS, day, p.Daily)
	gfs(isGFS, week, p.Weekly)
	gfs(isGFS, month, p.Monthly)
	for _, kind := range []string{KindPreUpgrade, KindPreRestore} {
		n := 0
		for i, e := range sorted {
			if e.Kind == kind && !e.CreatedAt.After(now) && n < p.Special {
				kept[i] = true
				n++
			}
		}
	}
	for i, e := range sorted {
		switch {
		case kept[i], e.CreatedAt.After(now), !knownKind(e.Kind):
			keep = append(keep, e)
		default:
			remove = append(remove, e)
		}
	}
	return keep, remove
}
