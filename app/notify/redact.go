package notify

import (
	"context"
	"crypto/x509"
	"errors"
	"maps"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"unicode/utf8"

	"dealerdesk/app/pii"
)

// A robot's URL is its credential (the WeCom key, the DingTalk access token, the
// Feishu hook id), and secrets and passwords are credentials too. What leaves the
// service — API answers, the audit log, stored errors, log lines — goes through
// the functions here.

// maskToken keeps the last 4 characters of a token: "****9f2c".
func maskToken(s string) string {
	if utf8.RuneCountInString(s) <= 8 {
		return "****"
	}
	r := []rune(s)
	return "****" + string(r[len(r)-4:])
}

// MaskURL shows a URL with its credentials masked: every query value and, for a
// hook URL (…/hook/<token>), the last path segment keep their last 4 characters;
// user info is dropped. Anything unparseable is masked whole.
func MaskURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "****"
	}
	u.User = nil
	if q := u.Query(); len(q) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(q)) {
			for _, v := range q[k] {
				parts = append(parts, url.QueryEscape(k)+"="+maskToken(v))
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	// Tokens also hide in paths (…/hook/<token>, /services/T0/B0/<secret>,
	// /hooks/catch/123456/<id>): every segment after the first that looks like one
	// (see tokenLike) is masked, so "/open-apis/bot/v2/hook" stays readable.
	if segs := strings.Split(u.Path, "/"); len(segs) > 2 {
		for i := 2; i < len(segs); i++ {
			if tokenLike(segs[i]) {
				segs[i] = maskToken(segs[i])
			}
		}
		u.Path = strings.Join(segs, "/")
		u.RawPath = ""
	}
	u.Fragment = ""
	// url.URL.String would escape the asterisks of the path; build it by hand.
	s := u.Scheme + "://" + u.Host + u.EscapedPath()
	if u.RawQuery != "" {
		s += "?" + u.RawQuery
	}
	return strings.ReplaceAll(s, "%2A", "*")
}

// tokenLike: a path segment of 16+ characters, or of 6+ with a digit in it.
func tokenLike(seg string) bool {
	return len(seg) >= 16 || len(seg) >= 6 && strings.ContainsAny(seg, "0123456789")
}

// credentials returns the secret parts of a URL — query values, the hook token,
// user info — for scrubbing from error texts.
func credentials(raw string) []string {
	out := []string{raw}
	u, err := url.Parse(raw)
	if err != nil {
		return out
	}
	for _, vs := range u.Query() {
		out = append(out, vs...)
	}
	if segs := strings.Split(u.Path, "/"); len(segs) > 2 {
		for _, seg := range segs[2:] {
			if tokenLike(seg) {
				out = append(out, seg)
			}
		}
	}
	if u.User != nil {
		out = append(out, u.User.String())
	}
	return out
}

// maxErrorText bounds a stored error.
const maxErrorText = 500

// sanitize turns a send error into text fit to store and log: a *url.Error names
// only scheme://host/…, and every credential (the URL, its token, a secret, a
// password) is replaced by ****.
func sanitize(err error, secrets ...string) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		where := "…"
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			where = u.Scheme + "://" + u.Host + "/…"
		}
		msg = ue.Op + " " + where + ": " + ue.Err.Error()
	}
	return scrub(msg, secrets...)
}

// scrub replaces every secret (longest first, so a URL goes before its token) in s
// and bounds the length.
func scrub(s string, secrets ...string) string {
	list := slices.Clone(secrets)
	slices.SortFunc(list, func(a, b string) int { return len(b) - len(a) })
	for _, x := range list {
		if len(x) >= 4 {
			s = strings.ReplaceAll(s, x, "****")
			if esc := url.QueryEscape(x); esc != x {
				s = strings.ReplaceAll(s, esc, "****")
			}
		}
	}
	return truncate(s, maxErrorText)
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// MaskText masks what looks like a phone or ID number in free text (a customer
// shown by phone because it has no name, an approval titled with one): a mobile
// or landline number, also written with spaces or hyphens, becomes its masked
// form (138****8000, 0571****4321), an 18-character ID number 110105********002X,
// and any other run of 10 or more digits is masked like a phone. Shorter numbers
// (counts, dates, times) stay.
func MaskText(s string) string {
	var b strings.Builder
	i := 0
	for i < len(s) {
		if !isDigit(s[i]) && !(s[i] == '+' && i+1 < len(s) && isDigit(s[i+1])) {
			b.WriteByte(s[i])
			i++
			continue
		}
		// a run: digits with single separators between them (a leading + allowed)
		end, sep := i, false
		if s[end] == '+' {
			end++
		}
		for end < len(s) {
			if isDigit(s[end]) {
				end++
				continue
			}
			if (s[end] == ' ' || s[end] == '-') && end+1 < len(s) && isDigit(s[end+1]) {
				sep = true
				end++
				continue
			}
			break
		}
		// an ID number's check character
		if end < len(s) && (s[end] == 'X' || s[end] == 'x') && end-i == 17 && !sep {
			end++
		}
		run := s[i:end]
		if p, err := pii.NormalizePhone(run); err == nil && p.Kind != pii.PhoneService && (sep || strings.HasPrefix(run, "+")) {
			b.WriteString(pii.MaskPhone(p.Number))
		} else {
			b.WriteString(maskDigits(run))
		}
		i = end
	}
	return b.String()
}

// maskDigits masks each separator-free group of 10 or more digits of a run.
func maskDigits(run string) string {
	var b strings.Builder
	for len(run) > 0 {
		j := 0
		for j < len(run) && (isDigit(run[j]) || (j == 17 && (run[j] == 'X' || run[j] == 'x'))) {
			j++
		}
		switch g := run[:j]; {
		case j == 0:
			b.WriteByte(run[0])
			j = 1
		case len(g) == 18:
			b.WriteString(pii.MaskIDNo(g))
		case len(g) >= 10:
			b.WriteString(pii.MaskPhone(g))
		default:
			b.WriteString(g)
		}
		run = run[j:]
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// sendErrorCode classifies a failed send for the person testing a channel.
func sendErrorCode(err error) string {
	var dns *net.DNSError
	var vendor vendorError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	msg := strings.ToLower(err.Error())
	switch {
	case errors.As(err, &vendor):
		return "channel.send.vendor"
	case errors.As(err, &dns):
		return "channel.send.dns"
	case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
		return "channel.send.timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "channel.send.refused"
	case errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &certInvalid) ||
		strings.Contains(msg, "tls:") || strings.Contains(msg, "x509:") || strings.Contains(msg, "starttls"):
		return "channel.send.tls"
	case strings.Contains(msg, "535") || strings.Contains(msg, "authentication") || strings.Contains(msg, "auth failed"):
		return "channel.send.auth"
	}
	return "channel.send.failed"
}
