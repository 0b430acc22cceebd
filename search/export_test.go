package search

import "github.com/blevesearch/bleve/v2"

// SetStoredVersion rewrites the mapping version stamped in the (closed) index in
// dir, to play an index written by another release.
func SetStoredVersion(dir, v string) error {
	idx, err := bleve.OpenUsing(dir, map[string]interface{}{"unsafe_batch": false})
	if err != nil {
		return err
	}
	if err := idx.SetInternal(keyVersion, []byte(v)); err != nil {
		idx.Close()
		return err
	}
	return idx.Close()
}
