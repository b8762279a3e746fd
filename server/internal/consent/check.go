package consent

import (
	"context"

	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
)

// CheckRequest asks for a recipient's consent state.
type CheckRequest struct {
	Recipient     string
	RecipientType store.RecipientType
	Types         []store.ConsentType
	Brand         string
}

// CheckResponse is the answer to a check.
type CheckResponse struct {
	Recipient     string
	RecipientType store.RecipientType
	Brand         string
	Results       []Result
	KVKK          KVKKState
}

// Check answers, per type, GRANTED, REJECTED or NONE: one indexed query.
// On any store error it returns the error; it never guesses.
func (s *Service) Check(ctx context.Context, p auth.Principal, req CheckRequest) (*CheckResponse, error) {
	r, err := parseRecipient(req.Recipient)
	if err != nil {
		return nil, err
	}
	rtype := RecipientType(req.RecipientType)
	types := req.Types
	if len(types) == 0 {
		types = store.AllConsentTypes
	}
	b, err := s.dir.Brand(ctx, p.TenantID, req.Brand)
	if err != nil {
		return nil, err
	}
	states, err := s.store.ConsentStates(ctx, p.TenantID, b.ID, r.Value, rtype)
	if err != nil {
		return nil, errs.Internal(err, "read consent state")
	}
	return &CheckResponse{Recipient: r.Value, RecipientType: rtype, Brand: b.Code,
		Results: results(types, states, rtype), KVKK: kvkkOf(states)}, nil
}

func results(types []store.ConsentType, states []store.ConsentState, rtype store.RecipientType) []Result {
	out := make([]Result, 0, len(types))
	kvkk := kvkkOf(states).Status
	for _, t := range types {
		res := Result{Type: t, Status: store.StatusNone}
		for i := range states {
			if st := &states[i]; st.Type == t {
				ct := st.ConsentTime
				res = Result{Type: t, Status: st.Status, ConsentTime: &ct, SourceID: st.SourceID,
					IYSSource: st.IYSSource, EventID: st.EventID}
			}
		}
		res.KVKK = kvkk
		// TACIR recipients may be messaged until they reject; BIREYSEL
		// recipients only with ONAY.
		res.Allowed = res.Status == store.StatusGranted ||
			(rtype == store.Merchant && res.Status == store.StatusNone)
		out = append(out, res)
	}
	return out
}
