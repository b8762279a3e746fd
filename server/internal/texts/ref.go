package texts

import "github.com/izinhq/izin/server/internal/store"

// Ref is how evidence names a published text version: its kind, its id and
// the hash of exactly what was shown, "kind/<id>:sha256:<hex>".
func Ref(t *store.ConsentText) string {
	return RefName(t.Kind) + "/" + t.ID + ":sha256:" + t.SHA256
}
