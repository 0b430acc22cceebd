// Package backup makes, checks, rotates and restores the encrypted backups of
// a DealerDesk data directory. It imports nothing from dealerdesk/app: the
// caller passes paths, keys and a clock, and owns scheduling, settings,
// locking across processes, audit and the HTTP/CLI surface.
//
// A backup is an age file (X25519 recipients, or one passphrase; never the
// post-quantum hybrid type, which older age releases cannot read) holding a
// plain tar, gzip (default) or zstd compressed, whose members are
// manifest.json (first), dealerdesk.db and the included directories
// (files/ab/abcdef…). An administrator can therefore recover without
// DealerDesk:
//
//	age -d -i key.txt dealerdesk-20261123T023000Z-scheduled.tar.gz.age | tar xz
//	sqlite3 dealerdesk.db 'PRAGMA integrity_check'
//
// Invariants:
//   - Taking a backup never blocks the app's writer: the snapshot is
//     VACUUM INTO on a read-only connection of its own (a read transaction in
//     WAL mode); TestConcurrent_BackupWhileWriting measures the writer during it.
//   - A backup is checked before it is written (integrity_check,
//     foreign_key_check, per-table counts and schema version go into the
//     manifest) and is written atomically (.part, fsync, rename, fsync dir);
//     the sidecar manifest appears only after the backup is in place.
//   - Nothing unverified is released by Open: every member is checked for
//     path, type, size and SHA-256 against the manifest, the age stream must
//     authenticate to its final chunk, and the database must match the
//     manifest's table set, row counts and schema version — integrity_check
//     alone is not enough, because an interrupted VACUUM INTO leaves a file
//     that opens as an empty database and passes it. Failures are typed
//     (ErrWrongKey, ErrCorrupt, ErrNotBackup, ErrCheckFailed) and leave
//     nothing in the scratch directory.
//   - Apply replaces the live data by renames only (Windows-safe once the
//     database is closed), moves the old data and its -wal/-shm/-journal
//     aside, never overwrites anything, and undoes every rename on failure.
//   - Rotation (Plan) is a pure function of the file names, the clock and the
//     store's time zone: grandfather-father-son for scheduled, manual and cli
//     backups; pre-upgrade and pre-restore snapshots are kept apart.
//   - Sweep removes the leftovers of interrupted runs (.tmp-*, *.part,
//     .restore-*), which can be gigabytes.
//
// Speed is measured by BenchmarkBackup (MB/s, and the writer's p99 latency
// during a backup) and BenchmarkRestore; set DEALERDESK_BENCH_BACKUP_MB for
// the database size.
package backup
