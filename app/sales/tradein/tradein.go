package tradein

import (
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"dealerdesk/app/apperr"
	"dealerdesk/app/pii"
)

// The statuses of a trade-in: registered → appraised → purchased, or declined
// (the customer turned the offer down), expired (the offer's time passed; a
// re-appraisal revives it) or cancelled.
const (
	StatusRegistered = "registered"
	StatusAppraised  = "appraised"
	StatusPurchased  = "purchased"
	StatusDeclined   = "declined"
	StatusExpired    = "expired"
	StatusCancelled  = "cancelled"
)

// Statuses are every status, in the order the UI lists them.
var Statuses = []string{StatusRegistered, StatusAppraised, StatusPurchased, StatusDeclined, StatusExpired, StatusCancelled}

// Fuels are the fuel types of a used car ("" unknown).
var Fuels = []string{"petrol", "diesel", "hybrid", "phev", "ev", "other"}

// Categories are the fixed condition checklist of an appraisal; "accident" is
// the signs of an accident, flood or fire.
var Categories = []string{"exterior", "paint", "interior", "engine", "gearbox", "chassis", "electrics", "accident", "tyres", "documents"}

// Grades of a checklist item: fine, minor defects, major defects.
var Grades = []string{"ok", "minor", "major"}

// Validity of an offer: DefaultValidity when the appraiser sets no date, at
// most MaxValidity ahead.
const (
	DefaultValidity = 7 * 24 * time.Hour
	MaxValidity     = 30 * 24 * time.Hour
)

// MaxAbovePercent is how far above the offered value a manager may agree a
// purchase price; a consultant may not go above the offer at all.
const MaxAbovePercent = 10

// maxFen bounds every amount (100 million yuan).
const maxFen = int64(10_000_000_000)

// TradeIn is a customer's used car with its current appraisal and agreement.
type TradeIn struct {
	ID              int64  `json:"id"`
	StoreID         int64  `json:"storeId"`
	CustomerID      int64  `json:"customerId"`
	CustomerName    string `json:"customerName"`
	ConsultantID    *int64 `json:"consultantId"`
	ConsultantName  string `json:"consultantName"`
	Brand           string `json:"brand"`
	Series          string `json:"series"`
	Model           string `json:"model"`
	Year            int    `json:"year"`
	FirstRegDate    string `json:"firstRegDate"`
	Plate           string `json:"plate"` // normalized without the dot: 浙A12345
	VIN             string `json:"vin"`
	MileageKm       int64  `json:"mileageKm"`
	Color           string `json:"color"`
	Fuel            string `json:"fuel"`
	TransferCount   int    `json:"transferCount"`
	LoanOutstanding bool   `json:"loanOutstanding"`
	Notes           string `json:"notes"`
	Status          string `json:"status"`
	Label           string `json:"label"` // "2019 大众 朗逸 浙A·12345"
	// The current appraisal.
	AppraisalNo     int    `json:"appraisalNo"`
	OfferedFen      *int64 `json:"offeredFen"`
	ValidUntil      *int64 `json:"validUntil"`
	AppraisedAt     *int64 `json:"appraisedAt"`
	AppraisedByName string `json:"appraisedByName"`
	// Internal figures of the current appraisal: only with cost.read.
	ExpectedResaleFen *int64 `json:"expectedResaleFen,omitempty"`
	ReconCostFen      *int64 `json:"reconCostFen,omitempty"`
	CostHidden        bool   `json:"costHidden"`

	Agreement   *Agreement  `json:"agreement,omitempty"`
	CloseReason string      `json:"closeReason"`
	Appraisals  []Appraisal `json:"appraisals,omitempty"` // detail only, newest first
	Version     int64       `json:"version"`
	CreatedAt   int64       `json:"createdAt"`
	UpdatedAt   int64       `json:"updatedAt"`
	Warnings    []string    `json:"warnings,omitempty"` // e.g. vin.check_digit on an import's VIN
}

