package cloudapi

// IsLoopback reports whether host[:port] is "localhost" or a literal loopback address (never a
// name that merely starts with "127."): the only hosts plain http may go to, and directly.
func IsLoopback(hostport string) bool { return isLoopback(hostport) }
