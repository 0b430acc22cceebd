package crm

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/auth"
	"dealerdesk/app/task"
	"dealerdesk/app/timeline"
)

// Routes is the CRM route table.
func (s *Service) Routes() []api.Route {
	return append(s.mainRoutes(), s.importRoutes()...)
}

func (s *Service) mainRoutes() []api.Route {
	return []api.Route{
		{Method: http.MethodPost, Path: "/leads", Perm: auth.PermLeadCreate, Summary: "Take a lead (quick form, website form with an API key, DCC): a known phone attaches to its customer", In: LeadInput{}, Out: LeadResult{}, Handler: s.hCreateLead},
		{Method: http.MethodGet, Path: "/customers", Perm: auth.PermCustomerRead, Summary: "List customers in scope: filters, sorts, keyset paging, capped count", Query: ListFilter{}, Out: CustomerList{}, Handler: s.hListCustomers},
		{Method: http.MethodGet, Path: "/customers/export", Perm: auth.PermCustomerExport, Summary: "Export the filtered customer list to Excel (audited; phones masked unless pi.reveal)", Query: ListFilter{}, Handler: s.hExport},
		{Method: http.MethodGet, Path: "/customers/duplicates", Perm: auth.PermCustomerAssign, Summary: "Likely duplicates in a store (same name or ID number)", Out: api.List[DuplicateGroup]{}, Handler: s.hDuplicates},
		{Method: http.MethodPost, Path: "/customers/merge", Perm: auth.PermCustomerAssign, Summary: "Merge a duplicate into a customer, keeping every timeline entry", In: MergeInput{}, Out: Customer{}, Handler: s.hMerge},
		{Method: http.MethodPost, Path: "/customers/bulk", Perm: auth.PermCustomerWrite, Summary: "Bulk action on selected customers: assign, tag, untag, release to the pool", In: BulkInput{}, Out: BulkResult{}, Handler: s.hBulk},
		{Method: http.MethodPost, Path: "/customers/transfer", Perm: auth.PermCustomerAssign, Summary: "Hand everything a consultant owns to colleagues (离职交接)", In: TransferInput{}, Out: TransferResult{}, Handler: s.hTransfer},
		{Method: http.MethodGet, Path: "/customers/:id", Perm: auth.PermCustomerRead, Summary: "The customer profile (masked phone and ID number)", Out: Customer{}, Handler: s.hGetCustomer},
		{Method: http.MethodPut, Path: "/customers/:id", Perm: auth.PermCustomerWrite, Summary: "Edit the profile, grade and tags", In: ProfileInput{}, Out: Customer{}, Handler: s.hUpdateCustomer},
		{Method: http.MethodPost, Path: "/customers/:id/reveal", Perm: auth.PermPIReveal, Summary: "Show the full phone numbers and ID number (audited)", Out: Revealed{}, Handler: s.hReveal},
		{Method: http.MethodGet, Path: "/customers/:id/timeline", Perm: auth.PermCustomerRead, Summary: "The customer's timeline, newest first (keyset paging)", Out: api.List[timeline.Event]{}, Handler: s.hTimeline},
		{Method: http.MethodGet, Path: "/customers/:id/followups", Perm: auth.PermCustomerRead, Summary: "The customer's follow-ups", Out: api.List[Followup]{}, Handler: s.hListFollowups},
		{Method: http.MethodPost, Path: "/customers/:id/followups", Perm: auth.PermCustomerWrite, Summary: "Record a follow-up; the next step becomes a task with a reminder", In: FollowupInput{}, Out: Followup{}, Handler: s.hAddFollowup},
		{Method: http.MethodGet, Path: "/customers/:id/tasks", Perm: auth.PermCustomerRead, Summary: "The customer's open tasks", Out: api.List[task.Task]{}, Handler: s.hCustomerTasks},
		{Method: http.MethodPost, Path: "/customers/:id/assign", Perm: auth.PermCustomerAssign, Summary: "Reassign the customer to another consultant", In: AssignInput{}, Out: Customer{}, Handler: s.hAssign},
		{Method: http.MethodPost, Path: "/customers/:id/claim", Perm: auth.PermCustomerWrite, Summary: "Claim a customer from the shared pool (公海)", Out: Customer{}, Handler: s.hClaim},
		{Method: http.MethodPost, Path: "/customers/:id/release", Perm: auth.PermCustomerWrite, Summary: "Return the customer to the shared pool", In: ReleaseInput{}, Handler: s.hRelease},
		{Method: http.MethodPost, Path: "/customers/:id/lost", Perm: auth.PermCustomerWrite, Summary: "Request that the customer be marked lost (goes through approval)", In: LostInput{}, Out: LostRequest{}, Handler: s.hRequestLost},
		{Method: http.MethodPost, Path: "/customers/:id/dormant", Perm: auth.PermCustomerWrite, Summary: "Mark the customer dormant", In: noteInput{}, Out: Customer{}, Handler: s.hDormant},
		{Method: http.MethodPost, Path: "/customers/:id/reactivate", Perm: auth.PermCustomerWrite, Summary: "Reactivate a lost or dormant customer", Out: Customer{}, Handler: s.hReactivate},
		{Method: http.MethodGet, Path: "/customers/:id/consents", Perm: auth.PermCustomerRead, Summary: "The customer's consent history (P2)", Out: api.List[Consent]{}, Handler: s.hListConsents},
		{Method: http.MethodPost, Path: "/customers/:id/consents", Perm: auth.PermCustomerWrite, Summary: "Record consent given or withdrawn", In: ConsentInput{}, Out: api.List[Consent]{}, Handler: s.hRecordConsent},
		{Method: http.MethodGet, Path: "/pool", Perm: auth.PermCustomerWrite, Summary: "The store's shared pool (公海) of unowned customers", Query: ListFilter{}, Out: CustomerList{}, Handler: s.hPool},
		{Method: http.MethodGet, Path: "/workbench", Perm: auth.PermCustomerRead, Summary: "The consultant's day: new leads, due today, overdue, tasks", Out: Workbench{}, Handler: s.hWorkbench},
		{Method: http.MethodGet, Path: "/crm/settings", Perm: auth.PermCustomerRead, Summary: "A store's CRM settings: deadlines, grades, pool, working hours", Out: Settings{}, Handler: s.hGetSettings},
		{Method: http.MethodPut, Path: "/crm/settings", Perm: auth.PermCustomerAssign, Summary: "Change a store's CRM settings", In: Settings{}, Out: Settings{}, Handler: s.hSaveSettings},
		{Method: http.MethodGet, Path: "/assign-rules", Perm: auth.PermCustomerAssign, Summary: "The store's lead assignment rules, in order", Out: api.List[Rule]{}, Handler: s.hListRules},
		{Method: http.MethodPost, Path: "/assign-rules", Perm: auth.PermCustomerAssign, Summary: "Add an assignment rule (at the end)", In: RuleInput{}, Out: Rule{}, Handler: s.hCreateRule},
		{Method: http.MethodPost, Path: "/assign-rules/order", Perm: auth.PermCustomerAssign, Summary: "Reorder the store's assignment rules", In: OrderInput{}, Out: api.List[Rule]{}, Handler: s.hOrderRules},
		{Method: http.MethodPut, Path: "/assign-rules/:id", Perm: auth.PermCustomerAssign, Summary: "Edit an assignment rule", In: RuleInput{}, Out: Rule{}, Handler: s.hUpdateRule},
		{Method: http.MethodDelete, Path: "/assign-rules/:id", Perm: auth.PermCustomerAssign, Summary: "Delete an assignment rule", Handler: s.hDeleteRule},
		{Method: http.MethodGet, Path: "/showroom-visits", Perm: auth.PermCustomerRead, Summary: "The showroom traffic log of a day (or a range up to a month)", Out: VisitDay{}, Handler: s.hListVisits},
		{Method: http.MethodPost, Path: "/showroom-visits", Perm: auth.PermLeadCreate, Summary: "Log a walk-in (with a phone: matched or created as a customer)", In: VisitInput{}, Out: Visit{}, Handler: s.hLogVisit},
		{Method: http.MethodPost, Path: "/showroom-visits/:id/leave", Perm: auth.PermLeadCreate, Summary: "Record when a visitor left", In: LeaveInput{}, Out: Visit{}, Handler: s.hVisitLeft},
		{Method: http.MethodGet, Path: "/views", Perm: auth.PermCustomerRead, Summary: "My saved list views and the store's shared ones", Out: api.List[SavedView]{}, Handler: s.hListViews},
		{Method: http.MethodPost, Path: "/views", Perm: auth.PermCustomerRead, Summary: "Save a list view (same name replaces)", In: ViewInput{}, Out: SavedView{}, Handler: s.hSaveView},
		{Method: http.MethodDelete, Path: "/views/:id", Perm: auth.PermCustomerRead, Summary: "Delete one of my saved views", Handler: s.hDeleteView},
	}
}

