package grpcserver

import (
	"google.golang.org/grpc"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/errs"
)

// WatchConsentEvents relays the domain's watch; the stream chain has
// authenticated the caller and checked the scope, and leaves validation
// to the handler.
func (h *consentHandler) WatchConsentEvents(req *izinv1.WatchConsentEventsRequest, stream grpc.ServerStreamingServer[izinv1.WatchConsentEventsResponse]) error {
	ctx := stream.Context()
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	if err := h.validator.Validate(req); err != nil {
		return err
	}
	if h.watch == nil {
		return errs.Unimplemented("this server does not watch consent events")
	}
	return h.watch.Watch(ctx, p, consent.WatchRequest{AfterSeq: req.GetAfterSequence(), Brand: req.GetBrand(),
		Recipient: req.GetRecipient()}, func(it consent.WatchItem) error {
		return stream.Send(watchItemPB(it))
	})
}

func watchItemPB(it consent.WatchItem) *izinv1.WatchConsentEventsResponse {
	if it.Event != nil {
		return &izinv1.WatchConsentEventsResponse{Item: &izinv1.WatchConsentEventsResponse_Event{Event: eventPB(it.Event)}}
	}
	return &izinv1.WatchConsentEventsResponse{Item: &izinv1.WatchConsentEventsResponse_Heartbeat{
		Heartbeat: &izinv1.WatchHeartbeat{Sequence: it.Seq, Time: ts(it.Time)}}}
}
