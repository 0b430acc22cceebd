// The signed-in user (Me) and the actions that change the session.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { authApi, type Me } from '@/api/auth'
import { isApiError } from '@/api/http'
import { normalizeLocale } from '@/i18n'
import { useLocaleStore } from './locale'

export const useSessionStore = defineStore('session', () => {
  const me = ref<Me | null>(null)
  /** True once GET /auth/me has answered (signed in or not). */
  const loaded = ref(false)
  /** Bumped when the current store changes so pages reload their data. */
  const storeEpoch = ref(0)
  /** Set when the server answered 403 password_change_required, even if /auth/me could not be read. */
  const passwordChangeRequired = ref(false)

  const signedIn = computed(() => me.value !== null)
  const permissions = computed(() => new Set(me.value?.permissions ?? []))

  function can(perm: string | undefined): boolean {
    return !perm || permissions.value.has(perm)
  }

  /** setMe adopts a Me answer; the profile's language is applied unless the user just picked one. */
  async function setMe(m: Me): Promise<void> {
    me.value = m
    loaded.value = true
    passwordChangeRequired.value = m.mustChangePassword
    const loc = useLocaleStore()
    const profileLocale = m.locale ? normalizeLocale(m.locale) : null
    if (loc.pickedBeforeSignIn) {
      loc.pickedBeforeSignIn = false
      if (profileLocale !== loc.locale) {
        try {
          me.value = await authApi.updateProfile(m.name, loc.locale)
        } catch {
          /* keep the session even if saving the language fails */
        }
      }
    } else if (profileLocale && profileLocale !== loc.locale) {
      await loc.set(profileLocale)
    }
  }

  /** fetchMe loads the session; resolves to null when nobody is signed in. */
  async function fetchMe(): Promise<Me | null> {
    try {
      await setMe(await authApi.me())
    } catch (e) {
      if (!isApiError(e) || (e.status !== 401 && e.status !== 403)) {
        loaded.value = true
        throw e
      }
      if (e.status === 403 && e.code === 'password_change_required') passwordChangeRequired.value = true
      me.value = null
    }
    loaded.value = true
    return me.value
  }

  async function login(login: string, password: string): Promise<Me> {
    await setMe(await authApi.login(login, password))
    return me.value!
  }

  function clear(): void {
    me.value = null
    passwordChangeRequired.value = false
    loaded.value = true
  }

  async function logout(): Promise<void> {
    try {
      await authApi.logout()
    } finally {
      clear()
    }
  }

  async function logoutAll(): Promise<void> {
    await authApi.logoutAll()
    clear()
  }

  async function switchStore(storeId: number): Promise<void> {
    await setMe(await authApi.switchStore(storeId))
    storeEpoch.value++
  }

  /** saveLocale stores the language in the profile (when signed in) and applies it. */
  async function saveLocale(locale: string): Promise<void> {
    const loc = useLocaleStore()
    const l = normalizeLocale(locale)
    await loc.set(l)
    if (me.value) {
      me.value = await authApi.updateProfile(me.value.name, l)
    }
  }

  return { me, loaded, storeEpoch, passwordChangeRequired, signedIn, permissions, can, setMe, fetchMe, login, clear, logout, logoutAll, switchStore, saveLocale }
})
