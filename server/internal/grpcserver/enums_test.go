package grpcserver

import (
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
)

// errsConsts reads the constants of the named type from the errs package's
// source, name to value ("" for an implicit iota value), so a reason or kind
// added there is tested without being listed here too.
func errsConsts(t *testing.T, typ string) map[string]string {
	t.Helper()
	files, err := filepath.Glob("../errs/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("find the errs sources: %v", err)
	}
	out := map[string]string{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", path, err)
		}
		for _, decl := range f.Decls {
			if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.CONST {
				constsOf(t, gd, typ, out)
			}
		}
	}
	return out
}

// constsOf adds gd's constants of type typ to out. A spec without a type
// and value repeats the one before it, as in an iota block.
func constsOf(t *testing.T, gd *ast.GenDecl, typ string, out map[string]string) {
	t.Helper()
	current := ""
	for _, spec := range gd.Specs {
		vs := spec.(*ast.ValueSpec)
		if vs.Type != nil || len(vs.Values) > 0 {
			current = ""
			if id, ok := vs.Type.(*ast.Ident); ok {
				current = id.Name
			}
		}
		if current != typ {
			continue
		}
		for i, name := range vs.Names {
			v := ""
			if i < len(vs.Values) {
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, _ = strconv.Unquote(lit.Value)
				}
			}
			out[name.Name] = v
		}
	}
}

// Every reason the domain can give is one the API defines, and it is sent
// under the proto's name.
func TestReasonsInProto(t *testing.T) {
	reasons := errsConsts(t, "Reason")
	if len(reasons) < 13 {
		t.Fatalf("found %d errs.Reason constants; the parser missed some", len(reasons))
	}
	values := izinv1.ErrorReason(0).Descriptor().Values()
	for name, r := range reasons {
		t.Run(name, func(t *testing.T) {
			if r == "" {
				t.Fatalf("errs.%s is not a string literal", name)
			}
			want := "ERROR_REASON_" + r
			if values.ByName(protoreflect.Name(want)) == nil {
				t.Fatalf("errs.%s = %q: izin.v1.ErrorReason has no %s", name, r, want)
			}
			st := toStatus(t.Context(), discardLog(), "/test", errs.FailedPrecondition(errs.Reason(r), "x"))
			if got := statusReason(st); got != want {
				t.Errorf("the status carries reason %q, want %q", got, want)
			}
		})
	}
}

// stringEnum is a store enum with names (store/names.go).
type stringEnum interface {
	~int16
	String() string
}

// storeNames is every number of a named store enum that has a name.
func storeNames[T stringEnum]() map[int]string {
	out := map[int]string{}
	for n := math.MinInt16; n <= math.MaxInt16; n++ {
		if s := T(n).String(); !strings.Contains(s, "(") {
			out[n] = s
		}
	}
	return out
}

// A named store enum and its proto enum hold the same values, by number and
// by name (the proto name is the enum's prefix and the store name).
func TestNamedStoreEnumsMatchProto(t *testing.T) {
	for _, tc := range []struct {
		name      string
		store     map[int]string
		proto     protoreflect.EnumDescriptor
		storeOnly map[int]bool // store values the API never carries
	}{
		{"ConsentType", storeNames[store.ConsentType](), izinv1.ConsentType(0).Descriptor(),
			// The API shows KVKK as its own field, never as a consent type.
			map[int]bool{int(store.ConsentKVKK): true}},
		{"ConsentStatus", storeNames[store.ConsentStatus](), izinv1.ConsentStatus(0).Descriptor(), nil},
		{"VerificationStatus", storeNames[store.VerificationStatus](), izinv1.VerificationStatus(0).Descriptor(), nil},
		{"Scope", storeNames[store.Scope](), izinv1.ApiKeyScope(0).Descriptor(), nil},
		{"IYSUploadState", storeNames[store.IYSUploadState](), izinv1.IysUploadState(0).Descriptor(), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := strings.TrimSuffix(string(tc.proto.Values().ByNumber(0).Name()), "UNSPECIFIED")
			for n, name := range tc.store {
				if tc.storeOnly[n] {
					continue
				}
				v := tc.proto.Values().ByNumber(protoreflect.EnumNumber(n))
				if v == nil {
					t.Errorf("store %s %d (%s) has no %s value", tc.name, n, name, tc.proto.FullName())
				} else if got := string(v.Name()); got != prefix+name {
					t.Errorf("store %s %d is %s, the proto's %s", tc.name, n, name, got)
				}
			}
			for n := range tc.storeOnly {
				if tc.proto.Values().ByNumber(protoreflect.EnumNumber(n)) != nil {
					t.Errorf("store-only %s %d is in %s after all", tc.name, n, tc.proto.FullName())
				}
			}
			vals := tc.proto.Values()
			for i := range vals.Len() {
				if v := vals.Get(i); v.Number() != 0 {
					if _, ok := tc.store[int(v.Number())]; !ok {
						t.Errorf("%s has no store %s", v.Name(), tc.name)
					}
				}
			}
		})
	}
}

// pair is a store constant and the proto value meant to carry it.
type pair struct {
	store int
	proto protoreflect.Enum
}

