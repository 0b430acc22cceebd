package order

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"dealerdesk/app/apperr"
	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// settingKey is the settings-table key of a store's order settings.
const settingKey = "sales.order"

// Settings are a store's order rules (订单设置).
type Settings struct {
	// NumberFormat makes contract numbers: {store} the store code, {yyyy},
	// {yyyymm}, {yyyymmdd} the signing period, {seq} or {seq:N} the sequence
	// zero-padded to N digits (default 4). The sequence restarts with the
	// period the format names ({yyyymm}: every month; no date: never).
	NumberFormat string `json:"numberFormat"`
	// PDIItems is the PDI checklist; DeliveryItems the delivery (交车) checklist.
	PDIItems      []CheckItem `json:"pdiItems"`
	DeliveryItems []CheckItem `json:"deliveryItems"`
	// Callbacks is the after-delivery callback ladder.
	Callbacks []CallbackRule `json:"callbacks"`
	// CommissionTiers pay the consultant per delivered unit by the unit's rank
	// in the consultant's month (cost.read to see and change).
	CommissionTiers []CommissionTier `json:"commissionTiers"`
	// CommissionBP is the share of the deal's gross profit (before commission)
	// the consultant earns on top, in basis points (100 = 1 %).
	CommissionBP int64 `json:"commissionBp"`
	// ExpectedRebateBP is the manufacturer rebate (厂家返利) expected on a
	// deal, in basis points of the vehicle price, used until one is entered.
	ExpectedRebateBP int64 `json:"expectedRebateBp"`
	// BalanceReminderDays: the consultant is told of an unpaid balance this
	// many days before the delivery date.
	BalanceReminderDays int `json:"balanceReminderDays"`
	// CancelReasons are the reasons offered when cancelling.
	CancelReasons []string `json:"cancelReasons"`
	// CostHidden is true when the reader may not see the commission and rebate rules.
	CostHidden bool  `json:"costHidden"`
	Version    int64 `json:"version"`
}

// CheckItem is one line of a checklist. Label "" shows the UI's text for Key
// (order.pdi.item.<key> / order.delivery.item.<key>).
type CheckItem struct {
	Key      string `json:"key"`
	Label    string `json:"label"`
	Required bool   `json:"required"` // delivery items: must be ticked to deliver
}

// CallbackRule is one rung of the callback ladder: a task for Assignee due
// OffsetDays after delivery. Assignee is consultant, sales_manager, role:<code>
// or user:<id>.
type CallbackRule struct {
	OffsetDays int    `json:"offsetDays"`
	Assignee   string `json:"assignee"`
	Title      string `json:"title"`
}

// CommissionTier: from the MinUnits-th delivered unit of a consultant's month
// on, each unit earns PerUnitFen.
type CommissionTier struct {
	MinUnits   int   `json:"minUnits"`
	PerUnitFen int64 `json:"perUnitFen"`
}

// CancelReasons are the default reasons for a cancel.
var defaultCancelReasons = []string{"customer_changed_mind", "finance_refused", "price", "stock_unavailable", "bought_elsewhere", "other"}

// DefaultSettings: the common 4S practice.
func DefaultSettings() Settings {
	return Settings{
		NumberFormat: "HT-{store}-{yyyymm}-{seq:4}",
		PDIItems: []CheckItem{{Key: "exterior"}, {Key: "paint"}, {Key: "interior"}, {Key: "electrics"}, {Key: "fluids"},
			{Key: "tyres"}, {Key: "tools_documents"}, {Key: "software"}},
		DeliveryItems: []CheckItem{{Key: "invoice", Required: true}, {Key: "coc", Required: true}, {Key: "keys", Required: true},
			{Key: "manual", Required: true}, {Key: "insurance", Required: true}, {Key: "registration", Required: false},
			{Key: "functions", Required: true}, {Key: "photos", Required: false}},
		Callbacks: []CallbackRule{{OffsetDays: 1, Assignee: AssignConsultant}, {OffsetDays: 3, Assignee: AssignConsultant},
			{OffsetDays: 7, Assignee: AssignSalesManager}, {OffsetDays: 30, Assignee: "role:gm"}},
		CommissionTiers:     []CommissionTier{{MinUnits: 1, PerUnitFen: 30000}, {MinUnits: 6, PerUnitFen: 50000}, {MinUnits: 11, PerUnitFen: 80000}},
		CommissionBP:        500,
		ExpectedRebateBP:    200,
		BalanceReminderDays: 3,
		CancelReasons:       defaultCancelReasons,
	}
}

