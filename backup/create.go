package backup

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Options configure Create and WriteFile.
type Options struct {
	DBPath      string            // live database file
	Dirs        map[string]string // archive prefix -> directory to include, e.g. {"files": "<data>/files"}
	ScratchDir  string            // where the .tmp-* snapshot is made (same disk as the data dir)
	AppVersion  string
	Kind        string           // one of the Kind* constants (required)
	Compression string           // CompressionGzip (also "") or CompressionZstd
	Recipients  []age.Recipient  // X25519 recipients, or exactly one scrypt recipient
	Now         func() time.Time // default time.Now
	// Progress, if set, is called from the goroutine running Create with phases
	// "snapshot" (0/1, then 1/1), "check" (steps / steps: integrity_check and
	// foreign_key_check count as one, then each table counted),
	// "archive" (bytes archived / total bytes) and "encrypt" (1/1 once the
	// encrypted stream is complete). Archiving, compression and encryption are
	// one streaming pass, so "archive" is where the time goes.
	Progress func(phase string, done, total int64)
}

func (o *Options) progress(phase string, done, total int64) {
	if o.Progress != nil {
		o.Progress(phase, done, total)
	}
}

func (o *Options) validate() error {
	if o.DBPath == "" {
		return errors.New("backup: no database path")
	}
	if o.ScratchDir == "" {
		return errors.New("backup: no scratch directory")
	}
	if !knownKind(o.Kind) {
		return fmt.Errorf("backup: unknown backup kind %q", o.Kind)
	}
	switch o.Compression {
	case "", CompressionGzip, CompressionZstd:
	default:
		return fmt.Errorf("backup: unknown compression %q (use gzip or zstd)", o.Compression)
	}
	if err := checkRecipients(o.Recipients); err != nil {
		return err
	}
	for prefix := range o.Dirs {
		if err := plainName(prefix); err != nil || prefix == DBMember || prefix == ManifestMember || strings.ContainsAny(prefix, ":") {
			return fmt.Errorf("backup: bad archive prefix %q", prefix)
		}
	}
	return nil
}

// checkRecipients allows only what the standard age CLI of any version opens:
// X25519 recipients, or a single scrypt (passphrase) recipient. Post-quantum
// hybrid recipients are refused on purpose (older age releases cannot read them).
func checkRecipients(rs []age.Recipient) error {
	if len(rs) == 0 {
		return errors.New("backup: no recipients: a backup must be encrypted to at least one key")
	}
	for _, r := range rs {
		switch r.(type) {
		case *age.X25519Recipient:
		case *age.ScryptRecipient:
			if len(rs) != 1 {
				return errors.New("backup: a passphrase must be the only recipient")
			}
		default:
			return fmt.Errorf("backup: recipient type %T is not allowed (X25519 keys or one passphrase only)", r)
		}
	}
	return nil
}

// running holds the absolute paths of the databases being backed up in this
// process: two snapshots of one database at once only waste disk and time.
var running sync.Map

func lock(dbPath string) (unlock func(), err error) {
	key, err := filepath.Abs(dbPath)
	if err != nil {
		return nil, err
	}
	if _, busy := running.LoadOrStore(key, struct{}{}); busy {
		return nil, ErrBusy
	}
	return func() { running.Delete(key) }, nil
}

// member is one archive member to write and where its bytes come from.
type member struct {
	FileEntry
	src string
}

// Create writes an encrypted backup of opt.DBPath (and opt.Dirs) to w:
//  1. VACUUM INTO ScratchDir/.tmp-<ts>-<rand>.db on a read-only connection of
//     its own, which needs only a read transaction, so the app's writer keeps
//     committing (WAL);
//  2. integrity_check, foreign_key_check and per-table counts on the copy;
//  3. a tar of manifest.json (first), dealerdesk.db and every regular file of
//     the included directories, compressed with gzip or zstd and encrypted
//     with age, streamed to w.
//
// The result opens with "age -d -i key.txt f.age | tar xz" and sqlite3 alone.
// Create removes its temporary files on every path, and returns ErrBusy if
// another backup of the same database is running in this process. On error,
// whatever was written to w is garbage; WriteFile takes care of that.
func Create(ctx context.Context, opt Options, w io.Writer) (Manifest, error) {
	if err := opt.validate(); err != nil {
		return Manifest{}, err
	}
	unlock, err := lock(opt.DBPath)
	if err != nil {
		return Manifest{}, err
	}
	defer unlock()
	return create(ctx, opt, w)
}

