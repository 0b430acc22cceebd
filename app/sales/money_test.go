package sales_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"dealerdesk/app/sales"
)

func TestFenString_GroupsThousands(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		f    sales.Fen
		want string
	}{
		{0, "¥0.00"},
		{5, "¥0.05"},
		{50, "¥0.50"},
		{100, "¥1.00"},
		{99999, "¥999.99"},
		{100000, "¥1,000.00"},
		{12345678, "¥123,456.78"},
		{100000000, "¥1,000,000.00"},
		{-150, "-¥1.50"},
		{-12345678, "-¥123,456.78"},
		{math.MaxInt64, "¥92,233,720,368,547,758.07"},
		{math.MinInt64, "-¥92,233,720,368,547,758.08"},
	} {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("Fen(%d).String() = %q, want %q", int64(tc.f), got, tc.want)
		}
	}
}

func TestParseYuan_ExactWithoutFloats(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want sales.Fen
	}{
		{"0", 0},
		{"123456.78", 12345678},
		{"123456.7", 12345670},
		{"123456", 12345600},
		{"0.01", 1},
		{"0.1", 10},
		{" 88 ", 8800},
		{"123,456.78", 12345678},
		{"1,000,000", 100000000},
		{"¥1,000.50", 100050},
		{"￥99", 9900},
		{"-5", -500},
		{"-¥1.50", -150},
		{"0.29", 29}, // 0.29 is not exact in binary floating point
		{"1234567890.99", 123456789099},
		{"92233720368547758.07", math.MaxInt64},
		{"-92233720368547758.08", math.MinInt64},
	} {
		got, err := sales.ParseYuan(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseYuan(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{
		"", " ", "-", "¥", ".", "1.", ".5", "1.234", "1.2.3", "abc", "12a", "1e5", "+5", "--5", "- 5",
		"1,00", "1000,000", ",100", "100,", "1,,000", "12,34.5", "1 000", "0x10", "١٢٣",
		"92233720368547758.08", "-92233720368547758.09", "99999999999999999999",
	} {
		if got, err := sales.ParseYuan(in); !errors.Is(err, sales.ErrYuanFormat) {
			t.Errorf("ParseYuan(%q) = %d, %v; want ErrYuanFormat", in, got, err)
		}
	}
}

// FuzzParseYuan: every Fen survives String → ParseYuan unchanged, and no input
// makes ParseYuan panic or return a value with an error.
func FuzzParseYuan(f *testing.F) {
	for _, s := range []string{"123,456.78", "0.05", "-1", "¥1,000", "1.", "9999999999999999999"} {
		f.Add(int64(len(s))*7919, s)
	}
	f.Add(int64(math.MinInt64), "")
	f.Add(int64(math.MaxInt64), "-0.00")
	f.Fuzz(func(t *testing.T, n int64, s string) {
		fen := sales.Fen(n)
		back, err := sales.ParseYuan(fen.String())
		if err != nil || back != fen {
			t.Fatalf("ParseYuan(%q) = %d, %v; want %d", fen.String(), back, err, n)
		}
		if got, err := sales.ParseYuan(s); err != nil && got != 0 {
			t.Fatalf("ParseYuan(%q) = %d with error %v", s, got, err)
		}
	})
}

func TestCapitalYuan_PaymentSettlementRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		yuan string
		want string
	}{
		{"0.00", "零元整"},
		{"0.05", "伍分"},
		{"0.50", "伍角整"},
		{"0.55", "伍角伍分"},
		{"1.00", "壹元整"},
		{"10.00", "壹拾元整"},
		{"15.00", "壹拾伍元整"},
		{"100.00", "壹佰元整"},
		{"101.00", "壹佰零壹元整"},
		{"110.00", "壹佰壹拾元整"},
		{"1,409.50", "壹仟肆佰零玖元伍角整"},    // 支付结算办法 example
		{"6,007.14", "陆仟零柒元壹角肆分"},     // one 零 for a run of zeros
		{"1,680.32", "壹仟陆佰捌拾元叁角贰分"},   // optional 零 after a zero 元 digit left out
		{"107,000.53", "壹拾万柒仟元伍角叁分"},  // optional 零 after a zero 万 digit left out
		{"16,409.02", "壹万陆仟肆佰零玖元零贰分"}, // 角 zero, 分 not: 零 after 元
		{"325.04", "叁佰贰拾伍元零肆分"},
		{"10,000.00", "壹万元整"},
		{"100,010.00", "壹拾万零壹拾元整"},
		{"1,000,000.01", "壹佰万元零壹分"},
		{"1,234,500.50", "壹佰贰拾叁万肆仟伍佰元伍角整"},
		{"10,010,000.00", "壹仟零壹万元整"},
		{"100,000,000.00", "壹亿元整"},
		{"100,000,001.00", "壹亿零壹元整"},
		{"100,000,500.00", "壹亿零伍佰元整"},
		{"101,000,000.00", "壹亿零壹佰万元整"},
		{"110,000,000.00", "壹亿壹仟万元整"},
		{"200,030,400.05", "贰亿零叁万零肆佰元零伍分"},
		{"1,000,000,000.00", "壹拾亿元整"},
		{"1,000,000,000,000.00", "壹万亿元整"},
		{"1,000,000,010,000.00", "壹万亿零壹万元整"},
		{"-12.30", "负壹拾贰元叁角整"},
		{"92,233,720,368,547,758.07", "玖亿贰仟贰佰叁拾叁万柒仟贰佰零叁亿陆仟捌佰伍拾肆万柒仟柒佰伍拾捌元零柒分"},
	} {
		f, err := sales.ParseYuan(tc.yuan)
		if err != nil {
			t.Fatal(err)
		}
		if got := sales.CapitalYuan(f); got != tc.want {
			t.Errorf("CapitalYuan(%s) = %s, want %s", tc.yuan, got, tc.want)
		}
	}
}

