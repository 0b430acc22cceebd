//go:build !windows

package system

import "golang.org/x/sys/unix"

// freeBytes is the space free for this user on the disk holding dir (0 if unknown).
func freeBytes(dir string) int64 {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0
	}
	return int64(st.Bavail) * int64(st.Bsize)
}
