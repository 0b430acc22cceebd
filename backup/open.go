package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"filippo.io/age"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Extracted is a verified backup unpacked into Dir (under the scratch
// directory): DBPath is its database, Manifest its manifest, and each included
// directory is Dir/<prefix>.
type Extracted struct {
	Dir, DBPath string
	Manifest    Manifest
}

// Remove deletes the extracted files.
func (e *Extracted) Remove() error {
	if e == nil || e.Dir == "" {
		return nil
	}
	return os.RemoveAll(e.Dir)
}

// Open decrypts r with ids and unpacks it into a new directory
// scratch/.restore-<random>. Nothing unverified is ever handed out: manifest.json
// must come first and be a DealerDesk manifest; every other member must be a
// regular file listed in it, at a safe relative path, with the listed size and
// SHA-256; every listed member must be present; the age stream must
// authenticate to its end; and the database must pass CheckDB against the
// manifest. Any failure removes the directory and returns an error wrapping
// ErrWrongKey, ErrCorrupt, ErrNotBackup or ErrCheckFailed (or the context's
// error, or a plain error for a full disk and the like).
func Open(ctx context.Context, r io.Reader, ids []age.Identity, scratch string) (*Extracted, error) {
	if len(ids) == 0 {
		return nil, errors.New("backup: no key given to open the backup")
	}
	if err := os.MkdirAll(scratch, 0o700); err != nil {
		return nil, fmt.Errorf("backup: scratch dir: %w", err)
	}
	dir, err := os.MkdirTemp(scratch, ".restore-*")
	if err != nil {
		return nil, fmt.Errorf("backup: scratch dir: %w", err)
	}
	e, err := unpack(ctx, r, ids, dir)
	if err != nil {
		os.RemoveAll(dir)
		if cerr := ctxErr(ctx); cerr != nil {
			return nil, cerr
		}
		return nil, err
	}
	return e, nil
}

// Verify is a test restore: Open the backup file at path, then remove what
// was extracted. It returns the verified manifest.
func Verify(ctx context.Context, path string, ids []age.Identity, scratch string) (Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	e, err := Open(ctx, f, ids, scratch)
	if err != nil {
		return Manifest{}, err
	}
	if err := e.Remove(); err != nil {
		return e.Manifest, fmt.Errorf("backup: remove test restore: %w", err)
	}
	return e.Manifest, nil
}

const ageIntro = "age-encryption.org/"

// trackedReader remembers the first error of the age reader, so a failure
// that surfaces through the decompressor or the tar reader is still reported
// as what it is: an unauthenticated (damaged or truncated) payload.
type trackedReader struct {
	r   io.Reader
	err error
}

func (t *trackedReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}

func unpack(ctx context.Context, r io.Reader, ids []age.Identity, dir string) (*Extracted, error) {
	in := bufio.NewReaderSize(r, 256<<10)
	if intro, _ := in.Peek(len(ageIntro)); len(intro) > 0 && !bytes.HasPrefix([]byte(ageIntro), intro) {
		// Say so plainly rather than quoting the file's first bytes.
		return nil, kindError(ErrCorrupt, "not an age-encrypted file")
	}
	plain, err := age.Decrypt(in, ids...)
	if err != nil {
		return nil, classifyDecrypt(err)
	}
	src := &trackedReader{r: plain}
	// fail classifies an error that happened while reading the plaintext.
	// Before the manifest is accepted, a readable stream that is not what we
	// expect is ErrNotBackup; afterwards it is ErrCorrupt.
	accepted := false
	fail := func(err error) error {
		if src.err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, src.err)
		}
		if cerr := ctxErr(ctx); cerr != nil {
			return cerr
		}
		var local localError
		if errors.As(err, &local) {
			return local.error
		}
		if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNotBackup) || errors.Is(err, ErrCheckFailed) {
			return err
		}
		if accepted {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return fmt.Errorf("%w: %w", ErrNotBackup, err)
	}

	br := bufio.NewReaderSize(ctxReader{ctx, src}, 256<<10)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fail(fmt.Errorf("reading archive: %w", err))
	}
	var decomp io.Reader
	switch {
	case magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fail(err)
		}
		decomp = zr
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(64<<20))
		if err != nil {
			return nil, fail(err)
		}
		defer zr.Close()
		decomp = zr
	default:
		return nil, fail(errors.New("the archive is neither gzip nor zstd"))
	}
	tr := tar.NewReader(decomp)

	hdr, err := tr.Next()
	if err != nil {
		return nil, fail(fmt.Errorf("reading archive: %w", err))
	}
	if hdr.Name != ManifestMember || hdr.Typeflag != tar.TypeReg {
		return nil, fail(fmt.Errorf("the first member is %q, not %s", hdr.Name, ManifestMember))
	}
	if hdr.Size > maxManifestSize {
		return nil, fail(fmt.Errorf("%s is too large (%d bytes)", ManifestMember, hdr.Size))
	}
	raw, err := io.ReadAll(tr)
	if err != nil {
		return nil, fail(err)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fail(fmt.Errorf("%s: %w", ManifestMember, err))
	}
	if err := m.validate(); err != nil {
		return nil, fail(err)
	}
	accepted = true

	want := make(map[string]FileEntry, len(m.Files))
	for _, f := range m.Files {
		want[f.Path] = f
	}
	written := make(map[string]bool, len(m.Files))
	dirs := map[string]bool{dir: true}
	buf := make([]byte, 256<<10)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fail(fmt.Errorf("reading archive: %w", err))
		}
		if err := checkMemberPath(hdr.Name); err != nil {
			return nil, fail(kindError(ErrCorrupt, "%w", err))
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, fail(kindError(ErrCorrupt, "member %q is not a regular file (type %q)", hdr.Name, hdr.Typeflag))
		}
		entry, listed := want[hdr.Name]
		if !listed {
			return nil, fail(kindError(ErrCorrupt, "member %q is not in the manifest", hdr.Name))
		}
		if written[hdr.Name] {
			return nil, fail(kindError(ErrCorrupt, "member %q appears twice", hdr.Name))
		}
		if hdr.Size != entry.Size {
			return nil, fail(kindError(ErrCorrupt, "member %q: size %d, manifest says %d", hdr.Name, hdr.Size, entry.Size))
		}
		dst := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		for d := filepath.Dir(dst); !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
		}
		if err := extractFile(tr, dst, entry, buf); err != nil {
			return nil, fail(err)
		}
		written[hdr.Name] = true
	}
	for _, f := range m.Files {
		if !written[f.Path] {
			return nil, fail(kindError(ErrCorrupt, "member %q is missing", f.Path))
		}
	}
	// Read both streams to their end: gzip and zstd check their trailing
	// checksums there, and age checks that the last chunk is the final one,
	// which is what catches a file cut at a 64 KiB chunk boundary.
	if _, err := io.CopyBuffer(io.Discard, decomp, buf); err != nil {
		return nil, fail(err)
	}
	if _, err := io.CopyBuffer(io.Discard, br, buf); err != nil {
		return nil, fail(err)
	}

	// Make the extracted tree durable before anyone swaps it into place.
	sorted := make([]string, 0, len(dirs))
	for d := range dirs {
		sorted = append(sorted, d)
	}
	slices.Sort(sorted)
	for _, d := range sorted {
		if err := syncDir(d); err != nil {
			return nil, fmt.Errorf("backup: sync %s: %w", d, err)
		}
	}

	e := &Extracted{Dir: dir, DBPath: filepath.Join(dir, DBMember), Manifest: m}
	if err := CheckDB(ctx, e.DBPath, m); err != nil {
		return nil, err
	}
	return e, nil
}

// localError marks a failure of the local disk (full, read-only…) while
// extracting: it is returned as is, not as a fault of the backup file.
type localError struct{ error }

// extractFile writes exactly entry.Size bytes from r to a new file dst and
// checks their SHA-256 against the manifest.
func extractFile(r io.Reader, dst string, entry FileEntry, buf []byte) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return localError{fmt.Errorf("backup: extract: %w", err)}
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return localError{fmt.Errorf("backup: extract: %w", err)}
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(f, h), r, buf)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return localError{fmt.Errorf("backup: extract %s: %w", entry.Path, err)} // a write error
		}
		return err // a read error: classified by the caller
	}
	if n != entry.Size {
		return kindError(ErrCorrupt, "member %q: %d bytes, manifest says %d", entry.Path, n, entry.Size)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != entry.SHA256 {
		return kindError(ErrCorrupt, "member %q: sha256 %s, manifest says %s", entry.Path, sum, entry.SHA256)
	}
	if err := f.Sync(); err != nil {
		return localError{fmt.Errorf("backup: extract %s: %w", entry.Path, err)}
	}
	if err := f.Close(); err != nil {
		return localError{fmt.Errorf("backup: extract %s: %w", entry.Path, err)}
	}
	return nil
}
