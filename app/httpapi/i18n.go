package httpapi

import (
	"encoding/json"
	"fmt"
	"strings"

	"dealerdesk/embedui"
)

// Catalog translates error codes with the same locale files the web UI uses
// (embedui/src/locales), so a message reads the same in the API and on screen.
type Catalog struct {
	langs map[string]map[string]any
}

// Locales the product speaks; the first is the default.
var Locales = []string{"zh-CN", "en"}

// LoadCatalog reads the embedded locale files.
func LoadCatalog() (*Catalog, error) {
	c := &Catalog{langs: map[string]map[string]any{}}
	for _, l := range Locales {
		b, err := embedui.Locales.ReadFile("src/locales/" + l + ".json")
		if err != nil {
			return nil, fmt.Errorf("httpapi: locale %s: %w", l, err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("httpapi: locale %s: %w", l, err)
		}
		c.langs[l] = m
	}
	return c, nil
}

// Lookup returns the message of errors.<code> in the locale, and whether it exists.
// Dots in a code are nesting levels; a code that is also a prefix of longer codes
// keeps its own text under "_".
func (c *Catalog) Lookup(locale, code string) (string, bool) {
	m, ok := c.langs[locale]
	if !ok {
		m = c.langs[Locales[0]]
	}
	var cur any = m["errors"]
	for _, part := range strings.Split(code, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		cur = obj[part]
	}
	switch v := cur.(type) {
	case string:
		return v, true
	case map[string]any:
		s, ok := v["_"].(string)
		return s, ok
	}
	return "", false
}

// Text returns the UI text at a dotted key (e.g. "crm.channel.website") in the
// locale — for server-made documents such as Excel exports — or the key itself.
func (c *Catalog) Text(locale, key string) string {
	m, ok := c.langs[locale]
	if !ok {
		m = c.langs[Locales[0]]
	}
	var cur any = m
	for _, part := range strings.Split(key, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return key
		}
		cur = obj[part]
	}
	if s, ok := cur.(string); ok {
		return s
	}
	return key
}

// Message translates a code, filling {name} placeholders from params. An unknown
// code falls back to the kind's message, then to the code itself.
func (c *Catalog) Message(locale, code, fallback string, params map[string]any) string {
	msg, ok := c.Lookup(locale, code)
	if !ok && fallback != "" {
		msg, ok = c.Lookup(locale, fallback)
	}
	if !ok {
		msg = code
	}
	for k, v := range params {
		msg = strings.ReplaceAll(msg, "{"+k+"}", fmt.Sprint(v))
	}
	return msg
}

// Negotiate picks a supported locale from an Accept-Language header.
func Negotiate(header string) string {
	for _, part := range strings.Split(header, ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return "zh-CN"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return Locales[0]
}

// Has reports whether a dotted key exists in the locale (any section).
func (c *Catalog) Has(locale, key string) bool {
	var cur any = c.langs[locale]
	for _, part := range strings.Split(key, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		cur, ok = obj[part]
		if !ok {
			return false
		}
	}
	switch v := cur.(type) {
	case string:
		return true
	case map[string]any:
		_, ok := v["_"].(string)
		return ok
	}
	return false
}
