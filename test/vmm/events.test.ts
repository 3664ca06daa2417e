import { describe, expect, it } from 'vitest';
import { EventQueue, exceptionClass, nestedDisposition, VEC } from '../../src/vmm/events.js';
import { InvalidArgumentError, InvalidStateError } from '../../src/util/errors.js';

const open = { interruptsEnabled: true, interruptShadow: false, nmiBlocked: false };
const exc = (vector: number) => ({ kind: 'exception' as const, vector });

describe('nested exceptions (SDM Vol. 3A §6.15, Tables 6-4 and 6-5)', () => {
  it('classifies vectors as Table 6-4 does', () => {
    for (const v of [0, 10, 11, 12, 13]) expect(exceptionClass(v)).toBe('contributory');
    expect(exceptionClass(14)).toBe('page-fault');
    for (const v of [1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 32, 255]) expect(exceptionClass(v)).toBe('benign');
  });

  it('turns contributory-after-contributory, and contributory or #PF after #PF, into #DF', () => {
    expect(nestedDisposition(exc(VEC.GP), VEC.NP).action).toBe('double-fault');
    expect(nestedDisposition(exc(VEC.DE), VEC.SS).action).toBe('double-fault');
    expect(nestedDisposition(exc(VEC.PF), VEC.PF).action).toBe('double-fault');
    expect(nestedDisposition(exc(VEC.PF), VEC.GP).action).toBe('double-fault');
  });

  it('handles the other combinations serially', () => {
    expect(nestedDisposition(exc(VEC.GP), VEC.PF).action).toBe('serial'); // contributory then #PF
    expect(nestedDisposition(exc(VEC.UD), VEC.GP).action).toBe('serial'); // benign first
    expect(nestedDisposition(exc(VEC.PF), VEC.UD).action).toBe('serial'); // benign second
    expect(nestedDisposition({ kind: 'interrupt', vector: 0x30 }, VEC.GP).action).toBe('serial');
    expect(nestedDisposition({ kind: 'nmi', vector: 2 }, VEC.PF).action).toBe('serial');
  });

  it('makes any exception during #DF delivery a triple fault', () => {
    for (const v of [VEC.GP, VEC.PF, VEC.UD, VEC.NP]) expect(nestedDisposition(exc(VEC.DF), v).action).toBe('triple-fault');
  });
});

