package grpcserver

import (
	"context"
	"errors"
	"io"

	"buf.build/go/protovalidate"
	"google.golang.org/grpc"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/importer"
	"github.com/izinhq/izin/server/internal/store"
)

type consentHandler struct {
	izinv1.UnimplementedConsentServiceServer
	svc       *consent.Service
	watch     *consent.Watcher
	importer  *importer.Service
	validator protovalidate.Validator
	ic        *interceptors
}

func checkRequest(r *izinv1.CheckConsentRequest) consent.CheckRequest {
	return consent.CheckRequest{Recipient: r.GetRecipient(), RecipientType: store.RecipientType(r.GetRecipientType()),
		Types: consentTypes(r.GetTypes()), Brand: r.GetBrand()}
}

func checkResponsePB(r *consent.CheckResponse) *izinv1.CheckConsentResponse {
	return &izinv1.CheckConsentResponse{Recipient: r.Recipient, RecipientType: izinv1.RecipientType(r.RecipientType),
		Brand: r.Brand, Results: resultsPB(r.Results), Kvkk: kvkkPB(r.KVKK)}
}

func (h *consentHandler) CheckConsent(ctx context.Context, req *izinv1.CheckConsentRequest) (*izinv1.CheckConsentResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := h.svc.Check(ctx, p, checkRequest(req))
	if err != nil {
		return nil, err
	}
	return checkResponsePB(res), nil
}

// checkOne answers one check of a batch or stream, turning its failure
// into the item's own status.
func (h *consentHandler) checkOne(ctx context.Context, p auth.Principal, req *izinv1.CheckConsentRequest, method string) (*izinv1.CheckConsentResponse, error) {
	if err := h.validator.Validate(req); err != nil {
		return nil, toStatus(ctx, h.ic.log, method, err).Err()
	}
	res, err := h.svc.Check(ctx, p, checkRequest(req))
	if err != nil {
		return nil, toStatus(ctx, h.ic.log, method, err).Err()
	}
	return checkResponsePB(res), nil
}

func (h *consentHandler) BatchCheckConsents(ctx context.Context, req *izinv1.BatchCheckConsentsRequest) (*izinv1.BatchCheckConsentsResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	out := &izinv1.BatchCheckConsentsResponse{Items: make([]*izinv1.CheckConsentItem, len(req.GetChecks()))}
	for i, c := range req.GetChecks() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res, err := h.checkOne(ctx, p, c, batchCheckMethod)
		out.Items[i] = &izinv1.CheckConsentItem{Result: res, Error: statusPB(err)}
	}
	return out, nil
}

func (h *consentHandler) StreamCheckConsents(stream grpc.BidiStreamingServer[izinv1.StreamCheckConsentsRequest, izinv1.StreamCheckConsentsResponse]) error {
	ctx := stream.Context()
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		resp := &izinv1.StreamCheckConsentsResponse{CorrelationId: req.GetCorrelationId()}
		// The message's own rules here, the check's in checkOne.
		if err := h.validator.Validate(req, validationOptions(streamCheckMethod)...); err != nil {
			resp.Error = statusPB(toStatus(ctx, h.ic.log, streamCheckMethod, err).Err())
		} else {
			res, err := h.checkOne(ctx, p, req.GetCheck(), streamCheckMethod)
			resp.Result, resp.Error = res, statusPB(err)
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

func (h *consentHandler) RecordConsent(ctx context.Context, req *izinv1.RecordConsentRequest) (*izinv1.RecordConsentResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := h.svc.Record(ctx, p, consent.ChangeRequest{
		Recipient: req.GetRecipient(), RecipientType: store.RecipientType(req.GetRecipientType()),
		Types: consentTypes(req.GetTypes()), Brand: req.GetBrand(), ConsentTime: timePtr(req.GetConsentTime()),
		IYSSource: req.GetIysSource(), OperatorID: req.GetOperatorId(), Reference: req.GetReference(),
		IdempotencyKey: req.GetIdempotencyKey(), SendConfirmation: req.GetSendConfirmation(),
		KVKK: store.KVKKStatus(req.GetKvkk()), KVKKTextID: req.GetKvkkTextId(),
	})
	if err != nil {
		return nil, err
	}
	return &izinv1.RecordConsentResponse{Events: eventsPB(res.Events), Results: resultsPB(res.Results), Recipient: res.Recipient,
		Kvkk: kvkkPB(res.KVKK)}, nil
}

func (h *consentHandler) RejectConsent(ctx context.Context, req *izinv1.RejectConsentRequest) (*izinv1.RejectConsentResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := h.svc.Reject(ctx, p, consent.ChangeRequest{
		Recipient: req.GetRecipient(), RecipientType: store.RecipientType(req.GetRecipientType()),
		Types: consentTypes(req.GetTypes()), Brand: req.GetBrand(), ConsentTime: timePtr(req.GetConsentTime()),
		IYSSource: req.GetIysSource(), OperatorID: req.GetOperatorId(), Reference: req.GetReference(),
		WithdrawKVKK: req.GetWithdrawKvkk(),
	})
	if err != nil {
		return nil, err
	}
	return &izinv1.RejectConsentResponse{Events: eventsPB(res.Events), Results: resultsPB(res.Results), Recipient: res.Recipient,
		Kvkk: kvkkPB(res.KVKK)}, nil
}

func (h *consentHandler) ListConsentEvents(ctx context.Context, req *izinv1.ListConsentEventsRequest) (*izinv1.ListConsentEventsResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	evs, next, err := h.svc.ListEvents(ctx, p, consent.ListRequest{Recipient: req.GetRecipient(), Brand: req.GetBrand(),
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()})
	if err != nil {
		return nil, err
	}
	return &izinv1.ListConsentEventsResponse{Events: eventsPB(evs), NextPageToken: next}, nil
}