func create(ctx context.Context, opt Options, w io.Writer) (Manifest, error) {
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	compression := opt.Compression
	if compression == "" {
		compression = CompressionGzip
	}
	host, _ := os.Hostname()
	m := Manifest{
		Format:      FormatVersion,
		App:         AppName,
		AppVersion:  opt.AppVersion,
		CreatedAt:   now().UTC().Truncate(time.Second),
		Kind:        opt.Kind,
		Host:        host,
		Compression: compression,
	}

	if err := os.MkdirAll(opt.ScratchDir, 0o700); err != nil {
		return Manifest{}, fmt.Errorf("backup: scratch dir: %w", err)
	}
	snap := filepath.Join(opt.ScratchDir, ".tmp-"+m.CreatedAt.Format("20060102T150405Z")+"-"+randHex(4)+".db")
	defer removeSQLite(snap)

	opt.progress("snapshot", 0, 1)
	if err := snapshot(ctx, opt.DBPath, snap); err != nil {
		if cerr := ctxErr(ctx); cerr != nil {
			return Manifest{}, cerr
		}
		return Manifest{}, err
	}
	opt.progress("snapshot", 1, 1)

	info, err := inspect(ctx, snap, func(done, total int64) { opt.progress("check", done, total) })
	if err != nil {
		if cerr := ctxErr(ctx); cerr != nil {
			return Manifest{}, cerr
		}
		return Manifest{}, kindError(ErrCheckFailed, "snapshot: %w", err)
	}
	if p := info.problem(); p != "" {
		return Manifest{}, kindError(ErrCheckFailed, "snapshot: %s", p)
	}
	m.Tables, m.SchemaVersion = info.tables, info.schema

	// The manifest goes first in the archive, so every member's hash is
	// computed before anything is written: the snapshot is ours and does not
	// change; the included files are immutable (content-addressed), and one
	// that changes or disappears before it is written fails this run.
	dbEntry, err := hashFile(ctx, snap)
	if err != nil {
		if cerr := ctxErr(ctx); cerr != nil {
			return Manifest{}, cerr
		}
		return Manifest{}, err
	}
	dbEntry.Path = DBMember
	members := []member{{dbEntry, snap}}
	dirMembers, err := listDirs(ctx, opt.Dirs)
	if err != nil {
		return Manifest{}, err
	}
	members = append(members, dirMembers...)
	for _, mb := range members {
		m.Files = append(m.Files, mb.FileEntry)
	}

	if err := writeArchive(ctx, &opt, w, m, members); err != nil {
		if cerr := ctxErr(ctx); cerr != nil {
			return Manifest{}, cerr
		}
		return Manifest{}, err
	}
	return m, nil
}

// snapshot makes a consistent copy of the live database at src in dst with
// VACUUM INTO on a read-only connection of its own: it takes a read
// transaction only, so the app's writer (WAL) is never blocked; busy_timeout
// covers the moments a checkpoint or recovery holds a lock.
func snapshot(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("backup: database: %w", err)
	}
	dsn, err := sqliteDSN(src, "mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("backup: open database: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("backup: snapshot: %w", err)
	}
	return nil
}

