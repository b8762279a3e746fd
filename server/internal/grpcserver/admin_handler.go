package grpcserver

import (
	"context"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/iyssync"
	"github.com/izinhq/izin/server/internal/outbox"
	"github.com/izinhq/izin/server/internal/smsconfig"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/tenancy"
	"github.com/izinhq/izin/server/internal/texts"
	"github.com/izinhq/izin/server/internal/webhook"
)

type adminHandler struct {
	izinv1.UnimplementedAdminServiceServer
	tenancy  *tenancy.Service
	messages *outbox.Lister
	iys      *iyssync.Service
	texts    *texts.Service
	sms      *smsconfig.Service
	webhooks *webhook.Service
}

func (h *adminHandler) ListMessages(ctx context.Context, req *izinv1.ListMessagesRequest) (*izinv1.ListMessagesResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	msgs, next, err := h.messages.List(ctx, p.TenantID, req.GetRecipient(), int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &izinv1.ListMessagesResponse{NextPageToken: next}
	for i := range msgs {
		out.Messages = append(out.Messages, messagePB(&msgs[i]))
	}
	return out, nil
}

func (h *adminHandler) CreateBrand(ctx context.Context, req *izinv1.CreateBrandRequest) (*izinv1.CreateBrandResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	in := req.GetBrand()
	b, err := h.tenancy.CreateBrand(ctx, p.TenantID, store.Brand{Code: in.GetCode(), Name: in.GetName(),
		Sender: in.GetSender(), RejectRoute: in.GetRejectRoute(), IsDefault: in.GetIsDefault()})
	if err != nil {
		return nil, err
	}
	return &izinv1.CreateBrandResponse{Brand: brandPB(b)}, nil
}

func (h *adminHandler) ListBrands(ctx context.Context, _ *izinv1.ListBrandsRequest) (*izinv1.ListBrandsResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	bs, err := h.tenancy.ListBrands(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	out := &izinv1.ListBrandsResponse{}
	for i := range bs {
		out.Brands = append(out.Brands, brandPB(&bs[i]))
	}
	return out, nil
}

func (h *adminHandler) CreateSource(ctx context.Context, req *izinv1.CreateSourceRequest) (*izinv1.CreateSourceResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	src, secret, k, err := h.tenancy.CreateSource(ctx, p.TenantID, req.GetName(), store.SourceType(req.GetType()))
	if err != nil {
		return nil, err
	}
	return &izinv1.CreateSourceResponse{Source: sourcePB(src), ApiKey: secret, ApiKeyInfo: apiKeyPB(k)}, nil
}

func (h *adminHandler) ListSources(ctx context.Context, _ *izinv1.ListSourcesRequest) (*izinv1.ListSourcesResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	ss, err := h.tenancy.ListSources(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	out := &izinv1.ListSourcesResponse{}
	for i := range ss {
		out.Sources = append(out.Sources, sourcePB(&ss[i]))
	}
	return out, nil
}

func (h *adminHandler) CreateApiKey(ctx context.Context, req *izinv1.CreateApiKeyRequest) (*izinv1.CreateApiKeyResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	// Scopes are cumulative, so the key gets the highest one asked.
	var scope store.Scope
	for _, s := range req.GetScopes() {
		scope = max(scope, store.Scope(s))
	}
	secret, k, err := h.tenancy.CreateAPIKey(ctx, p.TenantID, req.GetName(), scope, req.GetSourceId())
	if err != nil {
		return nil, err
	}
	return &izinv1.CreateApiKeyResponse{ApiKey: apiKeyPB(k), Secret: secret}, nil
}

func (h *adminHandler) ListApiKeys(ctx context.Context, _ *izinv1.ListApiKeysRequest) (*izinv1.ListApiKeysResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	ks, err := h.tenancy.ListAPIKeys(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	out := &izinv1.ListApiKeysResponse{}
	for i := range ks {
		out.ApiKeys = append(out.ApiKeys, apiKeyPB(&ks[i]))
	}
	return out, nil
}

func (h *adminHandler) RevokeApiKey(ctx context.Context, req *izinv1.RevokeApiKeyRequest) (*izinv1.RevokeApiKeyResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	k, err := h.tenancy.RevokeAPIKey(ctx, p.TenantID, req.GetId())
	if err != nil {
		return nil, err
	}
	return &izinv1.RevokeApiKeyResponse{ApiKey: apiKeyPB(k)}, nil
}

// --- İYS ---

func (h *adminHandler) SetIysConfig(ctx context.Context, req *izinv1.SetIysConfigRequest) (*izinv1.SetIysConfigResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	in := req.GetConfig()
	c, err := h.iys.SetConfig(ctx, p.TenantID, iyssync.ConfigInput{Brand: req.GetBrand(), IYSCode: in.GetIysCode(),
		BrandCode: in.GetBrandCode(), Username: in.GetUsername(), Password: in.GetPassword(), BaseURL: in.GetBaseUrl(),
		Enabled: in.GetEnabled()})
	if err != nil {
		return nil, err
	}
	v := iyssync.View(c, req.GetBrand())
	return &izinv1.SetIysConfigResponse{Config: &izinv1.IysConfig{Brand: v.Brand, IysCode: v.IYSCode, BrandCode: v.BrandCode,
		Username: v.Username, Enabled: v.Enabled, BaseUrl: v.BaseURL, HasPassword: v.HasPassword, UpdateTime: ts(v.UpdateTime)}}, nil
}

func (h *adminHandler) GetIysStatus(ctx context.Context, _ *izinv1.GetIysStatusRequest) (*izinv1.GetIysStatusResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	sts, err := h.iys.Status(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	out := &izinv1.GetIysStatusResponse{}
	for _, s := range sts {
		out.Brands = append(out.Brands, &izinv1.IysBrandStatus{Brand: s.Brand, Enabled: s.Enabled, Pending: s.Pending,
			Submitted: s.Submitted, Accepted: s.Accepted, Refused: s.Refused, Skipped: s.Skipped, OldestPendingConsentTime: tsPtr(s.OldestOpen),
			NearestDeadline: tsPtr(s.NearestDeadline), NearDeadline: s.NearDeadline, Overdue: s.Overdue,
			LastPullTime: tsPtr(s.LastPull), LastError: s.LastError})
	}
	return out, nil
}

func (h *adminHandler) ListIysUploads(ctx context.Context, req *izinv1.ListIysUploadsRequest) (*izinv1.ListIysUploadsResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	ups, next, err := h.iys.ListUploads(ctx, p.TenantID, iyssync.ListUploadsRequest{State: store.IYSUploadState(req.GetState()),
		Brand: req.GetBrand(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()})
	if err != nil {
		return nil, err
	}
	out := &izinv1.ListIysUploadsResponse{NextPageToken: next}
	for i := range ups {
		u := &ups[i]
		out.Uploads = append(out.Uploads, iysUploadPB(u))
	}
	return out, nil
}
