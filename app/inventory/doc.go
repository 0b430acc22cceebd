// Package inventory holds vehicles and parts (DOMAIN.md I1, I2) and the vehicle
// catalogue they refer to (S3). So far: the catalogue, read by every module that
// names a model (stock, test drives, quotes); editing and sheet import come with
// the sales process.
//
// Invariants: money is integer fen; the catalogue is the group's, not a store's.
package inventory
