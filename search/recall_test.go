package search_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mozillazg/go-pinyin"

	"dealerdesk/search"
)

// typedSurname is how people spell polyphonic surnames (the dictionary's first
// reading is wrong for them), written out here independently of the package.
var typedSurname = map[string]string{
	"曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "查": "zha", "翟": "zhai", "覃": "qin", "尉迟": "yuchi",
}

// typedPinyin returns the full pinyin and the initials a person would type for p.
func typedPinyin(p person) (full, initials string) {
	var syl []string
	if s, ok := typedSurname[p.Surname]; ok {
		if p.Surname == "尉迟" {
			syl = append(syl, "yu", "chi")
		} else {
			syl = append(syl, s)
		}
	} else {
		syl = append(syl, pinyin.LazyPinyin(p.Surname, pinyin.NewArgs())...)
	}
	syl = append(syl, pinyin.LazyPinyin(p.Given, pinyin.NewArgs())...)
	for _, s := range syl {
		full += s
		initials += s[:1]
	}
	return full, initials
}

// TestRecall_GeneratedNames indexes 2,000 generated customers and looks each one
// up the five ways a salesperson does; each way must find the customer (within the
// first MaxLimit hits) at least 99% of the time. Run with -v for the figures.
func TestRecall_GeneratedNames(t *testing.T) {
	t.Parallel()
	people := genPeople(2000, 1)
	ix := openIndex(t)
	docs := make([]search.Doc, len(people))
	for i, p := range people {
		docs[i] = p.doc()
	}
	upsert(t, ix, docs...)

	type way struct {
		name  string
		query func(p person) string
	}
	ways := []way{
		{"surname", func(p person) string { return p.Surname }},
		{"full name", func(p person) string { return p.Name }},
		{"given name", func(p person) string { return p.Given }},
		{"pinyin full", func(p person) string { f, _ := typedPinyin(p); return f }},
		{"pinyin initials", func(p person) string { _, i := typedPinyin(p); return i }},
		{"phone last 4", func(p person) string { return p.Phone[7:] }},
		{"phone middle 4", func(p person) string { return p.Phone[3:7] }},
	}
	ctx := context.Background()
	var report []string
	for _, w := range ways {
		found, top10, first := 0, 0, 0
		var misses []string
		for _, p := range people {
			q := w.query(p)
			hits, _, err := ix.Search(ctx, search.Query{Text: q, Scopes: all, Limit: search.MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("customer:%d", p.ID)
			for i, h := range hits {
				if h.ID == want {
					found++
					if i < 10 {
						top10++
					}
					if i == 0 || hits[0].Title == p.Name {
						first++ // first, or tied with a namesake
					}
					break
				}
				if i == len(hits)-1 && len(misses) < 5 {
					misses = append(misses, fmt.Sprintf("%s(%s)", p.Name, q))
				}
			}
			if len(hits) == 0 && len(misses) < 5 {
				misses = append(misses, fmt.Sprintf("%s(%s)", p.Name, q))
			}
		}
		n := float64(len(people))
		recall := float64(found) / n
		report = append(report, fmt.Sprintf("%-16s recall %.4f  in top 10 %.4f  first %.4f", w.name, recall, float64(top10)/n, float64(first)/n))
		if recall < 0.99 {
			t.Errorf("%s: recall %.4f < 0.99; misses e.g. %v", w.name, recall, misses)
		}
	}
	t.Log("recall over 2,000 generated customers:\n" + strings.Join(report, "\n"))
}
