package notify

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/auth"
)

// webhookRoutes are the outgoing webhooks' routes. All need settings.manage;
// group-wide webhooks are changed by group scope only.
func (s *Service) webhookRoutes() []api.Route {
	p := auth.PermSettingsManage
	return []api.Route{
		{Method: http.MethodGet, Path: "/webhooks", Perm: p, Summary: "Outgoing webhooks of the stores in scope and the group-wide ones", Query: channelQuery{}, Out: api.List[Webhook]{}, Handler: s.hListWebhooks},
		{Method: http.MethodPost, Path: "/webhooks", Perm: p, Summary: "Add a webhook; the answer shows its signing secret this once", In: WebhookInput{}, Out: WebhookSecret{}, Handler: s.hCreateWebhook},
		{Method: http.MethodGet, Path: "/webhooks/event-types", Perm: p, Summary: "The events a webhook may subscribe to", Out: api.List[EventTypeInfo]{}, Handler: s.hEventTypes},
		{Method: http.MethodGet, Path: "/webhooks/deliveries/:id", Perm: p, Summary: "A webhook delivery with its payload and the receiver's answer", Out: WebhookDeliveryDetail{}, Handler: s.hGetWebhookDelivery},
		{Method: http.MethodPost, Path: "/webhooks/deliveries/:id/redeliver", Perm: p, Summary: "Send a delivery's payload again now", Out: WebhookDeliveryDetail{}, Handler: s.hRedeliver},
		{Method: http.MethodPut, Path: "/webhooks/:id", Perm: p, Summary: "Edit a webhook (empty url keeps the stored one)", In: WebhookInput{}, Out: Webhook{}, Handler: s.hUpdateWebhook},
		{Method: http.MethodDelete, Path: "/webhooks/:id", Perm: p, Summary: "Remove a webhook and its delivery log", Handler: s.hDeleteWebhook},
		{Method: http.MethodPost, Path: "/webhooks/:id/rotate-secret", Perm: p, Summary: "Replace a webhook's signing secret; the answer shows the new one this once", Out: WebhookSecret{}, Handler: s.hRotateSecret},
		{Method: http.MethodPost, Path: "/webhooks/:id/ping", Perm: p, Summary: "Send a webhook a ping event now", Out: PingResult{}, Handler: s.hPing},
		{Method: http.MethodGet, Path: "/webhooks/:id/deliveries", Perm: p, Summary: "A webhook's deliveries, newest first (keyset paging)", Query: webhookDeliveryQuery{}, Out: api.List[WebhookDelivery]{}, Handler: s.hListWebhookDeliveries},
	}
}

type webhookDeliveryQuery struct {
	Status string `query:"status"`
	Cursor string `query:"cursor"`
	Limit  int    `query:"limit"`
}

func (s *Service) hListWebhooks(c echo.Context) error {
	storeID, err := api.QueryInt64(c, "storeId")
	if err != nil {
		return err
	}
	v, err := s.ListWebhooks(c.Request().Context(), api.Actor(c), storeID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.List[Webhook]{Items: v})
}

func (s *Service) hCreateWebhook(c echo.Context) error {
	var in WebhookInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	v, err := s.CreateWebhook(c.Request().Context(), api.Actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, v)
}

func (s *Service) hEventTypes(c echo.Context) error {
	return c.JSON(http.StatusOK, api.List[EventTypeInfo]{Items: EventTypeList()})
}

func (s *Service) hUpdateWebhook(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	var in WebhookInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	v, err := s.UpdateWebhook(c.Request().Context(), api.Actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hDeleteWebhook(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	if err := s.DeleteWebhook(c.Request().Context(), api.Actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Service) hRotateSecret(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.RotateSecret(c.Request().Context(), api.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hPing(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.Ping(c.Request().Context(), api.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hListWebhookDeliveries(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	limit, err := api.Limit(c)
	if err != nil {
		return err
	}
	v, err := s.ListWebhookDeliveries(c.Request().Context(), api.Actor(c), id, c.QueryParam("status"), c.QueryParam("cursor"), limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hGetWebhookDelivery(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.GetWebhookDelivery(c.Request().Context(), api.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Service) hRedeliver(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.Redeliver(c.Request().Context(), api.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}
