import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { claimLease, type LeaseDeps, type LeaseRecord } from '../../../lib/aws/claimLease.js';
import { isS3NotFound } from '../../../lib/aws/isS3NotFound.js';
import { useLocalStack } from '../../support/useLocalStack.js';

// The lease against the local S3 of startLocalStack: fauxqs with the conditional writes real S3
// enforces (local/stack/s3ConditionalWrites.ts), so a claim can really be refused. Time is an
// injected clock: expiry is decided by `now`, never by waiting.
const stack = useLocalStack();
const T0 = Date.UTC(2026, 11, 2, 9, 0, 0);
const MINUTE = 60_000;

/** A clock the test moves by hand. */
function clockAt(t: number): { now: () => number; set: (to: number) => void } {
  let current = t;
  return { now: () => current, set: (to) => { current = to; } };
}

function deps(clock: { now: () => number }, s3: S3Client = stack.s3): LeaseDeps {
  return { s3, bucket: stack.env.MANIFEST_BUCKET!, clock };
}

async function readClaim(claimKey: string): Promise<LeaseRecord | undefined> {
  try {
    const object = await stack.s3.send(new GetObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: claimKey }));
    return JSON.parse((await object.Body?.transformToString('utf8')) ?? '') as LeaseRecord;
  } catch (error) {
    if (isS3NotFound(error)) return undefined;
    throw error;
  }
}

