// v-row-test="'users-row'" puts data-test on every body row of an el-table (el-table has no per-row
// attributes), so browser tests can find rows the same way on desktop (table) and phone (cards).
import type { Directive } from 'vue'

const observers = new WeakMap<HTMLElement, MutationObserver>()

function apply(el: HTMLElement, value: string): void {
  el.querySelectorAll('.el-table__body tr.el-table__row').forEach((tr) => {
    if (tr.getAttribute('data-test') !== value) tr.setAttribute('data-test', value)
  })
}

export const vRowTest: Directive<HTMLElement, string> = {
  mounted(el, binding) {
    apply(el, binding.value)
    const mo = new MutationObserver(() => apply(el, binding.value))
    mo.observe(el, { childList: true, subtree: true })
    observers.set(el, mo)
  },
  updated(el, binding) {
    apply(el, binding.value)
  },
  unmounted(el) {
    observers.get(el)?.disconnect()
    observers.delete(el)
  },
}