describe('event queue', () => {
  it('injects in the order exception, NMI, maskable interrupt', () => {
    const q = new EventQueue();
    q.inject({ kind: 'interrupt', vector: 0x40 });
    q.inject({ kind: 'nmi', vector: 2 });
    q.inject({ kind: 'exception', vector: VEC.GP, errorCode: 0x18 });
    expect(q.choose(open)).toEqual({ kind: 'deliver', event: { kind: 'exception', vector: 13, errorCode: 0x18 } });
    expect(q.choose(open)).toEqual({ kind: 'deliver', event: { kind: 'nmi', vector: 2 } });
    expect(q.choose(open)).toEqual({ kind: 'deliver', event: { kind: 'interrupt', vector: 0x40 } });
    expect(q.choose(open)).toEqual({ kind: 'none' });
  });

  it('holds a maskable interrupt while IF=0 or in an interrupt shadow and offers the window when asked', () => {
    const q = new EventQueue();
    q.inject({ kind: 'interrupt', vector: 0x40 });
    q.wantInterruptWindow = true;
    expect(q.choose({ ...open, interruptsEnabled: false })).toEqual({ kind: 'none' });
    expect(q.choose({ ...open, interruptShadow: true })).toEqual({ kind: 'none' });
    expect(q.interruptBlocked({ ...open, interruptsEnabled: false })).toBe(true);
    expect(q.choose(open)).toEqual({ kind: 'deliver', event: { kind: 'interrupt', vector: 0x40 } });
    expect(q.choose(open)).toEqual({ kind: 'window', window: 'interrupt-window' });
  });

  it('holds an NMI while NMIs are blocked and reports the NMI window when asked', () => {
    const q = new EventQueue();
    q.inject({ kind: 'nmi', vector: 2 });
    expect(q.choose({ ...open, nmiBlocked: true })).toEqual({ kind: 'none' });
    q.wantNmiWindow = true;
    expect(q.choose({ ...open, nmiBlocked: true })).toEqual({ kind: 'window', window: 'nmi-window' });
    expect(q.choose(open).kind).toBe('deliver');
  });

  it('combines a second exception with a pending one into #DF (error code 0), a third into a triple fault', () => {
    const q = new EventQueue();
    q.raiseException(VEC.PF, 2);
    expect(q.raiseException(VEC.GP, 0).action).toBe('double-fault');
    expect(q.exception).toEqual({ kind: 'exception', vector: 8, errorCode: 0 });
    expect(q.raiseException(VEC.NP, 0x10).action).toBe('triple-fault');
    expect(q.tripleFault).toBe(true);
    expect(q.exception).toBeNull();
  });

  it('redelivers an event interrupted by an exit (exit-intinfo) before anything else', () => {
    const q = new EventQueue();
    q.inject({ kind: 'nmi', vector: 2 });
    q.setExitIntInfo({ kind: 'interrupt', vector: 0x41 });
    expect(q.choose(open)).toEqual({ kind: 'deliver', event: { kind: 'interrupt', vector: 0x41 } });
    expect(q.choose(open)).toEqual({ kind: 'deliver', event: { kind: 'nmi', vector: 2 } });
  });

  it('combines an exception raised during an interrupted delivery with it (exit-intinfo #PF + #GP = #DF)', () => {
    const q = new EventQueue();
    q.setExitIntInfo({ kind: 'exception', vector: VEC.PF, errorCode: 0 });
    expect(q.raiseException(VEC.GP, 0).action).toBe('double-fault');
    expect(q.exitIntInfo).toBeNull();
    expect(q.choose(open)).toEqual({ kind: 'deliver', event: { kind: 'exception', vector: 8, errorCode: 0 } });
  });

  it('puts an interrupted external interrupt back when a benign exception is handled serially', () => {
    const q = new EventQueue();
    q.setExitIntInfo({ kind: 'interrupt', vector: 0x50 });
    expect(q.raiseException(VEC.PF, 0).action).toBe('serial');
    expect(q.choose(open).kind).toBe('deliver');
    expect(q.choose(open)).toEqual({ kind: 'deliver', event: { kind: 'interrupt', vector: 0x50 } });
  });

  it('rejects bad events and a second pending interrupt without changing the queue', () => {
    const q = new EventQueue();
    expect(() => q.inject({ kind: 'exception', vector: 6, errorCode: 1 })).toThrow(InvalidArgumentError);
    expect(() => q.inject({ kind: 'exception', vector: 40 })).toThrow(InvalidArgumentError);
    expect(() => q.inject({ kind: 'interrupt', vector: 3 })).toThrow(/below 16/);
    expect(() => q.inject({ kind: 'nmi', vector: 3 })).toThrow(InvalidArgumentError);
    q.inject({ kind: 'interrupt', vector: 0x20 });
    expect(() => q.inject({ kind: 'interrupt', vector: 0x21 })).toThrow(InvalidStateError);
    expect(q.interrupt).toEqual({ kind: 'interrupt', vector: 0x20 });
    expect(q.exception).toBeNull();
  });

  it('saves and restores its state exactly', () => {
    const q = new EventQueue();
    q.inject({ kind: 'interrupt', vector: 0x33 });
    q.inject({ kind: 'nmi', vector: 2 });
    q.wantInterruptWindow = true;
    const r = new EventQueue();
    r.restore(JSON.parse(JSON.stringify(q.save())));
    expect(r.save()).toEqual(q.save());
  });
});
