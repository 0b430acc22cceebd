package approval

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/auth"
)

// Routes is the approval engine's route table. Acting on an approval needs no
// permission of its own: being its approver (or their delegate) or its submitter
// is the right, and everyone else gets 404.
func (s *Service) Routes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Path: "/approvals/inbox", Perm: api.SignedIn, Summary: "Approvals waiting for me (also as a delegate), oldest first, with counts", Out: Inbox{}, Handler: s.hInbox},
		{Method: http.MethodGet, Path: "/approvals", Perm: api.SignedIn, Summary: "Approvals I submitted, decided or may see (keyset paging)", Query: listQuery{}, Out: api.List[Instance]{}, Handler: s.hList},
		{Method: http.MethodGet, Path: "/approvals/:id", Perm: api.SignedIn, Summary: "An approval with its steps, approvers and history", Out: Detail{}, Handler: s.hGet},
		{Method: http.MethodPost, Path: "/approvals/:id/approve", Perm: api.SignedIn, Summary: "Approve my step", In: ActInput{}, Out: Detail{}, Handler: s.hApprove},
		{Method: http.MethodPost, Path: "/approvals/:id/reject", Perm: api.SignedIn, Summary: "Reject (comment required)", In: ActInput{}, Out: Detail{}, Handler: s.hReject},
		{Method: http.MethodPost, Path: "/approvals/:id/return", Perm: api.SignedIn, Summary: "Send back to the submitter (comment required)", In: ActInput{}, Out: Detail{}, Handler: s.hReturn},
		{Method: http.MethodPost, Path: "/approvals/:id/withdraw", Perm: api.SignedIn, Summary: "Withdraw my pending approval", In: ActInput{}, Out: Detail{}, Handler: s.hWithdraw},
		{Method: http.MethodPost, Path: "/approvals/:id/comment", Perm: api.SignedIn, Summary: "Add a comment to an approval", In: ActInput{}, Out: Detail{}, Handler: s.hComment},
		{Method: http.MethodGet, Path: "/approval-doc-types", Perm: api.SignedIn, Summary: "Document types that go through approvals, with the fields rules may test", Out: api.List[DocTypeInfo]{}, Handler: s.hDocTypes},
		{Method: http.MethodGet, Path: "/approval-definitions", Perm: auth.PermApprovalManage, Summary: "Approval routing rules in routing order", Query: defQuery{}, Out: api.List[Definition]{}, Handler: s.hListDefinitions},
		{Method: http.MethodPost, Path: "/approval-definitions", Perm: auth.PermApprovalManage, Summary: "Create an approval routing rule", In: DefinitionInput{}, Out: Definition{}, Handler: s.hCreateDefinition},
		{Method: http.MethodPut, Path: "/approval-definitions/:id", Perm: auth.PermApprovalManage, Summary: "Edit an approval routing rule", In: DefinitionInput{}, Out: Definition{}, Handler: s.hUpdateDefinition},
		{Method: http.MethodDelete, Path: "/approval-definitions/:id", Perm: auth.PermApprovalManage, Summary: "Delete an approval routing rule (running approvals keep their steps)", Handler: s.hDeleteDefinition},
	}
}

type listQuery struct {
	Mine    string `query:"mine"` // submitted | decided | "" (all I may see)
	Status  string `query:"status"`
	DocType string `query:"docType"`
	Cursor  string `query:"cursor"`
	Limit   int    `query:"limit"`
}

type defQuery struct {
	StoreID int64  `query:"storeId"`
	DocType string `query:"docType"`
}

func (s *Service) hInbox(c echo.Context) error {
	v, err := s.Inbox(c.Request().Context(), api.Actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hList(c echo.Context) error {
	limit, err := api.Limit(c)
	if err != nil {
		return err
	}
	f := ListFilter{Mine: c.QueryParam("mine"), Status: c.QueryParam("status"), DocType: c.QueryParam("docType"), Cursor: c.QueryParam("cursor"), Limit: limit}
	v, err := s.List(c.Request().Context(), api.Actor(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hGet(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.Get(c.Request().Context(), api.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) act(c echo.Context, fn func(id int64, in ActInput) (Detail, error)) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	var in ActInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	v, err := fn(id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hApprove(c echo.Context) error {
	return s.act(c, func(id int64, in ActInput) (Detail, error) {
		return s.Approve(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hReject(c echo.Context) error {
	return s.act(c, func(id int64, in ActInput) (Detail, error) {
		return s.Reject(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hReturn(c echo.Context) error {
	return s.act(c, func(id int64, in ActInput) (Detail, error) {
		return s.SendBack(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hWithdraw(c echo.Context) error {
	return s.act(c, func(id int64, in ActInput) (Detail, error) {
		return s.Withdraw(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hComment(c echo.Context) error {
	return s.act(c, func(id int64, in ActInput) (Detail, error) {
		return s.Comment(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hDocTypes(c echo.Context) error {
	return c.JSON(http.StatusOK, api.List[DocTypeInfo]{Items: s.DocTypes()})
}

func (s *Service) hListDefinitions(c echo.Context) error {
	storeID, err := api.QueryInt64(c, "storeId")
	if err != nil {
		return err
	}
	v, err := s.ListDefinitions(c.Request().Context(), api.Actor(c), storeID, c.QueryParam("docType"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.List[Definition]{Items: v})
}

func (s *Service) hCreateDefinition(c echo.Context) error {
	var in DefinitionInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	v, err := s.CreateDefinition(c.Request().Context(), api.Actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, v)
}

func (s *Service) hUpdateDefinition(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	var in DefinitionInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	v, err := s.UpdateDefinition(c.Request().Context(), api.Actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hDeleteDefinition(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	if err := s.DeleteDefinition(c.Request().Context(), api.Actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
