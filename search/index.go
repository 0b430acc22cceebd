package search

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// Doc is one searchable record.
type Doc struct {
	ID   string // "<kind>:<id>", e.g. "customer:42"; unique in the index
	Kind string // "customer", later "vehicle", …

	// The record's place for the data-scope filter (0: none).
	StoreID, OwnerID, DepartmentID int64

	Title    string // what the result shows, e.g. 张三
	Subtitle string // e.g. masked phone and grade; never an unmasked phone

	Names  []string // person names: any character, substring, prefix, pinyin, initials
	Digits []string // phones (any substring of 3+ digits; ends-with ranks high), VINs, plates (case-insensitive)
	Tags   []string // whole tags rank above tag substrings (二胎家庭, 置换)
	Text   string   // other free text (notes): substring match, ranked last
}

// Errors reported by Open and the index methods.
var (
	// ErrStale means the index on disk cannot be used as it is (written under
	// another MappingVersion, or unreadable): rebuild it.
	ErrStale = errors.New("search: index is stale")
	// ErrInUse means another process holds the index open.
	ErrInUse = errors.New("search: index is in use by another process")
	// ErrClosed is returned by the methods of a closed Index.
	ErrClosed = errors.New("search: index is closed")
)

// Keys of the values kept inside the index next to the documents.
var (
	keyVersion  = []byte("dd:mapping_version")
	keyComplete = []byte("dd:complete")
)

// batchSize bounds the documents per bleve batch (memory during a rebuild).
const batchSize = 2000

// Index is an opened search index. Its methods are safe for concurrent use.
type Index struct {
	dir      string
	mu       sync.RWMutex // write-locked only while Rebuild swaps the index
	idx      bleve.Index
	complete bool
}

// Open opens the index in dir, creating an empty one if there is none. An empty
// index created here reports NeedsRebuild until Rebuild has filled it. When the
// index on disk was written under another MappingVersion or cannot be read, Open
// returns an error wrapping ErrStale (and no Index): call Rebuild(dir, …), then
// Open again. When another process holds it open, the error wraps ErrInUse.
func Open(dir string) (*Index, error) {
	if _, err := os.Stat(filepath.Join(dir, "index_meta.json")); errors.Is(err, os.ErrNotExist) {
		if err := os.RemoveAll(dir); err != nil { // a directory without meta is debris
			return nil, fmt.Errorf("search: clear %s: %w", dir, err)
		}
		idx, err := create(dir, false)
		if err != nil {
			return nil, err
		}
		return &Index{dir: dir, idx: idx}, nil
	}
	idx, complete, err := openExisting(dir)
	if err != nil {
		return nil, err
	}
	return &Index{dir: dir, idx: idx, complete: complete}, nil
}

// create makes a new index in dir (which must not exist) stamped with the mapping
// version. bulk turns off waiting for each batch to reach the disk; only a
// rebuild, which is thrown away when it fails, uses it.
func create(dir string, bulk bool) (bleve.Index, error) {
	m, err := newMapping()
	if err != nil {
		return nil, fmt.Errorf("search: mapping: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return nil, fmt.Errorf("search: create %s: %w", dir, err)
	}
	idx, err := bleve.NewUsing(dir, m, scorch.Name, scorch.Name, map[string]interface{}{
		"unsafe_batch": bulk,
		"bolt_timeout": "2s",
	})
	if err != nil {
		return nil, fmt.Errorf("search: create %s: %w", dir, err)
	}
	if err := idx.SetInternal(keyVersion, []byte(strconv.Itoa(MappingVersion))); err != nil {
		idx.Close()
		return nil, fmt.Errorf("search: stamp version: %w", err)
	}
	return idx, nil
}

// openExisting opens the index in dir and checks its mapping version.
func openExisting(dir string) (bleve.Index, bool, error) {
	idx, err := bleve.OpenUsing(dir, map[string]interface{}{
		"unsafe_batch": false, // a rebuilt index was created in bulk mode
		"bolt_timeout": "2s",
	})
	if err != nil {
		if strings.Contains(err.Error(), "timeout") { // bbolt's flock wait ran out
			return nil, false, fmt.Errorf("%w: %s: %v", ErrInUse, dir, err)
		}
		return nil, false, fmt.Errorf("%w: open %s: %v", ErrStale, dir, err)
	}
	v, err := idx.GetInternal(keyVersion)
	if err != nil {
		idx.Close()
		return nil, false, fmt.Errorf("%w: read version: %v", ErrStale, err)
	}
	if string(v) != strconv.Itoa(MappingVersion) {
		idx.Close()
		return nil, false, fmt.Errorf("%w: mapping version %q on disk, this program writes %d", ErrStale, v, MappingVersion)
	}
	c, err := idx.GetInternal(keyComplete)
	if err != nil {
		idx.Close()
		return nil, false, fmt.Errorf("%w: read state: %v", ErrStale, err)
	}
	return idx, string(c) == "1", nil
}

// NeedsRebuild reports whether the index was never filled by Rebuild (it was
// created empty by Open), so it may lack records the database holds.
func (ix *Index) NeedsRebuild() bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return !ix.complete
}

