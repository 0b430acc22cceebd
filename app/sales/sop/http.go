package sop

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/auth"
)

// Routes are the pipeline's HTTP routes.
func (s *Service) Routes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Path: "/sop/gates", Perm: auth.PermCustomerRead, Summary: "The registered gate conditions a stage may require (label: sop.gates.<key>)", Out: api.List[GateInfo]{}, Handler: s.hGates},
		{Method: http.MethodGet, Path: "/sop/stages", Perm: auth.PermCustomerRead, Summary: "A store's SOP stages in board order (inactive too) with their gates, entry tasks and customer counts, and the registered gates", Query: storeQuery{}, Out: StageList{}, Handler: s.hStages},
		{Method: http.MethodPost, Path: "/sop/stages", Perm: auth.PermCustomerAssign, Summary: "Add a store's own stage at the end of the board", In: StageInput{}, Out: Stage{}, Status: http.StatusCreated, Handler: s.hCreateStage},
		{Method: http.MethodPost, Path: "/sop/stages/reorder", Perm: auth.PermCustomerAssign, Summary: "Set the board order: every stage id of the store once (409 sop.stages_changed otherwise)", In: ReorderInput{}, Out: StageList{}, Handler: s.hReorder},
		{Method: http.MethodPut, Path: "/sop/stages/:id", Perm: auth.PermCustomerAssign, Summary: "Edit a stage: name, gates, entry tasks, active; version checked (409 sop.stage_changed)", In: StageInput{}, Out: Stage{}, Handler: s.hUpdateStage},
		{Method: http.MethodDelete, Path: "/sop/stages/:id", Perm: auth.PermCustomerAssign, Summary: "Delete a store's own stage no customer stands at (?version=; 409 sop.stage_in_use / sop.system_stage: deactivate it instead)", Query: versionQuery{}, Status: http.StatusNoContent, Handler: s.hDeleteStage},
		{Method: http.MethodGet, Path: "/sop/board", Perm: auth.PermCustomerRead, Summary: "The kanban of a store: columns with count and first cards (filters owner, grade, seriesId, q)", Query: BoardFilter{}, Out: Board{}, Handler: s.hBoard},
		{Method: http.MethodGet, Path: "/sop/board/column", Perm: auth.PermCustomerRead, Summary: "More cards of one column (stageId, cursor)", Query: BoardFilter{}, Out: CardList{}, Handler: s.hColumn},
		{Method: http.MethodGet, Path: "/sop/list", Perm: auth.PermCustomerRead, Summary: "The board as a list: sortable by days in stage, stage, next follow-up, name; keyset paging", Query: BoardFilter{}, Out: CardList{}, Handler: s.hList},
		{Method: http.MethodGet, Path: "/sop/report/cycle", Perm: auth.PermReportRead, Summary: "Cycle time: average and median days in each stage for stays ended in a period", Query: CycleQuery{}, Out: CycleReport{}, Handler: s.hCycle},
		{Method: http.MethodGet, Path: "/sop/customers/:id", Perm: auth.PermCustomerRead, Summary: "A customer's stage, days in stage, gates of the stage, the stages and the stage history", Out: State{}, Handler: s.hState},
		{Method: http.MethodPost, Path: "/sop/customers/:id/move", Perm: auth.PermSalesWrite, Summary: "Move a customer to a stage (version checked: 409 sop.moved_meanwhile; gates unmet: 422 sop.gates_unmet with details.missing; managers may override with a reason)", In: MoveInput{}, Out: State{}, Handler: s.hMove},
	}
}

type storeQuery struct {
	StoreID int64 `query:"storeId"`
}

type versionQuery struct {
	Version int64 `query:"version"`
}

func ok(c echo.Context, status int, v any, err error) error {
	if err != nil {
		return err
	}
	return c.JSON(status, v)
}

func withID(c echo.Context, fn func(id int64) error) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	return fn(id)
}

func (s *Service) hGates(c echo.Context) error {
	if err := auth.Require(api.Actor(c), auth.PermCustomerRead); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.List[GateInfo]{Items: s.Gates()})
}

func (s *Service) hStages(c echo.Context) error {
	store, err := api.QueryInt64(c, "storeId")
	if err != nil {
		return err
	}
	out, err := s.ListStages(c.Request().Context(), api.Actor(c), store)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hCreateStage(c echo.Context) error {
	var in StageInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.CreateStage(c.Request().Context(), api.Actor(c), in)
	return ok(c, http.StatusCreated, out, err)
}

func (s *Service) hReorder(c echo.Context) error {
	var in ReorderInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.ReorderStages(c.Request().Context(), api.Actor(c), in)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hUpdateStage(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in StageInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.UpdateStage(c.Request().Context(), api.Actor(c), id, in)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hDeleteStage(c echo.Context) error {
	return withID(c, func(id int64) error {
		v, err := api.QueryInt64(c, "version")
		if err != nil {
			return err
		}
		if err := s.DeleteStage(c.Request().Context(), api.Actor(c), id, v); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
}

// boardFilter reads the board/list filter from the query string.
func boardFilter(c echo.Context) (BoardFilter, error) {
	f := BoardFilter{Owner: c.QueryParam("owner"), Q: c.QueryParam("q"), Sort: c.QueryParam("sort"), Order: c.QueryParam("order"), Cursor: c.QueryParam("cursor")}
	for _, g := range strings.Split(c.QueryParam("grade"), ",") {
		if g = strings.TrimSpace(g); g != "" {
			f.Grades = append(f.Grades, g)
		}
	}
	var err error
	for name, dst := range map[string]*int64{"storeId": &f.StoreID, "seriesId": &f.SeriesID, "stageId": &f.StageID} {
		if *dst, err = api.QueryInt64(c, name); err != nil {
			return f, err
		}
	}
	if f.Limit, err = api.QueryLimit(c); err != nil {
		return f, err
	}
	return f, nil
}

func (s *Service) hBoard(c echo.Context) error {
	f, err := boardFilter(c)
	if err != nil {
		return err
	}
	out, err := s.Board(c.Request().Context(), api.Actor(c), f)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hColumn(c echo.Context) error {
	f, err := boardFilter(c)
	if err != nil {
		return err
	}
	out, err := s.ColumnPage(c.Request().Context(), api.Actor(c), f)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hList(c echo.Context) error {
	f, err := boardFilter(c)
	if err != nil {
		return err
	}
	out, err := s.List(c.Request().Context(), api.Actor(c), f)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hCycle(c echo.Context) error {
	var in CycleQuery
	var err error
	for name, dst := range map[string]*int64{"storeId": &in.StoreID, "from": &in.From, "to": &in.To} {
		if *dst, err = api.QueryInt64(c, name); err != nil {
			return err
		}
	}
	out, err := s.CycleTime(c.Request().Context(), api.Actor(c), in)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hState(c echo.Context) error {
	return withID(c, func(id int64) error {
		out, err := s.State(c.Request().Context(), api.Actor(c), id)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hMove(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in MoveInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.Move(c.Request().Context(), api.Actor(c), id, in)
		return ok(c, http.StatusOK, out, err)
	})
}
