//go:build windows

package cli

// fixOwner is a no-op on Windows: the service runs as LocalSystem, which can
// open whatever an administrator's console created.
func fixOwner(dataDir string) {}
