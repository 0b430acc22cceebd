package system

import (
	"net"
	"net/http"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/org"
)

// Routes is the system route table.
func (s *Service) Routes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Path: "/health", Perm: api.Public, Summary: "Liveness and versions", Out: Health{}, Handler: s.hHealth},
		{Method: http.MethodGet, Path: "/setup/status", Perm: api.Public, Summary: "Whether first-run setup is needed", Out: setupStatus{}, Handler: s.hSetupStatus},
		{Method: http.MethodPost, Path: "/setup", Perm: api.Public, Summary: "First-run setup: group, first store, administrator", In: SetupInput{}, Out: org.Me{}, Handler: s.hSetup},
		{Method: http.MethodGet, Path: "/settings/security", Perm: auth.PermSettingsManage, Summary: "Sign-in and password rules", Out: auth.SecuritySettings{}, Handler: s.hGetSecurity},
		{Method: http.MethodPut, Path: "/settings/security", Perm: auth.PermSettingsManage, Summary: "Change sign-in and password rules", In: auth.SecuritySettings{}, Out: auth.SecuritySettings{}, Handler: s.hPutSecurity},
		{Method: http.MethodGet, Path: "/audit", Perm: auth.PermAuditRead, Summary: "Search the audit log (newest first, keyset paging)", Query: auditQuery{}, Out: api.List[audit.Row]{}, Handler: s.hListAudit},
		{Method: http.MethodPost, Path: "/audit/verify", Perm: auth.PermAuditRead, Summary: "Verify the audit log's hash chain", Out: audit.VerifyResult{}, Handler: s.hVerifyAudit},
	}
}

type setupStatus struct {
	Needed bool `json:"needed"`
	Local  bool `json:"local"`
}

type auditQuery struct {
	Action   string `query:"action"`
	Entity   string `query:"entity"`
	EntityID string `query:"entityId"`
	UserID   int64  `query:"userId"`
	StoreID  int64  `query:"storeId"`
	From     int64  `query:"from"`
	To       int64  `query:"to"`
	Cursor   string `query:"cursor"`
	Limit    int    `query:"limit"`
}

// isLocal reports whether the request comes from the machine itself.
func isLocal(c echo.Context) bool {
	ip := net.ParseIP(api.ClientIP(c))
	return ip != nil && ip.IsLoopback()
}

func (s *Service) hHealth(c echo.Context) error {
	h, err := s.Health(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h)
}

func (s *Service) hSetupStatus(c echo.Context) error {
	need, err := s.SetupNeeded(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, setupStatus{Needed: need, Local: isLocal(c)})
}

func (s *Service) hSetup(c echo.Context) error {
	var in SetupInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	res, err := s.Setup(ctx, in, isLocal(c), api.ClientIP(c), c.Request().UserAgent(), c.Response().Header().Get(echo.HeaderXRequestID))
	if err != nil {
		return err
	}
	api.SetSession(c, res.Token)
	me, err := s.org.Me(ctx, res.Actor)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, me)
}

func (s *Service) hGetSecurity(c echo.Context) error {
	if err := auth.Require(api.Actor(c), auth.PermSettingsManage); err != nil {
		return err
	}
	v, err := s.auth.Security(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hPutSecurity(c echo.Context) error {
	var in auth.SecuritySettings
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	v, err := s.UpdateSecurity(c.Request().Context(), api.Actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hListAudit(c echo.Context) error {
	f := AuditFilter{Action: c.QueryParam("action"), Entity: c.QueryParam("entity"), EntityID: c.QueryParam("entityId"), Cursor: c.QueryParam("cursor")}
	var err error
	if f.UserID, err = api.QueryInt64(c, "userId"); err != nil {
		return err
	}
	if f.StoreID, err = api.QueryInt64(c, "storeId"); err != nil {
		return err
	}
	if f.From, err = parseMillis(c.QueryParam("from")); err != nil {
		return apperr.Field("from", "invalid_format")
	}
	if f.To, err = parseMillis(c.QueryParam("to")); err != nil {
		return apperr.Field("to", "invalid_format")
	}
	if f.Limit, err = api.Limit(c); err != nil {
		return err
	}
	v, err := s.ListAudit(c.Request().Context(), api.Actor(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hVerifyAudit(c echo.Context) error {
	v, err := s.VerifyAudit(c.Request().Context(), api.Actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}
