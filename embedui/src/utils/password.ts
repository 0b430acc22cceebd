// Client-side mirror of the password policy (the server checks it again).
import type { PasswordPolicy } from '@/api/auth'
import { t } from '@/i18n'

export function passwordClasses(pw: string): number {
  let n = 0
  if (/[a-z]/.test(pw)) n++
  if (/[A-Z]/.test(pw)) n++
  if (/[0-9]/.test(pw)) n++
  if (/[^a-zA-Z0-9]/.test(pw)) n++
  return n
}

/** policyError returns the message for a password that breaks the policy, or ''. */
export function policyError(pw: string, policy: PasswordPolicy | null): string {
  if (!policy) return ''
  if ([...pw].length < policy.minLength) return t('errors.password.too_short', { min: policy.minLength })
  if (passwordClasses(pw) < policy.requireClasses) return t('errors.password.classes', { min: policy.requireClasses })
  return ''
}
