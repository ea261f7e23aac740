package server

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/labstack/echo/v4"
)

type formPage struct {
	Values  map[string]string
	Errors  map[string]string
	Message string
	Done    bool
	Regions []string
}

func (h *privacyHandlers) subscribeForm(c echo.Context) error {
	return h.renderPublic(c, http.StatusOK, "trust_subscribe", "Subscribe to sub-processor changes", formPage{})
}

// subscribeRequest is the subscription form.
type subscribeRequest struct {
	Email string `form:"email"`
}

func (h *privacyHandlers) subscribe(c echo.Context) error {
	shareHeaders(c)
	var req subscribeRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	email := strings.TrimSpace(req.Email)
	if err := h.admitPublic(c, formSubscribe, email); err != nil {
		return err
	}
	err := h.privacy.Subscribe(c.Request().Context(), actor(c), email)
	if fields, _, ok := formErrors(err); ok {
		return h.renderPublic(c, http.StatusUnprocessableEntity, "trust_subscribe", "Subscribe to sub-processor changes",
			formPage{Values: map[string]string{"email": email}, Errors: fields})
	} else if err != nil {
		return err
	}
	return h.renderPublic(c, http.StatusOK, "trust_subscribe", "Check your email", formPage{Done: true, Values: map[string]string{"email": email}})
}

type tokenPage struct {
	Token   string
	Done    bool
	Message string
}

func (h *privacyHandlers) confirmSubscriptionPage(c echo.Context) error {
	shareHeaders(c)
	if err := h.privacy.CheckConfirmation(c.Request().Context(), c.Param("token")); err != nil {
		return h.shareLinkError(c, err)
	}
	return h.renderPublic(c, http.StatusOK, "trust_confirm", "Confirm your subscription", tokenPage{Token: c.Param("token")})
}

func (h *privacyHandlers) confirmSubscription(c echo.Context) error {
	shareHeaders(c)
	// A confirmation link is single-use and its address was counted when
	// it was sent: network and form limits only.
	if err := h.admitPublic(c, formSubscribeConfirm, ""); err != nil {
		return err
	}
	if err := h.privacy.Confirm(c.Request().Context(), actor(c), c.Param("token")); err != nil {
		return h.shareLinkError(c, err)
	}
	return h.renderPublic(c, http.StatusOK, "trust_confirm", "Subscription confirmed", tokenPage{Done: true})
}

func (h *privacyHandlers) unsubscribePage(c echo.Context) error {
	shareHeaders(c)
	if err := h.privacy.CheckUnsubscribe(c.Request().Context(), c.Param("token")); err != nil {
		return h.shareLinkError(c, err)
	}
	return h.renderPublic(c, http.StatusOK, "trust_unsubscribe", "Unsubscribe", tokenPage{Token: c.Param("token")})
}

func (h *privacyHandlers) unsubscribe(c echo.Context) error {
	shareHeaders(c)
	if err := h.privacy.Unsubscribe(c.Request().Context(), actor(c), c.Param("token")); err != nil {
		return h.shareLinkError(c, err)
	}
	return h.renderPublic(c, http.StatusOK, "trust_unsubscribe", "Unsubscribed", tokenPage{Done: true})
}

func (h *privacyHandlers) hostingRegions(c echo.Context) ([]string, error) {
	o, err := h.org.Current(c.Request().Context())
	if err != nil || o.ID == 0 {
		return nil, err
	}
	return o.Regions(), nil
}

// trustDPAPage is /trust/dpa: the standard DPA in force with the form that
// signs it, and the request for a custom DPA.
type trustDPAPage struct {
	Current    *privacy.StandardDPAVersion // nil until one is published
	Body       template.HTML
	Regions    []string
	Mechanisms []string
	Modules    []struct{ Code, Label string }
	Sign       formPage // the signing form
	Request    formPage // the custom DPA request
}

