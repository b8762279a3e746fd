package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/evidence"
	"github.com/izinhq/izin/server/internal/linktoken"
	"github.com/izinhq/izin/server/internal/recipient"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/texts"
)

// PageState is where a consent page stands, as the customer sees it.
type PageState int

const (
	// PageOpen: the form can be sent.
	PageOpen PageState = iota + 1
	// PageCodeSent: the form was sent and the activation code is on its
	// way; the customer gives it to the source.
	PageCodeSent
	// PageVerified: the source submitted the code; consent is recorded.
	PageVerified
)

// PageText is one versioned legal text as the page shows it.
type PageText struct {
	ID      string
	Version int
	Title   string
	Body    string
}

// Page is everything the consent page shows. It never carries the code.
type Page struct {
	VerificationID string
	State          PageState
	Company        string // tenant name
	Mersis         string
	BrandName      string
	// SourceName is the channel the customer gives the code to ("" if the
	// verification was started by a key without a source).
	SourceName string
	// MaskedRecipient shows enough of the number to recognise it.
	MaskedRecipient     string
	FirstName, LastName string
	Types               []store.ConsentType
	// Language is the language of the texts below ("tr" or "en"): the one
	// asked for when the brand has texts in it, else Turkish.
	Language                  string
	ETK, Privacy, Explicit    PageText
	ExpireAt                  time.Time // the link stops working
	CodeExpireAt              time.Time // set once the code is sent
	KVKK                      store.KVKKStatus
	PageViewedAt, SubmittedAt *time.Time
}

// PageForm is what the customer sent.
type PageForm struct {
	// Language of the texts the customer was shown; evidence records those.
	Language string
	ETK      bool
	KVKK     bool
	Client   evidence.Client
}

// Languages the consent page is offered in; the first is the fallback.
var pageLanguages = []string{"tr", "en"}

// TextRef is how evidence names a versioned text: kind, id and the hash of
// exactly what was shown.
func TextRef(t *store.ConsentText) string { return texts.Ref(t) }

// landingTexts fixes, at start, the text versions a landing verification
// shows: the current ones of the brand in every page language. Turkish is
// required; the page cannot be shown without it.
func (s *Service) landingTexts(ctx context.Context, tenantID string, b *store.Brand) (string, error) {
	current, err := texts.Current(ctx, s.store, tenantID, b.ID)
	if err != nil {
		return "", err
	}
	if err := texts.Require(current, pageLanguages[0]); err != nil {
		return "", err
	}
	var ids []string
	for _, k := range store.TextKinds {
		for _, lang := range pageLanguages {
			if t, ok := current[k][lang]; ok {
				ids = append(ids, t.ID)
			}
		}
	}
	return strings.Join(ids, ","), nil
}

// pageTexts picks, from a verification's fixed texts, the three in lang, or
// the Turkish ones when lang lacks any of them: a page never mixes
// languages.
func (s *Service) pageTexts(ctx context.Context, v *store.Verification, lang string) (string, map[store.TextKind]*store.ConsentText, error) {
	var ids []string
	if v.LandingTexts != "" {
		ids = strings.Split(v.LandingTexts, ",")
	}
	texts, err := s.store.ConsentTexts(ctx, v.TenantID, ids)
	if err != nil {
		return "", nil, errs.Internal(err, "read consent texts")
	}
	pick := func(lang string) map[store.TextKind]*store.ConsentText {
		out := map[store.TextKind]*store.ConsentText{}
		for i := range texts {
			if texts[i].Language == lang {
				out[texts[i].Kind] = &texts[i]
			}
		}
		if len(out) != len(store.TextKinds) {
			return nil
		}
		return out
	}
	if lang != pageLanguages[0] {
		if m := pick(lang); m != nil {
			return lang, m, nil
		}
	}
	if m := pick(pageLanguages[0]); m != nil {
		return pageLanguages[0], m, nil
	}
	return "", nil, errs.Internal(fmt.Errorf("verification %s: consent texts %q incomplete", v.ID, v.LandingTexts), "read consent texts")
}

