package findex

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
)

// Routes is the search route table. Searching needs only a sign-in: each kind's
// read permission and the data scope decide what is found.
func (s *Service) Routes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Path: "/search", Perm: api.SignedIn, Summary: "Search customers (and later vehicles, orders) by name, pinyin, phone digits or tag, within one's data scope",
			Query: SearchQuery{}, Out: Result{}, Handler: s.hSearch},
		{Method: http.MethodPost, Path: "/search/rebuild", Perm: auth.PermSettingsManage, Summary: "Rebuild the search index from the database in the background",
			Out: RebuildStatus{}, Handler: s.hRebuild},
	}
}

// SearchQuery are the query parameters of GET /search.
type SearchQuery struct {
	Q     string `query:"q"`
	Limit int    `query:"limit"` // default 20, at most 50
}

// RebuildStatus answers POST /search/rebuild: started, or already running.
type RebuildStatus struct {
	Status string `json:"status"` // "started" | "running"
}

func (s *Service) hSearch(c echo.Context) error {
	limit, err := api.QueryInt64(c, "limit")
	if err != nil {
		return err
	}
	switch {
	case limit == 0:
		limit = 20
	case limit < 1 || limit > 50:
		return apperr.Field("limit", "out_of_range", "min", 1, "max", 50)
	}
	res, err := s.Search(c.Request().Context(), api.Actor(c), c.QueryParam("q"), int(limit))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func (s *Service) hRebuild(c echo.Context) error {
	a := api.Actor(c)
	st := RebuildStatus{Status: "running"}
	if s.StartRebuild() {
		st.Status = "started"
		s.log.Info("search index rebuild requested", "user_id", a.UserID, "request_id", a.RequestID)
	}
	return c.JSON(http.StatusAccepted, st)
}
