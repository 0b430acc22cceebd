package backup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
)

// LoadOrCreateIdentity returns the X25519 identity in the key file at path,
// creating the file first if it does not exist: a new key in the format of
// age-keygen ("# created: …", "# public key: age1…", "AGE-SECRET-KEY-1…"),
// mode 0600, written to a temporary file, fsynced and then linked into place,
// so a crash never leaves a half-written key and two processes racing to
// create it end up with the same key. The key must never go into a backup.
func LoadOrCreateIdentity(path string) (*age.X25519Identity, error) {
	if id, err := loadIdentity(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return id, err
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, fmt.Errorf("backup: generate key: %w", err)
	}
	text := fmt.Sprintf("# created: %s\n# public key: %s\n%s\n",
		time.Now().Format(time.RFC3339), id.Recipient(), id)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("backup: key dir: %w", err)
	}
	f, err := os.CreateTemp(dir, ".tmp-key-*")
	if err != nil {
		return nil, fmt.Errorf("backup: create key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	err = f.Chmod(0o600) // CreateTemp already uses 0600; be explicit about it
	if err == nil {
		_, err = f.WriteString(text)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("backup: create key: %w", err)
	}
	// Link fails if another process created the key meanwhile: use theirs.
	// Where hard links are not supported, fall back to rename.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return loadIdentity(path)
		}
		if err := os.Rename(tmp, path); err != nil {
			return nil, fmt.Errorf("backup: create key: %w", err)
		}
	}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("backup: create key: %w", err)
	}
	return id, nil
}

func loadIdentity(path string) (*age.X25519Identity, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("backup: read key: %w", err)
	}
	ids, err := ParseIdentities(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("backup: key file %s: %w", path, err)
	}
	for _, id := range ids {
		if x, ok := id.(*age.X25519Identity); ok {
			return x, nil
		}
	}
	return nil, fmt.Errorf("backup: key file %s holds no X25519 key", path)
}

// ParseRecipient parses an age X25519 public key ("age1…"). Surrounding
// blanks are ignored. Post-quantum ("age1pq1…"), SSH and plugin recipients are
// refused: the backups must open with any version of the age CLI.
func ParseRecipient(s string) (age.Recipient, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(strings.ToLower(s), "age1pq1") {
		return nil, errors.New("backup: post-quantum age keys are not supported; use an X25519 key (age1…)")
	}
	if !strings.HasPrefix(strings.ToLower(s), "age1") {
		return nil, errors.New("backup: not an age public key (it must start with age1)")
	}
	r, err := age.ParseX25519Recipient(strings.ToLower(s))
	if err != nil {
		return nil, fmt.Errorf("backup: bad age public key: %w", err)
	}
	return r, nil
}

// ParseIdentities parses the text of an age key file: one "AGE-SECRET-KEY-1…"
// per line, "#" comments and blank lines allowed. It also accepts what a key
// pasted into a browser or saved by Notepad looks like: a byte-order mark,
// CRLF line ends, surrounding blanks, lower case. Errors never quote the input
// (it may hold key material).
func ParseIdentities(r io.Reader) ([]age.Identity, error) {
	var clean strings.Builder
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	for first := true; sc.Scan(); first = false {
		line := sc.Text()
		if first {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		line = strings.TrimSpace(line)
		if strings.HasPrefix(strings.ToUpper(line), "AGE-SECRET-KEY-") {
			line = strings.ToUpper(line)
		}
		clean.WriteString(line)
		clean.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("backup: read key: %w", err)
	}
	ids, err := age.ParseIdentities(strings.NewReader(clean.String()))
	if err != nil {
		return nil, fmt.Errorf("backup: not a valid age key: %w", err)
	}
	return ids, nil
}

// PassphraseRecipient encrypts to a passphrase (age scrypt, work factor 2^18,
// about a second). It must be the only recipient of a backup. Meant for
// interactive exports; scheduled backups use X25519 keys.
func PassphraseRecipient(pass string) (age.Recipient, error) {
	r, err := age.NewScryptRecipient(pass)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	return r, nil
}

// PassphraseIdentity decrypts a passphrase-encrypted backup.
func PassphraseIdentity(pass string) (age.Identity, error) {
	id, err := age.NewScryptIdentity(pass)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	return id, nil
}
