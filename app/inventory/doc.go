// Package inventory holds vehicles and parts (DOMAIN.md I1, I2) and the vehicle
// catalogue they refer to (S3). So far: the catalogue, read by every module that
// names a model (stock, test drives, quotes) and edited by vehicle.write holders
// (brands, series, models with colours and options, price-list import; a model
// in use is deactivated, never deleted), and the vehicle stock (I1): VINs
// validated by app/pii, statuses with their history, reservations that expire,
// sales, days in stock with per-store ageing alerts, factory allocation sheet
// import, Excel export and the global search's "vehicle" kind.
//
// Invariants: money is integer fen, parsed from sheets without floats; the
// catalogue is the group's, not a store's.
// A VIN is unique across the group (UNIQUE index). A car is reserved or sold by
// one conditional UPDATE (… WHERE id = ? AND status = 'in_stock', RowsAffected
// checked), so it can never be reserved or sold twice, also under concurrent
// requests (TestConcurrent_ReserveOneVIN). Every status change writes
// vehicle_event, the audit log and the search outbox in the same transaction.
// Stock has no owner: own/team scopes read their home store's stock. Cost is
// null for actors without cost.read, in lists, details and exports.
package inventory
