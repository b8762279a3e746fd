package sms

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestPermanent(t *testing.T) {
	base := errors.New("invalid number")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", base, false},
		{"Permanent", Permanent(base), true},
		{"wrapped Permanent", fmt.Errorf("netgsm: %w", Permanent(base)), true},
		{"wrapped sentinel", fmt.Errorf("invalid number: %w", ErrPermanent), true},
		{"struct literal", &PermanentError{}, true},
	}
	for _, tt := range tests {
		if got := IsPermanent(tt.err); got != tt.want {
			t.Errorf("%s: IsPermanent(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
	err := Permanent(io.ErrUnexpectedEOF)
	if !errors.Is(err, io.ErrUnexpectedEOF) || err.Error() != io.ErrUnexpectedEOF.Error() {
		t.Errorf("Permanent hides the cause: %v", err)
	}
	var pe *PermanentError
	if !errors.As(fmt.Errorf("x: %w", err), &pe) || pe.Err != io.ErrUnexpectedEOF {
		t.Errorf("errors.As PermanentError failed")
	}
	if (&PermanentError{}).Error() != ErrPermanent.Error() {
		t.Error("empty PermanentError message")
	}
}
