package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// flagSet is one command's flags. Every flag can also be set by an
// environment variable, envPrefix plus the flag's name in capitals with '-'
// as '_'. The command line wins over the environment, which wins over the
// default.
type flagSet struct {
	*flag.FlagSet
	name      string
	synopsis  string
	about     string
	envPrefix string
	env       Env
	// maxArgs is how many arguments may follow the flags (a file name).
	maxArgs int
}

// serverEnvPrefix prefixes the variables of the commands that run or
// inspect a deployment, which share their settings (POISE_DATABASE_URL...).
const serverEnvPrefix = "POISE_"

// newFlagSet starts the flags of command name. synopsis follows "poise name"
// in the usage line; about explains the command.
func newFlagSet(env Env, name, synopsis, envPrefix, about string) *flagSet {
	fs := flag.NewFlagSet("poise "+name, flag.ContinueOnError)
	// parse prints usage and errors itself, to stdout or stderr as fits.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, name: name, synopsis: synopsis, about: about, envPrefix: envPrefix, env: env}
}

// envName is the variable that sets flag name.
func (fs *flagSet) envName(name string) string {
	return fs.envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// parse applies environment variables, then args. It returns false and the
// exit code when the command should not run: after --help (0) or on a bad
// flag, value, variable or argument (2, with the reason on stderr).
func (fs *flagSet) parse(args []string) (ok bool, code int) {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		v, set := fs.env.Lookup(fs.envName(f.Name))
		if !set || envErr != nil {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			envErr = fmt.Errorf("%s: invalid value %q for --%s: %v", fs.envName(f.Name), v, f.Name, err)
		}
	})
	err := envErr
	if err == nil {
		err = fs.Parse(args)
	}
	if err == nil && fs.NArg() > fs.maxArgs {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(fs.maxArgs))
	}
	switch {
	case err == nil:
		return true, exitOK
	case errors.Is(err, flag.ErrHelp):
		fs.usage(fs.env.Stdout)
		return false, exitOK
	default:
		return false, fs.fail(err)
	}
}

// fail reports a usage error and returns its exit code.
func (fs *flagSet) fail(err error) int {
	fmt.Fprintf(fs.env.Stderr, "poise %s: %v\nRun 'poise %s --help' for usage.\n", fs.name, err, fs.name)
	return exitUsage
}

func (fs *flagSet) usage(w io.Writer) {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage:\n  %s\n\n%s\n", strings.TrimSpace("poise "+fs.name+" "+fs.synopsis), strings.TrimSpace(fs.about))
	if countFlags(fs.FlagSet) > 0 {
		b.WriteString("\nFlags (each also set by the environment variable shown):\n")
	}
	fs.VisitAll(func(f *flag.Flag) {
		valueName, help := flag.UnquoteUsage(f)
		head := "--" + f.Name
		if valueName != "" {
			head += " " + valueName
		}
		fmt.Fprintf(&b, "  %s\n      %s\n      env %s", head, help, fs.envName(f.Name))
		if f.DefValue != "" {
			fmt.Fprintf(&b, ", default %s", f.DefValue)
		}
		b.WriteString("\n")
	})
	io.WriteString(w, b.String())
}

func countFlags(fs *flag.FlagSet) int {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n
}
