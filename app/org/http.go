package org

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/auth"
)

// Routes is the organisation's route table.
func (s *Service) Routes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Path: "/group", Perm: auth.PermOrgRead, Summary: "The dealership group", Out: Group{}, Handler: s.hGetGroup},
		{Method: http.MethodPut, Path: "/group", Perm: auth.PermOrgManage, Summary: "Rename the group", In: GroupInput{}, Out: Group{}, Handler: s.hUpdateGroup},
		{Method: http.MethodGet, Path: "/stores", Perm: auth.PermOrgRead, Summary: "List stores in scope", Out: api.List[Store]{}, Handler: s.hListStores},
		{Method: http.MethodPost, Path: "/stores", Perm: auth.PermOrgManage, Summary: "Open a store", In: StoreInput{}, Out: Store{}, Handler: s.hCreateStore},
		{Method: http.MethodGet, Path: "/stores/:id", Perm: auth.PermOrgRead, Summary: "Get a store", Out: Store{}, Handler: s.hGetStore},
		{Method: http.MethodPut, Path: "/stores/:id", Perm: auth.PermOrgManage, Summary: "Edit a store", In: StoreInput{}, Out: Store{}, Handler: s.hUpdateStore},
		{Method: http.MethodGet, Path: "/departments", Perm: auth.PermOrgRead, Summary: "List departments and teams", Query: departmentQuery{}, Out: api.List[Department]{}, Handler: s.hListDepartments},
		{Method: http.MethodPost, Path: "/departments", Perm: auth.PermOrgManage, Summary: "Create a department", In: DepartmentInput{}, Out: Department{}, Handler: s.hCreateDepartment},
		{Method: http.MethodPut, Path: "/departments/:id", Perm: auth.PermOrgManage, Summary: "Edit a department", In: DepartmentInput{}, Out: Department{}, Handler: s.hUpdateDepartment},
		{Method: http.MethodDelete, Path: "/departments/:id", Perm: auth.PermOrgManage, Summary: "Delete an unused department", Handler: s.hDeleteDepartment},
		{Method: http.MethodGet, Path: "/users", Perm: auth.PermUserRead, Summary: "List users (keyset paging)", Query: userQuery{}, Out: api.List[User]{}, Handler: s.hListUsers},
		{Method: http.MethodPost, Path: "/users", Perm: auth.PermUserManage, Summary: "Create a user with a temporary password", In: UserInput{}, Out: User{}, Handler: s.hCreateUser},
		{Method: http.MethodGet, Path: "/users/:id", Perm: auth.PermUserRead, Summary: "Get a user", Out: User{}, Handler: s.hGetUser},
		{Method: http.MethodPut, Path: "/users/:id", Perm: auth.PermUserManage, Summary: "Edit a user", In: UserInput{}, Out: User{}, Handler: s.hUpdateUser},
		{Method: http.MethodPost, Path: "/users/:id/reveal-phone", Perm: auth.PermPIReveal, Summary: "Reveal a user's full phone number (audited, needs recent password)", Out: revealOut{}, Handler: s.hRevealPhone},
		{Method: http.MethodPost, Path: "/users/:id/disable", Perm: auth.PermUserManage, Summary: "Disable a user and end their sessions", Out: User{}, Handler: s.hDisableUser},
		{Method: http.MethodPost, Path: "/users/:id/enable", Perm: auth.PermUserManage, Summary: "Enable a user", Out: User{}, Handler: s.hEnableUser},
		{Method: http.MethodPost, Path: "/users/:id/reset-password", Perm: auth.PermUserManage, Summary: "Set a temporary password", In: ResetPasswordInput{}, Handler: s.hResetPassword},
		{Method: http.MethodPost, Path: "/users/:id/unlock", Perm: auth.PermUserManage, Summary: "Clear a sign-in lock-out", Handler: s.hUnlockUser},
		{Method: http.MethodGet, Path: "/users/:id/absences", Perm: api.SignedIn, Summary: "A user's current and coming absences (own, or users one manages)", Out: api.List[Absence]{}, Handler: s.hListAbsences},
		{Method: http.MethodPost, Path: "/users/:id/absences", Perm: api.SignedIn, Summary: "Record an absence (no new leads; approvals go to the delegate)", In: AbsenceInput{}, Out: Absence{}, Handler: s.hCreateAbsence},
		{Method: http.MethodDelete, Path: "/users/:id/absences/:absenceId", Perm: api.SignedIn, Summary: "Remove an absence", Handler: s.hDeleteAbsence},
		{Method: http.MethodGet, Path: "/roles", Perm: auth.PermRoleRead, Summary: "List roles", Out: api.List[Role]{}, Handler: s.hListRoles},
		{Method: http.MethodPost, Path: "/roles", Perm: auth.PermRoleManage, Summary: "Create a role", In: RoleInput{}, Out: Role{}, Handler: s.hCreateRole},
		{Method: http.MethodPut, Path: "/roles/:id", Perm: auth.PermRoleManage, Summary: "Edit a role", In: RoleInput{}, Out: Role{}, Handler: s.hUpdateRole},
		{Method: http.MethodDelete, Path: "/roles/:id", Perm: auth.PermRoleManage, Summary: "Delete an unused custom role", Handler: s.hDeleteRole},
		{Method: http.MethodGet, Path: "/permissions", Perm: auth.PermRoleRead, Summary: "The permission catalogue", Out: api.List[auth.PermissionInfo]{}, Handler: s.hPermissions},
		{Method: http.MethodGet, Path: "/apikeys", Perm: auth.PermAPIKeyManage, Summary: "List API keys", Out: api.List[APIKey]{}, Handler: s.hListAPIKeys},
		{Method: http.MethodPost, Path: "/apikeys", Perm: auth.PermAPIKeyManage, Summary: "Create an API key (shown once)", In: APIKeyInput{}, Out: NewAPIKeyResult{}, Handler: s.hCreateAPIKey},
		{Method: http.MethodPost, Path: "/apikeys/:id/revoke", Perm: auth.PermAPIKeyManage, Summary: "Revoke an API key", Out: APIKey{}, Handler: s.hRevokeAPIKey},
	}
}

