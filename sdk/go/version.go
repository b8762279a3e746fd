package izin

// Version is the SDK version; it equals sdk/VERSION (a test checks it) and
// is sent in the user agent as "izin-go/<Version>".
const Version = "0.1.0"
