package org

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/auth"
)

// SessionRoutes is the route table of signing in and the user's own account.
func (s *Service) SessionRoutes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Path: "/auth/password-policy", Perm: api.Public, Summary: "Password rules for forms", Out: passwordPolicy{}, Handler: s.hPasswordPolicy},
		{Method: http.MethodPost, Path: "/auth/login", Perm: api.Public, Summary: "Sign in with username or phone and password", In: auth.LoginInput{}, Out: Me{}, Handler: s.hLogin},
		{Method: http.MethodPost, Path: "/auth/logout", Perm: api.SignedIn, Summary: "Sign out", Handler: s.hLogout, AllowPasswordChange: true},
		{Method: http.MethodPost, Path: "/auth/logout-all", Perm: api.SignedIn, Summary: "Sign out everywhere", Handler: s.hLogoutAll, AllowPasswordChange: true},
		{Method: http.MethodGet, Path: "/auth/me", Perm: api.SignedIn, Summary: "The signed-in user", Out: Me{}, Handler: s.hMe, AllowPasswordChange: true},
		{Method: http.MethodPut, Path: "/auth/profile", Perm: api.SignedIn, Summary: "Edit my name and language", In: ProfileInput{}, Out: Me{}, Handler: s.hProfile},
		{Method: http.MethodPost, Path: "/auth/password", Perm: api.SignedIn, Summary: "Change my password (ends my other sessions)", In: auth.ChangePasswordInput{}, Handler: s.hPassword, AllowPasswordChange: true},
		{Method: http.MethodPost, Path: "/auth/reauth", Perm: api.SignedIn, Summary: "Confirm my password before a sensitive action", In: reauthInput{}, Handler: s.hReauth},
		{Method: http.MethodPost, Path: "/auth/switch-store", Perm: api.SignedIn, Summary: "Work in another store (group roles)", In: switchInput{}, Out: Me{}, Handler: s.hSwitchStore},
	}
}

type passwordPolicy struct {
	MinLength      int `json:"minLength"`
	RequireClasses int `json:"requireClasses"`
}

type reauthInput struct {
	Password string `json:"password"`
}

type switchInput struct {
	StoreID int64 `json:"storeId"`
}

func (s *Service) hPasswordPolicy(c echo.Context) error {
	sec, err := s.auth.Security(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, passwordPolicy{MinLength: sec.PasswordMinLength, RequireClasses: sec.PasswordRequireClasses})
}

func (s *Service) hLogin(c echo.Context) error {
	var in auth.LoginInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	res, err := s.auth.Login(ctx, in, api.ClientIP(c), c.Request().UserAgent(), c.Response().Header().Get(echo.HeaderXRequestID))
	if err != nil {
		return err
	}
	api.SetSession(c, res.Token)
	me, err := s.Me(ctx, res.Actor)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, me)
}

func (s *Service) hLogout(c echo.Context) error {
	if err := s.auth.EndSession(c.Request().Context(), api.Actor(c)); err != nil {
		return err
	}
	api.SetSession(c, "")
	return c.NoContent(http.StatusNoContent)
}

func (s *Service) hLogoutAll(c echo.Context) error {
	if err := s.auth.EndAllSessions(c.Request().Context(), api.Actor(c)); err != nil {
		return err
	}
	api.SetSession(c, "")
	return c.NoContent(http.StatusNoContent)
}

func (s *Service) hMe(c echo.Context) error {
	me, err := s.Me(c.Request().Context(), api.Actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, me)
}

func (s *Service) hProfile(c echo.Context) error {
	var in ProfileInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	a := api.Actor(c)
	if err := s.UpdateProfile(c.Request().Context(), a, in); err != nil {
		return err
	}
	a.Name, a.Locale = in.Name, in.Locale
	me, err := s.Me(c.Request().Context(), a)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, me)
}

func (s *Service) hPassword(c echo.Context) error {
	var in auth.ChangePasswordInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	if err := s.auth.ChangePassword(c.Request().Context(), api.Actor(c), in); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Service) hReauth(c echo.Context) error {
	var in reauthInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	if err := s.auth.Reauth(c.Request().Context(), api.Actor(c), in.Password); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Service) hSwitchStore(c echo.Context) error {
	var in switchInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	a := api.Actor(c)
	ctx := c.Request().Context()
	if err := s.auth.SwitchStore(ctx, a, in.StoreID); err != nil {
		return err
	}
	a.StoreID = in.StoreID
	me, err := s.Me(ctx, a)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, me)
}
