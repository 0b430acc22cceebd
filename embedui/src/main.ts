import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { router } from './router'
import { i18n, currentLocale, errorText, t } from './i18n'
import { configureHttp } from './api/http'
import { useLocaleStore } from './stores/locale'
import { useSessionStore } from './stores/session'
import { askReauth } from './composables/reauth'
import './styles/main.css'

async function start(): Promise<void> {
  const app = createApp(App)
  const pinia = createPinia()
  app.use(pinia)
  app.use(i18n)

  const locale = useLocaleStore()
  await locale.init()

  const session = useSessionStore()
  configureHttp({
    locale: () => currentLocale(),
    networkMessage: () => t('common.networkError'),
    translate: (code, params) => errorText(code, params),
    onUnauthenticated: () => {
      const wasSignedIn = session.signedIn
      session.clear()
      const cur = router.currentRoute.value
      if (cur.meta.public) return
      if (wasSignedIn) ElMessage({ type: 'warning', message: t('login.sessionExpired'), grouping: true })
      void router.push({ name: 'login', query: cur.fullPath && cur.fullPath !== '/' ? { redirect: cur.fullPath } : {} })
    },
    onPasswordChangeRequired: () => {
      session.passwordChangeRequired = true
      if (router.currentRoute.value.name !== 'change-password') void router.push({ name: 'change-password' })
    },
    reauthenticate: askReauth,
  })

  app.use(router)
  await router.isReady()
  app.mount('#app')
}

void start()
