package cli

import (
	"context"
	"fmt"
	"runtime/debug"
)

// VersionOf returns the version to report: stamped, when the build set one
// (go build -ldflags "-X main.version=v1.2.3"), else what the Go toolchain
// recorded in the binary: the module version, or the VCS revision of a
// build from a checkout.
func VersionOf(stamped string) string {
	if stamped != "" {
		return stamped
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	version := "devel"
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	// A short revision names a commit unambiguously in any real repository.
	const shortRevisionLen = 12
	if rev := settings["vcs.revision"]; rev != "" {
		version += "+" + rev[:min(len(rev), shortRevisionLen)]
		if settings["vcs.modified"] == "true" {
			version += "-dirty"
		}
	}
	return version
}

func runVersion(_ context.Context, args []string, env Env) int {
	fs := newFlagSet(env, "version", "", serverEnvPrefix, `
Prints the version of this binary and of the Go toolchain that built it.`)
	if ok, code := fs.parse(args); !ok {
		return code
	}
	goVersion := "unknown Go"
	if info, ok := debug.ReadBuildInfo(); ok {
		goVersion = info.GoVersion
	}
	fmt.Fprintf(env.Stdout, "poise %s (%s)\n", env.Version, goVersion)
	return exitOK
}