describe('claimLease', () => {
  it('gives the first claim the lease and writes who holds it until when', async () => {
    // Prepare
    const clock = clockAt(T0);

    // Act
    const lease = await claimLease(deps(clock), 'pending/a.txt', 'claims/first', { owner: 'run-1', expiresAt: T0 + 15 * MINUTE });

    // Assess
    expect(lease).toMatchObject({ claimKey: 'claims/first', tookOver: false });
    expect(await readClaim('claims/first')).toEqual({ manifestKey: 'pending/a.txt', owner: 'run-1', claimedAt: new Date(T0).toISOString(), expiresAt: new Date(T0 + 15 * MINUTE).toISOString() });
  });

  it('refuses a second claim while the first is live, and leaves the first in place', async () => {
    // Prepare
    const clock = clockAt(T0);
    await claimLease(deps(clock), 'm', 'claims/second', { owner: 'run-1', expiresAt: T0 + 15 * MINUTE });
    clock.set(T0 + 15 * MINUTE - 1);

    // Act
    const second = await claimLease(deps(clock), 'm', 'claims/second', { owner: 'run-2', expiresAt: T0 + 30 * MINUTE });

    // Assess
    expect(second).toBeUndefined();
    expect((await readClaim('claims/second'))?.owner).toBe('run-1');
  });

  it('of concurrent claims of one key, exactly one wins', async () => {
    // Prepare
    const clock = clockAt(T0);

    // Act
    const leases = await Promise.all(Array.from({ length: 8 }, (_, i) => claimLease(deps(clock), 'm', 'claims/race', { owner: `run-${i}`, expiresAt: T0 + MINUTE })));

    // Assess
    const winners = leases.flatMap((lease, i) => (lease === undefined ? [] : [i]));
    expect(winners).toHaveLength(1);
    expect((await readClaim('claims/race'))?.owner).toBe(`run-${winners[0]}`);
  });

  it('frees the key on release, so the next claim is a fresh one', async () => {
    // Prepare
    const clock = clockAt(T0);
    const first = await claimLease(deps(clock), 'm', 'claims/release', { owner: 'run-1', expiresAt: T0 + MINUTE });

    // Act
    await first?.release();
    const afterRelease = await readClaim('claims/release');
    const next = await claimLease(deps(clock), 'm', 'claims/release', { owner: 'run-2', expiresAt: T0 + MINUTE });

    // Assess
    expect(afterRelease).toBeUndefined();
    expect(next).toMatchObject({ tookOver: false });
    expect((await readClaim('claims/release'))?.owner).toBe('run-2');
  });

  it('takes over an expired lease (its holder crashed), and marks it as a takeover', async () => {
    // Prepare
    const clock = clockAt(T0);
    await claimLease(deps(clock), 'm', 'claims/expired', { owner: 'crashed', expiresAt: T0 + MINUTE });
    clock.set(T0 + MINUTE + 1);

    // Act
    const lease = await claimLease(deps(clock), 'm', 'claims/expired', { owner: 'run-2', expiresAt: T0 + 10 * MINUTE });

    // Assess
    expect(lease).toMatchObject({ claimKey: 'claims/expired', tookOver: true });
    expect(await readClaim('claims/expired')).toMatchObject({ owner: 'run-2', claimedAt: new Date(T0 + MINUTE + 1).toISOString(), expiresAt: new Date(T0 + 10 * MINUTE).toISOString() });
  });

  it('of concurrent takeovers of one expired lease, exactly one wins', async () => {
    // Prepare
    const clock = clockAt(T0);
    await claimLease(deps(clock), 'm', 'claims/stale-race', { owner: 'crashed', expiresAt: T0 + MINUTE });
    clock.set(T0 + 2 * MINUTE);

    // Act
    const leases = await Promise.all(Array.from({ length: 6 }, (_, i) => claimLease(deps(clock), 'm', 'claims/stale-race', { owner: `run-${i}`, expiresAt: T0 + 20 * MINUTE })));

    // Assess
    const winners = leases.flatMap((lease, i) => (lease === undefined ? [] : [{ i, tookOver: lease.tookOver }]));
    expect(winners).toHaveLength(1);
    expect(winners[0]!.tookOver).toBe(true);
    expect((await readClaim('claims/stale-race'))?.owner).toBe(`run-${winners[0]!.i}`);
  });

  it('does not delete the new holder on release by the one it took over from', async () => {
    // Prepare
    const clock = clockAt(T0);
    const old = await claimLease(deps(clock), 'm', 'claims/outlived', { owner: 'slow', expiresAt: T0 + MINUTE });
    clock.set(T0 + 2 * MINUTE);
    const current = await claimLease(deps(clock), 'm', 'claims/outlived', { owner: 'run-2', expiresAt: T0 + 20 * MINUTE });

    // Act: the slow run finishes after all and releases what it believes is its lease.
    await old?.release();
    const afterOldRelease = await readClaim('claims/outlived');
    await current?.release();

    // Assess
    expect(current?.tookOver).toBe(true);
    expect(afterOldRelease?.owner).toBe('run-2');
    expect(await readClaim('claims/outlived')).toBeUndefined();
  });

  it('releases quietly when the claim is already gone', async () => {
    // Prepare
    const clock = clockAt(T0);
    const lease = await claimLease(deps(clock), 'm', 'claims/gone', { owner: 'run-1', expiresAt: T0 + MINUTE });
    await stack.s3.send(new DeleteObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: 'claims/gone' }));

    // Act
    const releasing = lease?.release();

    // Assess
    await expect(releasing).resolves.toBeUndefined();
  });

  it('never takes over a claim it cannot read (no expiry known)', async () => {
    // Prepare
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: 'claims/garbage', Body: 'not json' }));
    const clock = clockAt(T0 + 1_000 * 24 * 60 * MINUTE);

    // Act
    const lease = await claimLease(deps(clock), 'm', 'claims/garbage', { owner: 'run-1', expiresAt: clock.now() + MINUTE });

    // Assess
    expect(lease).toBeUndefined();
  });

  it('claims afresh when the holder releases between its refused write and its read', async () => {
    // Prepare: an S3 client that lets the holder release just before our read of the claim
    // (the window the second attempt is for); every call still goes to the local S3.
    const clock = clockAt(T0);
    const holder = await claimLease(deps(clock), 'm', 'claims/window', { owner: 'holder', expiresAt: T0 + 10 * MINUTE });
    let releasedInWindow = false;
    const s3 = new Proxy(stack.s3, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
        return async (command: object, ...rest: unknown[]) => {
          if (command instanceof GetObjectCommand && !releasedInWindow) {
            releasedInWindow = true;
            await holder?.release();
          }
          return (target.send as (...args: unknown[]) => Promise<unknown>).call(target, command, ...rest);
        };
      },
    });

    // Act
    const lease = await claimLease(deps(clock, s3), 'm', 'claims/window', { owner: 'run-2', expiresAt: T0 + 10 * MINUTE });

    // Assess
    expect(releasedInWindow).toBe(true);
    expect(lease).toMatchObject({ tookOver: false });
    expect((await readClaim('claims/window'))?.owner).toBe('run-2');
  });
});
