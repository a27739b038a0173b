// Short notices at the bottom of the screen (errors, confirmations).
import { defineStore } from 'pinia';
import { ref } from 'vue';

export interface Toast {
  id: number;
  kind: 'info' | 'error' | 'success';
  text: string;
}

export const useToastStore = defineStore('toasts', () => {
  const items = ref<Toast[]>([]);
  let next = 1;

  function push(text: string, kind: Toast['kind'] = 'info', ms = 4000) {
    const id = next++;
    items.value.push({ id, kind, text });
    setTimeout(() => dismiss(id), ms);
  }
  function dismiss(id: number) {
    items.value = items.value.filter((t) => t.id !== id);
  }
  return { items, push, dismiss, error: (t: string) => push(t, 'error', 6000), success: (t: string) => push(t, 'success') };
});
