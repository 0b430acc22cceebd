package search

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Scope is the part of one kind's documents a caller may see: everything (All),
// or the union of the documents of StoreIDs, those owned by OwnerID, and those of
// team TeamDepartmentID in store TeamStoreID. A zero Scope sees nothing. It mirrors
// the SQL data-scope filter: group → All; store → StoreIDs; own → OwnerID; team →
// OwnerID plus TeamStoreID and TeamDepartmentID.
type Scope struct {
	All              bool
	StoreIDs         []int64
	OwnerID          int64
	TeamStoreID      int64
	TeamDepartmentID int64
}

// Query is one search.
type Query struct {
	Text   string
	Kinds  []string         // restrict to these kinds; empty: every kind in Scopes
	Scopes map[string]Scope // per kind; a kind without a scope is not searched
	Limit  int              // default 20, at most MaxLimit
}

// MaxLimit bounds Query.Limit.
const MaxLimit = 200

// Hit is one result.
type Hit struct {
	ID       string
	Kind     string
	Title    string
	Subtitle string
	Score    float64
}

// Query text bounds: longer input is cut (a search box, not a document).
const (
	maxQueryRunes = 64
	maxQueryParts = 5
)

// Ranking tiers. Scores within a tier vary with term statistics by well under
// the factor between tiers, so the tiers never interleave.
const (
	tierExact   = 1e16 // the whole name; the whole code
	tierPrefix  = 1e12 // the name starts with the query; the code ends with it (last 4 digits)
	tierPinyin  = 1e8  // pinyin spelling or initials; a whole tag
	tierPartial = 1e4  // a substring of a name, code or tag
	tierText    = 1    // free text
)

// Search returns the best hits for q.Text among the documents q.Scopes allow,
// best first, and the total number of matches. Every part of the
// text (split at spaces) must match. An empty text, or no searchable kind, gives
// no hits.
func (ix *Index) Search(ctx context.Context, q Query) ([]Hit, int, error) {
	parts := splitQuery(q.Text)
	filter := scopeFilter(q)
	if len(parts) == 0 || filter == nil {
		return []Hit{}, 0, nil
	}
	must := make([]query.Query, 0, len(parts))
	for _, p := range parts {
		must = append(must, partQuery(p))
	}
	bq := query.NewBooleanQuery(must, nil, nil)
	bq.AddFilter(filter)

	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, MaxLimit)
	req := bleve.NewSearchRequestOptions(bq, limit, 0, false)
	req.Fields = []string{fKind, fTitle, fSubtitle}
	// Best first; ties keep index order. Sorting ties by _id looked the document
	// id up for every match: 38% of a surname query's time at 100k documents.

	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.idx == nil {
		return nil, 0, ErrClosed
	}
	res, err := ix.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, 0, fmt.Errorf("search: query: %w", err)
	}
	hits := make([]Hit, 0, len(res.Hits))
	for _, h := range res.Hits {
		hits = append(hits, Hit{
			ID:       h.ID,
			Kind:     str(h.Fields[fKind]),
			Title:    str(h.Fields[fTitle]),
			Subtitle: str(h.Fields[fSubtitle]),
			Score:    h.Score,
		})
	}
	return hits, int(res.Total), nil
}

func str(v interface{}) string {
	s, _ := v.(string)
	return s
}

// splitQuery folds the text and splits it at spaces into at most maxQueryParts
// parts, each compacted (punctuation dropped: "138-0013" → "1380013").
func splitQuery(text string) []string {
	r := []rune(fold(text))
	if len(r) > maxQueryRunes {
		r = r[:maxQueryRunes]
	}
	var out []string
	for _, f := range strings.Fields(string(r)) {
		if p := compact(f); p != "" {
			out = append(out, p)
		}
		if len(out) == maxQueryParts {
			break
		}
	}
	return out
}

