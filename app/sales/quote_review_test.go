package sales_test

import (
	"net/http"
	"testing"

	"dealerdesk/app/apptest"
	"dealerdesk/app/sales"
)

// TestQuoteSettings_CommissionRatesNeedCostRead: the expected finance and
// insurance commission rates are deal profit. A sales manager (customer.assign,
// no cost.read) neither reads them nor changes them by saving the settings;
// the GM (cost.read) does both.
func TestQuoteSettings_CommissionRatesNeedCostRead(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	for _, who := range []string{"sales", "sales_manager", "dcc"} {
		var st sales.QuoteSettings
		env.As(who).Do("GET", "/quotes/settings", nil).Expect(t, http.StatusOK).JSON(t, &st)
		if st.FinanceCommBP != 0 || st.InsuranceCommBP != 0 {
			t.Fatalf("%s reads the commission rates: finance %d insurance %d hidden %v", who, st.FinanceCommBP, st.InsuranceCommBP, st.CostHidden)
		}
	}
	mgr := env.As("sales_manager")
	var st sales.QuoteSettings
	mgr.Do("GET", "/quotes/settings", nil).Expect(t, http.StatusOK).JSON(t, &st)
	st.FinanceCommBP, st.InsuranceCommBP, st.ValidityDays = 1500, 4000, 10
	mgr.Do("PUT", "/quotes/settings", st).Expect(t, http.StatusOK)

	var gm sales.QuoteSettings
	env.As("gm").Do("GET", "/quotes/settings", nil).Expect(t, http.StatusOK).JSON(t, &gm)
	if gm.ValidityDays != 10 {
		t.Fatalf("the manager's save did not apply: %+v", gm)
	}
	def := sales.DefaultQuoteSettings()
	if gm.FinanceCommBP != def.FinanceCommBP || gm.InsuranceCommBP != def.InsuranceCommBP {
		t.Fatalf("a role without cost.read changed the commission rates: finance %d insurance %d", gm.FinanceCommBP, gm.InsuranceCommBP)
	}
	gm.FinanceCommBP = 300
	env.As("gm").Do("PUT", "/quotes/settings", gm).Expect(t, http.StatusOK).JSON(t, &gm)
	if gm.FinanceCommBP != 300 {
		t.Fatalf("the GM could not change the finance commission rate: %d", gm.FinanceCommBP)
	}
}
