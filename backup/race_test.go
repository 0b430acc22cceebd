//go:build race

package backup_test

// raceEnabled shrinks test data under -race, which makes modernc SQLite about
// 70 times slower.
const raceEnabled = true
