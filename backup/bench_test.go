package backup_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"dealerdesk/backup"
)

// The benchmarks share one generated database per process (generating 100 MB
// takes a few seconds); TestMain removes it at the end.
var bench struct {
	once    sync.Once
	dir     string
	dbPath  string
	size    int64
	baseP99 time.Duration
	err     error
	db      *sql.DB
	id      *age.X25519Identity
	mu      sync.Mutex
	backups map[string][]byte // compression -> a backup, for BenchmarkRestore
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.db != nil {
		bench.db.Close()
	}
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

var notePhrases = []string{
	"客户来店看车，对SUV很感兴趣，", "预算二十万左右，", "需要贷款方案，首付三成，", "已试驾，对动力满意，",
	"家里有两个孩子，关注空间和安全，", "置换旧车，2016年款轿车，", "约周六再来店，", "对比了竞品，价格敏感，",
	"要求赠送脚垫和贴膜，", "电话回访未接通，", "微信已发报价单，", "销售顾问已跟进，",
}

// benchSetup generates a database of about DEALERDESK_BENCH_BACKUP_MB (100)
// megabytes: customer rows with Chinese names, phones and notes, follow-up
// rows, and the indexes the app would have.
func benchSetup(b *testing.B) {
	b.Helper()
	bench.once.Do(func() {
		mb := 100
		if s := os.Getenv("DEALERDESK_BENCH_BACKUP_MB"); s != "" {
			if mb, bench.err = strconv.Atoi(s); bench.err != nil {
				return
			}
		}
		if bench.dir, bench.err = os.MkdirTemp("", "dealerdesk-bench-backup-"); bench.err != nil {
			return
		}
		start := time.Now()
		bench.dbPath = filepath.Join(bench.dir, "dealerdesk.db")
		db, err := sql.Open("sqlite", liveDSN(bench.dbPath))
		if err != nil {
			bench.err = err
			return
		}
		db.SetMaxOpenConns(1)
		bench.db = db
		if _, err := db.Exec(schema + `
CREATE TABLE followup (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customer(id), at INTEGER NOT NULL, content TEXT NOT NULL) STRICT;
CREATE INDEX followup_customer_at ON followup(customer_id, at);
CREATE INDEX customer_created ON customer(created_at);
INSERT INTO store (id, name) VALUES (1, '北京店'), (2, '上海店');`); err != nil {
			bench.err = err
			return
		}
		id := 0
		for bench.size < int64(mb)<<20 {
			tx, err := db.Begin()
			if err != nil {
				bench.err = err
				return
			}
			for range 20_000 {
				id++
				note := ""
				for j := range 4 + id%5 {
					note += notePhrases[(id*7+j*3)%len(notePhrases)]
				}
				ms := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli() + int64(id)*60_000
				if _, err := tx.Exec(`INSERT INTO customer (id, store_id, name, phone, note, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
					id, id%2+1, chineseName(id), fmt.Sprintf("1%02d%08d", 30+id%60, id*7919%100000000), note, ms); err != nil {
					bench.err = err
					return
				}
				if _, err := tx.Exec(`INSERT INTO followup (customer_id, at, content) VALUES (?, ?, ?)`,
					id, ms+86_400_000, notePhrases[id%len(notePhrases)]+"下次跟进时间待定。"); err != nil {
					bench.err = err
					return
				}
			}
			if err := tx.Commit(); err != nil {
				bench.err = err
				return
			}
			var pages, pageSize int64
			db.QueryRow("PRAGMA page_count").Scan(&pages)
			db.QueryRow("PRAGMA page_size").Scan(&pageSize)
			bench.size = pages * pageSize
		}
		bench.id, _ = age.GenerateX25519Identity()
		bench.backups = map[string][]byte{}
		lat := make([]time.Duration, 0, 200)
		for range 200 {
			t0 := time.Now()
			if _, err := db.Exec(`INSERT INTO ack (at) VALUES (?)`, t0.UnixNano()); err != nil {
				bench.err = err
				return
			}
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		bench.baseP99 = lat[len(lat)*99/100]
		fmt.Fprintf(os.Stderr, "bench: generated %d customers, %.1f MB in %v; idle writer p99 %v\n",
			id, float64(bench.size)/(1<<20), time.Since(start).Round(time.Millisecond), bench.baseP99)
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
}

func benchOptions(compression string, i int) backup.Options {
	base := time.Date(2026, 11, 23, 2, 30, 0, 0, time.UTC)
	return backup.Options{
		DBPath:      bench.dbPath,
		ScratchDir:  filepath.Join(bench.dir, "scratch"),
		Kind:        backup.KindScheduled,
		Compression: compression,
		Recipients:  []age.Recipient{bench.id.Recipient()},
		Now:         func() time.Time { return base.Add(time.Duration(i) * time.Second) },
	}
}

// writerDuring commits one small row after another on the app-like writer
// (synchronous=FULL) until stop is closed and returns the commit latencies:
// what a user saving a form would wait while the backup runs.
func writerDuring(stop <-chan struct{}) <-chan []time.Duration {
	out := make(chan []time.Duration, 1)
	go func() {
		var lat []time.Duration
		for {
			select {
			case <-stop:
				out <- lat
				return
			default:
			}
			t0 := time.Now()
			if _, err := bench.db.Exec(`INSERT INTO ack (at) VALUES (?)`, t0.UnixNano()); err != nil {
				panic(err)
			}
			lat = append(lat, time.Since(t0))
			time.Sleep(2 * time.Millisecond)
		}
	}()
	return out
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(lat[len(lat)*99/100]), "writer-p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "writer-max-ms")
	b.ReportMetric(ms(bench.baseP99), "writer-idle-p99-ms")
	b.ReportMetric(float64(len(lat))/float64(b.N), "writer-commits/op")
}

// BenchmarkBackup measures WriteFile (snapshot, checks, tar, compression,
// age, fsync) on the generated database while a writer keeps committing, and
// reports MB/s of database, the archive size and the writer's latency.
func BenchmarkBackup(b *testing.B) {
	for _, compression := range []string{"gzip", "zstd"} {
		b.Run(compression, func(b *testing.B) {
			benchSetup(b)
			out := b.TempDir()
			b.SetBytes(bench.size)
			var lat []time.Duration
			var archive int64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				stop := make(chan struct{})
				done := writerDuring(stop)
				res, err := backup.WriteFile(context.Background(), benchOptions(compression, i), out)
				close(stop)
				lat = append(lat, <-done...)
				if err != nil {
					b.Fatal(err)
				}
				archive = res.Size
				b.StopTimer()
				bench.mu.Lock()
				if bench.backups[compression] == nil {
					bench.backups[compression], _ = os.ReadFile(res.Path)
				}
				bench.mu.Unlock()
				os.Remove(res.Path)
				os.Remove(res.Path + ".json")
				b.StartTimer()
			}
			b.ReportMetric(float64(archive)/(1<<20), "archive-MB")
			reportLatency(b, lat)
		})
	}
}

// BenchmarkRestore measures Open (decrypt, decompress, hash, extract, fsync,
// CheckDB) plus Remove of a backup of the generated database.
func BenchmarkRestore(b *testing.B) {
	for _, compression := range []string{"gzip", "zstd"} {
		b.Run(compression, func(b *testing.B) {
			benchSetup(b)
			bench.mu.Lock()
			enc := bench.backups[compression]
			bench.mu.Unlock()
			if enc == nil {
				dir := b.TempDir()
				res, err := backup.WriteFile(context.Background(), benchOptions(compression, 1000), dir)
				if err != nil {
					b.Fatal(err)
				}
				enc, _ = os.ReadFile(res.Path)
				bench.mu.Lock()
				bench.backups[compression] = enc
				bench.mu.Unlock()
			}
			scratch := b.TempDir()
			b.SetBytes(bench.size)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e, err := backup.Open(context.Background(), bytesReader(enc), []age.Identity{bench.id}, scratch)
				if err != nil {
					b.Fatal(err)
				}
				if err := e.Remove(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