// Agreement is the purchase agreement (收车协议).
type Agreement struct {
	AgreedFen       int64  `json:"agreedFen"`
	HandoverDate    string `json:"handoverDate"`
	SellerName      string `json:"sellerName"`
	PaymentNote     string `json:"paymentNote"`
	AgreedAt        int64  `json:"agreedAt"`
	AgreedByName    string `json:"agreedByName"`
	ConfirmedByName string `json:"confirmedByName,omitempty"` // the manager who allowed a price above the offer
}

// Appraisal is one appraisal version.
type Appraisal struct {
	No                int       `json:"no"`
	At                int64     `json:"at"`
	ByName            string    `json:"byName"`
	Checklist         Checklist `json:"checklist"`
	OfferedFen        int64     `json:"offeredFen"`
	ValidUntil        int64     `json:"validUntil"`
	ExpectedResaleFen *int64    `json:"expectedResaleFen,omitempty"`
	ReconCostFen      *int64    `json:"reconCostFen,omitempty"`
	Remarks           string    `json:"remarks"`
}

// Checklist grades each category.
type Checklist map[string]CheckItem

// CheckItem is one category's grade and note.
type CheckItem struct {
	Grade string `json:"grade"` // ok | minor | major
	Note  string `json:"note"`
}

// VehicleInput registers (CustomerID set) or edits the used car.
type VehicleInput struct {
	CustomerID      int64  `json:"customerId"`
	Brand           string `json:"brand"`
	Series          string `json:"series"`
	Model           string `json:"model"`
	Year            int    `json:"year"`
	FirstRegDate    string `json:"firstRegDate"`
	Plate           string `json:"plate"`
	VIN             string `json:"vin"`
	MileageKm       int64  `json:"mileageKm"`
	Color           string `json:"color"`
	Fuel            string `json:"fuel"`
	TransferCount   int    `json:"transferCount"`
	LoanOutstanding bool   `json:"loanOutstanding"`
	Notes           string `json:"notes"`
	Version         int64  `json:"version"` // edits only

	vinWarn bool
}

// AppraiseInput is an appraisal (a new version each time).
type AppraiseInput struct {
	Checklist         Checklist `json:"checklist"`
	OfferedFen        int64     `json:"offeredFen"`
	ValidUntil        *int64    `json:"validUntil"` // ms; default now + 7 days, at most 30 days ahead
	ExpectedResaleFen *int64    `json:"expectedResaleFen"`
	ReconCostFen      *int64    `json:"reconCostFen"`
	Remarks           string    `json:"remarks"`
	Version           int64     `json:"version"`
}

// AgreementInput records the purchase agreement.
type AgreementInput struct {
	AgreedFen    int64  `json:"agreedFen"`
	HandoverDate string `json:"handoverDate"` // YYYY-MM-DD
	SellerName   string `json:"sellerName"`
	PaymentNote  string `json:"paymentNote"`
	// ManagerConfirm: a manager (customer.assign) confirms a price above the offer.
	ManagerConfirm bool  `json:"managerConfirm"`
	Version        int64 `json:"version"`
}

// CloseInput declines or cancels a trade-in.
type CloseInput struct {
	Reason  string `json:"reason"`
	Version int64  `json:"version"`
}

func oneOf(v string, list []string) bool {
	for _, x := range list {
		if v == x {
			return true
		}
	}
	return false
}

func limitText(f apperr.Fields, field, v string, max int) {
	if utf8.RuneCountInString(v) > max {
		f.Add(field, "too_long", "max", max)
	}
}

func validDate(s string) bool {
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}

