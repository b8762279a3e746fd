package izin

import (
	"context"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
)

// StartSMSVerification sends recipient (a mobile number) an activation SMS
// with a code, asking consent for the given types (e.g. SMS and Call). The
// customer gives the code to you; pass it to SubmitCode with the returned
// verification's Id. Without an idempotency key this call is not retried;
// to set one (and the brand, operator or customer), call
// Verification().StartVerification.
func (c *Client) StartSMSVerification(ctx context.Context, recipient string, types ...izinv1.ConsentType) (*izinv1.Verification, error) {
	return c.startVerification(ctx, recipient, izinv1.VerificationMethod_VERIFICATION_METHOD_SMS_CODE, types)
}

// StartLandingPageVerification sends recipient an SMS with a link to a
// consent page (also in the verification's LandingUrl, e.g. for a QR code).
// When the customer sends the page, izin texts them the activation code;
// pass it to SubmitCode. SubmitCode before that fails with
// FAILED_PRECONDITION, reason ERROR_REASON_PAGE_NOT_SUBMITTED.
func (c *Client) StartLandingPageVerification(ctx context.Context, recipient string, types ...izinv1.ConsentType) (*izinv1.Verification, error) {
	return c.startVerification(ctx, recipient, izinv1.VerificationMethod_VERIFICATION_METHOD_LANDING_PAGE, types)
}

func (c *Client) startVerification(ctx context.Context, recipient string, method izinv1.VerificationMethod, types []izinv1.ConsentType) (*izinv1.Verification, error) {
	resp, err := c.verification.StartVerification(ctx, &izinv1.StartVerificationRequest{Recipient: recipient, Types: types, Method: method})
	if err != nil {
		return nil, err
	}
	return resp.GetVerification(), nil
}

// SubmitCode checks the code the customer gave for verification id. On
// success the verification is VERIFIED and the consent recorded (the
// response has the new consent state). A wrong code fails with
// INVALID_ARGUMENT, reason ERROR_REASON_INVALID_CODE (see IsInvalidCode)
// and Metadata["attempts_left"]. SubmitCode is never retried: a retried
// wrong code would use up an attempt.
func (c *Client) SubmitCode(ctx context.Context, id, code string) (*izinv1.SubmitCodeResponse, error) {
	return c.verification.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: id, Code: code})
}

// GetVerification returns verification id.
func (c *Client) GetVerification(ctx context.Context, id string) (*izinv1.Verification, error) {
	resp, err := c.verification.GetVerification(ctx, &izinv1.GetVerificationRequest{Id: id})
	if err != nil {
		return nil, err
	}
	return resp.GetVerification(), nil
}
