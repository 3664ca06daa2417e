/**
 * x86vmm public API. Re-exports only; each room documents its own part.
 */
export { VmmError, InvalidArgumentError, ConflictError, NotFoundError, InvalidStateError } from './util/errors.js';
export { split64, join64 } from './util/u64.js';
