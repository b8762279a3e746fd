package evidence

import (
	"crypto/sha256"
	"encoding/hex"
)

// TextRef names a text by its hash ("activation_sms:sha256:…"), so that
// evidence proves which words were sent or received without copying them
// into every event.
func TextRef(kind, text string) string {
	sum := sha256.Sum256([]byte(text))
	return kind + ":sha256:" + hex.EncodeToString(sum[:])
}
