package grpcserver

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/store"
)

// serviceFiles are the proto files whose services the server registers.
func serviceFiles() []protoreflect.FileDescriptor {
	return []protoreflect.FileDescriptor{
		izinv1.File_izin_v1_consent_service_proto,
		izinv1.File_izin_v1_verification_service_proto,
		izinv1.File_izin_v1_admin_service_proto,
	}
}

// methodScopes reads the scope each izin method declares with the
// required_scope option, by full method name ("/izin.v1.X/Y"). A method
// without one is left out, and the auth interceptor refuses what is not
// here: a new RPC cannot ship without deciding who may call it.
func methodScopes() map[string]store.Scope {
	out := map[string]store.Scope{}
	for _, f := range serviceFiles() {
		for i := 0; i < f.Services().Len(); i++ {
			svc := f.Services().Get(i)
			for j := 0; j < svc.Methods().Len(); j++ {
				m := svc.Methods().Get(j)
				if sc := requiredScope(m); sc != izinv1.ApiKeyScope_API_KEY_SCOPE_UNSPECIFIED {
					out["/"+string(svc.FullName())+"/"+string(m.Name())] = store.Scope(sc)
				}
			}
		}
	}
	return out
}

func requiredScope(m protoreflect.MethodDescriptor) izinv1.ApiKeyScope {
	opts, ok := m.Options().(*descriptorpb.MethodOptions)
	if !ok || opts == nil {
		return izinv1.ApiKeyScope_API_KEY_SCOPE_UNSPECIFIED
	}
	sc, _ := proto.GetExtension(opts, izinv1.E_RequiredScope).(izinv1.ApiKeyScope)
	return sc
}
