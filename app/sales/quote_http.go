package sales

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/auth"
)

// Routes are the quote HTTP routes (trade-ins serve their own).
func (s *Service) Routes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Path: "/quotes", Perm: auth.PermCustomerRead, Summary: "List quotes in scope (latest versions; filters storeId, customerId, ownerId, status, q; keyset paging)", Query: ListFilter{}, Out: api.List[QuoteSummary]{}, Handler: s.hList},
		{Method: http.MethodPost, Path: "/quotes/preview", Perm: auth.PermSalesWrite, Summary: "Price a quote draft without saving it (sales.Compute with the store's defaults, tax rule and limits)", In: QuoteDraft{}, Out: Preview{}, Handler: s.hPreview},
		{Method: http.MethodGet, Path: "/quotes/settings", Perm: auth.PermCustomerRead, Summary: "A store's quote settings: limits, defaults, packages, letterhead", Out: QuoteSettings{}, Handler: s.hGetSettings},
		{Method: http.MethodPut, Path: "/quotes/settings", Perm: auth.PermCustomerAssign, Summary: "Change a store's quote settings (version checked)", In: QuoteSettings{}, Out: QuoteSettings{}, Handler: s.hSaveSettings},
		{Method: http.MethodPost, Path: "/quotes", Perm: auth.PermSalesWrite, Summary: "Make a quote for a customer (numbered per store and day)", In: QuoteDraft{}, Out: QuoteDoc{}, Status: http.StatusCreated, Handler: s.hCreate},
		{Method: http.MethodGet, Path: "/quotes/:id", Perm: auth.PermCustomerRead, Summary: "A quote version with its lines, loan schedule, versions and letterhead", Out: QuoteDoc{}, Handler: s.hGet},
		{Method: http.MethodPut, Path: "/quotes/:id", Perm: auth.PermSalesWrite, Summary: "Change a quote: a draft in place, a sent/approved/accepted one as a new version (rev checked)", In: QuoteDraft{}, Out: QuoteDoc{}, Handler: s.hUpdate},
		{Method: http.MethodPost, Path: "/quotes/:id/preview", Perm: auth.PermSalesWrite, Summary: "Price a change of a quote without saving it", In: QuoteDraft{}, Out: Preview{}, Handler: s.hPreviewEdit},
		{Method: http.MethodPost, Path: "/quotes/:id/submit", Perm: auth.PermSalesWrite, Summary: "Submit a quote over the limits for approval", In: ActInput{}, Out: QuoteDoc{}, Handler: s.action(s.SubmitQuote)},
		{Method: http.MethodPost, Path: "/quotes/:id/send", Perm: auth.PermSalesWrite, Summary: "Issue a quote to the customer (within the limits, or approved)", In: ActInput{}, Out: QuoteDoc{}, Handler: s.action(s.SendQuote)},
		{Method: http.MethodPost, Path: "/quotes/:id/accept", Perm: auth.PermSalesWrite, Summary: "Record the customer's acceptance of a sent or approved quote", In: ActInput{}, Out: QuoteDoc{}, Handler: s.action(s.AcceptQuote)},
		{Method: http.MethodPost, Path: "/quotes/:id/cancel", Perm: auth.PermSalesWrite, Summary: "Cancel a quote", In: ActInput{}, Out: QuoteDoc{}, Handler: s.action(s.CancelQuote)},
	}
}

func ok(c echo.Context, status int, v any, err error) error {
	if err != nil {
		return err
	}
	return c.JSON(status, v)
}

func (s *Service) hList(c echo.Context) error {
	f := ListFilter{Statuses: splitList(c.QueryParam("status")), Q: c.QueryParam("q"), Cursor: c.QueryParam("cursor"),
		AllVersions: c.QueryParam("versions") == "all"}
	var err error
	for name, dst := range map[string]*int64{"storeId": &f.StoreID, "customerId": &f.CustomerID, "ownerId": &f.OwnerID} {
		if *dst, err = api.QueryInt64(c, name); err != nil {
			return err
		}
	}
	if f.Limit, err = api.Limit(c); err != nil {
		return err
	}
	out, err := s.ListQuotes(c.Request().Context(), api.Actor(c), f)
	return ok(c, http.StatusOK, out, err)
}

func splitList(v string) []string {
	var out []string
	for _, x := range strings.Split(v, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func (s *Service) hPreview(c echo.Context) error {
	var in QuoteDraft
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.PreviewQuote(c.Request().Context(), api.Actor(c), in, 0)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hPreviewEdit(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	var in QuoteDraft
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.PreviewQuote(c.Request().Context(), api.Actor(c), in, id)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hGetSettings(c echo.Context) error {
	store, err := api.QueryInt64(c, "storeId")
	if err != nil {
		return err
	}
	out, err := s.GetSettings(c.Request().Context(), api.Actor(c), store)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hSaveSettings(c echo.Context) error {
	store, err := api.QueryInt64(c, "storeId")
	if err != nil {
		return err
	}
	var in QuoteSettings
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.SaveSettings(c.Request().Context(), api.Actor(c), store, in)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hCreate(c echo.Context) error {
	var in QuoteDraft
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.CreateQuote(c.Request().Context(), api.Actor(c), in)
	return ok(c, http.StatusCreated, out, err)
}

func (s *Service) hGet(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	out, err := s.GetQuote(c.Request().Context(), api.Actor(c), id)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hUpdate(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	var in QuoteDraft
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.UpdateQuote(c.Request().Context(), api.Actor(c), id, in)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) action(fn func(ctx context.Context, a auth.Actor, id int64, in ActInput) (QuoteDoc, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := api.ID(c, "id")
		if err != nil {
			return err
		}
		var in ActInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := fn(c.Request().Context(), api.Actor(c), id, in)
		return ok(c, http.StatusOK, out, err)
	}
}
