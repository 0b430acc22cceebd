// Package sheet reads the spreadsheets users upload and writes the ones they export.
//
// Imports (customer lists kept in Excel, lead sheets from the auto portals
// 汽车之家/懂车帝/易车, factory allocation sheets) arrive as .xlsx or as CSV in
// whatever encoding the exporting program chose; Open recognises the format by
// content, not by name, and Reader hands out rows one at a time so a 200,000-row
// sheet never sits in memory. Cell values come out as the user typed them: a phone
// number stored as a number is 13800138000, never 1.38E+10; a date cell is
// 2024-03-05 whatever its display format.
//
// Exports go through Writer, which streams .xlsx (or CSV with a BOM for Excel) with
// one typed column definition per column: phone, ID and VIN columns are text so
// Excel keeps their digits, money in fen is shown in yuan, times in the store's
// zone. No text cell can become a formula in Excel (CSV/formula injection).
//
// Every error returned to a caller is an *apperr.Error with a code under "sheet.",
// ready for the import page to show.
package sheet
