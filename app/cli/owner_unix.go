//go:build !windows

package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// fixOwner gives files a console command created as root in the data dir back
// to the data dir's owner. The .deb runs the service as the user dealerdesk, so
// `sudo dealerdesk restore` (or backup, admin, migrate) would otherwise leave a
// database, WAL or key file the service can no longer open.
func fixOwner(dataDir string) {
	if os.Geteuid() != 0 {
		return
	}
	fi, err := os.Stat(dataDir)
	if err != nil {
		return
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return // a data dir owned by root is run by root
	}
	uid, gid := int(st.Uid), int(st.Gid)
	filepath.WalkDir(dataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil {
			if s, ok := info.Sys().(*syscall.Stat_t); ok && (int(s.Uid) != uid || int(s.Gid) != gid) {
				os.Lchown(p, uid, gid)
			}
		}
		return nil
	})
}
