package crm

import (
	"time"

	"dealerdesk/app/apperr"
)

// Hooks for the import tests in package crm_test.

// SetImportTuning changes the runner's batch size, time budget and pause, so a
// test can catch an import in the middle. Call it before starting the import.
func SetImportTuning(s *Service, rows int, budget, pause time.Duration) {
	s.imports.batchRows, s.imports.batchBudget, s.imports.pause = rows, budget, pause
}

// ImportMapResult is what MapImportRow made of a row.
type ImportMapResult struct {
	Input    LeadInput
	Phone    string
	At       int64
	Fields   apperr.Fields
	Validate error // LeadInput.validate on the result
}

// MapImportRow maps one row as a job with these options would, against the
// default settings, a small catalogue and two consultants.
func MapImportRow(cells []string, mapping map[string]int, opts ImportOptions) ImportMapResult {
	m := &importMapper{mapping: mapping, opts: opts, storeID: 1, settings: DefaultSettings(), loc: time.FixedZone("CST", 8*3600),
		now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC),
		series: newSeriesMatcher([]importSeries{
			{ID: 1, Key: foldKey("凯美瑞"), BrandedKey: foldKey("丰田凯美瑞")},
			{ID: 2, Key: foldKey("宋PLUS"), BrandedKey: foldKey("比亚迪宋PLUS")},
			{ID: 3, Key: foldKey("汉"), BrandedKey: foldKey("比亚迪汉")},
			{ID: 4, Key: foldKey("秦PLUS"), BrandedKey: foldKey("比亚迪秦PLUS")},
		}),
		owners: newOwnerIndex([]importUser{{ID: 7, Username: "sales", Name: "王磊"}, {ID: 8, Username: "sales_2", Name: "李静"}}),
	}
	r := m.mapRow(3, cells)
	in := r.in
	_, _, err := in.validate()
	return ImportMapResult{Input: r.in, Phone: r.phone, At: r.at, Fields: r.fields, Validate: err}
}

// ParseSheetTime exposes the date parser.
func ParseSheetTime(v string, loc *time.Location) (time.Time, bool) { return parseSheetTime(v, loc) }

// ChannelOf exposes the channel mapping.
func ChannelOf(v string) (string, bool) { return channelOf(v) }
