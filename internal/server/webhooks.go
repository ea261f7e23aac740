package server

import (
	"net/http"
	"strconv"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/webhook"
	"github.com/labstack/echo/v4"
)

// webhookHandlers serve the webhook endpoints and their delivery logs:
// admins only, since an endpoint receives register events outside
// Charter.
type webhookHandlers struct {
	*kit
	webhooks *webhook.Service
}

// webhookRequest registers an endpoint, as a form or a JSON body sends it.
type webhookRequest struct {
	URL         string   `json:"url" form:"url"`
	Description string   `json:"description" form:"description"`
	Events      []string `json:"events" form:"events"`
	Format      string   `json:"format" form:"format"`
}

type webhooksPage struct {
	Endpoints []webhook.Endpoint
	Events    []webhook.EventType
	Formats   []string
	Input     webhookRequest
	Errors    map[string]string
	Message   string
}

func (h *webhookHandlers) list(c echo.Context, status int, p webhooksPage) error {
	eps, err := h.webhooks.List(c.Request().Context())
	if err != nil {
		return err
	}
	p.Endpoints, p.Events, p.Formats = eps, webhook.EventTypes(), []string{webhook.Standard, webhook.Slack}
	return h.render(c, status, "webhooks", "Webhooks", p)
}

func (h *webhookHandlers) webhooksPage(c echo.Context) error {
	return h.list(c, http.StatusOK, webhooksPage{Input: webhookRequest{Format: webhook.Standard}})
}

// webhookSecretPage shows a signing secret once.
type webhookSecretPage struct {
	Endpoint webhook.Endpoint
	Secret   string
}

func (h *webhookHandlers) createWebhook(c echo.Context) error {
	var req webhookRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	created, err := h.webhooks.Create(c.Request().Context(), actor(c), webhook.Input(req))
	if ok, status, msg, fields := formFailure(err); ok {
		return h.list(c, status, webhooksPage{Input: req, Errors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	return h.render(c, http.StatusCreated, "webhook_secret", "Webhook added", webhookSecretPage{Endpoint: created.Endpoint, Secret: created.Secret})
}

type webhookPage struct {
	Endpoint         *webhook.Endpoint
	Deliveries       []webhook.Delivery
	Events           []webhook.EventType
	PrevURL, NextURL string // the delivery log's pages
}

// deliveriesPageSize is how many deliveries an endpoint's page lists at
// once.
const deliveriesPageSize = 200

func (h *webhookHandlers) webhookPage(c echo.Context) error {
	id, err := pathID(c, "id", webhook.ErrNotFound)
	if err != nil {
		return err
	}
	ep, err := h.webhooks.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	page, err := dashboardPage(c)
	if err != nil {
		return err
	}
	// One more than a page says whether an older page exists.
	ds, err := h.webhooks.Deliveries(c.Request().Context(), id, (page-1)*deliveriesPageSize, deliveriesPageSize+1)
	if err != nil {
		return err
	}
	if len(ds) == 0 && page > 1 {
		return apperr.Field("page", "is past the last page")
	}
	p := webhookPage{Endpoint: ep, Deliveries: ds, Events: webhook.EventTypes()}
	if len(ds) > deliveriesPageSize {
		p.Deliveries, p.NextURL = ds[:deliveriesPageSize], pageURL(c, page+1)
	}
	if page > 1 {
		p.PrevURL = pageURL(c, page-1)
	}
	return h.render(c, http.StatusOK, "webhook", "Webhook "+ep.URL, p)
}

// webhookAction runs one single-button action on the endpoint of the
// path; a refusal (deleted, disabled) comes back in red on its page.
func (h *webhookHandlers) webhookAction(c echo.Context, do func(id int64) (string, error)) error {
	id, err := pathID(c, "id", webhook.ErrNotFound)
	if err != nil {
		return err
	}
	to := "/app/webhooks/" + strconv.FormatInt(id, 10)
	msg, err := do(id)
	if apperr.Is(err, apperr.Conflict) {
		h.flashProblem(c, err)
		return seeOther(c, to)
	} else if err != nil {
		return err
	}
	h.flash(c, msg)
	return seeOther(c, to)
}

func (h *webhookHandlers) enableWebhook(c echo.Context) error {
	return h.webhookAction(c, func(id int64) (string, error) {
		_, err := h.webhooks.SetActive(c.Request().Context(), actor(c), id, true)
		return "Enabled: the endpoint receives its events again.", err
	})
}

func (h *webhookHandlers) disableWebhook(c echo.Context) error {
	return h.webhookAction(c, func(id int64) (string, error) {
		_, err := h.webhooks.SetActive(c.Request().Context(), actor(c), id, false)
		return "Disabled: the endpoint receives nothing until enabled; deliveries waiting were cancelled.", err
	})
}

func (h *webhookHandlers) deleteWebhook(c echo.Context) error {
	return h.webhookAction(c, func(id int64) (string, error) {
		_, err := h.webhooks.Delete(c.Request().Context(), actor(c), id)
		return "Deleted: the endpoint receives nothing more; its delivery log is kept.", err
	})
}

func (h *webhookHandlers) testWebhook(c echo.Context) error {
	return h.webhookAction(c, func(id int64) (string, error) {
		d, err := h.webhooks.SendTest(c.Request().Context(), actor(c), id)
		if err != nil {
			return "", err
		}
		return "Test event " + d.WebhookID + " queued: it appears below once attempted.", nil
	})
}

func (h *webhookHandlers) retryDelivery(c echo.Context) error {
	deliveryID, err := pathID(c, "delivery", webhook.ErrDeliveryNotFound)
	if err != nil {
		return err
	}
	return h.webhookAction(c, func(id int64) (string, error) {
		d, err := h.webhooks.Retry(c.Request().Context(), actor(c), id, deliveryID)
		if err != nil {
			return "", err
		}
		return "Delivery " + d.WebhookID + " will be attempted again shortly.", nil
	})
}

func (h *webhookHandlers) rotateWebhookSecret(c echo.Context) error {
	id, err := pathID(c, "id", webhook.ErrNotFound)
	if err != nil {
		return err
	}
	created, err := h.webhooks.RotateSecret(c.Request().Context(), actor(c), id)
	if apperr.Is(err, apperr.Conflict) {
		h.flashProblem(c, err)
		return seeOther(c, "/app/webhooks/"+strconv.FormatInt(id, 10))
	} else if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "webhook_secret", "New signing secret", webhookSecretPage{Endpoint: created.Endpoint, Secret: created.Secret})
}
