// Toasts and confirmations in one style.
import { isApiError } from '@/api/http'
import { errorText, t } from '@/i18n'

/** messageOf returns the text to show for an error: the server's translated message first. */
export function messageOf(e: unknown): string {
  if (isApiError(e)) return e.message || errorText(e.code) || t('errors.internal')
  if (e instanceof Error && e.message) return e.message
  return t('errors.internal')
}

export function toastError(e: unknown): void {
  if (isApiError(e) && (e.status === 401 || e.code === 'password_change_required')) return // navigation handles these
  ElMessage({ type: 'error', message: messageOf(e), grouping: true, showClose: true })
}

export function toastSuccess(message: string): void {
  ElMessage({ type: 'success', message, grouping: true })
}

/** confirmDanger asks before a destructive action; resolves false when cancelled. */
export async function confirmDanger(title: string, message: string, confirmText?: string): Promise<boolean> {
  try {
    await ElMessageBox.confirm(message, title, {
      type: 'warning',
      confirmButtonText: confirmText ?? t('common.confirm'),
      cancelButtonText: t('common.cancel'),
      confirmButtonClass: 'el-button--danger',
      autofocus: false,
    })
    return true
  } catch {
    return false
  }
}
