package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// BuildInfo returns the Info of the running binary (see InfoFrom); linked
// is the version set at link time, "" or "dev" for none.
func BuildInfo(linked string) Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return InfoFrom(nil, linked)
	}
	return InfoFrom(bi, linked)
}

// InfoFrom returns what bi (nil when the binary carries none) says about
// the build. The version is linked when it is set and not "dev"; else the
// main module's version as the Go toolchain recorded it: the tag for
// `go install …@v0.1.0`, a pseudo-version or "(devel)" for a build from a
// checkout; else "dev". The commit and the modified flag come from the
// vcs.revision and vcs.modified settings `go build` stamps in a checkout
// (none under `go install …@version` or with -buildvcs=false).
func InfoFrom(bi *debug.BuildInfo, linked string) Info {
	info := Info{Version: linked}
	if bi == nil {
		if info.Version == "" {
			info.Version = "dev"
		}
		return info
	}
	if (linked == "" || linked == "dev") && bi.Main.Version != "" {
		info.Version = bi.Main.Version
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String renders info as the version command prints it:
// "stockade v0.1.0 (commit 0123456789ab, modified)", the commit cut to 12
// characters as in a Go pseudo-version, and without the parenthesis when
// the commit is unknown.
func (info Info) String() string {
	version := info.Version
	if version == "" {
		version = "dev"
	}
	out := "stockade " + version
	switch {
	case info.Commit != "":
		commit := info.Commit
		if len(commit) > 12 {
			commit = commit[:12]
		}
		out += " (commit " + commit
		if info.Modified {
			out += ", modified"
		}
		out += ")"
	case info.Modified:
		out += " (modified)"
	}
	return out
}

// newVersionCmd prints info in full; the root's --version flag prints the
// bare version, for scripts.
func newVersionCmd(info Info) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and the commit it was built from",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(c.OutOrStdout(), info)
			return err
		},
	}
}
