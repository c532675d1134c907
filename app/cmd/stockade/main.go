// Command stockade serves the Stockade API and manages its database. See
// `stockade --help`.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/stockadehq/stockade/app/cli"
)

// version is set at link time: -ldflags "-X main.version=v1.2.3"; left
// "dev", the module version Go recorded is printed (see cli.BuildInfo).
var version = "dev"

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit code: 0, or 1 after
// printing exactly one line "stockade: <error>" to stderr.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	root := cli.NewRoot(cli.BuildInfo(version), environ, stdout, stderr)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, cli.ErrorLine(err))
		return 1
	}
	return 0
}
