package iys

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// This file is the one place that knows what İYS's API looks like on the
// wire. Sources: İYS's public integration pages (dev.iys.org.tr, "İzin
// Yönetimi" and "Kimlik Yönetimi" sections) and İYS's published OpenAPI
// document (version 3.2.0). Facts from those are marked FACT; choices made
// where the public material is silent or inconsistent are marked ASSUMPTION
// and are what to check first against the live sandbox.

// Paths, relative to the base URL (https://api.iys.org.tr, sandbox
// https://api.sandbox.iys.org.tr). FACT for all of them. İYS also offers /v2/
// variants of the consent paths whose single add returns the same
// transactionId when an identical request is sent again; this client uses
// the v1 paths named in the integration issue.
const (
	pathToken         = "/oauth2/token"
	pathConsents      = "/sps/%s/brands/%s/consents"
	pathConsentsAsync = "/sps/%s/brands/%s/consents/request"
	pathRequestResult = "/sps/%s/brands/%s/consents/request/%s"
	pathStatus        = "/sps/%s/brands/%s/consents/status"
	pathChanges       = "/sps/%s/brands/%s/consents/changes"
	pathDailyFile     = "/sps/%s/brands/%s/changes/%s/file"
)

func brandPath(format, iysCode, brandCode string, more ...string) string {
	args := []any{url.PathEscape(iysCode), url.PathEscape(brandCode)}
	for _, m := range more {
		args = append(args, url.PathEscape(m))
	}
	return fmt.Sprintf(format, args...)
}

