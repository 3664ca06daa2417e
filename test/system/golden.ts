/** Reads a fixture's golden file: the expected 0xE9 text and the exit outcome (scripts/oracle-qemu.ts format). */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SYSTEM_FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/system');

export interface Golden {
  text: string;
  outcome: string;
}

export function fixtureNames(): string[] {
  return readdirSync(SYSTEM_FIXTURES).filter((f) => f.endsWith('.bin')).map((f) => f.slice(0, -4)).sort();
}

export function readGolden(name: string): Golden {
  const lines = readFileSync(join(SYSTEM_FIXTURES, `${name}.golden`), 'latin1').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const exit = lines.find((l) => l.startsWith('@@ exit '));
  if (!exit) throw new Error(`${name}.golden has no "@@ exit" line`);
  const noNewline = lines.some((l) => l.startsWith('@@ note: the guest output did not end with a newline'));
  const body = lines.filter((l) => !l.startsWith('@@'));
  const text = body.length === 0 ? '' : body.join('\n') + (noNewline ? '' : '\n');
  return { text, outcome: exit.slice('@@ exit '.length) };
}

export function readImage(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(SYSTEM_FIXTURES, `${name}.bin`)));
}
