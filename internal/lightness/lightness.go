// Package lightness measures what a program that imports only package keychain links: its
// non-standard packages (go list -deps) and the modules of its module graph (go list -m all).
// testdata/prog is that program; the test holds the figures to a ceiling.
package lightness