// Validate normalizes and checks the vehicle (now: the current time, for the
// year and date bounds; creating: a registration, which needs the customer).
func (in *VehicleInput) Validate(now time.Time, creating bool) error {
	f := apperr.Fields{}
	for _, p := range []*string{&in.Brand, &in.Series, &in.Model, &in.FirstRegDate, &in.Color, &in.Fuel, &in.Notes} {
		*p = strings.TrimSpace(*p)
	}
	if creating && in.CustomerID <= 0 {
		f.Add("customerId", "required")
	}
	if in.Brand == "" {
		f.Add("brand", "required")
	}
	limitText(f, "brand", in.Brand, 30)
	limitText(f, "series", in.Series, 30)
	limitText(f, "model", in.Model, 60)
	limitText(f, "color", in.Color, 20)
	limitText(f, "notes", in.Notes, 1000)
	maxYear := now.Year() + 1
	if in.Year != 0 && (in.Year < 1950 || in.Year > maxYear) {
		f.Add("year", "out_of_range", "min", 1950, "max", maxYear)
	}
	if in.FirstRegDate != "" {
		d, err := time.Parse("2006-01-02", in.FirstRegDate)
		switch {
		case err != nil:
			f.Add("firstRegDate", "invalid_format")
		case d.After(now):
			f.Add("firstRegDate", "tradein.date_future")
		case in.Year != 0 && d.Year() < in.Year-1:
			f.Add("firstRegDate", "tradein.reg_before_year")
		}
	}
	if p, ok := NormalizePlate(in.Plate); ok {
		in.Plate = p
	} else if strings.TrimSpace(in.Plate) == "" {
		f.Add("plate", "required")
	} else {
		f.Add("plate", "tradein.plate_invalid")
	}
	in.VIN = pii.NormalizeVIN(in.VIN)
	if in.VIN != "" {
		vin, checkOK, err := pii.ValidateVIN(in.VIN)
		var ve *pii.VINError
		if errors.As(err, &ve) {
			f.Add("vin", ve.Code)
		}
		in.VIN, in.vinWarn = vin, err == nil && !checkOK
	}
	if in.MileageKm < 0 || in.MileageKm > 2_000_000 {
		f.Add("mileageKm", "out_of_range", "min", 0, "max", 2_000_000)
	}
	if in.Fuel != "" && !oneOf(in.Fuel, Fuels) {
		f.Add("fuel", "invalid_format")
	}
	if in.TransferCount < 0 || in.TransferCount > 99 {
		f.Add("transferCount", "out_of_range", "min", 0, "max", 99)
	}
	return f.Err()
}

// Validate checks an appraisal's shape; the validity bounds need the time.
func (in *AppraiseInput) Validate(now int64) (validUntil int64, err error) {
	f := apperr.Fields{}
	for k := range in.Checklist {
		if !oneOf(k, Categories) {
			f.Add("checklist", "invalid_format")
		}
	}
	for _, c := range Categories {
		it, ok := in.Checklist[c]
		it.Note = strings.TrimSpace(it.Note)
		if ok {
			in.Checklist[c] = it
		}
		switch {
		case !ok || it.Grade == "":
			f.Add("checklist."+c, "required")
		case !oneOf(it.Grade, Grades):
			f.Add("checklist."+c, "invalid_format")
		}
		limitText(f, "checklist."+c, it.Note, 200)
	}
	if in.OfferedFen <= 0 {
		f.Add("offeredFen", "required")
	} else if in.OfferedFen > maxFen {
		f.Add("offeredFen", "out_of_range", "min", 1, "max", maxFen)
	}
	for name, v := range map[string]*int64{"expectedResaleFen": in.ExpectedResaleFen, "reconCostFen": in.ReconCostFen} {
		if v != nil && (*v < 0 || *v > maxFen) {
			f.Add(name, "out_of_range", "min", 0, "max", maxFen)
		}
	}
	in.Remarks = strings.TrimSpace(in.Remarks)
	limitText(f, "remarks", in.Remarks, 1000)
	validUntil = now + DefaultValidity.Milliseconds()
	if in.ValidUntil != nil {
		validUntil = *in.ValidUntil
		if validUntil <= now || validUntil > now+MaxValidity.Milliseconds() {
			f.Add("validUntil", "tradein.valid_until_range", "maxDays", int(MaxValidity/(24*time.Hour)))
		}
	}
	return validUntil, f.Err()
}