// hashFile returns the size and SHA-256 of the file at p.
func hashFile(ctx context.Context, p string) (FileEntry, error) {
	f, err := os.Open(p)
	if err != nil {
		return FileEntry{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, ctxReader{ctx, f}, make([]byte, 256<<10))
	if err != nil {
		return FileEntry{}, fmt.Errorf("backup: read %s: %w", p, err)
	}
	return FileEntry{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// listDirs walks the included directories and hashes every regular file.
// Temporary files (".tmp-*", e.g. an upload in progress) are skipped, and so
// is a file that disappears during the walk. Anything that is neither a
// directory nor a regular file (a symlink) is an error: following it could
// pull arbitrary files into a backup, skipping it silently could lose data.
func listDirs(ctx context.Context, dirs map[string]string) ([]member, error) {
	prefixes := make([]string, 0, len(dirs))
	for p := range dirs {
		prefixes = append(prefixes, p)
	}
	slices.Sort(prefixes)
	var out []member
	for _, prefix := range prefixes {
		// An included directory may itself be a symlink (files moved to a
		// bigger disk); follow that one link, nothing below it.
		root, err := filepath.EvalSymlinks(dirs[prefix])
		if errors.Is(err, fs.ErrNotExist) {
			continue // no such directory (yet): nothing to include
		}
		if err != nil {
			return nil, fmt.Errorf("backup: include %s: %w", dirs[prefix], err)
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil // the directory does not exist (yet), or vanished
				}
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			if strings.HasPrefix(d.Name(), ".tmp-") {
				return nil
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			name := prefix + "/" + filepath.ToSlash(rel)
			if !d.Type().IsRegular() {
				return fmt.Errorf("%s is not a regular file", p)
			}
			if err := checkMemberPath(name); err != nil {
				return err
			}
			e, err := hashFile(ctx, p)
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			e.Path = name
			out = append(out, member{e, p})
			return nil
		})
		if err != nil {
			if cerr := ctxErr(ctx); cerr != nil {
				return nil, cerr
			}
			return nil, fmt.Errorf("backup: include %s: %w", root, err)
		}
	}
	return out, nil
}

// writeArchive streams tar -> gzip|zstd -> age -> w.
func writeArchive(ctx context.Context, opt *Options, w io.Writer, m Manifest, members []member) error {
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	enc, err := age.Encrypt(w, opt.Recipients...)
	if err != nil {
		return fmt.Errorf("backup: encrypt: %w", err)
	}
	var comp io.WriteCloser
	switch m.Compression {
	case CompressionZstd:
		zw, err := zstd.NewWriter(enc, zstd.WithEncoderLevel(zstd.SpeedDefault))
		if err != nil {
			return err
		}
		defer zw.Close() // releases the encoder's goroutines on an error path
		comp = zw
	default:
		gw, err := gzip.NewWriterLevel(enc, gzipLevel)
		if err != nil {
			return err
		}
		comp = gw
	}
	tw := tar.NewWriter(comp)
	hdr := func(name string, size int64) *tar.Header {
		return &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o600, ModTime: m.CreatedAt}
	}
	if err := tw.WriteHeader(hdr(ManifestMember, int64(len(manifest)))); err != nil {
		return fmt.Errorf("backup: write archive: %w", err)
	}
	if _, err := tw.Write(manifest); err != nil {
		return fmt.Errorf("backup: write archive: %w", err)
	}

	var total, done int64
	for _, mb := range members {
		total += mb.Size
	}
	opt.progress("archive", 0, total)
	buf := make([]byte, 256<<10)
	for _, mb := range members {
		if err := tw.WriteHeader(hdr(mb.Path, mb.Size)); err != nil {
			return fmt.Errorf("backup: write archive: %w", err)
		}
		if err := copyMember(ctx, tw, mb, buf, func(n int64) {
			done += n
			opt.progress("archive", done, total)
		}); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("backup: write archive: %w", err)
	}
	if err := comp.Close(); err != nil {
		return fmt.Errorf("backup: compress: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("backup: encrypt: %w", err)
	}
	opt.progress("encrypt", 1, 1)
	return nil
}

// copyMember copies the listed file into the archive, checking that it still
// has the size and hash recorded in the manifest.
func copyMember(ctx context.Context, w io.Writer, mb member, buf []byte, progress func(int64)) error {
	f, err := os.Open(mb.src)
	if err != nil {
		return fmt.Errorf("backup: %s disappeared while being archived (try again): %w", mb.Path, err)
	}
	defer f.Close()
	h := sha256.New()
	r := io.TeeReader(io.LimitReader(ctxReader{ctx, f}, mb.Size), h)
	var n int64
	for {
		k, err := r.Read(buf)
		if k > 0 {
			if _, werr := w.Write(buf[:k]); werr != nil {
				return fmt.Errorf("backup: write archive: %w", werr)
			}
			n += int64(k)
			progress(int64(k))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("backup: read %s: %w", mb.src, err)
		}
	}
	if n != mb.Size || hex.EncodeToString(h.Sum(nil)) != mb.SHA256 {
		return fmt.Errorf("backup: %s changed while being archived (try again)", mb.Path)
	}
	return nil
}

// gzipLevel trades size for speed; see BenchmarkBackup.
const gzipLevel = gzip.DefaultCompression

// ctxReader makes long copies stop soon after ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
