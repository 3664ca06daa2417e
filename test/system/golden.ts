/** Where the system fixtures live (fixtures/system): names, ROM images and golden files (scripts/oracle-qemu.ts format). */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SYSTEM_FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/system');

export function fixtureNames(): string[] {
  return readdirSync(SYSTEM_FIXTURES).filter((f) => f.endsWith('.bin')).map((f) => f.slice(0, -4)).sort();
}

export function readImage(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(SYSTEM_FIXTURES, `${name}.bin`)));
}