// The callback assignees besides role:<code> and user:<id>.
const (
	AssignConsultant   = "consultant"
	AssignSalesManager = "sales_manager"
)

var (
	keyRE      = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	tokenRE    = regexp.MustCompile(`\{[^}]*\}`)
	seqTokenRE = regexp.MustCompile(`^\{seq(?::([1-9]))?\}$`)
)

// Validate checks the settings (field errors in the user's language).
func (s *Settings) Validate() error {
	f := apperr.Fields{}
	s.NumberFormat = strings.TrimSpace(s.NumberFormat)
	if s.NumberFormat == "" {
		f.Add("numberFormat", "required")
	} else if _, err := checkFormat(s.NumberFormat); err != nil {
		f.Add("numberFormat", "order.number_format")
	}
	checkItems(f, "pdiItems", s.PDIItems)
	checkItems(f, "deliveryItems", s.DeliveryItems)
	if len(s.Callbacks) > 20 {
		f.Add("callbacks", "out_of_range", "min", 0, "max", 20)
	}
	for i := range s.Callbacks {
		c := &s.Callbacks[i]
		p := fmt.Sprintf("callbacks.%d.", i)
		c.Title, c.Assignee = strings.TrimSpace(c.Title), strings.TrimSpace(c.Assignee)
		if c.OffsetDays < 0 || c.OffsetDays > 365 {
			f.Add(p+"offsetDays", "out_of_range", "min", 0, "max", 365)
		}
		if !validAssignee(c.Assignee) {
			f.Add(p+"assignee", "order.assignee")
		}
		if len([]rune(c.Title)) > 100 {
			f.Add(p+"title", "too_long", "max", 100)
		}
	}
	if len(s.CommissionTiers) > 10 {
		f.Add("commissionTiers", "out_of_range", "min", 0, "max", 10)
	}
	last := 0
	for i, t := range s.CommissionTiers {
		p := fmt.Sprintf("commissionTiers.%d.", i)
		if t.MinUnits <= last || t.MinUnits > 10000 {
			f.Add(p+"minUnits", "order.tiers_order")
		}
		last = t.MinUnits
		if t.PerUnitFen < 0 || t.PerUnitFen > 100_000_00 {
			f.Add(p+"perUnitFen", "out_of_range", "min", 0, "max", 100000)
		}
	}
	if s.CommissionBP < 0 || s.CommissionBP > 5000 {
		f.Add("commissionBp", "out_of_range", "min", 0, "max", 50)
	}
	if s.ExpectedRebateBP < 0 || s.ExpectedRebateBP > 3000 {
		f.Add("expectedRebateBp", "out_of_range", "min", 0, "max", 30)
	}
	if s.BalanceReminderDays < 0 || s.BalanceReminderDays > 60 {
		f.Add("balanceReminderDays", "out_of_range", "min", 0, "max", 60)
	}
	var reasons []string
	for _, r := range s.CancelReasons {
		if r = strings.TrimSpace(r); r != "" {
			reasons = append(reasons, r)
		}
	}
	s.CancelReasons = reasons
	if len(reasons) == 0 || len(reasons) > 20 {
		f.Add("cancelReasons", "out_of_range", "min", 1, "max", 20)
	}
	for i, r := range reasons {
		if len([]rune(r)) > 50 {
			f.Add(fmt.Sprintf("cancelReasons.%d", i), "too_long", "max", 50)
		}
	}
	return f.Err()
}

func checkItems(f apperr.Fields, name string, items []CheckItem) {
	if len(items) == 0 || len(items) > 40 {
		f.Add(name, "out_of_range", "min", 1, "max", 40)
		return
	}
	seen := map[string]bool{}
	for i := range items {
		it := &items[i]
		it.Key, it.Label = strings.TrimSpace(it.Key), strings.TrimSpace(it.Label)
		p := fmt.Sprintf("%s.%d.", name, i)
		if !keyRE.MatchString(it.Key) {
			f.Add(p+"key", "order.item_key")
		} else if seen[it.Key] {
			f.Add(p+"key", "order.item_duplicate")
		}
		seen[it.Key] = true
		if len([]rune(it.Label)) > 60 {
			f.Add(p+"label", "too_long", "max", 60)
		}
	}
}

