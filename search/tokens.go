package search

import (
	"strings"
	"unicode"

	"github.com/mozillazg/go-pinyin"
)

// fold maps full-width ASCII (as typed with a Chinese input method) to half-width,
// the ideographic space to a space, and lower-cases.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case r == 0x3000:
			r = ' '
		}
		return unicode.ToLower(r)
	}, s)
}

// compact folds s and keeps only letters, digits and ideographs: the form names,
// phones, VINs and plates are compared in ("138-0013-8000" → "13800138000",
// "浙A·12345" → "浙a12345", "阿卜杜拉·买买提" → "阿卜杜拉买买提").
func compact(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, fold(s))
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

func hasHan(s string) bool {
	for _, r := range s {
		if isHan(r) {
			return true
		}
	}
	return false
}

func allHan(r []rune) bool {
	for _, c := range r {
		if !isHan(c) {
			return false
		}
	}
	return len(r) > 0
}

// isWord reports whether s is letters and digits without ideographs, which the
// unicode tokenizer keeps as one token.
func isWord(s string) bool {
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r)) || isHan(r) {
			return false
		}
	}
	return s != ""
}

func isLatin(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}

// namePrefixes returns every prefix (in runes) of the compacted name, the whole
// name included.
func namePrefixes(kw string) []string {
	var out []string
	for i := range kw {
		if i > 0 {
			out = append(out, kw[:i])
		}
	}
	if kw != "" {
		out = append(out, kw)
	}
	return out
}

var pinyinArgs = pinyin.NewArgs() // Normal style: no tones, ü as v, first reading only

// surnameReadings are the readings of polyphonic characters when they open a name
// (曾 is céng in the dictionary's first reading but zēng as a surname). Compound
// surnames with a special reading are listed whole.
var surnameReadings = map[string][]string{
	"曾": {"zeng"}, "单": {"shan"}, "解": {"xie"}, "仇": {"qiu"}, "朴": {"piao"},
	"区": {"ou"}, "查": {"zha"}, "盖": {"ge"}, "乐": {"yue", "le"}, "覃": {"qin"},
	"翟": {"zhai"}, "缪": {"miao"}, "秘": {"bi"}, "薄": {"bo"}, "召": {"shao"},
	"繁": {"po"}, "种": {"chong"}, "员": {"yun"}, "华": {"hua"}, "阚": {"kan"},
	"冼": {"xian"}, "柏": {"bai"}, "宿": {"su"}, "殷": {"yin"}, "黑": {"he"},
	"逄": {"pang"}, "牟": {"mou", "mu"}, "能": {"nai"}, "那": {"na"}, "折": {"she"},
	"乜": {"nie"}, "句": {"gou"}, "尉": {"wei"}, "长": {"chang"}, "重": {"chong"},
	"藏": {"zang"}, "沈": {"shen"}, "任": {"ren"}, "石": {"shi"}, "纪": {"ji"},
	"过": {"guo"}, "燕": {"yan"}, "莘": {"shen"}, "蕃": {"pi"}, "隗": {"wei"},
	"贾": {"jia"}, "都": {"du"}, "参": {"can"}, "扈": {"hu"}, "莫": {"mo"},
	"尉迟": {"yu", "chi"}, "万俟": {"mo", "qi"}, "单于": {"chan", "yu"}, "长孙": {"zhang", "sun"},
}

// syllables returns the pinyin of a name, one entry per syllable, each entry the
// readings to index (usually one). A run of ASCII letters or digits is one
// syllable; other characters are dropped.
func syllables(name string) [][]string {
	name = fold(name)
	var out [][]string
	runes := []rune(name)
	i := 0
	if len(runes) >= 2 {
		if rs, ok := surnameReadings[string(runes[:2])]; ok && len(rs) == 2 {
			out = append(out, []string{rs[0]}, []string{rs[1]})
			i = 2
		}
	}
	if i == 0 && len(runes) > 0 {
		if rs, ok := surnameReadings[string(runes[0])]; ok {
			seen := map[string]bool{}
			var alt []string
			for _, r := range append(append([]string{}, rs...), pinyin.SinglePinyin(runes[0], pinyinArgs)...) {
				if !seen[r] {
					seen[r] = true
					alt = append(alt, r)
				}
			}
			out = append(out, alt)
			i = 1
		}
	}
	for i < len(runes) {
		r := runes[i]
		switch {
		case isHan(r):
			if p := pinyin.SinglePinyin(r, pinyinArgs); len(p) > 0 && p[0] != "" {
				out = append(out, []string{p[0]})
			}
			i++
		case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			j := i
			for j < len(runes) && runes[j] < 0x80 && (unicode.IsLetter(runes[j]) || unicode.IsDigit(runes[j])) {
				j++
			}
			out = append(out, []string{string(runes[i:j])})
			i = j
		default:
			i++
		}
	}
	return out
}

// maxComboSyllables bounds the names whose every full/initial mix is indexed: 2^n
// spellings (times polyphonic surname readings). Longer names get the full
// spelling, the initials and surname-in-full + given-name initials.
const maxComboSyllables = 4

// pinyinForms returns the complete spellings of a name: each syllable in full or
// by its first letter (all mixes for names of up to four syllables).
func pinyinForms(name string) []string {
	syl := syllables(name)
	if len(syl) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if len(syl) <= maxComboSyllables {
		var walk func(i int, acc string)
		walk = func(i int, acc string) {
			if i == len(syl) {
				add(acc)
				return
			}
			for _, r := range syl[i] {
				walk(i+1, acc+r)
				walk(i+1, acc+r[:1])
			}
		}
		walk(0, "")
		return out
	}
	for _, first := range syl[0] {
		full, initials, mixed := first, first[:1], first
		for _, s := range syl[1:] {
			full += s[0]
			initials += s[0][:1]
			mixed += s[0][:1]
		}
		add(full)
		add(initials)
		add(mixed)
	}
	return out
}

// queryPinyin turns a query part into the pinyin spelling to look up: latin
// letters as typed; ideographs mixed with letters ("张s", "张san") converted to
// their pinyin. It returns "" when the part is not a pinyin query.
func queryPinyin(part string) string {
	if isLatin(part) {
		return part
	}
	if !hasHan(part) {
		return ""
	}
	latin := false
	for _, r := range part {
		if r >= 'a' && r <= 'z' {
			latin = true
		} else if !isHan(r) {
			return ""
		}
	}
	if !latin {
		return "" // ideographs alone are matched as characters, not by sound
	}
	var b strings.Builder
	for _, syl := range syllables(part) {
		b.WriteString(syl[0])
	}
	return b.String()
}

// codeGrams cuts a compacted code (phone, VIN, plate) into 3-grams of
// "^" + code + "$". Codes shorter than three characters give nothing.
func codeGrams(code string) []string {
	r := []rune(code)
	if len(r) < 3 {
		return nil
	}
	r = append(append([]rune{'^'}, r...), '$')
	out := make([]string, 0, len(r)-2)
	for i := 0; i+3 <= len(r); i++ {
		out = append(out, string(r[i:i+3]))
	}
	return out
}

// gramsOf returns the consecutive 3-grams of s (no anchors).
func gramsOf(s string) []string {
	r := []rune(s)
	var out []string
	for i := 0; i+3 <= len(r); i++ {
		out = append(out, string(r[i:i+3]))
	}
	return out
}

// joinUnique joins the distinct strings with spaces, keeping the first occurrence
// order (for the whitespace-tokenized fields).
func joinUnique(parts []string) string {
	seen := make(map[string]bool, len(parts))
	var b strings.Builder
	for _, p := range parts {
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p)
	}
	return b.String()
}