// Token endpoint. FACT: POST /oauth2/token takes grant_type=password with
// username and password, or grant_type=refresh_token with refresh_token; it
// accepts a form body (OAuth2) or JSON. The answer carries access_token,
// refresh_token, expires_in (7200 s), refresh_expires_in (14400 s) and
// token_type ("bearer"; one page spells it tokenType). A refused grant is a
// 400 with {"error": "invalid_request"|"invalid_grant", "error_description"}.
// The endpoint allows about 10 requests an hour from one IP address, which is
// why the token is cached.
type wireToken struct {
	AccessToken      string `json:"access_token"`
	RefreshToken     string `json:"refresh_token"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
	TokenType        string `json:"token_type"`
	TokenTypeAlt     string `json:"tokenType"`
}

type wireOAuthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// A consent. FACT: field names and values; consentDate is
// "YYYY-MM-DD HH:mm:ss" in Turkish time (GMT+3); retailerCode is a number and
// retailerAccess a list of numbers; a request body with any other field is
// refused (H118), so creationDate and transactionId, which answers carry, are
// never sent.
type wireConsent struct {
	Recipient      string  `json:"recipient"`
	RecipientType  string  `json:"recipientType,omitempty"`
	Type           string  `json:"type"`
	Status         string  `json:"status"`
	Source         string  `json:"source,omitempty"`
	ConsentDate    string  `json:"consentDate,omitempty"`
	RetailerCode   int64   `json:"retailerCode,omitempty"`
	RetailerAccess []int64 `json:"retailerAccess,omitempty"`
}

type wireConsentOut struct {
	wireConsent
	CreationDate  string `json:"creationDate,omitempty"`
	TransactionID string `json:"transactionId,omitempty"`
}

// Single add answer. FACT: 200 {"transactionId", "creationDate"}.
type wireAddResult struct {
	TransactionID string `json:"transactionId"`
	CreationDate  string `json:"creationDate"`
}

// Bulk add answer. FACT: 202 {"requestId", "subRequests": [...]}; İYS takes
// at most 1000 consents in one request, and asks that results be queried no
// sooner than 300 s later. The sub-request id is spelt subRequestId in the
// OpenAPI document and subrequestId on the integration pages; only requestId
// is used here.
type wireBulkAnswer struct {
	RequestID string `json:"requestId"`
}

// maxBatchIYS is İYS's documented limit for one bulk request (FACT).
const maxBatchIYS = 1000

// Per-item result of a bulk request. FACT: a JSON array of {index, status,
// subrequestId, transactionId, creationDate, error: {code, message}}, status
// being "success", "failure" or "enqueue".
type wireItemResult struct {
	Index         int            `json:"index"`
	Status        string         `json:"status"`
	SubrequestID  string         `json:"subrequestId"`
	TransactionID string         `json:"transactionId"`
	CreationDate  string         `json:"creationDate"`
	RequestID     string         `json:"requestId"`
	Recipient     string         `json:"recipient"`
	Error         *wireErrorItem `json:"error"`
}

// ASSUMPTION: the per-item "index" is 1-based. The only public example
// numbers three items 1, 2, 3, while validation errors of the bulk request
// itself number items from 0. The client turns it into a 0-based position in
// the submitted slice; change this constant if the sandbox says otherwise.
const resultIndexBase = 1

// Changes feed. FACT: GET .../consents/changes answers
// {"after": cursor, "list": [consents with creationDate and transactionId]},
// ordered by creationDate, covering the last 7 days except the last hour;
// source=HS selects the company's own changes and source=IYS those made by
// citizens at İYS. The query parameters after and limit are named in the
// integration issue.
// ASSUMPTIONS: the cursor is opaque; when a page is empty the answer's after
// is empty or repeats the one sent, so the client keeps the caller's cursor;
// limit 0 means "İYS's default" and is not sent.
type wireChanges struct {
	After string           `json:"after"`
	List  []wireConsentOut `json:"list"`
}

// Daily change file. FACT: GET .../changes/{reportDate}/file answers CSV with
// the columns below, for a day from yesterday back to 7 days ago.
// ASSUMPTIONS: reportDate is YYYY-MM-DD (the error example for a wrong date,
// H501, shows "02-11-2020" refused), the first line is the header, the
// separator is a comma (as in the OpenAPI examples; the integration page
// shows the same columns as a table).
const reportDateLayout = "2006-01-02"

var dailyFileColumns = []string{"creationDate", "transactionId", "recipient", "recipientType", "type", "status", "consentDate", "source"}

// Consent status query. FACT: POST .../consents/status with {recipient,
// recipientType, type} answers the consent with creationDate.
// ASSUMPTION: an unknown recipient is answered with 404; the client returns
// (nil, nil) for it.
type wireStatusQuery struct {
	Recipient     string `json:"recipient"`
	RecipientType string `json:"recipientType"`
	Type          string `json:"type"`
}

// Error body. FACT: {"errors": [{"code": "H175", "message": "...",
// "location": ["consentDate"], "value": ..., "index": 0}]}; location may mix
// strings and numbers (["retailerAccess", 0]); some documented 403 examples
// spell the key "code:" by mistake, which is accepted too; 429 comes with
// H124.
// ASSUMPTION: a 429 may carry a Retry-After header (seconds or an HTTP date);
// without one the client backs off exponentially.
type wireErrorBody struct {
	Errors []wireErrorItem `json:"errors"`
}

type wireErrorItem struct {
	Code     string            `json:"code"`
	CodeAlt  string            `json:"code:"`
	Message  string            `json:"message"`
	Location []json.RawMessage `json:"location"`
	Value    json.RawMessage   `json:"value"`
	Index    *int              `json:"index"`
}

func (w wireErrorItem) detail() ErrorDetail {
	d := ErrorDetail{Code: w.Code, Message: w.Message, Index: -1}
	if d.Code == "" {
		d.Code = w.CodeAlt
	}
	for _, raw := range w.Location {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			d.Location = append(d.Location, s)
			continue
		}
		d.Location = append(d.Location, strings.TrimSpace(string(raw)))
	}
	if len(w.Value) > 0 && string(w.Value) != "null" {
		var s string
		if json.Unmarshal(w.Value, &s) == nil {
			d.Value = s
		} else {
			d.Value = string(w.Value)
		}
	}
	if w.Index != nil {
		d.Index = *w.Index
	}
	return d
}

func formatLimit(limit int) string { return strconv.Itoa(limit) }
