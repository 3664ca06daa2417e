/**
 * Typed errors for API misuse. Guest behaviour never throws: it becomes an architectural
 * fault or a VM exit. These are for the host program that calls x86vmm wrongly, and each
 * message names the offending value and the rule it broke.
 */

/** Base class of every error x86vmm throws on purpose. */
export class VmmError extends Error {
  override name = 'VmmError';
}

/** An argument is outside the range or shape the API accepts (alignment, size, range, type). */
export class InvalidArgumentError extends VmmError {
  override name = 'InvalidArgumentError';
}

/** A request conflicts with existing state: an overlapping mapping, a duplicate name, a busy range. */
export class ConflictError extends VmmError {
  override name = 'ConflictError';
}

/** A lookup found nothing: an unmapped GPA, an unknown segment, an unknown device. */
export class NotFoundError extends VmmError {
  override name = 'NotFoundError';
}

/** The object is in a state where the call is not allowed (e.g. running a suspended machine). */
export class InvalidStateError extends VmmError {
  override name = 'InvalidStateError';
}

/** Formats a number as 0x-prefixed hex for error messages (bigint or number). */
export function hex(value: number | bigint): string {
  if (typeof value === 'bigint') {
    return (value < 0n ? '-0x' + (-value).toString(16) : '0x' + value.toString(16));
  }
  return value < 0 ? '-0x' + (-value).toString(16) : '0x' + value.toString(16);
}
