package order

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/auth"
)

func (s *Service) routes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Path: "/orders", Perm: auth.PermCustomerRead, Summary: "List orders in scope: filters (status, consultant, customer, delivery date range, balance due, text), keyset paging", Query: ListFilter{}, Out: api.List[Order]{}, Handler: s.hList},
		{Method: http.MethodPost, Path: "/orders", Perm: auth.PermSalesWrite, Summary: "Make an order (draft contract) from an accepted quote: contract number from the store's sequence, the quote's figures frozen", In: CreateInput{}, Out: Order{}, Status: http.StatusCreated, Handler: s.hCreate},
		{Method: http.MethodGet, Path: "/orders/settings", Perm: auth.PermCustomerRead, Summary: "A store's order settings: contract number format, PDI and delivery checklists, callback ladder, cancel reasons; commission tiers and expected rebate with cost.read", Out: Settings{}, Handler: s.hGetSettings},
		{Method: http.MethodPut, Path: "/orders/settings", Perm: auth.PermCustomerAssign, Summary: "Change a store's order settings (commission and rebate rules only with cost.read); version checked", In: Settings{}, Out: Settings{}, Handler: s.hSaveSettings},
		{Method: http.MethodGet, Path: "/orders/profit", Perm: auth.PermCostRead, Summary: "Deal profit of the orders delivered in a period (store, consultant) with totals per consultant", Query: ProfitQuery{}, Out: ProfitReport{}, Handler: s.hReport},
		{Method: http.MethodGet, Path: "/orders/:id", Perm: auth.PermCustomerRead, Summary: "An order with its payments and callbacks (cost figures only with cost.read)", Out: Order{}, Handler: s.hGet},
		{Method: http.MethodGet, Path: "/orders/:id/profit", Perm: auth.PermCostRead, Summary: "The deal's gross profit: vehicle margin, rebate, accessory margin, commissions, consultant commission", Out: Profit{}, Handler: s.hProfit},
		{Method: http.MethodPost, Path: "/orders/:id/submit", Perm: auth.PermSalesWrite, Summary: "Send the draft contract to approval (draft → pending_approval; approved → signed)", In: VersionInput{}, Out: Order{}, Handler: s.hSubmit},
		{Method: http.MethodPost, Path: "/orders/:id/payments", Perm: auth.PermSalesWrite, Summary: "Record a deposit or payment (never above the balance)", In: PaymentInput{}, Out: Order{}, Handler: s.hPayment},
		{Method: http.MethodPost, Path: "/orders/:id/refunds", Perm: auth.PermFinanceWrite, Summary: "Record a refund (a negative entry with a reason, at most what was paid)", In: RefundInput{}, Out: Order{}, Handler: s.hRefund},
		{Method: http.MethodPost, Path: "/orders/:id/payments/:paymentId/confirm", Perm: auth.PermFinanceWrite, Summary: "Finance confirms a recorded payment", Out: Order{}, Handler: s.hConfirm},
		{Method: http.MethodPost, Path: "/orders/:id/payments/:paymentId/void", Perm: auth.PermFinanceWrite, Summary: "Finance voids a payment recorded by mistake (with a reason)", In: PaymentActionInput{}, Out: Order{}, Handler: s.hVoid},
		{Method: http.MethodPut, Path: "/orders/:id/profit-inputs", Perm: auth.PermFinanceWrite, Summary: "Finance keeps the finance and insurance commissions and the manufacturer rebate of a deal", In: ProfitInput{}, Out: Order{}, Handler: s.hProfitInputs},
		{Method: http.MethodPost, Path: "/orders/:id/vehicle", Perm: auth.PermSalesWrite, Summary: "Allocate (or change) the car: sold to the customer from stock in the same transaction; one VIN per live order", In: AllocateInput{}, Out: Order{}, Handler: s.hAllocate},
		{Method: http.MethodPut, Path: "/orders/:id/pdi", Perm: auth.PermSalesWrite, Summary: "Save the PDI checklist; complete=true finishes it (every item ok)", In: PDIInput{}, Out: Order{}, Handler: s.hPDI},
		{Method: http.MethodPost, Path: "/orders/:id/schedule", Perm: auth.PermSalesWrite, Summary: "Book or move the delivery appointment (after the PDI)", In: ScheduleInput{}, Out: Order{}, Handler: s.hSchedule},
		{Method: http.MethodPut, Path: "/orders/:id/checklist", Perm: auth.PermSalesWrite, Summary: "Tick the delivery checklist", In: ChecklistInput{}, Out: Order{}, Handler: s.hChecklist},
		{Method: http.MethodPost, Path: "/orders/:id/deliver", Perm: auth.PermSalesWrite, Summary: "Hand the car over: checklist done, balance paid; car delivered, callback tasks created", In: VersionInput{}, Out: Order{}, Handler: s.hDeliver},
		{Method: http.MethodPost, Path: "/orders/:id/close", Perm: auth.PermSalesWrite, Summary: "Close a delivered order whose callbacks are all done", In: VersionInput{}, Out: Order{}, Handler: s.hClose},
		{Method: http.MethodPost, Path: "/orders/:id/cancel", Perm: auth.PermSalesWrite, Summary: "Cancel before delivery with a reason (after signing: customer.assign); car back to stock, quote released, tasks cancelled", In: CancelInput{}, Out: Order{}, Handler: s.hCancel},
		{Method: http.MethodGet, Path: "/customers/:id/orders", Perm: auth.PermCustomerRead, Summary: "A customer's orders", Out: api.List[Order]{}, Handler: s.hCustomerOrders},
	}
}

