// The UI language: saved in localStorage, and in the user's profile when signed in.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { applyLocale, normalizeLocale, type AppLocale } from '@/i18n'

const STORAGE_KEY = 'dd.locale'

function saved(): AppLocale | null {
  try {
    const v = localStorage.getItem(STORAGE_KEY)
    return v ? normalizeLocale(v) : null
  } catch {
    return null
  }
}

export const useLocaleStore = defineStore('locale', () => {
  const locale = ref<AppLocale>(saved() ?? 'zh-CN')
  /** Set when the user picked a language before signing in, so it wins over the profile's. */
  const pickedBeforeSignIn = ref(false)

  async function init(): Promise<void> {
    await applyLocale(locale.value)
  }

  /** set switches the UI language and remembers it in this browser. */
  async function set(l: AppLocale): Promise<void> {
    await applyLocale(l)
    locale.value = l
    try {
      localStorage.setItem(STORAGE_KEY, l)
    } catch {
      /* private mode: the choice lasts for this page only */
    }
  }

  return { locale, pickedBeforeSignIn, init, set }
})
