package grpcserver

import (
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/status"
)

// statusPB turns an item's error into its google.rpc.Status (nil for none).
func statusPB(err error) *spb.Status {
	if err == nil {
		return nil
	}
	return status.Convert(err).Proto()
}
