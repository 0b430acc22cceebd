// Stage names are the store's own text (销售阶段设置), seeded with the Chinese defaults. Someone who
// works in English sees a stage that still carries its default name in English; a renamed stage
// keeps the store's name in every language.
import zhCN from '@/locales/zh-CN.json'
import { currentLocale, t } from '@/i18n'

const defaults: Record<string, string> = Object.fromEntries(Object.entries(zhCN.sop.keys as Record<string, string>).map(([k, v]) => [v, k]))

/** stageName shows a stage's name, translated while it is the untouched default of a system stage. */
export function stageName(name: string): string {
  if (currentLocale() === 'zh-CN') return name
  const key = defaults[name]
  return key ? t('sop.keys.' + key) : name
}