// FuzzCapitalYuan: CapitalYuan never panics, writes only the capital numerals,
// never two 零 in a row, ends in 整 exactly when there is no 分, and reads back
// (by an independent parser) as the amount it was given.
func FuzzCapitalYuan(f *testing.F) {
	for _, n := range []int64{0, 5, 50, 1000, 10000010, 20003040005, math.MaxInt64, math.MinInt64, -1} {
		f.Add(n)
	}
	const allowed = "零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整负"
	f.Fuzz(func(t *testing.T, n int64) {
		s := sales.CapitalYuan(sales.Fen(n))
		for _, r := range s {
			if !strings.ContainsRune(allowed, r) {
				t.Fatalf("CapitalYuan(%d) = %s: %q is not a capital numeral", n, s, r)
			}
		}
		if strings.Contains(s, "零零") || (strings.HasPrefix(s, "零") && s != "零元整") {
			t.Fatalf("CapitalYuan(%d) = %s: misplaced 零", n, s)
		}
		if wantZheng := n%10 == 0; strings.HasSuffix(s, "整") != wantZheng {
			t.Fatalf("CapitalYuan(%d) = %s: 整 only and always without 分", n, s)
		}
		if back, ok := readCapital(s); !ok || back != n {
			t.Fatalf("CapitalYuan(%d) = %s reads back as %d (%v)", n, s, back, ok)
		}
	})
}

// readCapital parses 人民币大写 the way a bank clerk reads it: digits times
// 拾/佰/仟 build a section, 万 scales the section, 亿 scales everything so far.
// It works in uint64 so that -MinInt64 fits.
func readCapital(s string) (int64, bool) {
	digits := map[rune]uint64{'零': 0, '壹': 1, '贰': 2, '叁': 3, '肆': 4, '伍': 5, '陆': 6, '柒': 7, '捌': 8, '玖': 9}
	neg := strings.HasPrefix(s, "负")
	s = strings.TrimPrefix(s, "负")
	var total, section, num, fen uint64
	for _, r := range s {
		switch r {
		case '拾':
			section += num * 10
			num = 0
		case '佰':
			section += num * 100
			num = 0
		case '仟':
			section += num * 1000
			num = 0
		case '万':
			section = (section + num) * 1e4
			num = 0
		case '亿':
			total = (total + section + num) * 1e8
			section, num = 0, 0
		case '元':
			fen = (total + section + num) * 100
			total, section, num = 0, 0, 0
		case '角':
			fen += num * 10
			num = 0
		case '分':
			fen += num
			num = 0
		case '整':
		default:
			d, ok := digits[r]
			if !ok {
				return 0, false
			}
			num = d
		}
	}
	if neg {
		return int64(-fen), true
	}
	return int64(fen), fen <= math.MaxInt64
}
