package grpcserver

import (
	"context"
	"strings"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/smsconfig"
	"github.com/izinhq/izin/server/internal/store"
)

// smsProviders maps the API's provider enum to the stored names.
var smsProviders = map[izinv1.SmsProvider]string{
	izinv1.SmsProvider_SMS_PROVIDER_SANDBOX: smsconfig.Sandbox,
	izinv1.SmsProvider_SMS_PROVIDER_NETGSM:  smsconfig.Netgsm,
	izinv1.SmsProvider_SMS_PROVIDER_VERIMOR: smsconfig.Verimor,
	izinv1.SmsProvider_SMS_PROVIDER_TWILIO:  smsconfig.Twilio,
}

func smsProviderPB(name string) izinv1.SmsProvider {
	for k, v := range smsProviders {
		if v == name {
			return k
		}
	}
	return izinv1.SmsProvider_SMS_PROVIDER_UNSPECIFIED
}

func callbacksPB(c *smsconfig.Callbacks) *izinv1.SmsCallbacks {
	if c == nil {
		return nil
	}
	return &izinv1.SmsCallbacks{ReportUrl: c.ReportURL, InboundUrl: c.InboundURL}
}

func smsConfigPB(c *store.SMSConfig) *izinv1.SmsConfig {
	out := &izinv1.SmsConfig{Provider: smsProviderPB(c.Provider), BaseUrl: c.BaseURL, Username: c.Username,
		Sender: c.Sender, Enabled: c.Enabled, HasPassword: len(c.PasswordEnc) > 0,
		RejectTypes: consentTypesPB(store.SplitTypes(c.RejectTypes)), OptinKeyword: c.OptinKeyword,
		UpdateTime: ts(c.UpdatedAt)}
	if c.AllowedCountries != "" {
		out.AllowedCountries = strings.Split(c.AllowedCountries, ",")
	}
	return out
}

func (h *adminHandler) SetSmsConfig(ctx context.Context, req *izinv1.SetSmsConfigRequest) (*izinv1.SetSmsConfigResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	in := req.GetConfig()
	c, err := h.sms.Configure(ctx, p.TenantID, smsconfig.Input{Brand: req.GetBrand(), Provider: smsProviders[in.GetProvider()],
		BaseURL: in.GetBaseUrl(), Username: in.GetUsername(), Password: in.GetPassword(), Sender: in.GetSender(),
		Enabled: in.GetEnabled(), RejectTypes: consentTypes(in.GetRejectTypes()), OptinKeyword: in.GetOptinKeyword(),
		AllowedCountries: in.GetAllowedCountries()})
	if err != nil {
		return nil, err
	}
	cb, err := h.sms.CallbacksOf(c)
	if err != nil {
		return nil, err
	}
	return &izinv1.SetSmsConfigResponse{Config: smsConfigPB(c), Callbacks: callbacksPB(&cb)}, nil
}

func (h *adminHandler) GetSmsStatus(ctx context.Context, _ *izinv1.GetSmsStatusRequest) (*izinv1.GetSmsStatusResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	sts, err := h.sms.Status(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	out := &izinv1.GetSmsStatusResponse{}
	for _, s := range sts {
		out.Brands = append(out.Brands, &izinv1.SmsBrandStatus{Brand: s.Brand, Provider: smsProviderPB(s.Provider),
			Enabled: s.Enabled, LastSuccessTime: tsPtr(s.LastSuccessAt), LastError: s.LastError,
			LastErrorTime: tsPtr(s.LastErrorAt), Queued: s.Queued, OldestQueuedTime: tsPtr(s.OldestQueued),
			Callbacks: callbacksPB(s.Callbacks)})
	}
	return out, nil
}

func (h *adminHandler) SendTestSms(ctx context.Context, req *izinv1.SendTestSmsRequest) (*izinv1.SendTestSmsResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	id, err := h.sms.SendTest(ctx, p.TenantID, req.GetBrand(), req.GetRecipient())
	if err != nil {
		return nil, err
	}
	return &izinv1.SendTestSmsResponse{MessageId: id}, nil
}

func (h *adminHandler) ListInboundMessages(ctx context.Context, req *izinv1.ListInboundMessagesRequest) (*izinv1.ListInboundMessagesResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	msgs, next, err := h.sms.ListInbound(ctx, p.TenantID, req.GetBrand(), store.InboundAction(req.GetAction()),
		int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &izinv1.ListInboundMessagesResponse{NextPageToken: next}
	codes := map[string]string{}
	for i := range msgs {
		m := &msgs[i]
		code, ok := codes[m.BrandID]
		if !ok {
			if b, err := h.tenancy.BrandByID(ctx, p.TenantID, m.BrandID); err == nil {
				code = b.Code
			}
			codes[m.BrandID] = code
		}
		out.Messages = append(out.Messages, &izinv1.InboundMessage{Id: m.ID, Brand: code, Provider: smsProviderPB(m.Provider),
			ProviderMessageId: m.ProviderMessageID, Sender: m.Sender, Body: m.Body, Keyword: m.Keyword,
			Action: izinv1.InboundAction(m.Action), EventIds: splitComma(m.EventIDs), Detail: m.Detail,
			ReceiveTime: ts(m.ReceivedAt)})
	}
	return out, nil
}
