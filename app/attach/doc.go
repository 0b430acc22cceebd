// Package attach is the one mechanism for uploaded files (DOMAIN.md S8 appraisal
// photos, A2 reception and damage photos, O4 knowledge-base attachments, O5
// field-visit photos, scanned licences and documents): every domain stores its
// files here and ties them to one of its records by (entity, entity id).
//
// Invariants:
//   - Access follows the record the file belongs to. A domain registers a Resolver
//     for its entity; reading a file needs the record's read permission, uploading
//     and deleting its write permission, both through auth.Check, so a record
//     outside the actor's data scope — and its files — is reported as not found.
//   - The type is decided from the content, never from the name or the client's
//     Content-Type: JPEG, PNG, GIF, WebP, PDF, XLSX and DOCX only. Anything else (an
//     .exe renamed .jpg, HTML, SVG, macro-enabled Office files) is refused, and files
//     are served with their detected type and X-Content-Type-Options: nosniff, so a
//     browser never runs an upload as a page or script.
//   - Limits are checked before the expensive work: at most MaxSize bytes are read;
//     image dimensions come from the header and more than MaxPixels is refused
//     before any pixel is decoded; an Office zip is refused when its directory
//     declares more than MaxZipUncompressed bytes or a ratio above MaxZipRatio
//     (zip bombs), without inflating anything but [Content_Types].xml.
//   - Bytes are content-addressed and immutable: <data>/files/<2 hex>/<sha256>,
//     written to a temporary file in the same directory, fsynced, then renamed, so a
//     row never points at a partial file. The files are written before the row
//     is committed; a failed transaction can leave an unreferenced file (harmless,
//     never served, and identical content reuses it), never a row without its file.
//   - The row and its audit entry are written in one transaction. Delete is soft
//     (deleted_at); a deleted attachment is not found for every reader, and its bytes
//     stay on disk so the audit trail can be followed up from a backup.
//   - Display names are sanitised (base name, no control or bidi-override
//     characters, at most 200 runes, an extension matching the content) and sent
//     as an RFC 6266 / RFC 5987 Content-Disposition built on the server.
package attach
