//go:build !unix

package blob

func isNotDir(err error) bool { return false }
