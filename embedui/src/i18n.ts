// vue-i18n set-up plus the Element Plus and dayjs locales, switched together.
// zh-CN is bundled (the default); English is loaded on first use.
import { createI18n } from 'vue-i18n'
import { shallowRef } from 'vue'
import dayjs from 'dayjs'
import 'dayjs/locale/zh-cn'
import epZhCn from 'element-plus/es/locale/lang/zh-cn'
import type { Language } from 'element-plus/es/locale'
import zhCN from './locales/zh-CN.json'

export type AppLocale = 'zh-CN' | 'en'
export const LOCALES: AppLocale[] = ['zh-CN', 'en']
export const DEFAULT_LOCALE: AppLocale = 'zh-CN'

type Messages = typeof zhCN

export const i18n = createI18n<[Messages], AppLocale, false>({
  legacy: false,
  locale: DEFAULT_LOCALE,
  fallbackLocale: DEFAULT_LOCALE,
  messages: { 'zh-CN': zhCN } as Record<AppLocale, Messages>,
  missingWarn: false,
  fallbackWarn: false,
})

/** The Element Plus language pack for the current locale (bound to el-config-provider). */
export const elementLocale = shallowRef<Language>(epZhCn)

/** normalizeLocale maps anything the server or browser says to one of ours. */
export function normalizeLocale(l: string | null | undefined): AppLocale {
  if (!l) return DEFAULT_LOCALE
  return l.toLowerCase().startsWith('en') ? 'en' : 'zh-CN'
}

const loaded = new Set<AppLocale>(['zh-CN'])

/** applyLocale loads (if needed) and switches vue-i18n, Element Plus, dayjs and <html lang>. */
export async function applyLocale(l: AppLocale): Promise<void> {
  if (!loaded.has(l)) {
    const [msgs, ep] = await Promise.all([
      import('./locales/en.json'),
      import('element-plus/es/locale/lang/en'),
    ])
    i18n.global.setLocaleMessage(l, msgs.default as unknown as Messages)
    loaded.add(l)
    enLanguage = ep.default
  }
  i18n.global.locale.value = l
  elementLocale.value = l === 'en' ? (enLanguage ?? epZhCn) : epZhCn
  dayjs.locale(l === 'en' ? 'en' : 'zh-cn')
  document.documentElement.lang = l
}

let enLanguage: Language | undefined

export function currentLocale(): AppLocale {
  return i18n.global.locale.value as AppLocale
}

type Params = Record<string, unknown>

/** t outside components. */
export function t(key: string, params: Params = {}): string {
  return i18n.global.t(key, params)
}

/** has tells whether key is a message (a string, not a subtree) in the current or fallback locale. */
export function hasMessage(key: string): boolean {
  const g = i18n.global
  return (g.te(key) || g.te(key, DEFAULT_LOCALE)) && typeof g.tm(key) === 'string'
}

/**
 * errorText looks an error code up the way the Go server does: `errors.<code>` with dots as nesting,
 * and `errors.<code>._` for a code that is also the prefix of longer codes (conflict / conflict.stale).
 * It returns '' when the code is unknown.
 */
export function errorText(code: string, params: Params = {}): string {
  const key = 'errors.' + code
  if (hasMessage(key)) return t(key, params)
  if (hasMessage(key + '._')) return t(key + '._', params)
  return ''
}

/** labelOr translates key, or returns fallback when there is no such message. */
export function labelOr(key: string, fallback: string, params: Params = {}): string {
  return hasMessage(key) ? t(key, params) : fallback
}
