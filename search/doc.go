// Package search is the full-text index behind the global search box: a bleve v2
// index of small documents (customers now; vehicles, plates and orders later) that
// answers the way people look for someone at a dealership — by surname alone (张),
// by full or partial name, by pinyin or pinyin initials (zhangsan, zs), by the last
// four digits of a phone, by a tag — and never shows a record outside the caller's
// data scope.
//
// It imports nothing from dealerdesk/app: the caller turns its records into Doc
// values and its actor into a Scope per kind. The index is derived data: the
// database is the truth, and Rebuild makes a fresh index from it.
//
// How each field is made searchable (see tokens.go):
//
//   - Names go through unicode tokenizer + cjk_width + lowercase + cjk_bigram with
//     output_unigram, so every single character is a term (bleve's stock cjk
//     analyzer emits only bigrams and found none of 1,010 single-surname queries)
//     and a substring query is a phrase over those terms. Besides, the whole name and
//     each of its prefixes are keyword terms, which rank exact and prefix matches.
//   - Pinyin: every spelling where each syllable is written in full or by its
//     initial (张三丰: zhangsanfeng, zsf, zhangsf, zsanfeng …, for names up to four
//     characters) and every prefix of those, computed with go-pinyin, with the
//     usual readings of polyphonic surnames (曾 zeng, 单 shan, 解 xie …).
//   - Digits (phones; VINs and plates later) are cut into 3-grams of
//     "^" + value + "$"; any substring of three or more characters is then a phrase
//     of 3-grams, "ends with" is the phrase that ends in "$", and "equals" the one
//     from "^" to "$". An 11-digit phone costs 11 terms.
//
// Ranking is tiered by boosts far apart, so that an exact name beats a name
// prefix, which beats a pinyin match, which beats a partial name or tag, which
// beats free text, whatever the term statistics.
//
// The permission filter is part of the bleve query (a boolean filter over keyword
// terms for kind, store, owner and department), so a limited result list is never
// filtered after the fact.
package search
