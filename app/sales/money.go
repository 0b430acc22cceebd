package sales

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"
)

// Fen is an amount of renminbi in fen (分, 0.01 yuan). Every amount in DealerDesk
// is a Fen (or an int64 of fen in SQL and JSON), never a float.
type Fen int64

// Yuan returns n whole yuan in fen.
func Yuan(n int64) Fen { return Fen(n * 100) }

// String formats f as "¥123,456.78" ("-¥1.50" when negative).
func (f Fen) String() string {
	var b strings.Builder
	u := uint64(f) // the magnitude also for math.MinInt64
	if f < 0 {
		b.WriteByte('-')
		u = -u
	}
	b.WriteString("¥")
	whole := fmt.Sprint(u / 100)
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	fmt.Fprintf(&b, ".%02d", u%100)
	return b.String()
}

// ErrYuanFormat is wrapped by every ParseYuan error.
var ErrYuanFormat = errors.New("invalid yuan amount")

// ParseYuan parses an amount of yuan with at most two decimals, such as
// "123456.78", "123,456.7", "¥1,000" or "-5", into fen, exactly (no float is
// involved). Thousands separators must group by three. A leading minus is
// accepted; callers where a negative amount makes no sense must reject it.
func ParseYuan(s string) (Fen, error) {
	fail := func() (Fen, error) { return 0, fmt.Errorf("sales: parse %q: %w", s, ErrYuanFormat) }
	t := strings.TrimSpace(s)
	neg := strings.HasPrefix(t, "-")
	if neg {
		t = t[1:]
	}
	t = strings.TrimPrefix(strings.TrimPrefix(t, "¥"), "￥")
	whole, frac, hasDot := strings.Cut(t, ".")
	if whole == "" || (hasDot && (len(frac) < 1 || len(frac) > 2)) {
		return fail()
	}
	if strings.Contains(whole, ",") {
		groups := strings.Split(whole, ",")
		if len(groups[0]) < 1 || len(groups[0]) > 3 {
			return fail()
		}
		for _, g := range groups[1:] {
			if len(g) != 3 {
				return fail()
			}
		}
		whole = strings.Join(groups, "")
	}
	frac += strings.Repeat("0", 2-len(frac))
	var u uint64
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			return fail()
		}
		hi, lo := bits.Mul64(u, 10)
		lo, carry := bits.Add64(lo, uint64(c-'0'), 0)
		if hi != 0 || carry != 0 {
			return fail()
		}
		u = lo
	}
	if neg {
		if u > 1<<63 {
			return fail()
		}
		return Fen(-u), nil
	}
	if u > math.MaxInt64 {
		return fail()
	}
	return Fen(u), nil
}

// mulDivHalfUp returns a·b/d rounded half up, computed in 128 bits so that no
// intermediate product overflows. a and b must be ≥ 0 and d > 0; the quotient
// saturates at math.MaxInt64.
func mulDivHalfUp(a, b, d int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(d) {
		return math.MaxInt64
	}
	q, r := bits.Div64(hi, lo, uint64(d))
	if r >= uint64(d)-r { // 2r ≥ d without overflowing
		q++
	}
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}

var (
	capitalDigits = [...]string{"零", "壹", "贰", "叁", "肆", "伍", "陆", "柒", "捌", "玖"}
	capitalUnits  = [...]string{"", "拾", "佰", "仟"}
)

// CapitalYuan writes f in Chinese capital numerals (人民币大写) as contracts,
// invoices and receipts require, following the rules of 《支付结算办法》 (附件
// 《正确填写票据和结算凭证的基本规定》):
//   - 壹拾 is written in full ("壹拾元整", "壹拾万零壹拾元整");
//   - one 零 stands for any run of zeros between non-zero digits, also across the
//     万 and 亿 groups ("壹亿零伍佰元整"); where the standard leaves the 零 after a
//     zero 万 or 元 digit optional, it is left out ("壹拾万柒仟元", "壹仟陆佰捌拾元叁角");
//   - "整" follows an amount ending in 元 or in 角, never one with 分
//     ("壹拾元整", "伍角整", "伍角伍分"); a 分 without 角 after yuan takes 零
//     ("壹佰万元零壹分");
//   - an amount below one yuan starts at its 角 or 分 ("伍分"); zero is "零元整";
//     a negative amount starts with "负".
//
// The caller adds the "人民币" label the form needs.
func CapitalYuan(f Fen) string {
	var b strings.Builder
	u := uint64(f)
	if f < 0 {
		b.WriteString("负")
		u = -u
	}
	yuan, jiao, fen := u/100, u/10%10, u%10
	if yuan == 0 && jiao == 0 && fen == 0 {
		return "零元整"
	}
	if yuan > 0 {
		writeCapitalInt(&b, yuan)
		b.WriteString("元")
	}
	switch {
	case jiao == 0 && fen == 0:
		b.WriteString("整")
	case jiao == 0:
		if yuan > 0 {
			b.WriteString("零")
		}
		b.WriteString(capitalDigits[fen] + "分")
	case fen == 0:
		b.WriteString(capitalDigits[jiao] + "角整")
	default:
		b.WriteString(capitalDigits[jiao] + "角" + capitalDigits[fen] + "分")
	}
	return b.String()
}

// writeCapitalInt writes n > 0: groups of four digits joined by 万 and 亿, where
// a lower part that does not fill its group's top digit is preceded by one 零.
func writeCapitalInt(b *strings.Builder, n uint64) {
	switch {
	case n >= 1e8:
		writeCapitalInt(b, n/1e8)
		b.WriteString("亿")
		if lo := n % 1e8; lo > 0 {
			if lo < 1e7 {
				b.WriteString("零")
			}
			writeCapitalInt(b, lo)
		}
	case n >= 1e4:
		writeCapitalInt(b, n/1e4)
		b.WriteString("万")
		if lo := n % 1e4; lo > 0 {
			if lo < 1e3 {
				b.WriteString("零")
			}
			writeCapitalInt(b, lo)
		}
	default: // one group, 1..9999
		zero := false
		for p := 3; p >= 0; p-- {
			d := n / pow10[p] % 10
			switch {
			case d == 0:
				zero = n >= pow10[p] // only zeros after the first digit count
			default:
				if zero {
					b.WriteString("零")
					zero = false
				}
				b.WriteString(capitalDigits[d] + capitalUnits[p])
			}
		}
	}
}

var pow10 = [...]uint64{1, 10, 100, 1000}
