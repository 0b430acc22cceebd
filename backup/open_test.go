package backup_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"

	"dealerdesk/backup"
)

type tarEntry struct {
	name     string
	data     []byte
	typeflag byte
	linkname string
}

// unpackPlain decrypts and lists a gzip backup made by Create.
func unpackPlain(t *testing.T, enc []byte, id age.Identity) []tarEntry {
	t.Helper()
	r, err := age.Decrypt(bytes.NewReader(enc), id)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out []tarEntry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out = append(out, tarEntry{name: h.Name, data: b, typeflag: h.Typeflag})
	}
}

// pack builds a tar.gz of es and encrypts it to r.
func pack(t *testing.T, es []tarEntry, r age.Recipient) []byte {
	t.Helper()
	var plain bytes.Buffer
	zw := gzip.NewWriter(&plain)
	tw := tar.NewWriter(zw)
	for _, e := range es {
		typ := e.typeflag
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o600, Linkname: e.linkname}
		if typ == tar.TypeReg {
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			tw.Write(e.data)
		}
	}
	tw.Close()
	zw.Close()
	return encrypt(t, plain.Bytes(), r)
}

func encrypt(t *testing.T, plain []byte, r age.Recipient) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := age.Encrypt(&out, r)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plain)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// repack decrypts a real backup, lets mutate change its manifest and members
// (hashes of listed members are recomputed unless mutate set them), and
// encrypts the result again.
func repack(t *testing.T, enc []byte, id *age.X25519Identity, mutate func(m *backup.Manifest, es *[]tarEntry)) []byte {
	t.Helper()
	es := unpackPlain(t, enc, id)
	var m backup.Manifest
	if err := json.Unmarshal(es[0].data, &m); err != nil {
		t.Fatal(err)
	}
	rest := es[1:]
	mutate(&m, &rest)
	b, _ := json.Marshal(m)
	return pack(t, append([]tarEntry{{name: "manifest.json", data: b}}, rest...), id.Recipient())
}

func fileEntry(name string, data []byte) backup.FileEntry {
	s := sha256.Sum256(data)
	return backup.FileEntry{Path: name, Size: int64(len(data)), SHA256: hex.EncodeToString(s[:])}
}

// headerEnd returns the offset of the first payload byte (the nonce).
func headerEnd(t *testing.T, enc []byte) int {
	i := bytes.Index(enc, []byte("\n--- "))
	if i < 0 {
		t.Fatal("no header MAC line")
	}
	return i + 1 + bytes.IndexByte(enc[i+1:], '\n') + 1
}

func flip(b []byte, i int) []byte {
	c := slices.Clone(b)
	c[i] ^= 0x01
	return c
}