// partQuery matches one part of the query text in any of the ways a person may
// mean it, each way boosted by its tier.
func partQuery(p string) query.Query {
	var or []query.Query
	term := func(field, t string, boost float64) {
		q := query.NewTermQuery(t)
		q.SetField(field)
		q.SetBoost(boost)
		or = append(or, q)
	}
	// substring matches p anywhere in a field of the cjk analyzer, as cheaply as
	// the index allows: one character, a two-character bigram or a latin/digit
	// word is a single term (no positions to read — this is what keeps a surname
	// query fast when it matches a tenth of the index); a longer run of ideographs
	// is the phrase of its bigrams; anything mixed goes through the analyzer as a
	// phrase.
	substring := func(field, text string, boost float64) {
		r := []rune(text)
		switch {
		case len(r) == 1 || (len(r) == 2 && isHan(r[0]) && isHan(r[1])) || !hasHan(text) && isWord(text):
			term(field, text, boost)
		case allHan(r):
			bigrams := make([]string, 0, len(r)-1)
			for i := 0; i+2 <= len(r); i++ {
				bigrams = append(bigrams, string(r[i:i+2]))
			}
			q := query.NewPhraseQuery(bigrams, field)
			q.SetBoost(boost)
			or = append(or, q)
		default:
			q := query.NewMatchPhraseQuery(text)
			q.SetField(field)
			q.SetBoost(boost)
			or = append(or, q)
		}
	}
	grams := func(g []string, boost float64) {
		switch len(g) {
		case 0:
		case 1:
			term(fCodes, g[0], boost)
		default:
			q := query.NewPhraseQuery(g, fCodes)
			q.SetBoost(boost)
			or = append(or, q)
		}
	}

	term(fNameKW, p, tierExact)
	term(fNamePre, p, tierPrefix)
	if py := queryPinyin(p); py != "" {
		term(fPyFull, py, tierPinyin*3)
		// One letter is a prefix of a fifth of all spellings: scoring them would
		// cost a full scan for a keystroke that says almost nothing.
		if len(py) >= 2 {
			term(fPinyin, py, tierPinyin)
		}
	}
	substring(fName, p, tierPartial)
	term(fTag, p, tierPinyin)
	substring(fTagText, p, tierPartial)
	if len([]rune(p)) >= 3 {
		grams(codeGrams(p), tierExact)                             // ^…$: the whole code
		grams(append(gramsOf(p), gramsOf(tail(p))...), tierPrefix) // …$: ends with
		grams(gramsOf(p), tierPartial)                             // anywhere
	}
	substring(fText, p, tierText)
	return query.NewDisjunctionQuery(or)
}

// tail is the last two runes of p followed by "$": with gramsOf(p) it makes the
// grams of p + "$" (the phrase of a code ending in p).
func tail(p string) string {
	r := []rune(p)
	return string(r[len(r)-2:]) + "$"
}

// scopeFilter is the permission filter: for each kind that has a scope (and is
// asked for), documents of that kind inside the scope. Nil when no kind remains.
func scopeFilter(q Query) query.Query {
	kinds := make([]string, 0, len(q.Scopes))
	for k := range q.Scopes {
		if len(q.Kinds) > 0 && !contains(q.Kinds, k) {
			continue
		}
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var or []query.Query
	for _, k := range kinds {
		kq := keyTerm(fKind, k)
		s := q.Scopes[k]
		if s.All {
			or = append(or, kq)
			continue
		}
		var in []query.Query
		for _, id := range s.StoreIDs {
			if id != 0 {
				in = append(in, keyTerm(fStore, idTerm(id)))
			}
		}
		if s.OwnerID != 0 {
			in = append(in, keyTerm(fOwner, idTerm(s.OwnerID)))
		}
		if s.TeamStoreID != 0 && s.TeamDepartmentID != 0 {
			in = append(in, query.NewConjunctionQuery([]query.Query{
				keyTerm(fStore, idTerm(s.TeamStoreID)),
				keyTerm(fDept, idTerm(s.TeamDepartmentID)),
			}))
		}
		if len(in) == 0 {
			continue // sees nothing of this kind
		}
		or = append(or, query.NewConjunctionQuery([]query.Query{kq, query.NewDisjunctionQuery(in)}))
	}
	if len(or) == 0 {
		return nil
	}
	return query.NewDisjunctionQuery(or)
}

func keyTerm(field, v string) query.Query {
	q := query.NewTermQuery(v)
	q.SetField(field)
	return q
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
