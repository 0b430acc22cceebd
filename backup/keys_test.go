package backup_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"filippo.io/age"

	"dealerdesk/backup"
)

func TestLoadOrCreateIdentity_CreatesOnceInAgeKeygenFormat(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "keys", "backup-local.agekey")
	id, err := backup.LoadOrCreateIdentity(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^# created: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)\n# public key: (age1[0-9a-z]{58})\n(AGE-SECRET-KEY-1[0-9A-Z]{58})\n$`)
	sm := re.FindSubmatch(b)
	if sm == nil {
		t.Fatalf("key file:\n%s", b)
	}
	if string(sm[2]) != id.Recipient().String() || string(sm[3]) != id.String() {
		t.Error("key file does not hold the returned key")
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", fi.Mode().Perm())
		}
	}
	// age's own parser reads it.
	if ids, err := age.ParseIdentities(bytes.NewReader(b)); err != nil || len(ids) != 1 {
		t.Errorf("age.ParseIdentities: %v", err)
	}
	again, err := backup.LoadOrCreateIdentity(path)
	if err != nil || again.String() != id.String() {
		t.Errorf("second call returned another key (%v)", err)
	}
	if got := entries(t, filepath.Dir(path)); len(got) != 1 {
		t.Errorf("key dir holds %v", got)
	}
	os.WriteFile(path, []byte("garbage\n"), 0o600)
	if _, err := backup.LoadOrCreateIdentity(path); err == nil {
		t.Error("a damaged key file was replaced or accepted")
	}
}

func TestParseIdentities_AcceptsPastedKeys(t *testing.T) {
	t.Parallel()
	id := newIdentity(t)
	for _, text := range []string{
		id.String(),
		"\ufeff# created: 2026-11-23T02:30:00+08:00\r\n# public key: " + id.Recipient().String() + "\r\n" + id.String() + "\r\n",
		"  " + strings.ToLower(id.String()) + "  \n\n",
	} {
		ids, err := backup.ParseIdentities(strings.NewReader(text))
		if err != nil || len(ids) != 1 {
			t.Errorf("ParseIdentities(%q) = %v", text, err)
			continue
		}
		if x, ok := ids[0].(*age.X25519Identity); !ok || x.String() != id.String() {
			t.Errorf("parsed another key")
		}
	}
	for _, bad := range []string{"", "# only a comment\n", id.Recipient().String(), "AGE-SECRET-KEY-1XYZ"} {
		_, err := backup.ParseIdentities(strings.NewReader(bad))
		if err == nil {
			t.Errorf("ParseIdentities(%q) accepted", bad)
		} else if strings.Contains(err.Error(), "XYZ") {
			t.Errorf("error quotes key material: %v", err)
		}
	}
}

func TestParseRecipient_X25519Only(t *testing.T) {
	t.Parallel()
	id := newIdentity(t)
	r, err := backup.ParseRecipient(" " + id.Recipient().String() + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if r.(*age.X25519Recipient).String() != id.Recipient().String() {
		t.Error("parsed another recipient")
	}
	hybrid, _ := age.GenerateHybridIdentity()
	for _, bad := range []string{"", id.String(), hybrid.Recipient().String(), "ssh-ed25519 AAAA", "age1qqqq"} {
		if _, err := backup.ParseRecipient(bad); err == nil {
			t.Errorf("ParseRecipient(%.20q) accepted", bad)
		}
	}
}