// TestOpen_RefusesAndLeavesNothing feeds Open damaged, foreign and hostile
// files: each must be refused with the right error kind and leave nothing in
// the scratch directory (or anywhere else).
func TestOpen_RefusesAndLeavesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 300)
	writeFiles(t, f.files, 2, 200_000) // incompressible, so the file spans several 64 KiB chunks
	var buf bytes.Buffer
	if _, err := backup.Create(context.Background(), f.options(backup.KindManual), &buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	he := headerEnd(t, good)
	const chunk = 64<<10 + 16
	if len(good) < he+16+2*chunk+100 {
		t.Fatalf("backup too small (%d bytes) for the chunk-boundary cases", len(good))
	}

	passOpt := f.options(backup.KindManual)
	passOpt.Recipients = []age.Recipient{fastPassphrase(t, "right passphrase")}
	var pbuf bytes.Buffer
	if _, err := backup.Create(context.Background(), passOpt, &pbuf); err != nil {
		t.Fatal(err)
	}
	wrongPass, _ := backup.PassphraseIdentity("wrong passphrase")

	random := make([]byte, 5000)
	rand.Read(random)
	var gzRandom bytes.Buffer
	zw := gzip.NewWriter(&gzRandom)
	zw.Write(random)
	zw.Close()

	macLine := bytes.Index(good, []byte("\n--- ")) + 5
	stanzaBody := bytes.Index(good, []byte("-> X25519 "))
	stanzaBody += bytes.IndexByte(good[stanzaBody:], '\n') + 3

	ids := []age.Identity{f.id}
	type tc struct {
		name string
		file []byte
		ids  []age.Identity
		want []error // any of these
		msg  string  // substring of the message, if set
	}
	cases := []tc{
		{"wrong identity", good, []age.Identity{newIdentity(t)}, []error{backup.ErrWrongKey}, "wrong passphrase or identity"},
		{"wrong passphrase", pbuf.Bytes(), []age.Identity{wrongPass}, []error{backup.ErrWrongKey}, "incorrect passphrase"},
		{"passphrase for a key file", good, []age.Identity{wrongPass}, []error{backup.ErrWrongKey}, ""},
		{"key for a passphrase file", pbuf.Bytes(), ids, []error{backup.ErrWrongKey}, ""},
		{"empty file", nil, ids, []error{backup.ErrCorrupt}, ""},
		{"not an age file", random, ids, []error{backup.ErrCorrupt}, "not an age-encrypted file"},
		{"flipped byte in version line", flip(good, 3), ids, []error{backup.ErrCorrupt}, ""},
		{"flipped byte in header MAC", flip(good, macLine+5), ids, []error{backup.ErrCorrupt}, ""},
		// A damaged wrapped key cannot be told from a wrong key.
		{"flipped byte in recipient stanza", flip(good, stanzaBody), ids, []error{backup.ErrCorrupt, backup.ErrWrongKey}, ""},
		{"flipped byte in nonce", flip(good, he+3), ids, []error{backup.ErrCorrupt}, ""},
		{"flipped byte in first chunk", flip(good, he+16+1000), ids, []error{backup.ErrCorrupt}, ""},
		{"flipped byte in second chunk", flip(good, he+16+chunk+5), ids, []error{backup.ErrCorrupt}, ""},
		{"flipped last byte", flip(good, len(good)-1), ids, []error{backup.ErrCorrupt}, ""},
		{"age file holding random bytes", encrypt(t, random, f.id.Recipient()), ids, []error{backup.ErrNotBackup}, ""},
		{"age file holding gzip of random bytes", encrypt(t, gzRandom.Bytes(), f.id.Recipient()), ids, []error{backup.ErrNotBackup}, ""},
		{"tar without manifest", pack(t, []tarEntry{{name: "dealerdesk.db", data: []byte("x")}}, f.id.Recipient()), ids, []error{backup.ErrNotBackup}, ""},
		{"manifest of another app", repack(t, good, f.id, func(m *backup.Manifest, _ *[]tarEntry) { m.App = "pocketbase" }), ids, []error{backup.ErrNotBackup}, ""},
		{"manifest of a future format", repack(t, good, f.id, func(m *backup.Manifest, _ *[]tarEntry) { m.Format = 2 }), ids, []error{backup.ErrNotBackup}, "format 2"},
		{"counts disagree with the database", repack(t, good, f.id, func(m *backup.Manifest, _ *[]tarEntry) { m.Tables["customer"] = 1200 }), ids,
			[]error{backup.ErrCheckFailed}, "table customer: 300 rows, manifest says 1200"},
		{"schema version disagrees", repack(t, good, f.id, func(m *backup.Manifest, _ *[]tarEntry) { m.SchemaVersion = 10 }), ids,
			[]error{backup.ErrCheckFailed}, "schema version 9, manifest says 10"},
		{"member content changed", repack(t, good, f.id, func(m *backup.Manifest, es *[]tarEntry) {
			d := slices.Clone((*es)[1].data)
			d[0] ^= 1
			(*es)[1].data = d
		}), ids, []error{backup.ErrCorrupt}, "sha256"},
		{"member missing", repack(t, good, f.id, func(m *backup.Manifest, es *[]tarEntry) { *es = (*es)[:len(*es)-1] }), ids, []error{backup.ErrCorrupt}, "missing"},
		{"member not in manifest", repack(t, good, f.id, func(m *backup.Manifest, es *[]tarEntry) {
			*es = append(*es, tarEntry{name: "files/extra", data: []byte("x")})
		}), ids, []error{backup.ErrCorrupt}, "not in the manifest"},
		{"../ member", repack(t, good, f.id, func(m *backup.Manifest, es *[]tarEntry) {
			*es = append(*es, tarEntry{name: "../evil", data: []byte("x")})
		}), ids, []error{backup.ErrCorrupt}, "leaves the archive"},
		{"../ member listed in the manifest", repack(t, good, f.id, func(m *backup.Manifest, es *[]tarEntry) {
			m.Files = append(m.Files, fileEntry("files/../../evil", []byte("x")))
			*es = append(*es, tarEntry{name: "files/../../evil", data: []byte("x")})
		}), ids, []error{backup.ErrCorrupt}, ""},
		{"absolute member", repack(t, good, f.id, func(m *backup.Manifest, es *[]tarEntry) {
			m.Files = append(m.Files, fileEntry("/tmp/evil", []byte("x")))
			*es = append(*es, tarEntry{name: "/tmp/evil", data: []byte("x")})
		}), ids, []error{backup.ErrCorrupt}, ""},
		{"symlink member", repack(t, good, f.id, func(m *backup.Manifest, es *[]tarEntry) {
			*es = append([]tarEntry{{name: "files/link", typeflag: tar.TypeSymlink, linkname: "/etc"}}, *es...)
		}), ids, []error{backup.ErrCorrupt}, ""},
		{"unlisted member before the database", repack(t, good, f.id, func(m *backup.Manifest, es *[]tarEntry) {
			*es = append([]tarEntry{{name: "files/early", data: []byte("x")}}, *es...)
		}), ids, []error{backup.ErrCorrupt}, ""},
	}
	// Truncations, including exactly at 64 KiB chunk boundaries, where only
	// the missing "last chunk" flag betrays the cut.
	for _, cut := range []int{10, he - 5, he, he + 16, he + 16 + 500, he + 16 + chunk, he + 16 + 2*chunk, len(good) - 17, len(good) - 1} {
		cases = append(cases, tc{name: "truncated at " + itoa(cut), file: good[:cut], ids: ids, want: []error{backup.ErrCorrupt}})
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			parent := t.TempDir()
			scratch := filepath.Join(parent, "scratch")
			e, err := backup.Open(context.Background(), bytes.NewReader(c.file), c.ids, scratch)
			if err == nil {
				e.Remove()
				t.Fatal("accepted")
			}
			if !slices.ContainsFunc(c.want, func(k error) bool { return errors.Is(err, k) }) {
				t.Errorf("err = %v, want one of %v", err, c.want)
			}
			if c.msg != "" && !strings.Contains(err.Error(), c.msg) {
				t.Errorf("message %q lacks %q", err, c.msg)
			}
			if !strings.HasPrefix(err.Error(), "backup: ") {
				t.Errorf("message %q lacks the package prefix", err)
			}
			if got := entries(t, scratch); len(got) != 0 {
				t.Errorf("scratch holds %v", got)
			}
			if got := entries(t, parent); !slices.Equal(got, []string{"scratch"}) {
				t.Errorf("next to scratch: %v", got)
			}
		})
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
