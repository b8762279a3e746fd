package grpcserver

import (
	"context"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/verify"
)

type verificationHandler struct {
	izinv1.UnimplementedVerificationServiceServer
	svc *verify.Service
}

func (h *verificationHandler) StartVerification(ctx context.Context, req *izinv1.StartVerificationRequest) (*izinv1.StartVerificationResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	v, err := h.svc.Start(ctx, p, verify.StartRequest{
		Recipient: req.GetRecipient(), RecipientType: store.RecipientType(req.GetRecipientType()),
		Types: consentTypes(req.GetTypes()), Method: store.VerificationMethod(req.GetMethod()), Brand: req.GetBrand(),
		FirstName: req.GetCustomer().GetFirstName(), LastName: req.GetCustomer().GetLastName(),
		OperatorID: req.GetOperatorId(), IdempotencyKey: req.GetIdempotencyKey(),
	})
	if err != nil {
		return nil, err
	}
	return &izinv1.StartVerificationResponse{Verification: verificationPB(v)}, nil
}

func (h *verificationHandler) GetVerification(ctx context.Context, req *izinv1.GetVerificationRequest) (*izinv1.GetVerificationResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	v, err := h.svc.Get(ctx, p, req.GetId())
	if err != nil {
		return nil, err
	}
	return &izinv1.GetVerificationResponse{Verification: verificationPB(v)}, nil
}

func (h *verificationHandler) SubmitCode(ctx context.Context, req *izinv1.SubmitCodeRequest) (*izinv1.SubmitCodeResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := h.svc.Submit(ctx, p, req.GetId(), req.GetCode())
	if err != nil {
		return nil, err
	}
	return &izinv1.SubmitCodeResponse{Verification: verificationPB(res.View), Results: resultsPB(res.Results),
		Events: eventsPB(res.Events), Kvkk: kvkkPB(res.KVKK)}, nil
}

func (h *verificationHandler) ResendCode(ctx context.Context, req *izinv1.ResendCodeRequest) (*izinv1.ResendCodeResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	v, err := h.svc.Resend(ctx, p, req.GetId())
	if err != nil {
		return nil, err
	}
	return &izinv1.ResendCodeResponse{Verification: verificationPB(v)}, nil
}

func (h *verificationHandler) CancelVerification(ctx context.Context, req *izinv1.CancelVerificationRequest) (*izinv1.CancelVerificationResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	v, err := h.svc.Cancel(ctx, p, req.GetId())
	if err != nil {
		return nil, err
	}
	return &izinv1.CancelVerificationResponse{Verification: verificationPB(v)}, nil
}
