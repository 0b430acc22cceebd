package search

import (
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/whitespace"
	"github.com/blevesearch/bleve/v2/mapping"
)

// MappingVersion names the index layout: the bleve mapping and the way tokens.go
// turns a Doc into terms. Change it with either; an index written under another
// version is reported stale by Open and must be rebuilt.
const MappingVersion = 1

// Field names in the bleve documents.
const (
	fKind     = "kind"
	fStore    = "store"
	fOwner    = "owner"
	fDept     = "dept"
	fTitle    = "title"
	fSubtitle = "subtitle"
	fName     = "name"     // cjk analyzer: unigrams + bigrams, positions for phrases
	fNameKW   = "name_kw"  // the compacted whole name
	fNamePre  = "name_pre" // every prefix of it
	fPinyin   = "py"       // every prefix of every spelling
	fPyFull   = "py_full"  // the complete spellings
	fCodes    = "codes"    // 3-grams of ^code$
	fTag      = "tag"      // whole tags
	fTagText  = "tag_text" // tags through the cjk analyzer
	fText     = "text"
)

const (
	analyzerCJK  = "dd_cjk" // unicode + cjk_width + lowercase + cjk_bigram(output_unigram)
	analyzerWS   = "dd_ws"  // whitespace only: the terms are made in Go (tokens.go)
	filterBigram = "dd_cjk_bigram_unigram"
)

func newMapping() (mapping.IndexMapping, error) {
	im := bleve.NewIndexMapping()
	if err := im.AddCustomTokenFilter(filterBigram, map[string]interface{}{
		"type":           cjk.BigramName,
		"output_unigram": true,
	}); err != nil {
		return nil, err
	}
	if err := im.AddCustomAnalyzer(analyzerCJK, map[string]interface{}{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []string{cjk.WidthName, lowercase.Name, filterBigram},
	}); err != nil {
		return nil, err
	}
	if err := im.AddCustomAnalyzer(analyzerWS, map[string]interface{}{
		"type":      custom.Name,
		"tokenizer": whitespace.Name,
	}); err != nil {
		return nil, err
	}

	field := func(analyzer string, store, vectors bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = store
		f.Index = true
		f.IncludeTermVectors = vectors
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	stored := func() *mapping.FieldMapping {
		f := field(keyword.Name, true, false)
		f.Index = false
		return f
	}

	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt(fKind, field(keyword.Name, true, false))
	dm.AddFieldMappingsAt(fStore, field(keyword.Name, false, false))
	dm.AddFieldMappingsAt(fOwner, field(keyword.Name, false, false))
	dm.AddFieldMappingsAt(fDept, field(keyword.Name, false, false))
	dm.AddFieldMappingsAt(fTitle, stored())
	dm.AddFieldMappingsAt(fSubtitle, stored())
	dm.AddFieldMappingsAt(fName, field(analyzerCJK, false, true))
	dm.AddFieldMappingsAt(fNameKW, field(keyword.Name, false, false))
	dm.AddFieldMappingsAt(fNamePre, field(analyzerWS, false, false))
	dm.AddFieldMappingsAt(fPinyin, field(analyzerWS, false, false))
	dm.AddFieldMappingsAt(fPyFull, field(analyzerWS, false, false))
	dm.AddFieldMappingsAt(fCodes, field(analyzerWS, false, true))
	dm.AddFieldMappingsAt(fTag, field(keyword.Name, false, false))
	dm.AddFieldMappingsAt(fTagText, field(analyzerCJK, false, true))
	dm.AddFieldMappingsAt(fText, field(analyzerCJK, false, true))

	im.DefaultMapping = dm
	im.DefaultAnalyzer = keyword.Name
	im.IndexDynamic = false
	im.StoreDynamic = false
	im.DocValuesDynamic = false
	return im, im.Validate()
}

// fields turns a Doc into the bleve document.
func fields(d Doc) map[string]interface{} {
	m := map[string]interface{}{
		fKind:     d.Kind,
		fTitle:    d.Title,
		fSubtitle: d.Subtitle,
	}
	// An id of 0 (no owner, no department) is left out, so no scope can match
	// "owner 0".
	for f, id := range map[string]int64{fStore: d.StoreID, fOwner: d.OwnerID, fDept: d.DepartmentID} {
		if id != 0 {
			m[f] = idTerm(id)
		}
	}
	var names, kws, pre, py, full []string
	for _, n := range d.Names {
		kw := compact(n)
		if kw == "" {
			continue
		}
		names = append(names, n)
		kws = append(kws, kw)
		pre = append(pre, namePrefixes(kw)...)
		for _, f := range pinyinForms(n) {
			full = append(full, f)
			for i := 1; i <= len(f); i++ {
				py = append(py, f[:i])
			}
		}
	}
	if len(names) > 0 {
		m[fName] = names
		m[fNameKW] = kws
		m[fNamePre] = joinUnique(pre)
	}
	if len(py) > 0 {
		m[fPinyin] = joinUnique(py)
		m[fPyFull] = joinUnique(full)
	}
	var grams []string
	for _, c := range d.Digits {
		grams = append(grams, codeGrams(compact(c))...)
	}
	if len(grams) > 0 {
		// Not deduplicated: positions make the phrases. Phrases cannot run from one
		// code into the next, since the grams at the seams hold ^ or $ and a query
		// never does.
		m[fCodes] = strings.Join(grams, " ")
	}
	var tags, tagText []string
	for _, t := range d.Tags {
		if c := compact(t); c != "" {
			tags = append(tags, c)
			tagText = append(tagText, t)
		}
	}
	if len(tags) > 0 {
		m[fTag] = tags
		m[fTagText] = tagText
	}
	if d.Text != "" {
		m[fText] = d.Text
	}
	return m
}

// idTerm is the keyword term of an id.
func idTerm(id int64) string { return strconv.FormatInt(id, 10) }
