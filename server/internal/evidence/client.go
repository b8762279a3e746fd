package evidence

// Client is the browser that sent a consent-page request, kept as evidence
// of where consent or a rejection was given.
type Client struct {
	IP        string
	UserAgent string
}
