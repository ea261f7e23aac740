package server

import (
	"net/http"
	"time"

	"github.com/charter-registry/charter/internal/webhook"
	"github.com/labstack/echo/v4"
)

type webhookJSON struct {
	ID          int64      `json:"id"`
	URL         string     `json:"url"`
	Description string     `json:"description"`
	Events      []string   `json:"events"`
	Format      string     `json:"format"`
	Active      bool       `json:"active"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	DeletedAt   *time.Time `json:"deleted_at"`
	// Secret is sent once, when the endpoint is made or its secret
	// rotated.
	Secret string `json:"secret,omitempty"`
}

func webhookToJSON(ep *webhook.Endpoint) webhookJSON {
	j := webhookJSON{ID: ep.ID, URL: ep.URL, Description: ep.Description, Events: orEmpty(ep.EventList()), Format: ep.Format,
		Active: ep.Active, CreatedAt: ep.CreatedAt.UTC(), UpdatedAt: ep.UpdatedAt.UTC()}
	if ep.DeletedAt != nil {
		t := ep.DeletedAt.UTC()
		j.DeletedAt = &t
	}
	return j
}

type webhookDeliveryJSON struct {
	ID            int64      `json:"id"`
	WebhookID     string     `json:"webhook_id"`
	EventType     string     `json:"event_type"`
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	LastStatus    int        `json:"last_status"`
	LastError     string     `json:"last_error"`
	LastResponse  string     `json:"last_response"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	DeliveredAt   *time.Time `json:"delivered_at"`
	CreatedAt     time.Time  `json:"created_at"`
	Payload       string     `json:"payload"`
}

func deliveryToJSON(d *webhook.Delivery) webhookDeliveryJSON {
	j := webhookDeliveryJSON{ID: d.ID, WebhookID: d.WebhookID, EventType: d.EventType, State: d.State, Attempts: d.Attempts,
		LastStatus: d.LastStatus, LastError: d.LastError, LastResponse: d.LastResponse, CreatedAt: d.CreatedAt.UTC(), Payload: d.Payload}
	if d.State == webhook.Pending {
		t := d.NextAttemptAt.UTC()
		j.NextAttemptAt = &t
	}
	if d.DeliveredAt != nil {
		t := d.DeliveredAt.UTC()
		j.DeliveredAt = &t
	}
	return j
}

func (h *webhookHandlers) apiListWebhooks(c echo.Context) error {
	eps, err := h.webhooks.List(c.Request().Context())
	if err != nil {
		return err
	}
	resp := listResponse[webhookJSON]{Items: []webhookJSON{}}
	for i := range eps {
		resp.Items = append(resp.Items, webhookToJSON(&eps[i]))
	}
	return c.JSON(http.StatusOK, resp)
}

func (h *webhookHandlers) apiCreateWebhook(c echo.Context) error {
	var req webhookRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	created, err := h.webhooks.Create(c.Request().Context(), actor(c), webhook.Input(req))
	if err != nil {
		return err
	}
	j := webhookToJSON(&created.Endpoint)
	j.Secret = created.Secret
	return c.JSON(http.StatusCreated, j)
}

func (h *webhookHandlers) apiGetWebhook(c echo.Context) error {
	id, err := pathID(c, "id", webhook.ErrNotFound)
	if err != nil {
		return err
	}
	ep, err := h.webhooks.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, webhookToJSON(ep))
}

// apiWebhookChange runs change on the endpoint of the path and answers
// with the endpoint.
func (h *webhookHandlers) apiWebhookChange(c echo.Context, change func(id int64) (*webhook.Endpoint, error)) error {
	id, err := pathID(c, "id", webhook.ErrNotFound)
	if err != nil {
		return err
	}
	ep, err := change(id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, webhookToJSON(ep))
}

func (h *webhookHandlers) apiEnableWebhook(c echo.Context) error {
	return h.apiWebhookChange(c, func(id int64) (*webhook.Endpoint, error) {
		return h.webhooks.SetActive(c.Request().Context(), actor(c), id, true)
	})
}

func (h *webhookHandlers) apiDisableWebhook(c echo.Context) error {
	return h.apiWebhookChange(c, func(id int64) (*webhook.Endpoint, error) {
		return h.webhooks.SetActive(c.Request().Context(), actor(c), id, false)
	})
}

func (h *webhookHandlers) apiDeleteWebhook(c echo.Context) error {
	return h.apiWebhookChange(c, func(id int64) (*webhook.Endpoint, error) {
		return h.webhooks.Delete(c.Request().Context(), actor(c), id)
	})
}

func (h *webhookHandlers) apiRotateWebhookSecret(c echo.Context) error {
	id, err := pathID(c, "id", webhook.ErrNotFound)
	if err != nil {
		return err
	}
	created, err := h.webhooks.RotateSecret(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	j := webhookToJSON(&created.Endpoint)
	j.Secret = created.Secret
	return c.JSON(http.StatusOK, j)
}

func (h *webhookHandlers) apiTestWebhook(c echo.Context) error {
	id, err := pathID(c, "id", webhook.ErrNotFound)
	if err != nil {
		return err
	}
	d, err := h.webhooks.SendTest(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, deliveryToJSON(d))
}

func (h *webhookHandlers) apiListDeliveries(c echo.Context) error {
	id, err := pathID(c, "id", webhook.ErrNotFound)
	if err != nil {
		return err
	}
	if _, err := h.webhooks.Get(c.Request().Context(), id); err != nil {
		return err
	}
	offset, limit, err := pageQuery(c, 200, 1000)
	if err != nil {
		return err
	}
	ds, err := h.webhooks.Deliveries(c.Request().Context(), id, offset, limit+1)
	if err != nil {
		return err
	}
	items := make([]webhookDeliveryJSON, 0, len(ds))
	for i := range ds {
		items = append(items, deliveryToJSON(&ds[i]))
	}
	return c.JSON(http.StatusOK, pageOf(items, offset, limit))
}

func (h *webhookHandlers) apiRetryDelivery(c echo.Context) error {
	id, err := pathID(c, "id", webhook.ErrNotFound)
	if err != nil {
		return err
	}
	deliveryID, err := pathID(c, "delivery", webhook.ErrDeliveryNotFound)
	if err != nil {
		return err
	}
	d, err := h.webhooks.Retry(c.Request().Context(), actor(c), id, deliveryID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, deliveryToJSON(d))
}
