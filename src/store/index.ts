export * from './api.js';
export { Store } from './store.js';
export { StoreLockDesyncError, StoreLockTimeoutError } from './lock.js';
