package iys

// İYS error codes and what they mean, in English.
//
// Source: the error examples of İYS's published OpenAPI document (3.2.0) and
// integration pages. Codes marked (list) come from a third-party copy of
// İYS's error table in which the H prefix was renamed; the numbers and texts
// match the OpenAPI examples wherever both have them. The kind decides
// retrying: transient codes are those İYS's table lists as "send the request
// again"; a code not in this table is classified by its HTTP status.
type cause struct {
	text string
	kind kind
}

var causes = map[string]cause{
	// Request and server.
	"H014": {"the request body is not valid JSON", kindRule},
	"H015": {"unexpected error at İYS; send again", kindTransient},
	"H085": {"the consent request is not valid", kindRule},
	"H091": {"too many consents in one bulk request", kindRule},
	"H092": {"the bulk consent request is not valid", kindRule},
	"H093": {"İYS does not know this request or transaction id", kindNotFound}, // (list)
	"H101": {"İYS could not save the data; send again", kindTransient},
	"H102": {"İYS could not encrypt the data; send again", kindTransient}, // (list)
	"H103": {"İYS could not search; send again", kindTransient},
	"H123": {"İYS is busy; send again later", kindTransient}, // (list)
	"H124": {"too many requests per second; slow down", kindRateLimited},
	"H125": {"at most 1000 consents may be sent in one request", kindRule},     // (list)
	"H179": {"İYS could not compare consent dates; send again", kindTransient}, // (list)
	"H192": {"the request timed out at İYS; send again", kindTransient},        // (list)
	"H412": {"unexpected error at İYS; send again", kindTransient},             // (list)
	"H470": {"unexpected error at İYS; send again", kindTransient},
	"H476": {"unexpected error at İYS; send again", kindTransient},

	// Missing or malformed fields.
	"H110": {"status is missing", kindRule},
	"H111": {"type is missing", kindRule},
	"H112": {"consentDate is missing", kindRule},
	"H113": {"source is missing", kindRule},
	"H114": {"recipient is missing", kindRule},
	"H115": {"status must be ONAY or RET", kindRule},
	"H116": {"recipientType must be BIREYSEL or TACIR", kindRule},
	"H117": {"type must be ARAMA, MESAJ or EPOSTA", kindRule},
	"H118": {"the request has a field İYS does not accept", kindRule},
	"H119": {"source is not one İYS accepts from a company (HS_* values only)", kindRule},
	"H120": {"recipient is not a valid e-mail address", kindRule},
	"H121": {"recipient is not an E.164 phone number (+905XXXXXXXXX)", kindRule},
	"H122": {"recipient is neither an E.164 phone number nor an e-mail address", kindRule}, // (list)
	"H126": {"retailerAccess lists too many retailers", kindRule},
	"H127": {"the recipient list is too long", kindRule},
	"H155": {"consents with source HS_2015 must be dated 2015-05-01 00:00:00", kindRule},
	"H156": {"consentDate is before 1 May 2015", kindRule},
	"H157": {"consentDate is not a valid date", kindRule},
	"H158": {"consentDate must be formatted YYYY-MM-DD HH:mm:ss", kindRule}, // (list)
	"H160": {"a phone number may not be longer than 15 characters", kindRule},
	"H162": {"consentDate is in the future", kindRule},
	"H163": {"retailerAccess may not be an empty list", kindRule},
	"H168": {"the recipient list is missing", kindRule},
	"H169": {"retailerAccess is missing", kindRule},
	"H170": {"recipientType is missing", kindRule},
	"H194": {"the bulk request lists the same recipient, recipientType and type twice", kindRule},
	"H266": {"retailerCode is missing from the request", kindRule},
	"H267": {"retailerCode may not be an empty string", kindRule},
	"H408": {"consents with source HS_KARAR must be RET", kindRule},
	"H462": {"updating a TACIR consent needs consentDate", kindRule},
	"H463": {"updating a TACIR consent needs source", kindRule},
	"H464": {"a MESAJ consent needs a phone number as recipient", kindRule}, // (list)
	"H501": {"reportDate is not a valid date for the daily change file", kindRule},

	// Consent rules.
	"H174": {"the consent already has this status (ONAY after ONAY or RET after RET)", kindRule},
	"H175": {"the first record for a recipient cannot be RET", kindRule},
	"H178": {"consentDate is older than the consent İYS holds; a newer date is required", kindRule},
	"H467": {"the consent is more than 3 business days old and can no longer be uploaded", kindRule},
	"H525": {"the account's consent quota is used up", kindRule},

	// Credentials, permissions, subscription.
	"H351":            {"missing or invalid token", kindAuth},
	"H353":            {"this account may not act for that İYS code, brand or retailer", kindAuth},
	"H180":            {"no retailer with that retailerCode", kindRule},
	"H520":            {"the İYS subscription is paused or expired", kindAuth},
	"H521":            {"the İYS subscription is closed", kindAuth},
	"H524":            {"no İYS subscription for this İYS code", kindAuth},
	"H586":            {"the İYS subscription does not include API use", kindAuth},
	"invalid_request": {"İYS refused the credentials or token request", kindAuth},
	"invalid_grant":   {"İYS refused the credentials or refresh token", kindAuth},
}

// CodeCause returns the English explanation of an İYS code, and whether the
// code is known.
func CodeCause(code string) (string, bool) {
	c, ok := causes[code]
	return c.text, ok
}
