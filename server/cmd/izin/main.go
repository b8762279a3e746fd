// Command izin is the consent server and its operator tools.
package main

import (
	"context"
	"os"

	"github.com/izinhq/izin/server/internal/cli"
)

func main() {
	os.Exit(cli.Execute(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
