package search_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dealerdesk/search"
)

var all = map[string]search.Scope{"customer": {All: true}}

func openIndex(t testing.TB) *search.Index {
	t.Helper()
	ix, err := search.Open(filepath.Join(t.TempDir(), "index"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func cust(id int64, name, phone string) search.Doc {
	return search.Doc{
		ID: fmt.Sprintf("customer:%d", id), Kind: "customer", StoreID: 1, OwnerID: 10, DepartmentID: 100,
		Title: name, Subtitle: "sub " + name, Names: []string{name}, Digits: []string{phone},
	}
}

func find(t testing.TB, ix *search.Index, text string) []string {
	t.Helper()
	hits, _, err := ix.Search(context.Background(), search.Query{Text: text, Scopes: all, Limit: search.MaxLimit})
	if err != nil {
		t.Fatalf("search %q: %v", text, err)
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.Title
	}
	return ids
}

func upsert(t testing.TB, ix *search.Index, docs ...search.Doc) {
	t.Helper()
	if err := ix.Upsert(docs...); err != nil {
		t.Fatal(err)
	}
}

func TestSearch_SingleCharacterSurnameFindsEveryNameWithIt(t *testing.T) {
	t.Parallel()
	ix := openIndex(t)
	upsert(t, ix, cust(1, "张三", "13800138000"), cust(2, "张伟", "13900139000"), cust(3, "李四", "13700137000"),
		cust(4, "王张华", "13600136000"), cust(5, "张", "13500135000"))
	got := find(t, ix, "张")
	if len(got) != 4 || got[0] != "张" || got[3] != "王张华" {
		t.Fatalf("张: got %v; want 张 first, then 张三 and 张伟, then 王张华", got)
	}
	if got := find(t, ix, "李"); !slices.Equal(got, []string{"李四"}) {
		t.Fatalf("李: got %v", got)
	}
	if got := find(t, ix, "四"); !slices.Equal(got, []string{"李四"}) {
		t.Fatalf("四 (given name): got %v", got)
	}
	if got := find(t, ix, "赵"); len(got) != 0 {
		t.Fatalf("赵: got %v, want nothing", got)
	}
}

func TestSearch_FullAndPartialNames(t *testing.T) {
	t.Parallel()
	ix := openIndex(t)
	upsert(t, ix, cust(1, "张三丰", "13800138000"), cust(2, "张三", "13900139000"), cust(3, "欧阳娜娜", "13700137000"),
		cust(4, "阿卜杜拉·买买提", "13600136000"), cust(5, "三丰张", "13500135000"))
	if got := find(t, ix, "张三"); !slices.Equal(got, []string{"张三", "张三丰"}) {
		t.Fatalf("张三: got %v; want exact, then prefix", got)
	}
	if got := find(t, ix, "三丰"); !slices.Equal(got, []string{"三丰张", "张三丰"}) {
		t.Fatalf("三丰: got %v", got)
	}
	if got := find(t, ix, "欧阳"); !slices.Equal(got, []string{"欧阳娜娜"}) {
		t.Fatalf("欧阳: got %v", got)
	}
	if got := find(t, ix, "买买提"); !slices.Equal(got, []string{"阿卜杜拉·买买提"}) {
		t.Fatalf("买买提: got %v", got)
	}
	if got := find(t, ix, "阿卜杜拉买买提"); !slices.Equal(got, []string{"阿卜杜拉·买买提"}) {
		t.Fatalf("name without the dot: got %v", got)
	}
	if got := find(t, ix, "张丰"); len(got) != 0 {
		t.Fatalf("张丰 is no substring of any name: got %v", got)
	}
}

func TestSearch_PinyinFullInitialsAndMixed(t *testing.T) {
	t.Parallel()
	ix := openIndex(t)
	upsert(t, ix, cust(1, "张三", "13800138000"), cust(2, "张三丰", "13900139000"), cust(3, "赵思", "13700137000"),
		cust(4, "吕布", "13600136000"), cust(5, "曾小贤", "13500135000"), cust(6, "单田芳", "13400134000"))
	cases := []struct {
		q    string
		want []string
	}{
		{"zhangsan", []string{"张三", "张三丰"}},
		{"zs", []string{"张三", "赵思", "张三丰"}},
		{"ZS", []string{"张三", "赵思", "张三丰"}},
		{"ｚｓ", []string{"张三", "赵思", "张三丰"}}, // full-width, as a Chinese input method types it
		{"zsf", []string{"张三丰"}},
		{"zhangsf", []string{"张三丰"}},
		{"zsanfeng", []string{"张三丰"}},
		{"zhangs", []string{"张三", "张三丰"}},
		{"张s", []string{"张三", "张三丰"}},
		{"张san", []string{"张三", "张三丰"}},
		{"lvbu", []string{"吕布"}},
		{"lb", []string{"吕布"}},
		{"zengxiaoxian", []string{"曾小贤"}},
		{"zxx", []string{"曾小贤"}},
		{"shantianfang", []string{"单田芳"}},
		{"stf", []string{"单田芳"}},
		{"zhangsanfengx", nil},
	}
	for _, c := range cases {
		got := find(t, ix, c.q)
		if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			// Among equal tiers order follows term statistics; compare as sets then.
			if !sameSet(got, c.want) {
				t.Errorf("%q: got %v, want %v", c.q, got, c.want)
			}
		}
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestSearch_PhoneDigits(t *testing.T) {
	t.Parallel()
	ix := openIndex(t)
	upsert(t, ix, cust(1, "张三", "13800138000"), cust(2, "李四", "13912348000"), cust(3, "王五", "15080001234"))
	cases := []struct {
		q    string
		want []string // in rank order
	}{
		{"0013", []string{"张三"}},
		{"001380", []string{"张三"}},
		{"13800138000", []string{"张三"}},
		{"138-0013-8000", []string{"张三"}},
		{"138 0013 8000", []string{"张三"}}, // every part must match
		{"1234", []string{"王五", "李四"}},    // ends with 1234 first
		{"12", nil},                       // fewer than three digits match nothing
		{"99999", nil},
	}
	for _, c := range cases {
		if got := find(t, ix, c.q); !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("%q: got %v, want %v", c.q, got, c.want)
		}
	}
	if got := find(t, ix, "123"); !sameSet(got, []string{"李四", "王五"}) { // in both, neither ends with it
		t.Errorf("123: got %v", got)
	}
	got := find(t, ix, "8000")
	if len(got) != 3 || got[2] != "王五" {
		t.Errorf("8000: got %v; want the two ending in 8000 before 王五", got)
	}
}

func TestSearch_NameAndDigitsTogether(t *testing.T) {
	t.Parallel()
	ix := openIndex(t)
	upsert(t, ix, cust(1, "张三", "13800138000"), cust(2, "张伟", "13912348000"), cust(3, "李四", "13800138000"))
	if got := find(t, ix, "张 8000"); !sameSet(got, []string{"张三", "张伟"}) {
		t.Fatalf("张 8000: got %v", got)
	}
	if got := find(t, ix, "李 8000"); !slices.Equal(got, []string{"李四"}) {
		t.Fatalf("李 8000: got %v", got)
	}
}

func TestSearch_Tags(t *testing.T) {
	t.Parallel()
	ix := openIndex(t)
	a := cust(1, "张三", "13800138000")
	a.Tags = []string{"二胎家庭", "置换"}
	b := cust(2, "李四", "13900139000")
	b.Tags = []string{"置换意向"}
	c := cust(3, "王五", "13700137000")
	c.Text = "客户想要七座车，周末方便"
	upsert(t, ix, a, b, c)
	if got := find(t, ix, "置换"); !slices.Equal(got, []string{"张三", "李四"}) {
		t.Fatalf("置换: got %v; want the whole tag first", got)
	}
	if got := find(t, ix, "二胎"); !slices.Equal(got, []string{"张三"}) {
		t.Fatalf("二胎: got %v", got)
	}
	if got := find(t, ix, "七座"); !slices.Equal(got, []string{"王五"}) {
		t.Fatalf("七座 (free text): got %v", got)
	}
}

func TestSearch_RankingExactPrefixPinyinPartial(t *testing.T) {
	t.Parallel()
	ix := openIndex(t)
	// Many 王-names make the prefix and partial terms common (low idf) and the
	// exact one rare, the situation where tiers could interleave if boosts were close.
	var docs []search.Doc
	for i := 0; i < 300; i++ {
		docs = append(docs, cust(int64(100+i), fmt.Sprintf("王%c%c", givenChars[i%len(givenChars)], givenChars[(i*7)%len(givenChars)]), fmt.Sprintf("139%08d", i)))
	}
	docs = append(docs,
		cust(1, "王芳", "13800000001"),  // exact
		cust(2, "王芳芳", "13800000002"), // prefix
		cust(3, "汪方", "13800000003"),  // not 王芳 by character; wangfang by pinyin
		cust(4, "李王芳", "13800000004"), // partial
		cust(5, "wangfang", "13800000005"),
	)
	upsert(t, ix, docs...)
	got := find(t, ix, "王芳")
	if len(got) < 3 || got[0] != "王芳" || got[len(got)-1] != "李王芳" || !slices.Contains(got, "王芳芳") {
		t.Fatalf("王芳: got %v; want 王芳, the names starting with 王芳, then 李王芳", got)
	}
	for _, n := range got[1 : len(got)-1] {
		if !strings.HasPrefix(n, "王芳") {
			t.Fatalf("王芳: %s among the prefix matches: %v", n, got)
		}
	}
	got = find(t, ix, "wangfang")
	if len(got) == 0 || got[0] != "wangfang" {
		t.Fatalf("wangfang: got %v; want the exact latin name first", got)
	}
	if !slices.Contains(got, "王芳") || !slices.Contains(got, "汪方") {
		t.Fatalf("wangfang: got %v; want the pinyin matches too", got)
	}
}

// scoped docs: store s, owner o, department d.
func scoped(id, s, o, d int64) search.Doc {
	return search.Doc{ID: fmt.Sprintf("customer:%d", id), Kind: "customer", StoreID: s, OwnerID: o, DepartmentID: d,
		Title: fmt.Sprint(id), Names: []string{"张三"}}
}

func TestSearch_ScopeNeverLeaks(t *testing.T) {
	t.Parallel()
	ix := openIndex(t)
	var docs []search.Doc
	id := int64(0)
	for s := int64(1); s <= 3; s++ {
		for d := int64(0); d <= 2; d++ {
			for o := int64(0); o <= 3; o++ {
				id++
				dept := int64(0)
				if d > 0 {
					dept = s*10 + d
				}
				owner := int64(0)
				if o > 0 {
					owner = s*100 + o
				}
				docs = append(docs, scoped(id, s, owner, dept))
			}
		}
	}
	// a vehicle in store 1, and a customer owned by 101 in another store
	docs = append(docs, search.Doc{ID: "vehicle:1", Kind: "vehicle", StoreID: 1, Title: "v1", Names: []string{"张三"}})
	docs = append(docs, scoped(999, 3, 101, 0))
	upsert(t, ix, docs...)

	type rec struct{ s, o, d int64 }
	recs := map[string]rec{}
	for _, d := range docs {
		recs[d.ID] = rec{d.StoreID, d.OwnerID, d.DepartmentID}
	}
	cases := []struct {
		name   string
		scopes map[string]search.Scope
		in     func(kind string, r rec) bool
	}{
		{"group", map[string]search.Scope{"customer": {All: true}}, func(k string, r rec) bool { return k == "customer" }},
		{"store 2", map[string]search.Scope{"customer": {StoreIDs: []int64{2}}}, func(k string, r rec) bool { return k == "customer" && r.s == 2 }},
		{"own 101", map[string]search.Scope{"customer": {OwnerID: 101}}, func(k string, r rec) bool { return k == "customer" && r.o == 101 }},
		{"team 101 in store 1 dept 11", map[string]search.Scope{"customer": {OwnerID: 101, TeamStoreID: 1, TeamDepartmentID: 11}},
			func(k string, r rec) bool { return k == "customer" && (r.o == 101 || (r.s == 1 && r.d == 11)) }},
		{"team without department", map[string]search.Scope{"customer": {OwnerID: 101, TeamStoreID: 1}},
			func(k string, r rec) bool { return k == "customer" && r.o == 101 }},
		{"own with no user", map[string]search.Scope{"customer": {}}, func(string, rec) bool { return false }},
		{"no kinds", map[string]search.Scope{}, func(string, rec) bool { return false }},
		{"vehicles of store 1, customers of nothing", map[string]search.Scope{"vehicle": {StoreIDs: []int64{1}}, "customer": {}},
			func(k string, r rec) bool { return k == "vehicle" }},
		{"both kinds, all", map[string]search.Scope{"vehicle": {All: true}, "customer": {All: true}}, func(string, rec) bool { return true }},
	}
	for _, c := range cases {
		hits, total, err := ix.Search(context.Background(), search.Query{Text: "张", Scopes: c.scopes, Limit: search.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, h := range hits {
			got[h.ID] = true
			kind, _, _ := cut(h.ID)
			if !c.in(kind, recs[h.ID]) {
				t.Errorf("%s: leaked %s %+v", c.name, h.ID, recs[h.ID])
			}
		}
		want := 0
		for id, r := range recs {
			kind, _, _ := cut(id)
			if c.in(kind, r) {
				want++
				if !got[id] {
					t.Errorf("%s: missing %s %+v", c.name, id, r)
				}
			}
		}
		if total != want {
			t.Errorf("%s: total %d, want %d", c.name, total, want)
		}
	}
	// Kinds narrows the scopes given.
	hits, _, err := ix.Search(context.Background(), search.Query{Text: "张三", Kinds: []string{"vehicle"},
		Scopes: map[string]search.Scope{"vehicle": {All: true}, "customer": {All: true}}})
	if err != nil || len(hits) != 1 || hits[0].ID != "vehicle:1" {
		t.Fatalf("kinds=vehicle: %v %v", hits, err)
	}
}

func cut(id string) (string, string, bool) {
	for i := range id {
		if id[i] == ':' {
			return id[:i], id[i+1:], true
		}
	}
	return id, "", false
}

func TestSearch_LimitAndTotal(t *testing.T) {
	t.Parallel()
	ix := openIndex(t)
	var docs []search.Doc
	for i := int64(1); i <= 50; i++ {
		docs = append(docs, scoped(i, 1, 0, 0))
	}
	upsert(t, ix, docs...)
	hits, total, err := ix.Search(context.Background(), search.Query{Text: "张三", Scopes: all, Limit: 10})
	if err != nil || len(hits) != 10 || total != 50 {
		t.Fatalf("got %d hits, total %d, %v; want 10 of 50", len(hits), total, err)
	}
	hits, _, _ = ix.Search(context.Background(), search.Query{Text: "  ", Scopes: all})
	if len(hits) != 0 {
		t.Fatalf("blank query: %v", hits)
	}
}

func TestUpsert_ReplacesTheDocument(t *testing.T) {
	t.Parallel()
	ix := openIndex(t)
	upsert(t, ix, cust(1, "张三", "13800138000"))
	d := cust(1, "李四", "13900139000")
	d.Subtitle = "139****9000 A"
	upsert(t, ix, d)
	if got := find(t, ix, "张三"); len(got) != 0 {
		t.Fatalf("old name still found: %v", got)
	}
	if got := find(t, ix, "8000"); len(got) != 0 {
		t.Fatalf("old phone still found: %v", got)
	}
	hits, _, _ := ix.Search(context.Background(), search.Query{Text: "李四", Scopes: all})
	if len(hits) != 1 || hits[0].ID != "customer:1" || hits[0].Subtitle != "139****9000 A" || hits[0].Kind != "customer" {
		t.Fatalf("new doc: %+v", hits)
	}
	if n, _ := ix.Count(); n != 1 {
		t.Fatalf("count %d, want 1", n)
	}
	// Moving the record to another owner moves it out of the old owner's scope.
	d.OwnerID = 77
	upsert(t, ix, d)
	hits, _, _ = ix.Search(context.Background(), search.Query{Text: "李四", Scopes: map[string]search.Scope{"customer": {OwnerID: 10}}})
	if len(hits) != 0 {
		t.Fatalf("old owner still sees it: %v", hits)
	}
}

func TestDelete_RemovesDocuments(t *testing.T) {
	t.Parallel()
	ix := openIndex(t)
	upsert(t, ix, cust(1, "张三", "13800138000"), cust(2, "张伟", "13900139000"))
	if err := ix.Delete("customer:1", "customer:404"); err != nil {
		t.Fatal(err)
	}
	if got := find(t, ix, "张"); !slices.Equal(got, []string{"张伟"}) {
		t.Fatalf("after delete: %v", got)
	}
	if n, _ := ix.Count(); n != 1 {
		t.Fatalf("count %d", n)
	}
	if err := ix.Upsert(search.Doc{Kind: "customer"}); err == nil {
		t.Fatal("doc without id accepted")
	}
}

func TestOpen_NewIndexNeedsRebuildAndRebuildFillsIt(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "index")
	ix, err := search.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !ix.NeedsRebuild() {
		t.Fatal("a new empty index should need a rebuild")
	}
	upsert(t, ix, cust(1, "张三", "13800138000"))
	ix.Close()
	ix, err = search.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !ix.NeedsRebuild() {
		t.Fatal("still never rebuilt")
	}
	if got := find(t, ix, "张三"); len(got) != 1 {
		t.Fatalf("upsert not persisted: %v", got)
	}
	ix.Close()

	if err := search.Rebuild(dir, func(add func(search.Doc) error) error {
		return add(cust(2, "李四", "13900139000"))
	}); err != nil {
		t.Fatal(err)
	}
	ix, err = search.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if ix.NeedsRebuild() {
		t.Fatal("rebuilt index still needs a rebuild")
	}
	if got := find(t, ix, "张三"); len(got) != 0 {
		t.Fatalf("rebuild kept old documents: %v", got)
	}
	if got := find(t, ix, "李四"); len(got) != 1 {
		t.Fatalf("rebuild lost its documents: %v", got)
	}
	assertNoDebris(t, dir)
}

func assertNoDebris(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Dir(dir))
	for _, e := range entries {
		if e.Name() != filepath.Base(dir) {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestRebuild_FailureKeepsTheOldIndex(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "index")
	ix, err := search.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	upsert(t, ix, cust(1, "张三", "13800138000"))
	boom := errors.New("database went away")
	err = ix.Rebuild(func(add func(search.Doc) error) error {
		for i := int64(10); i < 5000; i++ {
			if err := add(cust(i, "李四", "13900139000")); err != nil {
				return err
			}
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("rebuild error %v, want %v", err, boom)
	}
	if got := find(t, ix, "张三"); len(got) != 1 {
		t.Fatalf("old index lost: %v", got)
	}
	if got := find(t, ix, "李四"); len(got) != 0 {
		t.Fatalf("half-built index used: %d hits", len(got))
	}
	assertNoDebris(t, dir)

	// A rebuild that succeeds swaps while the index stays open.
	if err := ix.Rebuild(func(add func(search.Doc) error) error { return add(cust(2, "王五", "13700137000")) }); err != nil {
		t.Fatal(err)
	}
	if got := find(t, ix, "王五"); len(got) != 1 {
		t.Fatalf("after swap: %v", got)
	}
	if got := find(t, ix, "张三"); len(got) != 0 {
		t.Fatalf("after swap, old doc: %v", got)
	}
	if ix.NeedsRebuild() {
		t.Fatal("swapped index needs rebuild")
	}
	upsert(t, ix, cust(3, "赵六", "13600136000"))
	if got := find(t, ix, "赵六"); len(got) != 1 {
		t.Fatalf("writes after swap: %v", got)
	}
	assertNoDebris(t, dir)
}

func TestOpen_MappingVersionMismatchIsStale(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "index")
	if err := search.Rebuild(dir, func(add func(search.Doc) error) error { return add(cust(1, "张三", "13800138000")) }); err != nil {
		t.Fatal(err)
	}
	if err := search.SetStoredVersion(dir, "0"); err != nil {
		t.Fatal(err)
	}
	ix, err := search.Open(dir)
	if !errors.Is(err, search.ErrStale) || ix != nil {
		t.Fatalf("open stale: %v, %v; want ErrStale", ix, err)
	}
	if err := search.Rebuild(dir, func(add func(search.Doc) error) error { return add(cust(1, "张三", "13800138000")) }); err != nil {
		t.Fatal(err)
	}
	ix, err = search.Open(dir)
	if err != nil {
		t.Fatalf("after rebuild: %v", err)
	}
	ix.Close()
}

func TestOpen_GarbageDirectoryIsStale(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "index")
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "index_meta.json"), []byte("{not json"), 0o600)
	if _, err := search.Open(dir); !errors.Is(err, search.ErrStale) {
		t.Fatalf("got %v, want ErrStale", err)
	}
}

func TestOpen_HeldByAnotherOpenerIsInUse(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "index")
	ix, err := search.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := search.Rebuild(dir, func(func(search.Doc) error) error { return nil }); !errors.Is(err, search.ErrInUse) {
		t.Fatalf("rebuild under an open index: %v, want ErrInUse", err)
	}
}
