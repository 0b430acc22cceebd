// useAttachments is the photo strip of a sales record (a trade-in's appraisal photos, an order's delivery
// photos): the list, a hidden file input for several photos at once (the camera on a phone), the upload
// with one toast, deleting with a confirmation, and the URLs for the image preview.
import { computed, ref, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { attachmentURL, deleteAttachment, listAttachments, uploadAttachment, type Attachment } from '@/api/attachments'
import { confirmDanger, toastError, toastSuccess } from '@/utils/feedback'

/** The i18n keys of the strip's messages; uploaded takes {n}, deleteConfirm takes {name}. */
export interface AttachmentTexts {
  uploaded: string
  deleteTitle?: string
  deleteConfirm?: string
}

export function useAttachments(entity: string, id: Ref<number>, keys: AttachmentTexts) {
  const { t, locale } = useI18n()
  const photos = ref<Attachment[]>([])
  const uploading = ref(false)
  const fileInput = ref<HTMLInputElement | null>(null)

  async function loadPhotos(): Promise<void> {
    try {
      photos.value = (await listAttachments(entity, id.value)).items
    } catch {
      photos.value = []
    }
  }

  /** onFiles uploads what the file input picked, one after the other, then lists the photos again. */
  async function onFiles(ev: Event): Promise<void> {
    const input = ev.target as HTMLInputElement
    const files = Array.from(input.files ?? [])
    input.value = ''
    if (!files.length) return
    uploading.value = true
    try {
      for (const f of files) await uploadAttachment(entity, id.value, f, String(locale.value))
      toastSuccess(t(keys.uploaded, { n: files.length }))
    } catch (e) {
      toastError(e)
    } finally {
      uploading.value = false
      await loadPhotos()
    }
  }

  async function removePhoto(p: Attachment): Promise<void> {
    if (!(await confirmDanger(t(keys.deleteTitle ?? 'common.delete'), t(keys.deleteConfirm ?? 'common.delete', { name: p.name })))) return
    try {
      await deleteAttachment(p.id)
      void loadPhotos()
    } catch (e) {
      toastError(e)
    }
  }

  const photoUrls = computed(() => photos.value.map((p) => attachmentURL(p.id)))
  return { photos, uploading, fileInput, loadPhotos, onFiles, removePhoto, photoUrls }
}
