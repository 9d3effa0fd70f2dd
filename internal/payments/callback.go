package payments

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"

	"github.com/poise-payments/poise/internal/apperr"
)

// maxCallbacksPerMarketplace bounds the webhooks one marketplace may
// register; each event is delivered to every one of them.
const maxCallbacksPerMarketplace = 100

// CreateCallback registers a URL that is sent every event of the
// marketplace. Each callback gets a signing secret of its own, with which
// its deliveries are signed.
func (s *Service) CreateCallback(ctx context.Context, marketplace, rawURL, method, revision string) (Resource, error) {
	u, err := url.Parse(rawURL)
	if rawURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Resource{}, apperr.New(apperr.Invalid, "url must be an absolute http or https URL")
	}
	method = strings.ToLower(method)
	switch method {
	case "":
		method = "post"
	case "post", "put", "get":
	default:
		return Resource{}, apperr.New(apperr.Invalid, "method must be post, put or get")
	}
	switch revision {
	case "":
		revision = "1.1"
	case "1.0", "1.1":
	default:
		return Resource{}, apperr.New(apperr.Invalid, "revision must be 1.0 or 1.1")
	}
	existing, total, err := s.store.ListResources(ctx, ListQuery{Marketplace: marketplace, Type: "callbacks", Limit: maxCallbacksPerMarketplace})
	if err != nil {
		return Resource{}, err
	}
	if total >= maxCallbacksPerMarketplace {
		return Resource{}, apperr.New(apperr.Conflict, "a marketplace may have at most %d callbacks", maxCallbacksPerMarketplace)
	}
	for _, cb := range existing {
		if Str(cb.Fields["url"]) == rawURL && Str(cb.Fields["method"]) == method {
			return Resource{}, apperr.WithReason(apperr.Conflict, "duplicate-webhook-url", "a callback with this URL and method exists already")
		}
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return Resource{}, err
	}
	v, err := s.Write(ctx, marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		return w.Create(ctx, Resource{Marketplace: marketplace, Type: "callbacks", Fields: map[string]any{
			"url": rawURL, "method": method, "revision": revision,
		}, Links: map[string]string{}, Private: map[string]any{"secret": hex.EncodeToString(secret)}}, "CB")
	})
	if err != nil {
		return Resource{}, err
	}
	return v.(Resource), nil
}

// DeleteCallback stops deliveries to a callback; it is removed from lists.
func (s *Service) DeleteCallback(ctx context.Context, marketplace, id string) error {
	_, err := s.Write(ctx, marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		cb, err := w.Lock(ctx, marketplace, "callbacks", id)
		if err != nil {
			return nil, err
		}
		cb.Hidden = true
		_, err = w.Save(ctx, cb)
		return nil, err
	})
	return err
}
