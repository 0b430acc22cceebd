package notify

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
)

// StreamPath is the SSE route; httpapi keeps gzip off it.
const StreamPath = "/notifications/stream"

// Routes is the notification route table: the inbox routes work on the
// caller's own inbox, so any signed-in user may call them; the delivery
// channels and webhooks (channel_http.go, webhook_http.go) need settings.manage.
func (s *Service) Routes() []api.Route {
	routes := []api.Route{
		{Method: http.MethodGet, Path: "/notifications", Perm: api.SignedIn, Summary: "My notifications, newest first (keyset paging)", Query: listQuery{}, Out: api.List[Notification]{}, Handler: s.hList},
		{Method: http.MethodGet, Path: "/notifications/unread-count", Perm: api.SignedIn, Summary: "How many of my notifications are unread", Out: countOut{}, Handler: s.hUnreadCount},
		{Method: http.MethodGet, Path: StreamPath, Perm: api.SignedIn, Summary: "Live notifications (text/event-stream; resumes after Last-Event-ID or ?after=)", Query: streamQuery{}, Handler: s.hStream},
		{Method: http.MethodPost, Path: "/notifications/:id/read", Perm: api.SignedIn, Summary: "Mark one of my notifications read", Out: Notification{}, Handler: s.hMarkRead},
		{Method: http.MethodPost, Path: "/notifications/read-all", Perm: api.SignedIn, Summary: "Mark all my notifications read (up to an id)", In: ReadAllInput{}, Handler: s.hReadAll},
		{Method: http.MethodGet, Path: "/notifications/prefs", Perm: api.SignedIn, Summary: "My notification choices for every kind", Out: api.List[Pref]{}, Handler: s.hPrefs},
		{Method: http.MethodPut, Path: "/notifications/prefs", Perm: api.SignedIn, Summary: "Mute or unmute kinds (mandatory kinds stay on)", In: PrefsInput{}, Out: api.List[Pref]{}, Handler: s.hSavePrefs},
	}
	routes = append(routes, s.channelRoutes()...)
	return append(routes, s.webhookRoutes()...)
}

type listQuery struct {
	Unread bool   `query:"unread"`
	Cursor string `query:"cursor"`
	Limit  int    `query:"limit"`
}

type streamQuery struct {
	After int64 `query:"after"`
}

type countOut struct {
	Count int64 `json:"count"`
}

func (s *Service) hList(c echo.Context) error {
	limit, err := api.Limit(c)
	if err != nil {
		return err
	}
	f := ListFilter{Cursor: c.QueryParam("cursor"), Limit: limit}
	switch c.QueryParam("unread") {
	case "", "0", "false":
	case "1", "true":
		f.Unread = true
	default:
		return apperr.Field("unread", "invalid_format")
	}
	v, err := s.List(c.Request().Context(), api.Actor(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hUnreadCount(c echo.Context) error {
	n, err := s.UnreadCount(c.Request().Context(), api.Actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, countOut{Count: n})
}

func (s *Service) hStream(c echo.Context) error {
	from, ok := ParseStreamStart(c.Request().Header.Get("Last-Event-ID"), c.QueryParam("after"))
	if !ok {
		return apperr.Field("after", "invalid_format")
	}
	return s.Stream(c.Request().Context(), c.Response(), api.Actor(c), from)
}

func (s *Service) hMarkRead(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.MarkRead(c.Request().Context(), api.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hReadAll(c echo.Context) error {
	var in ReadAllInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	if _, err := s.MarkAllRead(c.Request().Context(), api.Actor(c), in); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Service) hPrefs(c echo.Context) error {
	v, err := s.Prefs(c.Request().Context(), api.Actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.List[Pref]{Items: v})
}

func (s *Service) hSavePrefs(c echo.Context) error {
	var in PrefsInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	v, err := s.SavePrefs(c.Request().Context(), api.Actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.List[Pref]{Items: v})
}