// buildDPAPage builds /trust/dpa around the state of its two forms.
func (h *privacyHandlers) buildDPAPage(c echo.Context, sign, request formPage) (trustDPAPage, error) {
	ctx := c.Request().Context()
	p := trustDPAPage{Modules: privacy.SignableSCCModules, Sign: sign, Request: request}
	o, err := h.org.Current(ctx)
	if err != nil {
		return p, err
	}
	if o.ID != 0 {
		p.Regions, p.Mechanisms = o.Regions(), o.Mechanisms()
	}
	p.Request.Regions = p.Regions
	cur, err := h.privacy.CurrentStandardDPA(ctx)
	if apperr.KindOf(err) == apperr.NotFound {
		return p, nil
	} else if err != nil {
		return p, err
	}
	p.Current = cur
	p.Body, err = h.renderMarkdown(cur.Body)
	return p, err
}

func (h *privacyHandlers) renderDPAPage(c echo.Context, status int, title string, sign, request formPage) error {
	p, err := h.buildDPAPage(c, sign, request)
	if err != nil {
		return err
	}
	return h.renderPublic(c, status, "trust_dpa", title, p)
}

func (h *privacyHandlers) dpaRequestForm(c echo.Context) error {
	// Most customers are controllers: module 2 is offered first.
	sign := formPage{Values: map[string]string{"scc_module": "2"}}
	return h.renderDPAPage(c, http.StatusOK, "Data Processing Agreement", sign, formPage{})
}

// dpaAskRequest is the public form asking for a DPA.
type dpaAskRequest struct {
	Company string `form:"company"`
	Email   string `form:"email"`
	Region  string `form:"region"`
}

func (h *privacyHandlers) requestDPA(c echo.Context) error {
	var r dpaAskRequest
	if err := bind(c, &r); err != nil {
		return err
	}
	if err := h.admitPublic(c, formDPARequest, r.Email); err != nil {
		return err
	}
	regions, err := h.hostingRegions(c)
	if err != nil {
		return err
	}
	_, err = h.privacy.RequestDPA(c.Request().Context(), actor(c), privacy.DPARequest(r), regions)
	values := map[string]string{"company": r.Company, "email": r.Email, "region": r.Region}
	if fields, _, ok := formErrors(err); ok {
		return h.renderDPAPage(c, http.StatusUnprocessableEntity, "Request a DPA", formPage{}, formPage{Values: values, Errors: fields})
	} else if err != nil {
		return err
	}
	return h.renderDPAPage(c, http.StatusOK, "DPA requested", formPage{}, formPage{Done: true, Values: values})
}

// dpaSignRequest is the form that signs the standard DPA.
type dpaSignRequest struct {
	Version           string `form:"version"`
	SignerName        string `form:"signer_name"`
	SignerTitle       string `form:"signer_title"`
	Company           string `form:"company"`
	Email             string `form:"email"`
	DataRegion        string `form:"data_region"`
	TransferMechanism string `form:"transfer_mechanism"`
	SCCModule         string `form:"scc_module"`
	Authority         string `form:"authority"` // "yes" when ticked
}

func (r dpaSignRequest) toInput() privacy.SignatureInput {
	return privacy.SignatureInput{Version: r.Version, SignerName: r.SignerName, SignerTitle: r.SignerTitle, Company: r.Company,
		Email: r.Email, DataRegion: r.DataRegion, TransferMechanism: r.TransferMechanism, SCCModule: r.SCCModule,
		Authority: r.Authority == "yes"}
}

func (h *privacyHandlers) signDPA(c echo.Context) error {
	var r dpaSignRequest
	if err := bind(c, &r); err != nil {
		return err
	}
	if err := h.admitPublic(c, formDPASign, r.Email); err != nil {
		return err
	}
	_, err := h.privacy.RequestSignature(c.Request().Context(), actor(c), r.toInput())
	values := map[string]string{"version": r.Version, "signer_name": r.SignerName, "signer_title": r.SignerTitle, "company": r.Company,
		"email": r.Email, "data_region": r.DataRegion, "transfer_mechanism": r.TransferMechanism, "scc_module": r.SCCModule, "authority": r.Authority}
	if ok, status, msg, fields := formFailure(err); ok {
		return h.renderDPAPage(c, status, "Sign the DPA", formPage{Values: values, Errors: fields, Message: msg}, formPage{})
	} else if err != nil {
		return err
	}
	return h.renderDPAPage(c, http.StatusOK, "Check your email", formPage{Done: true, Values: values}, formPage{})
}

