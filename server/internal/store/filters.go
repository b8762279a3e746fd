package store

import "time"

// ConsentTextFilter selects consent texts.
type ConsentTextFilter struct {
	TenantID string
	BrandID  string // optional
	// AllVersions lists every version; otherwise only the newest of each
	// brand, kind and language.
	AllVersions bool
}

// EventFilter selects consent events, newest first.
type EventFilter struct {
	TenantID  string
	BrandID   string // optional
	Recipient string // optional, normalised
	BeforeSeq int64  // optional, for paging: only events with Seq < BeforeSeq
	Limit     int
}

// MessageFilter selects messages, newest first.
type MessageFilter struct {
	TenantID  string
	Recipient string // optional, normalised
	BeforeID  string // optional, for paging (ids are time-ordered)
	Limit     int
}

// SendCount counts messages created since a time, for send limits. Exactly
// one of Recipient, Prefix or neither (the whole tenant) is set.
type SendCount struct {
	TenantID  string
	Recipient string
	Prefix    string
	Since     time.Time
}

// IYSUploadFilter selects İYS uploads of a tenant, oldest consent first
// (nearest deadline first), then by event id.
type IYSUploadFilter struct {
	TenantID string
	BrandID  string         // optional
	State    IYSUploadState // optional; 0 means every state
	// After, for paging: only uploads after this (consent time, event id).
	AfterTime    time.Time
	AfterEventID string
	Limit        int
}

// IYSBrandSummary counts a brand's uploads for the İYS status.
type IYSBrandSummary struct {
	BrandID string
	// Counts per state.
	Pending, Submitted, Accepted, Refused, Skipped int64
	// OldestOpen is the consent time of the oldest upload still on its way
	// (pending or submitted), if any.
	OldestOpen *time.Time
	// Near counts open uploads given at or after OverdueBefore and before
	// NearBefore; Overdue those given before OverdueBefore.
	Near, Overdue int64
}

// IYSSummaryQuery asks for the per-brand upload counts of a tenant. The
// deadline thresholds are consent times: the caller derives them from the
// business-day calendar.
type IYSSummaryQuery struct {
	TenantID      string
	NearBefore    time.Time
	OverdueBefore time.Time
}
