package sheet

import (
	"cmp"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// Field is a target field of an import and the column headers that mean it, e.g.
// {Key: "phone", Aliases: []string{"手机", "手机号", "联系电话", "电话", "mobile"}}.
type Field struct {
	Key     string
	Aliases []string
}

// SuggestMapping proposes which column (0-based index into headers) feeds which
// field key, for the user to confirm on the import page. Headers and aliases are
// compared without case, width, spaces or punctuation ("手机号码（必填）" is
// 手机号码必填); an exact match beats a header containing an alias, and a longer
// alias beats a shorter one, so "备用手机" does not take "phone" from "手机号". Each
// field and each column is used at most once; unmatched columns are absent.
func SuggestMapping(headers []string, fields []Field) map[int]string {
	type candidate struct {
		col, field int
		exact      bool
		aliasLen   int
	}
	var cands []candidate
	for col, h := range headers {
		hk := matchKey(h)
		if hk == "" {
			continue
		}
		for fi, f := range fields {
			best := candidate{col: col, field: fi, aliasLen: -1}
			for _, a := range append([]string{f.Key}, f.Aliases...) {
				ak := matchKey(a)
				if ak == "" {
					continue
				}
				n := len([]rune(ak))
				switch {
				case hk == ak:
					if !best.exact || n > best.aliasLen {
						best.exact, best.aliasLen = true, n
					}
				case !best.exact && strings.Contains(hk, ak) && n > best.aliasLen:
					best.aliasLen = n
				}
			}
			if best.aliasLen >= 0 {
				cands = append(cands, best)
			}
		}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int {
		if a.exact != b.exact {
			if a.exact {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.aliasLen, a.aliasLen), cmp.Compare(a.col, b.col), cmp.Compare(a.field, b.field))
	})
	out := map[int]string{}
	usedField := map[int]bool{}
	for _, c := range cands {
		if _, ok := out[c.col]; ok || usedField[c.field] {
			continue
		}
		out[c.col] = fields[c.field].Key
		usedField[c.field] = true
	}
	return out
}

// matchKey folds a header for comparison: full-width to half-width, lower case,
// without spaces, punctuation and symbols.
func matchKey(s string) string {
	s = width.Fold.String(s)
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
