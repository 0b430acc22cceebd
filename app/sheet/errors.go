package sheet

import "dealerdesk/app/apperr"

// The package's errors. Each is built where it is needed (a fresh value, so callers
// may add Details) and each code is a key under "errors." in the locale files.

func errXLS() *apperr.Error {
	return apperr.New(apperr.UnsupportedMedia, "sheet.xls_unsupported")
}

func errUnsupported() *apperr.Error {
	return apperr.New(apperr.UnsupportedMedia, "sheet.unsupported")
}

func errEncrypted() *apperr.Error {
	return apperr.New(apperr.UnsupportedMedia, "sheet.encrypted")
}

func errEmpty() *apperr.Error {
	return apperr.New(apperr.Invalid, "sheet.empty")
}

func errCorrupt(cause error) *apperr.Error {
	return apperr.Wrap(apperr.Invalid, "sheet.corrupt", cause)
}

func errTooLarge(cause error) *apperr.Error {
	return apperr.Wrap(apperr.TooLarge, "sheet.too_large", cause)
}

func errTooManyRows(max int) *apperr.Error {
	e := apperr.New(apperr.TooLarge, "sheet.too_many_rows")
	e.Details = map[string]any{"max": max}
	return e
}

func errTooManyColumns(max, row int) *apperr.Error {
	e := apperr.New(apperr.TooLarge, "sheet.too_many_columns")
	e.Details = map[string]any{"max": max, "row": row}
	return e
}

// withRow records the spreadsheet row an error was found on.
func withRow(e *apperr.Error, row int) *apperr.Error {
	if row > 0 {
		if e.Details == nil {
			e.Details = map[string]any{}
		}
		e.Details["row"] = row
	}
	return e
}
