// Package credhelper speaks the protocols: the binary's command table (commands.go: which stream
// carries errors, which commands need the config, exit codes), the docker credential-helper
// protocol and the kubelet image credential provider protocol, and doctor. It gets logins from
// the keychain package like any other embedder.
package credhelper
