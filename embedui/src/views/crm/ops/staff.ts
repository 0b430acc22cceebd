// The current store's people and teams for the pickers of the CRM pages. Reading them needs
// user.read / org.read; without those the lists stay empty and the pages fall back to "me".
import { computed, ref } from 'vue'
import { orgApi, type Department, type User } from '@/api/org'
import { useSessionStore } from '@/stores/session'

const MAX_PAGES = 5
const PAGE = 200

export function useStaff() {
  const session = useSessionStore()
  const users = ref<User[]>([])
  const departments = ref<Department[]>([])
  const loading = ref(false)
  const canListUsers = computed(() => session.can('user.read'))
  const canListDepartments = computed(() => session.can('org.read'))
  const userById = computed(() => new Map(users.value.map((u) => [u.id, u])))

  async function loadUsers(): Promise<void> {
    const storeId = session.me?.storeId
    if (!canListUsers.value || !storeId) return
    const all: User[] = []
    let cursor = ''
    for (let i = 0; i < MAX_PAGES; i++) {
      const res = await orgApi.listUsers({ storeId, status: 'active', limit: PAGE, cursor })
      all.push(...res.items)
      if (!res.next) break
      cursor = res.next
    }
    users.value = all
  }

  async function loadDepartments(): Promise<void> {
    const storeId = session.me?.storeId
    if (!canListDepartments.value || !storeId) return
    departments.value = (await orgApi.listDepartments(storeId)).items
  }

  /** load reads what the user may read; failures leave the lists empty (the pickers then say so). */
  async function load(opts: { users?: boolean; departments?: boolean } = { users: true }): Promise<void> {
    loading.value = true
    try {
      await Promise.all([
        opts.users ? loadUsers().catch(() => (users.value = [])) : Promise.resolve(),
        opts.departments ? loadDepartments().catch(() => (departments.value = [])) : Promise.resolve(),
      ])
    } finally {
      loading.value = false
    }
  }

  return { users, departments, loading, canListUsers, canListDepartments, userById, load }
}
