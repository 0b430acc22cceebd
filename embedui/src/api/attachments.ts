// Attachments of sales documents (app/attach): a test drive's scanned agreement and licence, a trade-in's
// photos, an order's delivery photos. One upload and one content URL serve them all.

import { API_BASE, ApiError, http, type ListResult } from './http'
import { errorText, t } from '@/i18n'

/** Attachment is a stored file as GET /attachments lists it. */
export interface Attachment {
  id: number
  name: string
  mime: string
  size: number
  hasThumb: boolean
  createdAt: number
}

/** attachmentURL is where a file (or its thumbnail) is served. */
export function attachmentURL(id: number, thumb = false): string {
  return `${API_BASE}/attachments/${id}/content${thumb ? '?size=thumb' : ''}`
}

/** listAttachments lists the files attached to one record of an entity ("test_drive", "trade_in", "sales_order"). */
export function listAttachments(entity: string, entityId: number) {
  return http.get<ListResult<Attachment>>('/attachments', { query: { entity, entityId } })
}

/** deleteAttachment removes one file. */
export function deleteAttachment(id: number) {
  return http.del<void>(`/attachments/${id}`)
}

/**
 * uploadAttachment sends one file as multipart to POST /attachments. A refusal comes back as an ApiError whose
 * message is the file field's own (too large, wrong type) where the server gives one.
 */
export async function uploadAttachment(entity: string, entityId: number, file: File, lang: string): Promise<Attachment> {
  const form = new FormData()
  form.append('entity', entity)
  form.append('entityId', String(entityId))
  form.append('file', file, file.name)
  let res: Response
  try {
    res = await fetch(API_BASE + '/attachments', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'Accept-Language': lang },
      body: form,
    })
  } catch {
    throw new ApiError({ status: 0, code: 'network', message: t('common.networkError') })
  }
  let body: { error?: { code?: string; message?: string; requestId?: string; fields?: Record<string, { code: string; message: string }> } } | null = null
  try {
    body = await res.json()
  } catch {
    body = null
  }
  if (res.ok && body) return body as unknown as Attachment
  const err = body?.error
  const code = err?.code ?? (res.status === 413 ? 'too_large' : 'invalid')
  throw new ApiError({
    status: res.status,
    code,
    message: err?.fields?.file?.message || (err?.message && err.message !== code ? err.message : errorText(code) || code),
    fields: err?.fields,
    requestId: err?.requestId,
  })
}