// Dir is the directory of the index.
func (ix *Index) Dir() string { return ix.dir }

// Upsert adds the documents or replaces those with the same ID, in one batch.
func (ix *Index) Upsert(docs ...Doc) error {
	if len(docs) == 0 {
		return nil
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.idx == nil {
		return ErrClosed
	}
	b := ix.idx.NewBatch()
	for _, d := range docs {
		if err := d.check(); err != nil {
			return err
		}
		if err := b.Index(d.ID, fields(d)); err != nil {
			return fmt.Errorf("search: index %s: %w", d.ID, err)
		}
	}
	if err := ix.idx.Batch(b); err != nil {
		return fmt.Errorf("search: upsert: %w", err)
	}
	return nil
}

func (d Doc) check() error {
	if d.ID == "" || d.Kind == "" {
		return fmt.Errorf("search: document %q has no id or kind", d.ID)
	}
	return nil
}

// Delete removes the documents; unknown IDs are ignored.
func (ix *Index) Delete(ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.idx == nil {
		return ErrClosed
	}
	b := ix.idx.NewBatch()
	for _, id := range ids {
		b.Delete(id)
	}
	if err := ix.idx.Batch(b); err != nil {
		return fmt.Errorf("search: delete: %w", err)
	}
	return nil
}

// Count returns the number of documents.
func (ix *Index) Count() (uint64, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.idx == nil {
		return 0, ErrClosed
	}
	n, err := ix.idx.DocCount()
	if err != nil {
		return 0, fmt.Errorf("search: count: %w", err)
	}
	return n, nil
}

// Close closes the index; further calls return ErrClosed.
func (ix *Index) Close() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.idx == nil {
		return nil
	}
	err := ix.idx.Close()
	ix.idx = nil
	if err != nil {
		return fmt.Errorf("search: close: %w", err)
	}
	return nil
}

// Fill is how a rebuild gets its documents: it calls add once per document, each
// ID once, and returns add's error if add fails.
type Fill func(add func(Doc) error) error

// Rebuild builds a complete index for dir from fill, in a new directory beside it,
// and swaps it in only when finished, so a half-built index is never used; a
// failed or interrupted rebuild leaves the old index as it was. The index in dir
// must not be open (use (*Index).Rebuild on an open one); if another process holds
// it, Rebuild returns an error wrapping ErrInUse before doing any work.
func Rebuild(dir string, fill Fill) error {
	if _, err := os.Stat(filepath.Join(dir, "index_meta.json")); err == nil {
		idx, err := bleve.OpenUsing(dir, map[string]interface{}{"bolt_timeout": "2s"})
		if err != nil && strings.Contains(err.Error(), "timeout") {
			return fmt.Errorf("%w: %s: %v", ErrInUse, dir, err)
		}
		if err == nil {
			idx.Close()
		}
	}
	tmp, err := build(dir, fill)
	if err != nil {
		return err
	}
	return swap(dir, tmp)
}

