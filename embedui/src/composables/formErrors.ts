// Field errors from the API shown under the matching el-form-item (:error="errors.phone").
import { nextTick, reactive } from 'vue'
import { isApiError } from '@/api/http'

export interface FormErrors {
  /** Messages by field name; bind with <el-form-item :error="fe.errors.name">. */
  errors: Record<string, string>
  clear(): void
  /**
   * take copies the field messages of an ApiError into errors. alias maps server field names to
   * the form's (e.g. adminPhone → phone). Returns true when at least one field message was set.
   */
  take(e: unknown, alias?: Record<string, string>): boolean
}

export function useFormErrors(): FormErrors {
  const errors = reactive<Record<string, string>>({})
  return {
    errors,
    clear() {
      for (const k of Object.keys(errors)) delete errors[k]
    },
    take(e, alias = {}) {
      this.clear()
      if (!isApiError(e)) return false
      const entries = Object.entries(e.fields)
      // Set after a tick so that the same message shown again still re-triggers el-form-item.
      void nextTick(() => {
        for (const [name, fe] of entries) errors[alias[name] ?? name] = fe.message || fe.code
      })
      return entries.length > 0
    },
  }
}
