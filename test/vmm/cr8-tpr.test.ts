/**
 * CR8 is the local APIC's TPR in 64-bit mode (SDM Vol. 3A §10.8.6.1): MOV to CR8 sets TPR[7:4] and
 * clears TPR[3:0]; MOV from CR8 reads TPR[7:4]. The guest writes CR8 and reads the TPR through the
 * xAPIC page (offset 0x80), then writes the TPR there and reads CR8.
 */
import { expect, it } from 'vitest';
import { TestGuest } from '../../src/testing.js';

it('MOV CR8 and the xAPIC TPR register are the same register', () => {
  const SYNC = [0x66, 0xba, 0x04, 0xef, 0xef]; // mov dx, 0xEF04; out dx, eax
  const code = [
    0xb8, 0x03, 0x00, 0x00, 0x00, // mov eax, 3
    0x44, 0x0f, 0x22, 0xc0,       // mov cr8, rax
    0xbb, 0x80, 0x00, 0xe0, 0xfe, // mov ebx, 0xFEE00080   (TPR)
    0x8b, 0x03,                   // mov eax, [rbx]
    ...SYNC,                      // -> 0x30
    0xc7, 0x03, 0x50, 0x00, 0x00, 0x00, // mov dword [rbx], 0x50
    0x44, 0x0f, 0x20, 0xc0,       // mov rax, cr8
    ...SYNC,                      // -> 5
    0x31, 0xc0, 0x66, 0xba, 0x00, 0xef, 0xef, // DONE
  ];
  const g = TestGuest.flat(new Uint8Array(code), { mode: 'long' });
  expect(g.next()).toEqual({ kind: 'sync', value: 0x30n });
  expect(g.next()).toEqual({ kind: 'sync', value: 5n });
  expect(g.next()).toEqual({ kind: 'done' });
});
