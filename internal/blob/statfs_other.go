//go:build !unix

package blob

// statfs is not implemented here: Usage reports no free space or capacity.
func statfs(path string) (free, capacity int64, err error) {
	return 0, 0, nil
}
