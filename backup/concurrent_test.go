package backup_test

import (
	"context"
	"database/sql"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"dealerdesk/backup"
)

// TestConcurrent_BackupWhileWriting backs up a database while a writer commits
// one row after another (as the app's single writer does), then restores it:
// every row acknowledged before the backup started must be there, the rows
// must be a gap-free prefix (a consistent snapshot), and the writer must have
// kept committing during the backup, the snapshot phase included.
func TestConcurrent_BackupWhileWriting(t *testing.T) {
	customers := 40_000
	if raceEnabled {
		customers = 2_000
	}
	f := newFixture(t, customers)
	writeFiles(t, f.files, 3, 200_000)
	// synchronous=NORMAL: a commit then waits for locks, not for fsync, so a
	// stalled disk on a busy CI machine cannot pass for a blocked writer.
	// BenchmarkBackup measures the app's synchronous=FULL latency.
	if _, err := f.db.Exec("PRAGMA synchronous = NORMAL"); err != nil {
		t.Fatal(err)
	}

	type ack struct {
		id      int64
		at      time.Time
		latency time.Duration
	}
	var (
		mu   sync.Mutex
		acks []ack
	)
	stop := make(chan struct{})
	writerDone := make(chan error, 1)
	go func() {
		for id := int64(1); ; id++ {
			select {
			case <-stop:
				writerDone <- nil
				return
			default:
			}
			start := time.Now()
			if _, err := f.db.Exec(`INSERT INTO ack (id, at) VALUES (?, ?)`, id, start.UnixNano()); err != nil {
				writerDone <- err
				return
			}
			now := time.Now()
			mu.Lock()
			acks = append(acks, ack{id, now, now.Sub(start)})
			mu.Unlock()
		}
	}()
	// Let the writer get going.
	for {
		mu.Lock()
		n := len(acks)
		mu.Unlock()
		if n >= 50 {
			break
		}
		time.Sleep(time.Millisecond)
	}

	var snapStart, snapEnd time.Time
	opt := f.options(backup.KindScheduled)
	opt.Progress = func(phase string, done, total int64) {
		if phase == "snapshot" && done == 0 {
			snapStart = time.Now()
		}
		if phase == "snapshot" && done == 1 {
			snapEnd = time.Now()
		}
	}
	started := time.Now()
	res, err := backup.WriteFile(context.Background(), opt, f.backups)
	ended := time.Now()
	close(stop)
	if werr := <-writerDone; werr != nil {
		t.Fatalf("writer: %v", werr)
	}
	if err != nil {
		t.Fatal(err)
	}

	var before, during, duringSnap int
	var lat []time.Duration
	for _, a := range acks {
		switch {
		case a.at.Before(started):
			before++
		case a.at.Before(ended):
			during++
			lat = append(lat, a.latency)
			if a.at.After(snapStart) && a.at.Before(snapEnd) {
				duringSnap++
			}
		}
	}
	slices.Sort(lat)
	var p99, max time.Duration
	if len(lat) > 0 {
		p99, max = lat[len(lat)*99/100], lat[len(lat)-1]
	}
	t.Logf("backup of %d customers took %v (snapshot %v); writer: %d commits before, %d during (%d during the snapshot), latency p99 %v, max %v",
		customers, ended.Sub(started), snapEnd.Sub(snapStart), before, during, duringSnap, p99, max)
	if during == 0 {
		t.Error("the writer committed nothing while the backup ran")
	}
	if duringSnap == 0 {
		t.Error("the writer committed nothing during VACUUM INTO")
	}

	fh, err := os.Open(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	e, err := backup.Open(context.Background(), fh, []age.Identity{f.id}, f.scratch)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Remove()
	db, err := sql.Open("sqlite", "file:"+e.DBPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := count(t, db, "SELECT count(*) FROM ack")
	maxID := count(t, db, "SELECT COALESCE(MAX(id), 0) FROM ack")
	if n != maxID {
		t.Errorf("snapshot holds %d ack rows but max id %d: not a consistent prefix", n, maxID)
	}
	if n < int64(before) {
		t.Errorf("snapshot holds %d ack rows, but %d were acknowledged before the backup started", n, before)
	}
	if e.Manifest.Tables["ack"] != n || count(t, db, "SELECT count(*) FROM customer") != int64(customers) {
		t.Errorf("manifest %v", e.Manifest.Tables)
	}
}