func validAssignee(a string) bool {
	switch {
	case a == AssignConsultant || a == AssignSalesManager:
		return true
	case strings.HasPrefix(a, "role:"):
		return keyRE.MatchString(strings.TrimPrefix(a, "role:"))
	case strings.HasPrefix(a, "user:"):
		n, err := strconv.ParseInt(strings.TrimPrefix(a, "user:"), 10, 64)
		return err == nil && n > 0
	}
	return false
}

// checkFormat validates a number format and returns the digits of its sequence.
func checkFormat(format string) (int, error) {
	digits := 0
	for _, tok := range tokenRE.FindAllString(format, -1) {
		switch tok {
		case "{store}", "{yyyy}", "{yyyymm}", "{yyyymmdd}":
		default:
			m := seqTokenRE.FindStringSubmatch(tok)
			if m == nil || digits != 0 {
				return 0, fmt.Errorf("order: bad token %s", tok)
			}
			digits = 4
			if m[1] != "" {
				digits, _ = strconv.Atoi(m[1])
			}
		}
	}
	if digits == 0 || len(format) > 60 || strings.ContainsAny(tokenRE.ReplaceAllString(format, ""), "{}") {
		return 0, fmt.Errorf("order: format %q needs one {seq}", format)
	}
	return digits, nil
}

// LoadSettings returns the store's order settings, or the defaults.
func LoadSettings(ctx context.Context, q db.Querier, storeID int64) (Settings, error) {
	st := DefaultSettings()
	found, ver, err := db.LoadSetting(ctx, q, settingKey, storeID, &st)
	if err != nil {
		return st, fmt.Errorf("order: settings of store %d: %w", storeID, err)
	}
	if found {
		st.Version = ver
	}
	return st, nil
}

// settingsStore checks access to a store's settings: 404 for another store
// unless the actor has group scope.
func settingsStore(a auth.Actor, storeID int64) (int64, error) {
	if storeID == 0 {
		storeID = a.StoreID
	}
	if a.Scope != auth.ScopeGroup && storeID != a.HomeStoreID {
		return 0, apperr.New(apperr.NotFound, "not_found")
	}
	return storeID, nil
}

// GetSettings returns a store's order settings (customer.read); the
// commission and rebate rules only with cost.read.
func (s *Service) GetSettings(ctx context.Context, a auth.Actor, storeID int64) (Settings, error) {
	if err := auth.Require(a, auth.PermCustomerRead); err != nil {
		return Settings{}, err
	}
	storeID, err := settingsStore(a, storeID)
	if err != nil {
		return Settings{}, err
	}
	st, err := LoadSettings(ctx, s.d.DB.R, storeID)
	if err != nil {
		return st, err
	}
	return hideCost(a, st), nil
}

func hideCost(a auth.Actor, st Settings) Settings {
	if !a.Has(auth.PermCostRead) {
		st.CommissionTiers, st.CommissionBP, st.ExpectedRebateBP, st.CostHidden = []CommissionTier{}, 0, 0, true
	}
	return st
}

// SaveSettings replaces a store's order settings (customer.assign: the sales
// manager and the GM), audited. The commission and rebate rules change only
// with cost.read as well; without it they keep their stored values.
func (s *Service) SaveSettings(ctx context.Context, a auth.Actor, storeID int64, in Settings) (Settings, error) {
	if err := auth.Require(a, auth.PermCustomerAssign); err != nil {
		return Settings{}, err
	}
	storeID, err := settingsStore(a, storeID)
	if err != nil {
		return Settings{}, err
	}
	err = s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		before, err := LoadSettings(ctx, tx, storeID)
		if err != nil {
			return err
		}
		if !a.Has(auth.PermCostRead) {
			in.CommissionTiers, in.CommissionBP, in.ExpectedRebateBP = before.CommissionTiers, before.CommissionBP, before.ExpectedRebateBP
		}
		if err := in.Validate(); err != nil {
			return err
		}
		if before.Version != in.Version {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		in.CostHidden = false
		if err := db.SaveSetting(ctx, tx, settingKey, storeID, in, a.UserID, s.now()); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Who: a.Who(), At: s.now(), Action: "update", Entity: "order_settings",
			EntityID: strconv.FormatInt(storeID, 10), StoreID: storeID, Before: before, After: in})
	})
	if err != nil {
		return Settings{}, err
	}
	st, err := LoadSettings(ctx, s.d.DB.R, storeID)
	return hideCost(a, st), err
}
