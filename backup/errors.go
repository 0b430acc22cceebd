package backup

import (
	"context"
	"errors"
	"fmt"

	"filippo.io/age"
)

// The error kinds of this package. Every error returned by Open, Verify,
// CheckDB and Create that is about the backup itself (rather than, say, a full
// disk) wraps exactly one of them, so callers classify with errors.Is; the
// message of the wrapping error adds the detail in English, ready for the CLI.
var (
	// ErrWrongKey means none of the identities opens the file: a wrong
	// passphrase, the wrong key file, or a passphrase given for a file made for
	// a key (and the reverse). A damaged recipient stanza in the header cannot
	// be told apart from a wrong key, so it also ends here.
	ErrWrongKey = errors.New("backup: the key does not open this backup (wrong passphrase or identity)")
	// ErrCorrupt means the file is damaged: truncated, a flipped byte, not an
	// age file, or an archive whose members disagree with its manifest.
	ErrCorrupt = errors.New("backup: the backup file is damaged or incomplete")
	// ErrNotBackup means the file decrypts but is not a DealerDesk backup (no
	// manifest first, another application, or an unknown format version).
	ErrNotBackup = errors.New("backup: the file is not a DealerDesk backup")
	// ErrCheckFailed means a database failed CheckDB (or the snapshot taken by
	// Create failed its checks); the wrapping error names the first mismatch.
	ErrCheckFailed = errors.New("backup: the database check failed")
	// ErrBusy means another backup of the same database is running in this process.
	ErrBusy = errors.New("backup: another backup is already running")
)

// kindError wraps a detail under one of the error kinds:
// "backup: the backup file is damaged or incomplete: member files/ab/…: size 3, manifest says 4".
func kindError(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %w", kind, fmt.Errorf(format, args...))
}

// classifyDecrypt maps an error of age.Decrypt to an error kind.
func classifyDecrypt(err error) error {
	var noMatch *age.NoIdentityMatchError
	if errors.As(err, &noMatch) || errors.Is(err, age.ErrIncorrectIdentity) {
		return fmt.Errorf("%w: %w", ErrWrongKey, err)
	}
	// Everything else age reports before releasing plaintext is about the file:
	// an unparsable header, a bad header MAC, a missing nonce, an excessive
	// scrypt work factor.
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}

// ctxErr returns the context's error, wrapped, if it is done; callers check it
// before classifying a failure, so a cancelled restore is not reported as a
// damaged file.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}
