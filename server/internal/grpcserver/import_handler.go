package grpcserver

import (
	"errors"
	"io"
	"strings"

	"buf.build/go/protovalidate"
	"google.golang.org/grpc"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/importer"
	"github.com/izinhq/izin/server/internal/store"
)

// maxRowsPerMessage is ImportConsentsRequest.rows' max_items.
const maxRowsPerMessage = 10000

// ImportConsents reads the client's stream into the importer. The brand
// and name come from the first message. Each row is validated by itself:
// a violation refuses that row, with the field, and the stream goes on.
func (h *consentHandler) ImportConsents(stream grpc.ClientStreamingServer[izinv1.ImportConsentsRequest, izinv1.ImportConsentsResponse]) error {
	ctx := stream.Context()
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	if h.importer == nil {
		return errs.Unimplemented("this server does not import consents")
	}
	first, err := stream.Recv()
	ended := errors.Is(err, io.EOF)
	switch {
	case ended:
		first = &izinv1.ImportConsentsRequest{} // nothing sent: an empty import
	case err != nil:
		return err
	}
	// The brand and name apply to every row, so a bad one refuses the
	// stream rather than each row.
	if err := h.validator.Validate(&izinv1.ImportConsentsRequest{Brand: first.GetBrand(), Name: first.GetName(), IysMode: first.GetIysMode()}); err != nil {
		return err
	}
	rows := func(yield func(importer.Row, error) bool) {
		var n int64 // rows so far: the line of a row sent without one
		for msg := first; ; {
			tooMany := len(msg.GetRows()) > maxRowsPerMessage
			for _, r := range msg.GetRows() {
				n++
				if !yield(h.importRow(r, n, tooMany), nil) {
					return
				}
			}
			if ended {
				return
			}
			var err error
			if msg, err = stream.Recv(); err != nil {
				if !errors.Is(err, io.EOF) {
					yield(importer.Row{}, err)
				}
				return
			}
		}
	}
	params := importer.Params{Brand: first.GetBrand(), Name: first.GetName()}
	if first.GetIysMode() == izinv1.ImportIysMode_IMPORT_IYS_MODE_ALREADY_REGISTERED {
		params.IYS = importer.AlreadyRegistered
	}
	rep, err := h.importer.Import(ctx, p, params, rows)
	if err != nil {
		return err
	}
	return stream.SendAndClose(importResponsePB(rep))
}

// importRow converts a row, or refuses it with its first violation.
func (h *consentHandler) importRow(r *izinv1.ImportRow, n int64, tooMany bool) importer.Row {
	line := r.GetLine()
	if line == 0 {
		line = n
	}
	row := importer.Row{Line: line}
	if tooMany {
		row.Refused = &importer.RowError{Field: "rows",
			Message: "a message carries at most 10000 rows; send the others in further messages"}
		return row
	}
	if err := h.validator.Validate(r); err != nil {
		row.Refused = violation(err)
		return row
	}
	row.Recipient = r.GetRecipient()
	row.RecipientType = store.RecipientType(r.GetRecipientType())
	row.Type = store.ConsentType(r.GetType())
	row.Status = store.ConsentStatus(r.GetStatus())
	row.IYSSource = r.GetIysSource()
	row.ConsentTime = timePtr(r.GetConsentTime())
	row.EvidenceReference = r.GetEvidenceReference()
	row.RetailerCode = r.GetRetailerCode()
	return row
}

// violation reports a row's validation error: the first violated field,
// with every violation's message.
func violation(err error) *importer.RowError {
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) || len(verr.Violations) == 0 {
		return &importer.RowError{Message: err.Error()}
	}
	re := &importer.RowError{Field: protovalidate.FieldPathString(verr.Violations[0].Proto.GetField())}
	msgs := make([]string, len(verr.Violations))
	for i, v := range verr.Violations {
		msgs[i] = protovalidate.FieldPathString(v.Proto.GetField()) + ": " + v.Proto.GetMessage()
	}
	re.Message = strings.Join(msgs, "; ")
	return re
}

func importResponsePB(r *importer.Report) *izinv1.ImportConsentsResponse {
	out := &izinv1.ImportConsentsResponse{ImportId: r.ImportID, Rows: r.Rows, Accepted: r.Accepted,
		Unchanged: r.Unchanged, Refused: r.Refused, Errors: make([]*izinv1.ImportRowError, len(r.Errors)),
		QueuedForIys: r.QueuedForIYS, AlreadyRegistered: r.AlreadyRegistered, OutsideWindow: r.OutsideWindow}
	for i, e := range r.Errors {
		out.Errors[i] = &izinv1.ImportRowError{Line: e.Line, Field: e.Field, Reason: e.Reason, Message: e.Message}
	}
	return out
}