// shownTexts are the evidence references of the texts a landing
// verification's customer saw, in the language they sent the page in.
func (s *Service) shownTexts(ctx context.Context, v *store.Verification) ([]string, error) {
	if v.Method != store.MethodLandingPage || v.PageSubmittedAt == nil {
		return nil, nil
	}
	_, texts, err := s.pageTexts(ctx, v, v.PageLanguage)
	if err != nil {
		return nil, err
	}
	refs := make([]string, 0, len(texts))
	for _, k := range store.TextKinds {
		refs = append(refs, TextRef(texts[k]))
	}
	return refs, nil
}

// OpenPage shows the consent page of a link token in language lang ("tr"
// or "en"; anything else means Turkish) and records the first view.
//
// Errors: errs NotFound for an unknown or malformed token;
// FailedPrecondition with ReasonVerificationExpired when the link ran out
// before the page was sent; FailedPrecondition with
// ReasonVerificationClosed (metadata "status") when the verification was
// cancelled or failed.
func (s *Service) OpenPage(ctx context.Context, token, lang string, _ evidence.Client) (*Page, error) {
	now := s.now().UTC().Truncate(evidence.Precision)
	v, err := s.byToken(ctx, token)
	if err != nil {
		return nil, err
	}
	if err := s.pageOpenable(v, now); err != nil {
		return nil, err
	}
	if v.PageViewedAt == nil && v.Status == store.VerificationPending {
		// The first view is evidence (when the customer first saw the
		// texts); later views change nothing.
		err := s.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			lv, err := tx.LockLandingVerification(ctx, linktoken.Hash(token))
			if err != nil {
				return tokenNotFound(err)
			}
			if lv.PageViewedAt != nil {
				v = lv
				return nil
			}
			lv.PageViewedAt, lv.UpdatedAt = &now, now
			v = lv
			return tx.UpdateVerification(ctx, lv)
		})
		if err != nil {
			return nil, errs.Wrap(err, "record page view")
		}
	}
	return s.page(ctx, v, lang)
}

// SubmitPage takes the sent form: it needs the ETK box, records the KVKK
// choice either way, and sends the activation code by SMS. A token submits
// once; a second submit is FailedPrecondition with ReasonVerificationClosed.
// A missing ETK box is errs Invalid with field "etk". Send limits give
// RateLimited.
func (s *Service) SubmitPage(ctx context.Context, token string, f PageForm) (*Page, error) {
	now := s.now().UTC().Truncate(evidence.Precision)
	pre, err := s.byToken(ctx, token)
	if err != nil {
		return nil, err
	}
	if err := s.pageOpenable(pre, now); err != nil {
		return nil, err
	}
	if pre.PageSubmittedAt != nil {
		return nil, pageUsed()
	}
	if !f.ETK {
		return nil, errs.Invalid("etk", "the ETK consent box must be ticked to give consent")
	}
	lang, _, err := s.pageTexts(ctx, pre, f.Language)
	if err != nil {
		return nil, err
	}
	t, err := s.dir.Tenant(ctx, pre.TenantID)
	if err != nil {
		return nil, err
	}
	b, err := s.dir.BrandByID(ctx, pre.TenantID, pre.BrandID)
	if err != nil {
		return nil, err
	}
	code, err := newCode(t.CodeLength)
	if err != nil {
		return nil, errs.Internal(err, "generate code")
	}
	var v *store.Verification
	var expired error
	err = s.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if v, err = tx.LockLandingVerification(ctx, linktoken.Hash(token)); err != nil {
			return tokenNotFound(err)
		}
		// The locked re-read decides: a concurrent submit of the same page
		// finds it sent.
		if err := s.pageOpenable(v, now); err != nil {
			if v.Status == store.VerificationExpired {
				expired = err
				return tx.UpdateVerification(ctx, v)
			}
			return err
		}
		if v.PageSubmittedAt != nil {
			return pageUsed()
		}
		boxes, kvkk := "etk", store.KVKKDeclined
		if f.KVKK {
			boxes, kvkk = "etk,kvkk", store.KVKKGranted
		}
		if v.PageViewedAt == nil {
			v.PageViewedAt = &now // sent without a recorded view (e.g. a replayed form)
		}
		v.PageSubmittedAt, v.PageLanguage, v.TickedBoxes, v.KVKK = &now, lang, boxes, kvkk
		c := f.Client.Clean()
		v.IPAddress, v.UserAgent = c.IP, c.UserAgent
		v.CodeHash, v.Attempts, v.Sends, v.LastSentAt = s.hashCode(v.ID, code), 0, v.Sends+1, now
		v.ExpireAt, v.UpdatedAt = now.Add(time.Duration(t.CodeTTLSeconds)*time.Second), now
		if _, v.TextRef, err = s.msg.QueueActivation(ctx, tx, t, b, v.Recipient, v.ID, code, store.SplitTypes(v.Types)); err != nil {
			return err
		}
		return tx.UpdateVerification(ctx, v)
	})
	if err != nil {
		return nil, errs.Wrap(err, "send consent page")
	}
	if expired != nil {
		return nil, expired
	}
	s.msg.Wake()
	return s.page(ctx, v, lang)
}

