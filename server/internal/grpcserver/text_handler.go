package grpcserver

import (
	"context"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/texts"
)

// --- consent texts ---

func (h *adminHandler) CreateConsentText(ctx context.Context, req *izinv1.CreateConsentTextRequest) (*izinv1.CreateConsentTextResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if h.texts == nil {
		return nil, errs.Unimplemented("consent texts")
	}
	t, err := h.texts.Create(ctx, p, texts.NewText{Brand: req.GetBrand(), Kind: store.TextKind(req.GetKind()),
		Language: req.GetLanguage(), Title: req.GetTitle(), Body: req.GetBody()})
	if err != nil {
		return nil, err
	}
	return &izinv1.CreateConsentTextResponse{Text: consentTextPB(t)}, nil
}

func (h *adminHandler) ListConsentTexts(ctx context.Context, req *izinv1.ListConsentTextsRequest) (*izinv1.ListConsentTextsResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if h.texts == nil {
		return nil, errs.Unimplemented("consent texts")
	}
	ts, err := h.texts.List(ctx, p, req.GetBrand(), req.GetAllVersions())
	if err != nil {
		return nil, err
	}
	out := &izinv1.ListConsentTextsResponse{Texts: make([]*izinv1.ConsentText, 0, len(ts))}
	for i := range ts {
		out.Texts = append(out.Texts, consentTextPB(&ts[i]))
	}
	return out, nil
}

func (h *adminHandler) GetConsentText(ctx context.Context, req *izinv1.GetConsentTextRequest) (*izinv1.GetConsentTextResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if h.texts == nil {
		return nil, errs.Unimplemented("consent texts")
	}
	t, err := h.texts.Get(ctx, p, req.GetId())
	if err != nil {
		return nil, err
	}
	return &izinv1.GetConsentTextResponse{Text: consentTextPB(t)}, nil
}

// consentTextPB converts a text; the kinds share their numbers with the
// proto enum.
func consentTextPB(t *texts.Text) *izinv1.ConsentText {
	return &izinv1.ConsentText{Id: t.ID, BrandCode: t.BrandCode, Kind: izinv1.ConsentTextKind(t.Kind),
		Language: t.Language, Version: int32(t.Version), Title: t.Title, Body: t.Body, Sha256: t.SHA256,
		CreateTime: ts(t.CreatedAt)}
}
