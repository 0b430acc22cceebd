//go:build windows

package system

import "golang.org/x/sys/windows"

// freeBytes is the space free for this user on the disk holding dir (0 if unknown).
func freeBytes(dir string) int64 {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return 0
	}
	var free, total, all uint64
	if err := windows.GetDiskFreeSpaceEx(p, &free, &total, &all); err != nil {
		return 0
	}
	return int64(free)
}
