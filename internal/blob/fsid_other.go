//go:build !unix

package blob

// fsID is not implemented here: stores do not say which file system
// they are on.
func fsID(string) string { return "" }