func reply(c echo.Context, status int, v any, err error) error {
	if err != nil {
		return err
	}
	return c.JSON(status, v)
}

// withBody binds the JSON body into in and calls fn with the order id.
func withBody[T any](c echo.Context, fn func(id int64, in T) (Order, error)) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	var in T
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	o, err := fn(id, in)
	return reply(c, http.StatusOK, o, err)
}

func (s *Service) hList(c echo.Context) error {
	f := ListFilter{Q: c.QueryParam("q"), Cursor: c.QueryParam("cursor"), BalanceDue: c.QueryParam("balanceDue") == "1" || c.QueryParam("balanceDue") == "true"}
	for _, st := range strings.Split(c.QueryParam("status"), ",") {
		if st = strings.TrimSpace(st); st != "" {
			f.Statuses = append(f.Statuses, st)
		}
	}
	var err error
	for name, dst := range map[string]*int64{"storeId": &f.StoreID, "ownerId": &f.OwnerID, "customerId": &f.CustomerID, "deliveryFrom": &f.DeliveryFrom, "deliveryTo": &f.DeliveryTo} {
		if *dst, err = api.QueryInt64(c, name); err != nil {
			return err
		}
	}
	if f.Limit, err = api.QueryLimit(c); err != nil {
		return err
	}
	out, err := s.List(c.Request().Context(), api.Actor(c), f)
	return reply(c, http.StatusOK, out, err)
}

func (s *Service) hCreate(c echo.Context) error {
	var in CreateInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	o, err := s.CreateOrder(c.Request().Context(), api.Actor(c), in)
	return reply(c, http.StatusCreated, o, err)
}

func (s *Service) hGetSettings(c echo.Context) error {
	store, err := api.QueryInt64(c, "storeId")
	if err != nil {
		return err
	}
	out, err := s.GetSettings(c.Request().Context(), api.Actor(c), store)
	return reply(c, http.StatusOK, out, err)
}

func (s *Service) hSaveSettings(c echo.Context) error {
	store, err := api.QueryInt64(c, "storeId")
	if err != nil {
		return err
	}
	var in Settings
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.SaveSettings(c.Request().Context(), api.Actor(c), store, in)
	return reply(c, http.StatusOK, out, err)
}

func (s *Service) hReport(c echo.Context) error {
	var q ProfitQuery
	var err error
	for name, dst := range map[string]*int64{"from": &q.From, "to": &q.To, "storeId": &q.StoreID, "ownerId": &q.OwnerID} {
		if *dst, err = api.QueryInt64(c, name); err != nil {
			return err
		}
	}
	out, err := s.Report(c.Request().Context(), api.Actor(c), q)
	return reply(c, http.StatusOK, out, err)
}

func (s *Service) hGet(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	o, err := s.GetOrder(c.Request().Context(), api.Actor(c), id)
	return reply(c, http.StatusOK, o, err)
}

func (s *Service) hProfit(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	p, err := s.GetProfit(c.Request().Context(), api.Actor(c), id)
	return reply(c, http.StatusOK, p, err)
}

func (s *Service) hSubmit(c echo.Context) error {
	return withBody(c, func(id int64, in VersionInput) (Order, error) {
		return s.SubmitContract(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hPayment(c echo.Context) error {
	return withBody(c, func(id int64, in PaymentInput) (Order, error) {
		return s.AddPayment(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hRefund(c echo.Context) error {
	return withBody(c, func(id int64, in RefundInput) (Order, error) {
		return s.Refund(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hConfirm(c echo.Context) error {
	pid, err := api.ID(c, "paymentId")
	if err != nil {
		return err
	}
	return withBody(c, func(id int64, in struct{}) (Order, error) {
		return s.ConfirmPayment(c.Request().Context(), api.Actor(c), id, pid)
	})
}

func (s *Service) hVoid(c echo.Context) error {
	pid, err := api.ID(c, "paymentId")
	if err != nil {
		return err
	}
	return withBody(c, func(id int64, in PaymentActionInput) (Order, error) {
		return s.VoidPayment(c.Request().Context(), api.Actor(c), id, pid, in)
	})
}

func (s *Service) hProfitInputs(c echo.Context) error {
	return withBody(c, func(id int64, in ProfitInput) (Order, error) {
		return s.SetProfitInputs(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hAllocate(c echo.Context) error {
	return withBody(c, func(id int64, in AllocateInput) (Order, error) {
		return s.AllocateVehicle(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hPDI(c echo.Context) error {
	return withBody(c, func(id int64, in PDIInput) (Order, error) {
		return s.SavePDI(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hSchedule(c echo.Context) error {
	return withBody(c, func(id int64, in ScheduleInput) (Order, error) {
		return s.ScheduleDelivery(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hChecklist(c echo.Context) error {
	return withBody(c, func(id int64, in ChecklistInput) (Order, error) {
		return s.SaveChecklist(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hDeliver(c echo.Context) error {
	return withBody(c, func(id int64, in VersionInput) (Order, error) {
		return s.Deliver(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hClose(c echo.Context) error {
	return withBody(c, func(id int64, in VersionInput) (Order, error) {
		return s.Close(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hCancel(c echo.Context) error {
	return withBody(c, func(id int64, in CancelInput) (Order, error) {
		return s.Cancel(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hCustomerOrders(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	items, err := s.CustomerOrders(c.Request().Context(), api.Actor(c), id)
	return reply(c, http.StatusOK, api.List[Order]{Items: items}, err)
}
