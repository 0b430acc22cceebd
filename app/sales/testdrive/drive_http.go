package testdrive

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/auth"
)

func (s *Service) driveRoutes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Path: "/test-drives", Perm: auth.PermCustomerRead, Summary: "The test-drive calendar of a store over a range (day/week): its cars and the bookings; customers outside the reader's scope come hidden (已预约)", Query: CalendarFilter{}, Out: Calendar{}, Handler: s.hCalendar},
		{Method: http.MethodPost, Path: "/test-drives", Perm: auth.PermSalesWrite, Summary: "Book a test drive (409 testdrive.clash with carId / consultantId field errors when the car or the consultant is taken)", In: BookInput{}, Out: TestDrive{}, Status: http.StatusCreated, Handler: s.hBook},
		{Method: http.MethodGet, Path: "/test-drives/settings", Perm: auth.PermCustomerRead, Summary: "A store's test-drive rules (lengths, no-show grace, reminder, routes) and working hours", Out: StoreSettings{}, Handler: s.hGetSettings},
		{Method: http.MethodPut, Path: "/test-drives/settings", Perm: auth.PermVehicleWrite, Summary: "Change a store's test-drive rules; version checked", In: Settings{}, Out: StoreSettings{}, Handler: s.hSaveSettings},
		{Method: http.MethodGet, Path: "/test-drives/stats", Perm: auth.PermCustomerRead, Summary: "Test drives per consultant in a period: booked, completed, no-shows, cancelled", Query: StatsFilter{}, Out: api.List[ConsultantStats]{}, Handler: s.hStats},
		{Method: http.MethodGet, Path: "/test-drives/:id", Perm: auth.PermCustomerRead, Summary: "A test drive (licence number masked)", Out: TestDrive{}, Handler: s.hGet},
		{Method: http.MethodPut, Path: "/test-drives/:id", Perm: auth.PermSalesWrite, Summary: "Reschedule a booking (times, car, consultant, route, note) with the same overlap checks; version checked", In: RescheduleInput{}, Out: TestDrive{}, Handler: s.hReschedule},
		{Method: http.MethodPost, Path: "/test-drives/:id/check", Perm: auth.PermSalesWrite, Summary: "Record the driving-licence check (number, class, expiry) and the signed agreement", In: CheckInput{}, Out: TestDrive{}, Handler: s.hCheck},
		{Method: http.MethodPost, Path: "/test-drives/:id/start", Perm: auth.PermSalesWrite, Summary: "Start the drive with the mileage out (needs the licence check and agreement)", In: StartInput{}, Out: TestDrive{}, Handler: s.hStart},
		{Method: http.MethodPost, Path: "/test-drives/:id/complete", Perm: auth.PermSalesWrite, Summary: "End the drive: mileage in and the customer's feedback", In: CompleteInput{}, Out: TestDrive{}, Handler: s.hComplete},
		{Method: http.MethodPost, Path: "/test-drives/:id/cancel", Perm: auth.PermSalesWrite, Summary: "Cancel a booking with a reason", In: CancelInput{}, Out: TestDrive{}, Handler: s.hCancel},
		{Method: http.MethodPost, Path: "/test-drives/:id/no-show", Perm: auth.PermSalesWrite, Summary: "Mark a booking the customer did not come to (after its start)", In: VersionInput{}, Out: TestDrive{}, Handler: s.hNoShow},
		{Method: http.MethodPost, Path: "/test-drives/:id/licence/reveal", Perm: auth.PermPIReveal, Summary: "Show the full licence number (audited)", Out: Revealed{}, Handler: s.hReveal},
		{Method: http.MethodGet, Path: "/customers/:id/test-drives", Perm: auth.PermCustomerRead, Summary: "A customer's test drives, newest first", Out: api.List[TestDrive]{}, Handler: s.hForCustomer},
	}
}

func (s *Service) hCalendar(c echo.Context) error {
	var f CalendarFilter
	var err error
	for name, dst := range map[string]*int64{"storeId": &f.StoreID, "from": &f.From, "to": &f.To, "carId": &f.CarID, "consultantId": &f.ConsultantID} {
		if *dst, err = api.QueryInt64(c, name); err != nil {
			return err
		}
	}
	f.Cancelled = c.QueryParam("cancelled") == "1" || c.QueryParam("cancelled") == "true"
	out, err := s.Calendar(c.Request().Context(), api.Actor(c), f)
	return reply(c, http.StatusOK, out, err)
}

func (s *Service) hStats(c echo.Context) error {
	var f StatsFilter
	var err error
	for name, dst := range map[string]*int64{"storeId": &f.StoreID, "from": &f.From, "to": &f.To} {
		if *dst, err = api.QueryInt64(c, name); err != nil {
			return err
		}
	}
	out, err := s.Stats(c.Request().Context(), api.Actor(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.List[ConsultantStats]{Items: out})
}

func (s *Service) hBook(c echo.Context) error {
	var in BookInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.Book(c.Request().Context(), api.Actor(c), in)
	return reply(c, http.StatusCreated, out, err)
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

func (s *Service) hGet(c echo.Context) error {
	return withID(c, func(id int64) error {
		out, err := s.GetDrive(c.Request().Context(), api.Actor(c), id)
		return reply(c, http.StatusOK, out, err)
	})
}

// bindStep binds a body and runs one lifecycle step on the drive of the path.
func bindStep[T any](c echo.Context, fn func(id int64, in T) (TestDrive, error)) error {
	return withID(c, func(id int64) error {
		var in T
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := fn(id, in)
		return reply(c, http.StatusOK, out, err)
	})
}

func (s *Service) hReschedule(c echo.Context) error {
	return bindStep(c, func(id int64, in RescheduleInput) (TestDrive, error) {
		return s.Reschedule(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hCheck(c echo.Context) error {
	return bindStep(c, func(id int64, in CheckInput) (TestDrive, error) {
		return s.Check(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hStart(c echo.Context) error {
	return bindStep(c, func(id int64, in StartInput) (TestDrive, error) {
		return s.Start(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hComplete(c echo.Context) error {
	return bindStep(c, func(id int64, in CompleteInput) (TestDrive, error) {
		return s.Complete(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hCancel(c echo.Context) error {
	return bindStep(c, func(id int64, in CancelInput) (TestDrive, error) {
		return s.Cancel(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hNoShow(c echo.Context) error {
	return bindStep(c, func(id int64, in VersionInput) (TestDrive, error) {
		return s.NoShow(c.Request().Context(), api.Actor(c), id, in)
	})
}

func (s *Service) hReveal(c echo.Context) error {
	return withID(c, func(id int64) error {
		out, err := s.RevealLicence(c.Request().Context(), api.Actor(c), id)
		return reply(c, http.StatusOK, out, err)
	})
}

func (s *Service) hForCustomer(c echo.Context) error {
	return withID(c, func(id int64) error {
		out, err := s.ForCustomer(c.Request().Context(), api.Actor(c), id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, api.List[TestDrive]{Items: out})
	})
}
