package sheet

// FormatCodeKind exposes the number-format classifier to the tests: 0 plain
// number, 1 date, 2 date-time, 3 time.
func FormatCodeKind(code string) int { return int(formatCodeKind(code)) }