// Validate checks an agreement's shape (the price against the offer is the
// service's check).
func (in *AgreementInput) Validate() error {
	f := apperr.Fields{}
	in.HandoverDate, in.SellerName, in.PaymentNote = strings.TrimSpace(in.HandoverDate), strings.TrimSpace(in.SellerName), strings.TrimSpace(in.PaymentNote)
	if in.AgreedFen <= 0 {
		f.Add("agreedFen", "required")
	} else if in.AgreedFen > maxFen {
		f.Add("agreedFen", "out_of_range", "min", 1, "max", maxFen)
	}
	if in.HandoverDate == "" {
		f.Add("handoverDate", "required")
	} else if !validDate(in.HandoverDate) {
		f.Add("handoverDate", "invalid_format")
	}
	if in.SellerName == "" {
		f.Add("sellerName", "required")
	}
	limitText(f, "sellerName", in.SellerName, 50)
	limitText(f, "paymentNote", in.PaymentNote, 500)
	return f.Err()
}

// Validate checks a decline or cancel reason.
func (in *CloseInput) Validate() error {
	in.Reason = strings.TrimSpace(in.Reason)
	if utf8.RuneCountInString(in.Reason) > 200 {
		return apperr.Field("reason", "too_long", "max", 200)
	}
	return nil
}

// provinces are the first characters of civil plates (省、自治区、直辖市简称).
const provinces = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"

// plateChar: the serial characters of a plate are digits and capital letters
// except I and O (GA 36).
func plateChar(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' && r != 'I' && r != 'O'
}

func digit(r rune) bool { return r >= '0' && r <= '9' }

// NormalizePlate checks a Chinese civil plate and returns it upper-cased
// without spaces or the separating dot: "浙a·12345" → "浙A12345". It accepts
// the ordinary 7-character plate (province, authority letter, five serial
// characters, the last of which may be 挂/学/警/港/澳/领) and the 8-character new
// energy plate (GA 36-2018): small cars 浙AD12345 (a letter of D, F or, since
// 2021, A–K, then a letter or digit, then four digits) and large ones 浙A12345D.
func NormalizePlate(s string) (string, bool) {
	var rs []rune
	for _, r := range s {
		switch {
		case r == ' ' || r == '\t' || r == '·' || r == '•' || r == '・' || r == '.' || r == '-' || r == '\u3000' || r == '．':
			continue
		case r >= 'ａ' && r <= 'ｚ':
			r = r - 'ａ' + 'A'
		case r >= 'Ａ' && r <= 'Ｚ':
			r = r - 'Ａ' + 'A'
		case r >= '０' && r <= '９':
			r = r - '０' + '0'
		case r >= 'a' && r <= 'z':
			r = r - 'a' + 'A'
		}
		rs = append(rs, r)
	}
	if len(rs) < 7 || len(rs) > 8 || !strings.ContainsRune(provinces, rs[0]) || rs[1] < 'A' || rs[1] > 'Z' {
		return "", false
	}
	serial := rs[2:]
	if len(serial) == 5 {
		for i, r := range serial {
			if !plateChar(r) && (i != 4 || !strings.ContainsRune("挂学警港澳领", r)) {
				return "", false
			}
		}
		return string(rs), true
	}
	// New energy: six serial characters.
	small := strings.ContainsRune("ABCDEFGHJK", serial[0]) && plateChar(serial[1])
	large := serial[5] == 'D' || serial[5] == 'F'
	for _, r := range serial[2:5] {
		if !digit(r) {
			small, large = false, false
		}
	}
	small = small && digit(serial[5])
	large = large && digit(serial[0]) && digit(serial[1])
	if !small && !large {
		return "", false
	}
	return string(rs), true
}

// FormatPlate puts the dot after the authority letter: 浙A12345 → 浙A·12345.
func FormatPlate(p string) string {
	rs := []rune(p)
	if len(rs) < 3 {
		return p
	}
	return string(rs[:2]) + "·" + string(rs[2:])
}

// label is how a quote names the car: "2019 大众 朗逸 浙A·12345".
func label(year int, brand, series, model, plate string) string {
	var parts []string
	if year > 0 {
		parts = append(parts, strconv.Itoa(year))
	}
	for _, p := range []string{brand, series, model} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if plate != "" {
		parts = append(parts, FormatPlate(plate))
	}
	return strings.Join(parts, " ")
}
