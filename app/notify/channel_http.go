package notify

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/auth"
)

// channelRoutes are the delivery channels' routes: a store's chat robots and
// e-mail, and their delivery log. All need settings.manage on the store.
func (s *Service) channelRoutes() []api.Route {
	p := auth.PermSettingsManage
	return []api.Route{
		{Method: http.MethodGet, Path: "/notify/channels", Perm: p, Summary: "Delivery channels (chat robots, e-mail) of the stores in scope", Query: channelQuery{}, Out: api.List[Channel]{}, Handler: s.hListChannels},
		{Method: http.MethodPost, Path: "/notify/channels", Perm: p, Summary: "Add a delivery channel to a store", In: ChannelInput{}, Out: Channel{}, Handler: s.hCreateChannel},
		{Method: http.MethodPost, Path: "/notify/channels/test", Perm: p, Summary: "Send a test message with settings not saved yet", In: ChannelTestInput{}, Out: TestResult{}, Handler: s.hTestChannelConfig, Status: http.StatusOK},
		{Method: http.MethodPut, Path: "/notify/channels/:id", Perm: p, Summary: "Edit a delivery channel (empty secret or password keeps the stored one)", In: ChannelInput{}, Out: Channel{}, Handler: s.hUpdateChannel},
		{Method: http.MethodDelete, Path: "/notify/channels/:id", Perm: p, Summary: "Remove a delivery channel and its log", Handler: s.hDeleteChannel},
		{Method: http.MethodPost, Path: "/notify/channels/:id/test", Perm: p, Summary: "Send a test message through a channel now", Out: TestResult{}, Handler: s.hTestChannel},
		{Method: http.MethodGet, Path: "/notify/deliveries", Perm: p, Summary: "The channels' delivery log, newest first (keyset paging)", Query: deliveryQuery{}, Out: api.List[Delivery]{}, Handler: s.hListDeliveries},
		{Method: http.MethodPost, Path: "/notify/deliveries/:id/retry", Perm: p, Summary: "Send a queued or failed message again now", Out: Delivery{}, Handler: s.hRetryDelivery},
	}
}

type channelQuery struct {
	StoreID int64 `query:"storeId"`
}

type deliveryQuery struct {
	ChannelID int64  `query:"channelId"`
	Status    string `query:"status"`
	Cursor    string `query:"cursor"`
	Limit     int    `query:"limit"`
}

func (s *Service) hListChannels(c echo.Context) error {
	storeID, err := api.QueryInt64(c, "storeId")
	if err != nil {
		return err
	}
	v, err := s.ListChannels(c.Request().Context(), api.Actor(c), storeID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.List[Channel]{Items: v})
}

func (s *Service) hCreateChannel(c echo.Context) error {
	var in ChannelInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	v, err := s.CreateChannel(c.Request().Context(), api.Actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, v)
}

func (s *Service) hUpdateChannel(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	var in ChannelInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	v, err := s.UpdateChannel(c.Request().Context(), api.Actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hDeleteChannel(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	if err := s.DeleteChannel(c.Request().Context(), api.Actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Service) hTestChannel(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.TestChannel(c.Request().Context(), api.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hTestChannelConfig(c echo.Context) error {
	var in ChannelTestInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	v, err := s.TestChannelConfig(c.Request().Context(), api.Actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hListDeliveries(c echo.Context) error {
	limit, err := api.Limit(c)
	if err != nil {
		return err
	}
	channelID, err := api.QueryInt64(c, "channelId")
	if err != nil {
		return err
	}
	f := DeliveryFilter{ChannelID: channelID, Status: c.QueryParam("status"), Cursor: c.QueryParam("cursor"), Limit: limit}
	v, err := s.ListDeliveries(c.Request().Context(), api.Actor(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hRetryDelivery(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.RetryDelivery(c.Request().Context(), api.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}
