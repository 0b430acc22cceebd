// One shared "is this a phone?" flag (below 768 px), used to swap tables for cards and the side menu for a drawer.
import { readonly, ref } from 'vue'

const PHONE_QUERY = '(max-width: 767px)'
const mobile = ref(false)
let started = false

function start(): void {
  if (started || typeof window === 'undefined' || !window.matchMedia) return
  started = true
  const mq = window.matchMedia(PHONE_QUERY)
  mobile.value = mq.matches
  mq.addEventListener('change', (e) => (mobile.value = e.matches))
}

export function useIsMobile() {
  start()
  return readonly(mobile)
}
