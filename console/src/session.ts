/**
 * The API key lives in session storage: it survives a reload but not the
 * tab, and it is never put in a URL (where logs and history would keep it).
 */
const STORAGE_KEY = 'vigil.apiKey';

export function storedKey(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function storeKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
