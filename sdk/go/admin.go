package izin

import (
	"context"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
)

// Messages lists the SMS izin sent to recipient (any spelling; empty means
// everyone), newest first: the first page, up to the server's default page
// size. It needs an ADMIN key. Activation codes are shown only by the
// sandbox SMS provider.
func (c *Client) Messages(ctx context.Context, recipient string) ([]*izinv1.Message, error) {
	resp, err := c.admin.ListMessages(ctx, &izinv1.ListMessagesRequest{Recipient: recipient})
	if err != nil {
		return nil, err
	}
	return resp.GetMessages(), nil
}
