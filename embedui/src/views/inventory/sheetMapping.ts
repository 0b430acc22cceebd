// The column mapping of a sheet import (allocation sheets, price lists): which column feeds which
// field, the first non-empty sample of a column, and what stops the import (a required field
// without a column, two fields on one column).
import { computed, type ComputedRef, type Ref } from 'vue'
import type { VehicleImportPreview } from '@/api/inventory'

export interface SheetMapping {
  /** fieldOf names the field a column feeds, '' when none. */
  fieldOf: (col: number) => string
  /** sample is the column's first non-empty value in the preview rows. */
  sample: (col: number | undefined) => string
  /** Fields sharing a column: almost always a slip. */
  duplicates: ComputedRef<string[][]>
  /** Required fields without a column. */
  missing: ComputedRef<string[]>
}

export function useSheetMapping(
  fields: readonly string[],
  required: readonly string[],
  mapping: Record<string, number | undefined>,
  preview: Ref<VehicleImportPreview | null> | (() => VehicleImportPreview | null),
): SheetMapping {
  const rows = () => (typeof preview === 'function' ? preview() : preview.value)?.rows ?? []
  return {
    fieldOf: (col) => fields.find((k) => mapping[k] === col) ?? '',
    sample: (col) => (col === undefined ? '' : (rows().map((r) => r[col] ?? '').find((x) => x.trim() !== '') ?? '')),
    duplicates: computed(() => {
      const seen = new Map<number, string[]>()
      for (const k of fields) {
        const c = mapping[k]
        if (c === undefined) continue
        seen.set(c, [...(seen.get(c) ?? []), k])
      }
      return [...seen.values()].filter((ks) => ks.length > 1)
    }),
    missing: computed(() => required.filter((k) => mapping[k] === undefined)),
  }
}
