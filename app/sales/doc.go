// Package sales is the sales process (DOMAIN.md S4 quotes and S7 deal profit;
// S1, S2, S5, S6 and S8 join it later). So far it holds only the money
// calculations of a quote, as pure functions with no database, clock or other
// domain behind them, so that the quote service, the print view and the deal
// profit report all compute the same figures:
//
//   - Fen, ParseYuan and CapitalYuan (人民币大写 for contracts and print views);
//   - PurchaseTax with a TaxRule (购置税, the NEV exemption and halving);
//   - MonthlyPayment and Schedule (等额本息 amortization, exact to the fen);
//   - Compute (a QuoteInput → every line, 落地价, finance, cash need after
//     trade-in) and DiscountCheck (whether a quote needs a manager's approval).
//
// Invariants it guarantees (each proven by a test):
//   - Every amount is integer fen (int64), never a float: rates are basis
//     points, ratios are computed in integers or math/big, and each result is
//     rounded once, half up, to the fen.
//   - A quote's Total is exactly the sum of its Lines.
//   - A loan Schedule's payments sum exactly to the principal plus the total
//     interest, and the final balance is exactly 0 (the last payment absorbs the
//     rounding).
package sales
