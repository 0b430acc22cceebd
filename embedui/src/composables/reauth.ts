// State of the one re-authentication dialog (components/ReauthDialog.vue). The HTTP layer calls
// askReauth() on 403 reauth_required; the dialog resolves it after POST /auth/reauth succeeds.
import { reactive } from 'vue'

export const reauthState = reactive({
  visible: false,
  resolve: null as ((ok: boolean) => void) | null,
})

let pending: Promise<boolean> | null = null

/** askReauth opens the dialog (once, however many calls need it) and resolves true when re-authenticated. */
export function askReauth(): Promise<boolean> {
  if (pending) return pending
  pending = new Promise<boolean>((resolve) => {
    reauthState.resolve = (ok: boolean) => {
      reauthState.visible = false
      reauthState.resolve = null
      pending = null
      resolve(ok)
    }
    reauthState.visible = true
  })
  return pending
}