func (s *Service) byToken(ctx context.Context, token string) (*store.Verification, error) {
	if !linktoken.Valid(token) {
		return nil, errs.NotFound("no such consent page")
	}
	v, err := s.store.VerificationByLandingToken(ctx, linktoken.Hash(token))
	if err != nil {
		return nil, tokenNotFound(err)
	}
	if v.Method != store.MethodLandingPage {
		return nil, errs.NotFound("no such consent page")
	}
	return v, nil
}

// pageOpenable fails unless the page of v may be shown: the link must not
// have run out before the page was sent, and the verification must not be
// cancelled or failed. Once sent, the page stays viewable (it says the code
// is on its way, or that consent is recorded).
func (s *Service) pageOpenable(v *store.Verification, now time.Time) error {
	switch v.Status {
	case store.VerificationVerified:
		return nil
	case store.VerificationPending:
		if v.PageSubmittedAt != nil {
			return nil
		}
		if !now.Before(v.ExpireAt) {
			v.Status, v.UpdatedAt = store.VerificationExpired, now
			return errs.FailedPrecondition(errs.ReasonVerificationExpired, "the consent page link expired at %s", v.ExpireAt.Format(time.RFC3339))
		}
		return nil
	case store.VerificationExpired:
		if v.PageSubmittedAt != nil {
			return nil
		}
		return errs.FailedPrecondition(errs.ReasonVerificationExpired, "the consent page link expired at %s", v.ExpireAt.Format(time.RFC3339))
	}
	return closed(v)
}

func pageUsed() error {
	return errs.FailedPrecondition(errs.ReasonVerificationClosed, "the consent page was already sent; the code went out by SMS").
		With("status", "PAGE_SUBMITTED")
}

func tokenNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return errs.NotFound("no such consent page")
	}
	return errs.Internal(err, "load consent page")
}

func (s *Service) page(ctx context.Context, v *store.Verification, lang string) (*Page, error) {
	if v.PageSubmittedAt != nil && v.PageLanguage != "" && lang == "" {
		lang = v.PageLanguage
	}
	lang, texts, err := s.pageTexts(ctx, v, lang)
	if err != nil {
		return nil, err
	}
	t, err := s.dir.Tenant(ctx, v.TenantID)
	if err != nil {
		return nil, err
	}
	b, err := s.dir.BrandByID(ctx, v.TenantID, v.BrandID)
	if err != nil {
		return nil, err
	}
	p := &Page{VerificationID: v.ID, State: PageOpen, Company: t.Name, Mersis: t.Mersis, BrandName: b.Name,
		FirstName: v.FirstName, LastName: v.LastName, Types: store.SplitTypes(v.Types), Language: lang,
		ExpireAt: v.ExpireAt, KVKK: v.KVKK, PageViewedAt: v.PageViewedAt, SubmittedAt: v.PageSubmittedAt}
	if r, err := recipient.Parse(v.Recipient); err == nil {
		p.MaskedRecipient = r.Masked()
	}
	if v.SourceID != nil {
		if src, err := s.store.GetSource(ctx, v.TenantID, *v.SourceID); err == nil {
			p.SourceName = src.Name
		}
	}
	pt := func(t *store.ConsentText) PageText {
		return PageText{ID: t.ID, Version: t.Version, Title: t.Title, Body: t.Body}
	}
	p.ETK, p.Privacy, p.Explicit = pt(texts[store.TextETK]), pt(texts[store.TextPrivacy]), pt(texts[store.TextExplicit])
	switch {
	case v.Status == store.VerificationVerified:
		p.State = PageVerified
	case v.PageSubmittedAt != nil:
		p.State, p.CodeExpireAt = PageCodeSent, v.ExpireAt
	}
	return p, nil
}
