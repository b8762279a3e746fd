package grpcserver

import (
	"strings"
	"testing"

	"buf.build/go/protovalidate"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/store"
)

// registeredMethods is every method of the server NewGRPC builds, as
// "/package.Service/Method".
func registeredMethods(t *testing.T) map[string]bool {
	t.Helper()
	srv, _, err := NewGRPC(Services{Log: discardLog()})
	if err != nil {
		t.Fatalf("NewGRPC: %v", err)
	}
	out := map[string]bool{}
	for svc, info := range srv.GetServiceInfo() {
		for _, m := range info.Methods {
			out["/"+svc+"/"+m.Name] = true
		}
	}
	return out
}

// Every registered izin method declares a scope (the required_scope option),
// and every scope names a method that exists: the table is the whole
// access policy.
func TestEveryMethodHasAScope(t *testing.T) {
	methods := registeredMethods(t)
	methodScopes := methodScopes()
	for m := range methods {
		if public(m) {
			continue
		}
		need, ok := methodScopes[m]
		if !ok {
			t.Errorf("%s declares no required_scope", m)
			continue
		}
		if need != store.ScopeCheck && need != store.ScopeWrite && need != store.ScopeAdmin {
			t.Errorf("%s needs scope %d, not one a key can hold", m, need)
		}
	}
	for m := range methodScopes {
		if !methods[m] {
			t.Errorf("a scope is declared for %s, which the server does not register", m)
		}
	}
	if !methods["/grpc.health.v1.Health/Check"] {
		t.Errorf("health is not registered; the walk missed services")
	}
}

// A method outside the table is refused before any key is read.
func TestUnknownMethodRefused(t *testing.T) {
	ic := &interceptors{log: discardLog()}
	for _, m := range []string{"/izin.v1.ConsentService/DeleteEverything", "/izin.v2.ConsentService/CheckConsent", ""} {
		_, err := ic.authenticate(t.Context(), m)
		if st := toStatus(t.Context(), ic.log, m, err); st.Code() != codes.PermissionDenied {
			t.Errorf("%q: %v, want PermissionDenied", m, st)
		}
	}
}

// Each method in itemRules is registered and its request holds the item
// message it names.
func TestItemRulesNameARequestField(t *testing.T) {
	methods := registeredMethods(t)
	for m, item := range itemRules {
		if !methods[m] {
			t.Errorf("itemRules has %s, which the server does not register", m)
			continue
		}
		name := protoreflect.FullName(strings.ReplaceAll(strings.TrimPrefix(m, "/"), "/", "."))
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		fields, found := d.(protoreflect.MethodDescriptor).Input().Fields(), false
		for i := range fields.Len() {
			f := fields.Get(i)
			found = found || (f.Message() != nil && f.Message().FullName() == item)
		}
		if !found {
			t.Errorf("%s's request has no %s field", m, item)
		}
	}
}

// For BatchCheckConsents the interceptor keeps the batch's rules and leaves
// the items' to the handler; other methods are validated whole.
func TestValidationOptions(t *testing.T) {
	const batch, stream, check = batchCheckMethod, streamCheckMethod, "/izin.v1.ConsentService/CheckConsent"
	badItem := &izinv1.CheckConsentRequest{Types: []izinv1.ConsentType{99}}
	many := make([]*izinv1.CheckConsentRequest, 1001)
	for i := range many {
		many[i] = badItem
	}
	v, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		method string
		req    proto.Message
		field  string // the violation it must name; "" for valid
	}{
		{"malformed items pass", batch, &izinv1.BatchCheckConsentsRequest{Checks: []*izinv1.CheckConsentRequest{
			{Recipient: "05321234567"}, badItem}}, ""},
		{"empty batch refused", batch, &izinv1.BatchCheckConsentsRequest{}, "checks"},
		{"oversized batch refused", batch, &izinv1.BatchCheckConsentsRequest{Checks: many}, "checks"},
		{"stream message's own rules kept", stream, &izinv1.StreamCheckConsentsRequest{}, "check"},
		{"stream item left to the handler", stream, &izinv1.StreamCheckConsentsRequest{Check: badItem}, ""},
		{"other methods whole", check, badItem, "recipient"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := v.Validate(tc.req, validationOptions(tc.method)...)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			st := toStatus(t.Context(), discardLog(), tc.method, err)
			fields := detailsOf(st).fields
			if st.Code() != codes.InvalidArgument || len(fields) == 0 || fields[0] != tc.field {
				t.Errorf("%v with fields %v, want InvalidArgument naming %q first", st, fields, tc.field)
			}
			for _, f := range fields {
				if strings.HasPrefix(f, "checks[") {
					t.Errorf("the batch was refused for its item %s", f)
				}
			}
		})
	}
}