type noteInput struct {
	Note string `json:"note"`
}

func ok(c echo.Context, status int, v any, err error) error {
	if err != nil {
		return err
	}
	return c.JSON(status, v)
}

func (s *Service) hCreateLead(c echo.Context) error {
	var in LeadInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	res, err := s.CreateLead(c.Request().Context(), api.Actor(c), in)
	status := http.StatusCreated
	if res.Repeated {
		status = http.StatusOK
	}
	return ok(c, status, res, err)
}

func splitList(v string) []string {
	if v == "" {
		return nil
	}
	var out []string
	for _, x := range strings.Split(v, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// listFilter reads the list filter from the query string.
func listFilter(c echo.Context) (ListFilter, error) {
	f := ListFilter{Grades: splitList(c.QueryParam("grades")), Stages: splitList(c.QueryParam("stages")), Channels: splitList(c.QueryParam("channels")),
		Status: c.QueryParam("status"), Tag: c.QueryParam("tag"), Q: c.QueryParam("q"), Sort: c.QueryParam("sort"), Cursor: c.QueryParam("cursor"),
		Overdue: c.QueryParam("overdue") == "1" || c.QueryParam("overdue") == "true", Count: c.QueryParam("count") == "1" || c.QueryParam("count") == "true"}
	var err error
	for name, dst := range map[string]*int64{"storeId": &f.StoreID, "ownerId": &f.OwnerID, "seriesId": &f.SeriesID, "createdFrom": &f.CreatedFrom, "createdTo": &f.CreatedTo} {
		if *dst, err = api.QueryInt64(c, name); err != nil {
			return f, err
		}
	}
	if f.Limit, err = api.QueryLimit(c); err != nil {
		return f, err
	}
	return f, nil
}

func (s *Service) hListCustomers(c echo.Context) error {
	f, err := listFilter(c)
	if err != nil {
		return err
	}
	out, err := s.ListCustomers(c.Request().Context(), api.Actor(c), f)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hPool(c echo.Context) error {
	f, err := listFilter(c)
	if err != nil {
		return err
	}
	out, err := s.ListPool(c.Request().Context(), api.Actor(c), f)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hExport(c echo.Context) error {
	f, err := listFilter(c)
	if err != nil {
		return err
	}
	return s.Export(c.Request().Context(), api.Actor(c), f, c.Response())
}

func (s *Service) hDuplicates(c echo.Context) error {
	store, err := api.QueryInt64(c, "storeId")
	if err != nil {
		return err
	}
	out, err := s.Duplicates(c.Request().Context(), api.Actor(c), store, c.QueryParam("cursor"), 20)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hMerge(c echo.Context) error {
	var in MergeInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.Merge(c.Request().Context(), api.Actor(c), in)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hBulk(c echo.Context) error {
	var in BulkInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.Bulk(c.Request().Context(), api.Actor(c), in)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hTransfer(c echo.Context) error {
	var in TransferInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.Transfer(c.Request().Context(), api.Actor(c), in)
	return ok(c, http.StatusOK, out, err)
}

// withID runs fn with the :id path parameter.
func withID(c echo.Context, fn func(id int64) error) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	return fn(id)
}

func (s *Service) hGetCustomer(c echo.Context) error {
	return withID(c, func(id int64) error {
		out, err := s.GetCustomer(c.Request().Context(), api.Actor(c), id)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hUpdateCustomer(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in ProfileInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.UpdateProfile(c.Request().Context(), api.Actor(c), id, in)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hReveal(c echo.Context) error {
	return withID(c, func(id int64) error {
		out, err := s.RevealPhone(c.Request().Context(), api.Actor(c), id)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hTimeline(c echo.Context) error {
	return withID(c, func(id int64) error {
		ctx := c.Request().Context()
		if _, err := s.readable(ctx, s.db.R, api.Actor(c), id); err != nil {
			return err
		}
		limit, err := api.Limit(c)
		if err != nil {
			return err
		}
		out, err := timeline.List(ctx, s.db.R, timeline.Filter{CustomerID: id, Kinds: splitList(c.QueryParam("kinds")), Cursor: c.QueryParam("cursor"), Limit: limit})
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hListFollowups(c echo.Context) error {
	return withID(c, func(id int64) error {
		out, err := s.ListFollowups(c.Request().Context(), api.Actor(c), id)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hAddFollowup(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in FollowupInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.AddFollowup(c.Request().Context(), api.Actor(c), id, in)
		return ok(c, http.StatusCreated, out, err)
	})
}

func (s *Service) hCustomerTasks(c echo.Context) error {
	return withID(c, func(id int64) error {
		ctx := c.Request().Context()
		if _, err := s.readable(ctx, s.db.R, api.Actor(c), id); err != nil {
			return err
		}
		out, err := s.tasks.List(ctx, api.Actor(c), task.Filter{CustomerID: id, Status: c.QueryParam("status")})
		return ok(c, http.StatusOK, api.List[task.Task]{Items: out}, err)
	})
}

func (s *Service) hAssign(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in AssignInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.Reassign(c.Request().Context(), api.Actor(c), id, in)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hClaim(c echo.Context) error {
	return withID(c, func(id int64) error {
		out, err := s.Claim(c.Request().Context(), api.Actor(c), id)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hRelease(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in ReleaseInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		if err := s.Release(c.Request().Context(), api.Actor(c), id, in); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
}

func (s *Service) hRequestLost(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in LostInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.RequestLost(c.Request().Context(), api.Actor(c), id, in)
		return ok(c, http.StatusCreated, out, err)
	})
}

func (s *Service) hDormant(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in noteInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.SetDormant(c.Request().Context(), api.Actor(c), id, in.Note)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hReactivate(c echo.Context) error {
	return withID(c, func(id int64) error {
		out, err := s.Reactivate(c.Request().Context(), api.Actor(c), id)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hListConsents(c echo.Context) error {
	return withID(c, func(id int64) error {
		out, err := s.ListConsents(c.Request().Context(), api.Actor(c), id)
		return ok(c, http.StatusOK, api.List[Consent]{Items: out}, err)
	})
}

func (s *Service) hRecordConsent(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in ConsentInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.RecordConsent(c.Request().Context(), api.Actor(c), id, in)
		return ok(c, http.StatusCreated, api.List[Consent]{Items: out}, err)
	})
}

func (s *Service) hWorkbench(c echo.Context) error {
	uid, err := api.QueryInt64(c, "userId")
	if err != nil {
		return err
	}
	out, err := s.GetWorkbench(c.Request().Context(), api.Actor(c), uid)
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
	var in Settings
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.SaveSettings(c.Request().Context(), api.Actor(c), store, in)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hListRules(c echo.Context) error {
	store, err := api.QueryInt64(c, "storeId")
	if err != nil {
		return err
	}
	out, err := s.ListRules(c.Request().Context(), api.Actor(c), store)
	return ok(c, http.StatusOK, api.List[Rule]{Items: out}, err)
}

func (s *Service) hCreateRule(c echo.Context) error {
	var in RuleInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.CreateRule(c.Request().Context(), api.Actor(c), in)
	return ok(c, http.StatusCreated, out, err)
}

func (s *Service) hOrderRules(c echo.Context) error {
	var in OrderInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.MoveRules(c.Request().Context(), api.Actor(c), in)
	return ok(c, http.StatusOK, api.List[Rule]{Items: out}, err)
}

func (s *Service) hUpdateRule(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in RuleInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.UpdateRule(c.Request().Context(), api.Actor(c), id, in)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hDeleteRule(c echo.Context) error {
	return withID(c, func(id int64) error {
		if err := s.DeleteRule(c.Request().Context(), api.Actor(c), id); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
}

func (s *Service) hListVisits(c echo.Context) error {
	var store, from, to int64
	var err error
	for name, dst := range map[string]*int64{"storeId": &store, "from": &from, "to": &to} {
		if *dst, err = api.QueryInt64(c, name); err != nil {
			return err
		}
	}
	out, err := s.ListVisits(c.Request().Context(), api.Actor(c), store, from, to)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hLogVisit(c echo.Context) error {
	var in VisitInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.LogVisit(c.Request().Context(), api.Actor(c), in)
	return ok(c, http.StatusCreated, out, err)
}

func (s *Service) hVisitLeft(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in LeaveInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.VisitLeft(c.Request().Context(), api.Actor(c), id, in)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hListViews(c echo.Context) error {
	out, err := s.ListViews(c.Request().Context(), api.Actor(c), c.QueryParam("page"))
	return ok(c, http.StatusOK, api.List[SavedView]{Items: out}, err)
}

func (s *Service) hSaveView(c echo.Context) error {
	var in ViewInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.SaveView(c.Request().Context(), api.Actor(c), in)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hDeleteView(c echo.Context) error {
	return withID(c, func(id int64) error {
		if err := s.DeleteView(c.Request().Context(), api.Actor(c), id); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
}
