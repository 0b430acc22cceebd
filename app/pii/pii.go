// Package pii normalizes, validates and masks personal data (DOMAIN.md P1/P2):
// Chinese mobile numbers and resident ID numbers. Masked forms are what every role
// without the pi.reveal permission sees, in JSON, exports and logs alike.
package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// NormalizeMobile turns a Chinese mobile number typed in any common form
// (+86 138 0013 8000, 0086-13800138000, 138-0013-8000, full-width digits) into its
// 11 digits. ok is false when the result is not a valid mobile number.
func NormalizeMobile(s string) (string, bool) {
	var b strings.Builder
	// A '+' starts an international number: it may come only before the first
	// digit, and then the country code must be 86 (+1 415 555 0100 has 11 digits
	// starting with 1 too).
	intl := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune('0' + (r - '０'))
		case r == '+':
			if intl || b.Len() > 0 {
				return "", false
			}
			intl = true
		case r == '-' || r == '(' || r == ')' || r == '.' || unicode.IsSpace(r):
		default:
			return "", false
		}
	}
	d := b.String()
	switch {
	case intl && !(strings.HasPrefix(d, "86") && len(d) == 13):
		return "", false
	case strings.HasPrefix(d, "0086") && len(d) == 15:
		d = d[4:]
	case strings.HasPrefix(d, "86") && len(d) == 13:
		d = d[2:]
	}
	if len(d) != 11 || d[0] != '1' || d[1] < '3' || d[1] > '9' {
		return "", false
	}
	return d, true
}

// MaskPhone shows the first 3 and last 4 digits: 138****8000. A landline in the
// canonical form of NormalizePhone keeps its whole area code, which names only the
// city, and hides at least 4 digits of the local number: 0571****4321,
// 010****5678, 0571****432 (7-digit local number).
func MaskPhone(p string) string {
	if area := landlineAreaLen(p); area > 0 {
		local := len(p) - area
		show := min(4, local-4)
		return p[:area] + strings.Repeat("*", local-show) + p[len(p)-show:]
	}
	r := []rune(p)
	if len(r) < 7 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}

// landlineAreaLen returns the length of the area code (with trunk 0) when p is a
// landline in canonical form, else 0.
func landlineAreaLen(p string) int {
	if len(p) < 10 || len(p) > 12 || p[0] != '0' {
		return 0
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return 0
		}
	}
	if p[1] == '1' || p[1] == '2' {
		return 3
	}
	return 4
}

// MaskIDNo shows the first 6 and last 4 characters of an ID number.
func MaskIDNo(id string) string {
	r := []rune(id)
	if len(r) < 10 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:6]) + strings.Repeat("*", len(r)-10) + string(r[len(r)-4:])
}

// MaskLogin masks a sign-in name for the audit log when it looks like a phone.
func MaskLogin(s string) string {
	if p, ok := NormalizeMobile(s); ok {
		return MaskPhone(p)
	}
	if len(s) > 64 {
		// cut on a rune boundary: the audit log must stay valid UTF-8
		n := 64
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		return s[:n]
	}
	return s
}

var idWeights = []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheck = "10X98765432"

// ValidIDNo reports whether s is an 18-character resident ID number with a correct
// GB 11643 check character.
func ValidIDNo(s string) bool {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 18 {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		sum += int(c-'0') * idWeights[i]
	}
	return s[17] == idCheck[sum%11]
}
