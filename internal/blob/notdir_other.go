//go:build !unix

package blob

import "os"

func isNotDir(err error) bool { return false }

func unlinked(*os.File) bool { return false }
