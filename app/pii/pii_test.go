package pii_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"dealerdesk/app/pii"
)

func TestNormalizeMobile_AcceptsCommonFormsRefusesTheRest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want string // "" means refused
	}{
		{"13800138000", "13800138000"},
		{"+86 138 0013 8000", "13800138000"},
		{"+86 139-1234-5678", "13912345678"},
		{"+8613912345678", "13912345678"},
		{"0086-13800138000", "13800138000"},
		{"0086 138 0013 8000", "13800138000"},
		{"8613800138000", "13800138000"},
		{"138-0013-8000", "13800138000"},
		{"(138) 0013.8000", "13800138000"},
		{"(+86) 138 0013 8000", "13800138000"},
		{" 19912345678\t", "19912345678"},
		{"１３８００１３８０００", "13800138000"},       // full-width digits
		{"１３８　００１３　８０００", "13800138000"},     // full-width digits and ideographic spaces
		{"+86 １３８-００１３-８０００", "13800138000"}, // mixed widths
		{"0571-88886666", ""},                // landline with area code
		{"057188886666", ""},                 // landline, 12 digits
		{"88886666", ""},                     // local landline
		{"138001380001", ""},                 // 12 digits
		{"1380013800", ""},                   // 10 digits
		{"12800138000", ""},                  // no mobile prefix starts 12
		{"10086", ""},                        // service number
		{"23800138000", ""},                  // does not start with 1
		{"1380013800a", ""},                  // a letter
		{"138 0013 8000 转 1", ""},            // extension text
		{"+1 415 555 0100", ""},              // a US number is not a Chinese mobile, though it has 11 digits
		{"+44 7911 123456", ""},              // a UK number
		{"138+0013+8000", ""},                // a plus sign inside the number
		{"", ""},
		{"   ", ""},
	}
	for _, c := range cases {
		got, ok := pii.NormalizeMobile(c.in)
		if c.want == "" {
			if ok {
				t.Errorf("NormalizeMobile(%q) = %q, accepted; want refused", c.in, got)
			}
			continue
		}
		if !ok || got != c.want {
			t.Errorf("NormalizeMobile(%q) = %q, %v; want %q, true", c.in, got, ok, c.want)
		}
	}
}

func TestMaskPhone_ShowsFirstThreeAndLastFour(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"13800138000": "138****8000",
		"19912345678": "199****5678",
		"1234567":     "1234567", // exactly 7: nothing left to hide
		"123456":      "******",
		"":            "",
	}
	for in, want := range cases {
		if got := pii.MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskIDNo_ShowsFirstSixAndLastFour(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"11010519491231002X": "110105********002X",
		"440308199001011239": "440308********1239",
		"123456789":          "*********",
		"":                   "",
	}
	for in, want := range cases {
		got := pii.MaskIDNo(in)
		if got != want {
			t.Errorf("MaskIDNo(%q) = %q, want %q", in, got, want)
		}
		if len(in) == 18 && strings.Contains(got, in[6:14]) {
			t.Errorf("MaskIDNo(%q) = %q still shows the birth date", in, got)
		}
	}
}

func TestValidIDNo_ChecksTheGB11643CheckCharacter(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want bool
	}{
		{"11010519491231002X", true},   // the standard's own example, check character X
		{"11010519491231002x", true},   // lower-case x as people type it
		{"440308199001011239", true},   // check digit 9
		{" 440308199001011239 ", true}, // surrounding spaces
		{"440308199001011238", false},  // wrong check digit
		{"110105194912310020", false},  // 0 where X belongs
		{"11010519491231002", false},   // 17 characters
		{"4403081990010112390", false}, // 19 characters
		{"44030819900101A239", false},  // a letter in the body
		{"", false},
	}
	for _, c := range cases {
		if got := pii.ValidIDNo(c.in); got != c.want {
			t.Errorf("ValidIDNo(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestMaskLogin_MasksPhonesAndCutsLongNamesOnRuneBoundaries(t *testing.T) {
	t.Parallel()
	if got := pii.MaskLogin("+86 138-0013-8000"); got != "138****8000" {
		t.Errorf("MaskLogin(phone) = %q, want 138****8000", got)
	}
	if got := pii.MaskLogin("zhangsan"); got != "zhangsan" {
		t.Errorf("MaskLogin(username) = %q, want it unchanged", got)
	}
	for _, in := range []string{strings.Repeat("a", 100), strings.Repeat("张", 30), "ab" + strings.Repeat("张", 30)} {
		got := pii.MaskLogin(in)
		if len(got) > 64 || !utf8.ValidString(got) || !strings.HasPrefix(in, got) || len(got) < 60 {
			t.Errorf("MaskLogin(%d bytes) = %q (%d bytes, valid UTF-8 %v); want a valid prefix of at most 64 bytes",
				len(in), got, len(got), utf8.ValidString(got))
		}
	}
}
