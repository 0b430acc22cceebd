package tradein

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/auth"
)

// Routes are the trade-in HTTP routes.
func (s *Service) Routes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Path: "/trade-ins", Perm: auth.PermCustomerRead, Summary: "List trade-ins of customers in scope: filters (store, status, customer, consultant, plate or make text), newest first, keyset paging", Query: ListFilter{}, Out: api.List[TradeIn]{}, Handler: s.hList},
		{Method: http.MethodPost, Path: "/trade-ins", Perm: auth.PermSalesWrite, Summary: "Register a customer's used car for appraisal (plate checked, incl. 8-character new-energy plates; VIN validated)", In: VehicleInput{}, Out: TradeIn{}, Status: http.StatusCreated, Handler: s.hRegister},
		{Method: http.MethodGet, Path: "/trade-ins/stats", Perm: auth.PermReportRead, Summary: "Trade-in figures of a store for a period: registrations, appraisals, average offered value, purchases", Query: StatsQuery{}, Out: Stats{}, Handler: s.hStats},
		{Method: http.MethodGet, Path: "/trade-ins/:id", Perm: auth.PermCustomerRead, Summary: "A trade-in with its appraisal versions (internal resale and reconditioning figures only with cost.read)", Out: TradeIn{}, Handler: s.hGet},
		{Method: http.MethodPut, Path: "/trade-ins/:id", Perm: auth.PermSalesWrite, Summary: "Edit the used car's data; version checked", In: VehicleInput{}, Out: TradeIn{}, Handler: s.hUpdate},
		{Method: http.MethodPost, Path: "/trade-ins/:id/appraise", Perm: auth.PermSalesWrite, Summary: "Appraise (or re-appraise): condition checklist, offered value in fen, valid-until (default 7 days); a new version each time", In: AppraiseInput{}, Out: TradeIn{}, Handler: s.hAppraise},
		{Method: http.MethodPost, Path: "/trade-ins/:id/agreement", Perm: auth.PermSalesWrite, Summary: "Record the purchase agreement (收车协议); above the offer only a manager with managerConfirm", In: AgreementInput{}, Out: TradeIn{}, Handler: s.hAgree},
		{Method: http.MethodPost, Path: "/trade-ins/:id/decline", Perm: auth.PermSalesWrite, Summary: "The customer declined the offer", In: CloseInput{}, Out: TradeIn{}, Handler: s.hDecline},
		{Method: http.MethodPost, Path: "/trade-ins/:id/cancel", Perm: auth.PermSalesWrite, Summary: "Cancel a trade-in that is not purchased", In: CloseInput{}, Out: TradeIn{}, Handler: s.hCancel},
	}
}

func ok(c echo.Context, status int, v any, err error) error {
	if err != nil {
		return err
	}
	return c.JSON(status, v)
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

func (s *Service) hList(c echo.Context) error {
	f := ListFilter{Statuses: splitList(c.QueryParam("status")), Q: c.QueryParam("q"), Cursor: c.QueryParam("cursor")}
	var err error
	for name, dst := range map[string]*int64{"storeId": &f.StoreID, "customerId": &f.CustomerID, "consultantId": &f.ConsultantID} {
		if *dst, err = api.QueryInt64(c, name); err != nil {
			return err
		}
	}
	if f.Limit, err = api.QueryLimit(c); err != nil {
		return err
	}
	out, err := s.List(c.Request().Context(), api.Actor(c), f)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hStats(c echo.Context) error {
	var q StatsQuery
	var err error
	for name, dst := range map[string]*int64{"storeId": &q.StoreID, "from": &q.From, "to": &q.To} {
		if *dst, err = api.QueryInt64(c, name); err != nil {
			return err
		}
	}
	out, err := s.Stats(c.Request().Context(), api.Actor(c), q)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hRegister(c echo.Context) error {
	var in VehicleInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.Register(c.Request().Context(), api.Actor(c), in)
	return ok(c, http.StatusCreated, out, err)
}

func (s *Service) hGet(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	out, err := s.Get(c.Request().Context(), api.Actor(c), id)
	return ok(c, http.StatusOK, out, err)
}

// withBody binds the body and runs one write on the trade-in of the path.
func withBody[T any](c echo.Context, fn func(id int64, in T) (TradeIn, error)) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	var in T
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := fn(id, in)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hUpdate(c echo.Context) error {
	return withBody(c, func(id int64, in VehicleInput) (TradeIn, error) {
		return s.Update(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hAppraise(c echo.Context) error {
	return withBody(c, func(id int64, in AppraiseInput) (TradeIn, error) {
		return s.Appraise(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hAgree(c echo.Context) error {
	return withBody(c, func(id int64, in AgreementInput) (TradeIn, error) {
		return s.Agree(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hDecline(c echo.Context) error {
	return withBody(c, func(id int64, in CloseInput) (TradeIn, error) {
		return s.Decline(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hCancel(c echo.Context) error {
	return withBody(c, func(id int64, in CloseInput) (TradeIn, error) {
		return s.Cancel(c.Request().Context(), api.Actor(c), id, in)
	})
}