// Rebuild builds a complete index from fill beside the open one while searches
// keep being answered, then swaps it in. Documents upserted or deleted through ix
// while it builds are lost with the old index: the caller pauses its own writes
// (and replays them after) — a rebuild reads the database, which has them.
func (ix *Index) Rebuild(fill Fill) error {
	tmp, err := build(ix.dir, fill)
	if err != nil {
		return err
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.idx != nil {
		if err := ix.idx.Close(); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("search: close for swap: %w", err)
		}
		ix.idx = nil
	}
	if err := swap(ix.dir, tmp); err != nil {
		// Keep serving whatever is in dir now (the old index if the swap did not
		// happen).
		if idx, complete, oerr := openExisting(ix.dir); oerr == nil {
			ix.idx, ix.complete = idx, complete
		}
		return err
	}
	idx, complete, err := openExisting(ix.dir)
	if err != nil {
		return err
	}
	ix.idx, ix.complete = idx, complete
	return nil
}

// build fills a new index in a fresh sibling directory of dir and returns it,
// closed and marked complete. Debris of earlier interrupted builds is removed.
func build(dir string, fill Fill) (string, error) {
	removeDebris(dir)
	tmp := dir + ".tmp-" + randomSuffix()
	idx, err := create(tmp, true)
	if err != nil {
		return "", err
	}
	fail := func(err error) (string, error) {
		idx.Close()
		os.RemoveAll(tmp)
		return "", err
	}
	b := idx.NewBatch()
	add := func(d Doc) error {
		if err := d.check(); err != nil {
			return err
		}
		if err := b.Index(d.ID, fields(d)); err != nil {
			return fmt.Errorf("search: index %s: %w", d.ID, err)
		}
		if b.Size() >= batchSize {
			if err := idx.Batch(b); err != nil {
				return fmt.Errorf("search: rebuild batch: %w", err)
			}
			b.Reset()
		}
		return nil
	}
	if err := fill(add); err != nil {
		return fail(fmt.Errorf("search: rebuild: %w", err))
	}
	// In bulk mode batches reach the disk in the background and Close does not
	// wait for them; a batch is persisted together with every batch before it, so
	// waiting for the last one is waiting for all.
	if err := persist(idx, b); err != nil {
		return fail(fmt.Errorf("search: persist rebuild: %w", err))
	}
	// Merge the segments of the bulk load into one now: a freshly built index of
	// 1M documents left to the background merger answered a surname query in
	// 87 ms (p50) and 1.1 s (p99) while merging; merged, see docs/benchmarks.md.
	if adv, err := idx.Advanced(); err == nil {
		if sc, ok := adv.(*scorch.Scorch); ok {
			if err := sc.ForceMerge(context.Background(), nil); err != nil {
				return fail(fmt.Errorf("search: merge rebuild: %w", err))
			}
		}
	}
	b = idx.NewBatch()
	b.SetInternal(keyComplete, []byte("1"))
	if err := persist(idx, b); err != nil {
		return fail(fmt.Errorf("search: mark complete: %w", err))
	}
	if err := idx.Close(); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("search: finish rebuild: %w", err)
	}
	return tmp, nil
}

// persist applies the batch and waits until it is on disk.
func persist(idx bleve.Index, b *bleve.Batch) error {
	done := make(chan error, 1)
	b.SetPersistedCallback(func(err error) { done <- err })
	if err := idx.Batch(b); err != nil {
		return err
	}
	return <-done
}

// swap puts the finished index tmp in place of dir. Between the two renames dir
// does not exist; a crash there leaves Open to create an empty index that
// NeedsRebuild, never a half-built one.
func swap(dir, tmp string) error {
	old := dir + ".old-" + randomSuffix()
	if err := os.Rename(dir, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		os.RemoveAll(tmp)
		return fmt.Errorf("search: move old index aside: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.Rename(old, dir)
		os.RemoveAll(tmp)
		return fmt.Errorf("search: put new index in place: %w", err)
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("search: remove old index: %w", err)
	}
	return nil
}

func removeDebris(dir string) {
	for _, pat := range []string{dir + ".tmp-*", dir + ".old-*"} {
		m, _ := filepath.Glob(pat)
		for _, p := range m {
			os.RemoveAll(p)
		}
	}
}

func randomSuffix() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
