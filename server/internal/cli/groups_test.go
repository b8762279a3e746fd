package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// Every group, today's and any added later, refuses an unknown word.
func TestEveryGroupRefusesUnknownWords(t *testing.T) {
	var groups [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.HasSubCommands() {
			groups = append(groups, path)
		}
		for _, s := range c.Commands() {
			walk(s, append(append([]string{}, path...), s.Name()))
		}
	}
	walk((&root{}).command(), nil)
	if len(groups) < 8 {
		t.Fatalf("found only the groups %v", groups)
	}
	for _, g := range groups {
		var out, errOut bytes.Buffer
		code := Execute(context.Background(), append(g, "frobnicate"), &out, &errOut)
		if code == 0 || !strings.Contains(errOut.String(), `unknown command "frobnicate"`) {
			t.Errorf("izin %s frobnicate: exit %d, stdout %q, stderr %q", strings.Join(g, " "), code, out.String(), errOut.String())
		}
	}
}