// The store enums without names equal their proto enums by number, and
// every proto value has a store counterpart.
func TestUnnamedStoreEnumsMatchProto(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pairs []pair
	}{
		{"RecipientType", []pair{
			{int(store.Individual), izinv1.RecipientType_RECIPIENT_TYPE_INDIVIDUAL},
			{int(store.Merchant), izinv1.RecipientType_RECIPIENT_TYPE_MERCHANT},
		}},
		{"VerificationMethod", []pair{
			{int(store.MethodNone), izinv1.VerificationMethod_VERIFICATION_METHOD_UNSPECIFIED},
			{int(store.MethodSMSCode), izinv1.VerificationMethod_VERIFICATION_METHOD_SMS_CODE},
			{int(store.MethodLandingPage), izinv1.VerificationMethod_VERIFICATION_METHOD_LANDING_PAGE},
		}},
		{"SourceType", []pair{
			{int(store.SourceEcommerce), izinv1.SourceType_SOURCE_TYPE_ECOMMERCE},
			{int(store.SourceKiosk), izinv1.SourceType_SOURCE_TYPE_KIOSK},
			{int(store.SourceMobileApp), izinv1.SourceType_SOURCE_TYPE_MOBILE_APP},
			{int(store.SourceCRM), izinv1.SourceType_SOURCE_TYPE_CRM},
			{int(store.SourceERP), izinv1.SourceType_SOURCE_TYPE_ERP},
			{int(store.SourceCallCenter), izinv1.SourceType_SOURCE_TYPE_CALL_CENTER},
			{int(store.SourceStore), izinv1.SourceType_SOURCE_TYPE_STORE},
			{int(store.SourceOther), izinv1.SourceType_SOURCE_TYPE_OTHER},
		}},
		{"MessageStatus", []pair{
			{int(store.MessageQueued), izinv1.MessageStatus_MESSAGE_STATUS_QUEUED},
			{int(store.MessageSent), izinv1.MessageStatus_MESSAGE_STATUS_SENT},
			{int(store.MessageFailed), izinv1.MessageStatus_MESSAGE_STATUS_FAILED},
			{int(store.MessageDelivered), izinv1.MessageStatus_MESSAGE_STATUS_DELIVERED},
			{int(store.MessageExpired), izinv1.MessageStatus_MESSAGE_STATUS_EXPIRED},
		}},
		{"WebhookDeliveryState", []pair{
			{int(store.DeliveryPending), izinv1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_PENDING},
			{int(store.DeliveryDelivered), izinv1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_DELIVERED},
			{int(store.DeliveryFailed), izinv1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_FAILED},
			{int(store.DeliveryGone), izinv1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_GONE},
		}},
		{"MessageKind", []pair{
			{int(store.KindActivation), izinv1.MessageKind_MESSAGE_KIND_ACTIVATION},
			{int(store.KindConfirmation), izinv1.MessageKind_MESSAGE_KIND_CONFIRMATION},
			{int(store.KindLandingLink), izinv1.MessageKind_MESSAGE_KIND_LANDING_LINK},
			{int(store.KindTest), izinv1.MessageKind_MESSAGE_KIND_TEST},
			{int(store.KindRejection), izinv1.MessageKind_MESSAGE_KIND_REJECTION},
		}},
		{"InboundAction", []pair{
			{int(store.InboundRejected), izinv1.InboundAction_INBOUND_ACTION_REJECTED},
			{int(store.InboundOptedIn), izinv1.InboundAction_INBOUND_ACTION_OPTED_IN},
			{int(store.InboundUnknown), izinv1.InboundAction_INBOUND_ACTION_UNKNOWN},
			{int(store.InboundIgnored), izinv1.InboundAction_INBOUND_ACTION_IGNORED},
		}},
		{"KVKKStatus", []pair{
			{int(store.KVKKUnspecified), izinv1.KvkkStatus_KVKK_STATUS_UNSPECIFIED},
			{int(store.KVKKGranted), izinv1.KvkkStatus_KVKK_STATUS_GRANTED},
			{int(store.KVKKDeclined), izinv1.KvkkStatus_KVKK_STATUS_DECLINED},
			{int(store.KVKKWithdrawn), izinv1.KvkkStatus_KVKK_STATUS_WITHDRAWN},
		}},
		{"TextKind", []pair{
			{int(store.TextETK), izinv1.ConsentTextKind_CONSENT_TEXT_KIND_ETK},
			{int(store.TextPrivacy), izinv1.ConsentTextKind_CONSENT_TEXT_KIND_PRIVACY_NOTICE},
			{int(store.TextExplicit), izinv1.ConsentTextKind_CONSENT_TEXT_KIND_EXPLICIT_CONSENT},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[protoreflect.EnumNumber]bool{}
			for _, p := range tc.pairs {
				n := p.proto.Number()
				seen[n] = true
				if p.store != int(n) {
					t.Errorf("store %s %d is carried as %s = %d", tc.name, p.store, p.proto, n)
				}
			}
			vals := tc.pairs[0].proto.Descriptor().Values()
			for i := range vals.Len() {
				if v := vals.Get(i); v.Number() != 0 && !seen[v.Number()] {
					t.Errorf("%s has no store %s", v.Name(), tc.name)
				}
			}
		})
	}
}
