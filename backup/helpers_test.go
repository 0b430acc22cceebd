package backup_test

import (
	"crypto/rand"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"
	_ "modernc.org/sqlite"

	"dealerdesk/backup"
)

// schema is a small slice of the real one: foreign keys, STRICT tables,
// indexes, and goose's version table.
const schema = `
CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')));
INSERT INTO goose_db_version (version_id, is_applied) VALUES (0,1),(1,1),(2,1),(3,1),(4,1),(5,1),(6,1),(7,1),(8,1),(9,1),(10,0);
CREATE TABLE store (id INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT;
CREATE TABLE customer (
  id INTEGER PRIMARY KEY,
  store_id INTEGER NOT NULL REFERENCES store(id),
  name TEXT NOT NULL,
  phone TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX customer_phone ON customer(phone);
CREATE INDEX customer_store_name ON customer(store_id, name);
CREATE TABLE ack (id INTEGER PRIMARY KEY, at INTEGER NOT NULL) STRICT;
`

// liveDSN is how the app opens its writer.
func liveDSN(path string) string {
	return "file:" + filepath.ToSlash(path) +
		"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"
}

var surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
var given = []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英")

func chineseName(i int) string {
	return string([]rune{surnames[i%len(surnames)], given[(i/7)%len(given)], given[(i/3)%len(given)]})
}

// newLiveDB creates a WAL database like the app's, with customers rows, and
// returns its path and an open writer (closed at cleanup).
func newLiveDB(t testing.TB, dir string, customers int) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(dir, "dealerdesk.db")
	db, err := sql.Open("sqlite", liveDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(schema); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO store (id, name) VALUES (1, '北京店'), (2, '上海店')`); err != nil {
		t.Fatal(err)
	}
	insertCustomers(t, db, 0, customers)
	return path, db
}

func insertCustomers(t testing.TB, db *sql.DB, from, n int) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	st, err := tx.Prepare(`INSERT INTO customer (id, store_id, name, phone, note, created_at) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	for i := from; i < from+n; i++ {
		_, err := st.Exec(i+1, i%2+1, chineseName(i), fmt.Sprintf("13%09d", i*7919%1000000000),
			fmt.Sprintf("第%d次到店，意向车型：SUV，预算二十万左右，需要贷款方案。备注 %d", i%9+1, i), time.Now().UnixMilli())
		if err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func newIdentity(t testing.TB) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// fastPassphrase is a scrypt recipient with a tiny work factor, so tests do
// not spend a second per encryption; PassphraseIdentity still opens it.
func fastPassphrase(t testing.TB, pass string) age.Recipient {
	t.Helper()
	r, err := age.NewScryptRecipient(pass)
	if err != nil {
		t.Fatal(err)
	}
	r.SetWorkFactor(10)
	return r
}

// writeFiles puts n content-addressed-looking files (one of them big and
// incompressible) under dir and returns their names relative to dir.
func writeFiles(t testing.TB, dir string, n int, big int) []string {
	t.Helper()
	var names []string
	for i := 0; i < n; i++ {
		size := 100 + i
		if i == 0 {
			size = big
		}
		b := make([]byte, size)
		rand.Read(b)
		name := fmt.Sprintf("%02x/%064x", i, i)
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	return names
}

// fixture is a data dir with a live database and an attachment store.
type fixture struct {
	data, dbPath, files, scratch, backups string
	db                                    *sql.DB
	id                                    *age.X25519Identity
}

func newFixture(t testing.TB, customers int) *fixture {
	t.Helper()
	data := t.TempDir()
	f := &fixture{data: data, files: filepath.Join(data, "files"),
		scratch: filepath.Join(data, "scratch"), backups: filepath.Join(data, "backups"), id: newIdentity(t)}
	f.dbPath, f.db = newLiveDB(t, data, customers)
	return f
}

func (f *fixture) options(kind string) backup.Options {
	return backup.Options{
		DBPath:     f.dbPath,
		Dirs:       map[string]string{"files": f.files},
		ScratchDir: f.scratch,
		AppVersion: "test",
		Kind:       kind,
		Recipients: []age.Recipient{f.id.Recipient()},
	}
}

func count(t testing.TB, db *sql.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// entries lists the names in dir (nil if it does not exist).
func entries(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}
