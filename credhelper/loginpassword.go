package credhelper

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/docker-credential-acr/docker-credential-acr/keychain"
	"io"
	"strconv"

	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
)

// getLoginPassword runs `get-login-password [--username] HOST`: for tools that take a username
// and password instead of running a credential helper (ctr --user, crictl --creds, helm registry
// login --password-stdin), like `aws ecr get-login-password`. stdout carries the temporary password
// and nothing else (or, with --username, the user name alone), so that `$(…)` and
// `--password-stdin` take it as is; the user name goes to stderr. It returns the exit code.
func getLoginPassword(ctx context.Context, k *keychain.Keychain, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("get-login-password", flag.ContinueOnError)
	fs.SetOutput(stderr)
	username := fs.Bool("username", false, "print the registry user name instead of the password")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: docker-credential-acr get-login-password [--username] HOST\n\n"+
			"Prints the temporary Alibaba Cloud ACR password for HOST on stdout (the user name on stderr),\n"+
			"for tools that take a user name and password instead of running a credential helper:\n"+
			"  ctr images pull --user \"$(docker-credential-acr get-login-password --username H):$(docker-credential-acr get-login-password H)\" H/ns/app:1.0\n"+
			"  docker-credential-acr get-login-password H | helm registry login H --username \"$(docker-credential-acr get-login-password --username H)\" --password-stdin\n\n"+
			"Options:")
		fs.PrintDefaults()
	}
	if askedForHelp(args) {
		fs.SetOutput(stdout)
		fs.Usage()
		return 0
	}
	if err := fs.Parse(flagsFirst(args)); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	host := fs.Arg(0)
	l, err := k.LoginOrStored(ctx, host)
	if err != nil {
		var nf *keychain.NotFoundError
		if errors.As(err, &nf) {
			msg := "no Alibaba Cloud ACR login for " + truncate(host)
			if nf.Hint != "" {
				msg = nf.Hint
			}
			fmt.Fprintln(stderr, msg+" (run `docker-credential-acr doctor "+truncate(host)+"` to see why)")
			return 1
		}
		fmt.Fprintln(stderr, err)
		return 1
	}
	if cloudapi.HasControls(l.Username) {
		// The user name came from the network (ACR's answer, a KMS secret) and is printed.
		fmt.Fprintln(stderr, "the registry user name for "+truncate(host)+" holds control characters (shown here without them: "+
			strconv.Quote(cloudapi.StripControls(l.Username))+"); refusing to print it")
		return 1
	}
	if *username {
		fmt.Fprintln(stdout, l.Username)
		return 0
	}
	fmt.Fprintln(stderr, "Username: "+l.Username)
	fmt.Fprintln(stdout, l.Secret)
	return 0
}