// dpaSignConfirmPage is the page of a signature's confirmation link.
type dpaSignConfirmPage struct {
	Token     string
	Pending   *privacy.PendingSignature
	Signature *privacy.DPASignature
	Done      bool
	Error     string
}

func (h *privacyHandlers) signDPAConfirmPage(c echo.Context) error {
	shareHeaders(c)
	p, err := h.privacy.SignatureToConfirm(c.Request().Context(), c.Param("token"))
	if err != nil {
		return h.shareLinkError(c, err)
	}
	return h.renderPublic(c, http.StatusOK, "trust_dpa_confirm", "Confirm your signature", dpaSignConfirmPage{Token: c.Param("token"), Pending: p})
}

func (h *privacyHandlers) signDPAConfirm(c echo.Context) error {
	shareHeaders(c)
	// The link's address was counted when it was sent, and signing emails
	// only that address, once: network and form limits only.
	if err := h.admitPublic(c, formDPASignConfirm, ""); err != nil {
		return err
	}
	ctx := c.Request().Context()
	sig, _, err := h.privacy.ConfirmSignature(ctx, actor(c), c.Param("token"))
	if apperr.KindOf(err) == apperr.Conflict {
		p, perr := h.privacy.SignatureToConfirm(ctx, c.Param("token"))
		if perr != nil {
			return h.shareLinkError(c, perr)
		}
		return h.renderPublic(c, http.StatusConflict, "trust_dpa_confirm", "Already signed", dpaSignConfirmPage{Pending: p, Error: err.Error()})
	} else if err != nil {
		return h.shareLinkError(c, err)
	}
	return h.renderPublic(c, http.StatusOK, "trust_dpa_confirm", "DPA signed", dpaSignConfirmPage{Signature: sig, Done: true})
}

// objectionRequest is a customer's objection form.
type objectionRequest struct {
	Reason string `form:"reason"`
}

type objectionPage struct {
	Token  string
	View   *privacy.ObjectionView
	Reason string
	// Errors and Message say why an objection was refused.
	Errors  map[string]string
	Message string
	Done    bool
}

func (h *privacyHandlers) objectionForm(c echo.Context) error {
	shareHeaders(c)
	v, err := h.privacy.ObjectionPage(c.Request().Context(), c.Param("token"))
	if err != nil {
		return h.shareLinkError(c, err)
	}
	return h.renderPublic(c, http.StatusOK, "trust_objection", "Sub-processor change", objectionPage{Token: c.Param("token"), View: v})
}

func (h *privacyHandlers) object(c echo.Context) error {
	shareHeaders(c)
	// The link's own recipient is the team's customer, not an address the
	// visitor chooses, and the objection emails nobody: network and form
	// limits only.
	if err := h.admitPublic(c, formObjection, ""); err != nil {
		return err
	}
	var req objectionRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	token, reason := c.Param("token"), req.Reason
	v, err := h.privacy.Object(c.Request().Context(), actor(c), token, reason)
	switch apperr.KindOf(err) {
	case apperr.Internal:
		if err != nil {
			return err
		}
		return h.renderPublic(c, http.StatusOK, "trust_objection", "Objection recorded", objectionPage{View: v, Done: true})
	case apperr.Invalid, apperr.Conflict:
		view, verr := h.privacy.ObjectionPage(c.Request().Context(), token)
		if verr != nil {
			return h.shareLinkError(c, verr)
		}
		_, status, msg, fields := formFailure(err)
		return h.renderPublic(c, status, "trust_objection", "Sub-processor change",
			objectionPage{Token: token, View: view, Reason: reason, Errors: fields, Message: msg})
	}
	return h.shareLinkError(c, err)
}
