package cloudapi

// StripControls removes what a terminal would act on (ESC sequences, C0 and C1 controls, DEL,
// bidi controls) from text that came from the network, for human output that is not an error
// or a log line (those go through Scrub, which calls it).
func StripControls(s string) string { return stripControls(s) }

// HasControls reports whether s holds anything StripControls would remove or change.
func HasControls(s string) bool { return !clean(s) }
