package cloudapi

import "github.com/docker-credential-acr/docker-credential-acr/internal/terminal"

// StripControls is terminal.Strip: for network text in human output that is not an error or a
// log line (those go through Scrub, which calls it).
func StripControls(s string) string { return terminal.Strip(s) }

// HasControls is terminal.HasControls.
func HasControls(s string) bool { return terminal.HasControls(s) }
