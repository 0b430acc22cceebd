package search_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"dealerdesk/search"
)

// BenchmarkSearch_100k and BenchmarkSearch_1M build an index of generated
// customers with Rebuild (reported as build_s and index_MB) and time each kind of
// query a salesperson types, reporting p50 and p99 in milliseconds. Run one at a
// time, e.g.
//
//	go test ./search -run '^$' -bench 'Search_100k' -benchtime 2000x
//	go test ./search -run '^$' -bench 'Search_1M' -benchtime 1000x -timeout 60m
func BenchmarkSearch_100k(b *testing.B) { benchSearch(b, 100_000) }

// BenchmarkSearch_1M: see BenchmarkSearch_100k.
func BenchmarkSearch_1M(b *testing.B) { benchSearch(b, 1_000_000) }

func benchSearch(b *testing.B, n int) {
	people := genPeople(n, 7)
	dir := filepath.Join(b.TempDir(), "index")
	start := time.Now()
	err := search.Rebuild(dir, func(add func(search.Doc) error) error {
		for _, p := range people {
			if err := add(p.doc()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	build := time.Since(start)
	size := dirSize(dir)
	ix, err := search.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	b.Logf("%d docs: build %s, %.0f MB on disk", n, build.Round(time.Second), float64(size)/1e6)

	sample := people[:1000]
	own := map[string]search.Scope{"customer": {OwnerID: sample[0].OwnerID}}
	store := map[string]search.Scope{"customer": {StoreIDs: []int64{1}}}
	cases := []struct {
		name   string
		query  func(p person) string
		scopes map[string]search.Scope
	}{
		{"surname", func(p person) string { return p.Surname }, all},
		{"full_name", func(p person) string { return p.Name }, all},
		{"given_name", func(p person) string { return p.Given }, all},
		{"pinyin_full", func(p person) string { f, _ := typedPinyin(p); return f }, all},
		{"pinyin_initials", func(p person) string { _, i := typedPinyin(p); return i }, all},
		{"pinyin_one_letter", func(p person) string { _, i := typedPinyin(p); return i[:1] }, all},
		{"phone_last4", func(p person) string { return p.Phone[7:] }, all},
		{"phone_middle4", func(p person) string { return p.Phone[3:7] }, all},
		{"phone_full", func(p person) string { return p.Phone }, all},
		{"surname_own_scope", func(p person) string { return p.Surname }, own},
		{"surname_store_scope", func(p person) string { return p.Surname }, store},
	}
	ctx := context.Background()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				q := c.query(sample[i%len(sample)])
				t0 := time.Now()
				if _, _, err := ix.Search(ctx, search.Query{Text: q, Scopes: c.scopes, Limit: 20}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(ms(lat[len(lat)/2]), "p50_ms")
			b.ReportMetric(ms(lat[len(lat)*99/100]), "p99_ms")
			b.ReportMetric(build.Seconds(), "build_s")
			b.ReportMetric(float64(size)/1e6, "index_MB")
		})
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
