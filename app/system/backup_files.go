package system

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// writeFileAtomic writes data to path through a temporary file in the same
// directory, synced before the rename, so a crash leaves the old or the new file.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".part"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// checkWritableDir reports whether dir exists and takes a file: a USB disk that
// is unplugged or a NAS share that is not mounted fails here, before a backup.
func checkWritableDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("folder %s is not reachable: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	probe := filepath.Join(dir, ".dealerdesk-write-test.part")
	if err := os.WriteFile(probe, []byte("ok"), 0o600); err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, err)
	}
	return os.Remove(probe)
}

// copyBackup copies a finished backup (and its manifest) into dir: a temporary
// name, synced, renamed, then read back and hashed, so a copy that the USB disk or
// the share mangled is caught now and not on the day it is needed.
func copyBackup(src, dir, wantSHA string) error {
	if err := checkWritableDir(dir); err != nil {
		return err
	}
	name := filepath.Base(src)
	if err := copyFile(src, filepath.Join(dir, name)); err != nil {
		return err
	}
	got, err := fileSHA256(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	if wantSHA != "" && got != wantSHA {
		os.Remove(filepath.Join(dir, name))
		return errors.New("the copy reads back different from the backup (checksum mismatch); the folder's disk may be failing")
	}
	if _, err := os.Stat(src + ".json"); err == nil {
		if err := copyFile(src+".json", filepath.Join(dir, name+".json")); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".part"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("copy to %s: %w", filepath.Dir(dst), err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(tmp)
		return fmt.Errorf("copy to %s: %w", filepath.Dir(dst), err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(tmp)
		return fmt.Errorf("copy to %s: %w", filepath.Dir(dst), err)
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dst)
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
