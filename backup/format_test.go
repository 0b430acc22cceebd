package backup_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"

	"dealerdesk/backup"
)

// TestArchive_OpensWithStandardTools decrypts a backup with age's own reader
// and unpacks it with a plain tar reader (and, if installed, the tar command),
// as an administrator would without DealerDesk.
func TestArchive_OpensWithStandardTools(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		compression string
		magic       []byte
		decompress  func(io.Reader) (io.Reader, error)
		tarFlag     string
	}{
		{"gzip", []byte{0x1f, 0x8b}, func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }, "-xzf"},
		{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}, func(r io.Reader) (io.Reader, error) {
			d, err := zstd.NewReader(r)
			if err != nil {
				return nil, err
			}
			return d.IOReadCloser(), nil
		}, "--zstd -xf"},
	} {
		t.Run(tc.compression, func(t *testing.T) {
			f := newFixture(t, 200)
			names := writeFiles(t, f.files, 3, 5000)
			opt := f.options(backup.KindManual)
			opt.Compression = tc.compression
			other := newIdentity(t)
			opt.Recipients = append(opt.Recipients, other.Recipient()) // two recipients, e.g. local + recovery
			res, err := backup.WriteFile(context.Background(), opt, f.backups)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(res.Path, map[string]string{"gzip": ".tar.gz.age", "zstd": ".tar.zst.age"}[tc.compression]) {
				t.Errorf("name %s", res.Path)
			}
			enc, err := os.ReadFile(res.Path)
			if err != nil {
				t.Fatal(err)
			}
			// Either recipient's key opens it.
			plainR, err := age.Decrypt(bytes.NewReader(enc), other)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := io.ReadAll(plainR)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(plain, tc.magic) {
				t.Fatalf("plaintext starts with % x, want %s magic", plain[:4], tc.compression)
			}
			zr, err := tc.decompress(bytes.NewReader(plain))
			if err != nil {
				t.Fatal(err)
			}
			tr := tar.NewReader(zr)
			out := t.TempDir()
			var members []string
			var manifest backup.Manifest
			for {
				h, err := tr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				members = append(members, h.Name)
				b, err := io.ReadAll(tr)
				if err != nil {
					t.Fatal(err)
				}
				if h.Name == "manifest.json" {
					if err := json.Unmarshal(b, &manifest); err != nil {
						t.Fatal(err)
					}
				}
				p := filepath.Join(out, filepath.FromSlash(h.Name))
				os.MkdirAll(filepath.Dir(p), 0o700)
				if err := os.WriteFile(p, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			want := []string{"manifest.json", "dealerdesk.db"}
			for _, n := range names {
				want = append(want, "files/"+n)
			}
			if !slices.Equal(members, want) {
				t.Fatalf("members %v, want %v", members, want)
			}
			if manifest.Compression != tc.compression || manifest.Tables["customer"] != 200 {
				t.Errorf("manifest %+v", manifest)
			}
			db, err := sql.Open("sqlite", "file:"+filepath.Join(out, "dealerdesk.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if n := count(t, db, "SELECT count(*) FROM customer WHERE name != ''"); n != 200 {
				t.Errorf("%d customers in the extracted database", n)
			}
			if n := count(t, db, "SELECT count(*) FROM customer WHERE phone = '13000007919'"); n != 1 {
				t.Errorf("index lookup found %d", n)
			}

			// The documented recovery, if the tools are installed:
			// age -d -i key.txt f.age | tar xz; sqlite3 dealerdesk.db.
			if hasTools("age", "tar", "sqlite3", "sh") && (tc.compression == "gzip" || hasTools("zstd")) {
				dir := t.TempDir()
				key := filepath.Join(dir, "key.txt")
				os.WriteFile(key, []byte(other.String()+"\n"), 0o600)
				cmd := exec.Command("sh", "-c", `age -d -i "$1" "$2" | tar `+tc.tarFlag+` - && sqlite3 dealerdesk.db "PRAGMA integrity_check; SELECT count(*) FROM customer;"`,
					"sh", key, res.Path)
				cmd.Dir = dir
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("age | tar | sqlite3: %v\n%s", err, out)
				}
				if got := strings.TrimSpace(string(out)); got != "ok\n200" {
					t.Errorf("sqlite3 says %q", got)
				}
				if _, err := os.Stat(filepath.Join(dir, "files", filepath.FromSlash(names[1]))); err != nil {
					t.Errorf("files not extracted: %v", err)
				}
			}

			// The tar command, if present, unpacks the same plaintext.
			if _, err := exec.LookPath("tar"); err == nil {
				dir := t.TempDir()
				cmd := exec.Command("sh", "-c", "tar "+tc.tarFlag+" -")
				cmd.Dir, cmd.Stdin = dir, bytes.NewReader(plain)
				if outb, err := cmd.CombinedOutput(); err != nil {
					t.Logf("tar %s not usable here: %v %s", tc.tarFlag, err, outb) // e.g. no zstd program
				} else if _, err := os.Stat(filepath.Join(dir, "files", filepath.FromSlash(names[0]))); err != nil {
					t.Errorf("tar did not extract files/%s: %v", names[0], err)
				}
			}
		})
	}
}

func hasTools(names ...string) bool {
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			return false
		}
	}
	return true
}
