package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// refuseUnknownSubcommands makes every command that only groups others
// (the root, tenant, key, …) fail on a word that is none of its commands.
// Cobra would print the group's help and exit 0, so a typo in a script
// would pass unnoticed. A group given no word still prints its help.
// Called on the root once the tree is built.
func refuseUnknownSubcommands(cmd *cobra.Command) {
	if !cmd.HasParent() {
		// Cobra adds its completion group only when executing; add it now
		// so that it is covered as well.
		cmd.InitDefaultCompletionCmd()
	}
	for _, c := range cmd.Commands() {
		refuseUnknownSubcommands(c)
	}
	if !cmd.HasSubCommands() || cmd.Run != nil || cmd.RunE != nil {
		return
	}
	cmd.Args = unknownSubcommand
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
}

func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	hint := ""
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		hint = " (did you mean " + strings.Join(s, ", ") + "?)"
	}
	return fmt.Errorf("unknown command %q for %q%s; see %s --help", args[0], cmd.CommandPath(), hint, cmd.CommandPath())
}