type departmentQuery struct {
	StoreID int64 `query:"storeId"`
}

type userQuery struct {
	Q            string `query:"q"`
	StoreID      int64  `query:"storeId"`
	RoleID       int64  `query:"roleId"`
	DepartmentID int64  `query:"departmentId"`
	Status       string `query:"status"`
	Sort         string `query:"sort"`
	Cursor       string `query:"cursor"`
	Limit        int    `query:"limit"`
}

type revealOut struct {
	Phone string `json:"phone"`
}

func items[T any](v []T) api.List[T] { return api.List[T]{Items: v} }

func (s *Service) hGetGroup(c echo.Context) error {
	g, err := s.GetGroup(c.Request().Context(), api.Actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, g)
}

func (s *Service) hUpdateGroup(c echo.Context) error {
	var in GroupInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	g, err := s.UpdateGroup(c.Request().Context(), api.Actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, g)
}

func (s *Service) hListStores(c echo.Context) error {
	v, err := s.ListStores(c.Request().Context(), api.Actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(v))
}

func (s *Service) hCreateStore(c echo.Context) error {
	var in StoreInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	v, err := s.CreateStore(c.Request().Context(), api.Actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, v)
}

func (s *Service) hGetStore(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.GetStore(c.Request().Context(), api.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hUpdateStore(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	var in StoreInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	v, err := s.UpdateStore(c.Request().Context(), api.Actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hListDepartments(c echo.Context) error {
	storeID, err := api.QueryInt64(c, "storeId")
	if err != nil {
		return err
	}
	v, err := s.ListDepartments(c.Request().Context(), api.Actor(c), storeID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(v))
}

func (s *Service) hCreateDepartment(c echo.Context) error {
	var in DepartmentInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	v, err := s.CreateDepartment(c.Request().Context(), api.Actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, v)
}

func (s *Service) hUpdateDepartment(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	var in DepartmentInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	v, err := s.UpdateDepartment(c.Request().Context(), api.Actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hDeleteDepartment(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	if err := s.DeleteDepartment(c.Request().Context(), api.Actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Service) hListUsers(c echo.Context) error {
	var f UserFilter
	var err error
	f.Q, f.Status, f.Sort, f.Cursor = c.QueryParam("q"), c.QueryParam("status"), c.QueryParam("sort"), c.QueryParam("cursor")
	if f.StoreID, err = api.QueryInt64(c, "storeId"); err != nil {
		return err
	}
	if f.RoleID, err = api.QueryInt64(c, "roleId"); err != nil {
		return err
	}
	if f.DepartmentID, err = api.QueryInt64(c, "departmentId"); err != nil {
		return err
	}
	if f.Limit, err = api.Limit(c); err != nil {
		return err
	}
	v, err := s.ListUsers(c.Request().Context(), api.Actor(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hCreateUser(c echo.Context) error {
	var in UserInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	v, err := s.CreateUser(c.Request().Context(), api.Actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, v)
}

func (s *Service) hGetUser(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.GetUser(c.Request().Context(), api.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hUpdateUser(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	var in UserInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	v, err := s.UpdateUser(c.Request().Context(), api.Actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hRevealPhone(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	p, err := s.RevealUserPhone(c.Request().Context(), api.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, revealOut{Phone: p})
}

func (s *Service) setStatus(c echo.Context, status string) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.SetUserStatus(c.Request().Context(), api.Actor(c), id, status)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hDisableUser(c echo.Context) error { return s.setStatus(c, "disabled") }
func (s *Service) hEnableUser(c echo.Context) error  { return s.setStatus(c, "active") }

func (s *Service) hResetPassword(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	var in ResetPasswordInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	if err := s.ResetPassword(c.Request().Context(), api.Actor(c), id, in); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Service) hUnlockUser(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	if err := s.UnlockUser(c.Request().Context(), api.Actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Service) hListRoles(c echo.Context) error {
	v, err := s.ListRoles(c.Request().Context(), api.Actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(v))
}

func (s *Service) hCreateRole(c echo.Context) error {
	var in RoleInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	v, err := s.CreateRole(c.Request().Context(), api.Actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, v)
}

func (s *Service) hUpdateRole(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	var in RoleInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	v, err := s.UpdateRole(c.Request().Context(), api.Actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hDeleteRole(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	if err := s.DeleteRole(c.Request().Context(), api.Actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Service) hPermissions(c echo.Context) error {
	return c.JSON(http.StatusOK, items(auth.Permissions))
}

func (s *Service) hListAPIKeys(c echo.Context) error {
	v, err := s.ListAPIKeys(c.Request().Context(), api.Actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(v))
}

func (s *Service) hCreateAPIKey(c echo.Context) error {
	var in APIKeyInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	v, err := s.CreateAPIKey(c.Request().Context(), api.Actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, v)
}

func (s *Service) hRevokeAPIKey(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.RevokeAPIKey(c.Request().Context(), api.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hListAbsences(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	out, err := s.ListAbsences(c.Request().Context(), api.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Service) hCreateAbsence(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	var in AbsenceInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.CreateAbsence(c.Request().Context(), api.Actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (s *Service) hDeleteAbsence(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	aid, err := api.ID(c, "absenceId")
	if err != nil {
		return err
	}
	if err := s.DeleteAbsence(c.Request().Context(), api.Actor(c), id, aid); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
