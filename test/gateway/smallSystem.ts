/**
 * The real system (test/support/system.ts) for a test file: seeded and started before its tests,
 * closed after them. `smallSystem()` is one small tenant — acme: 4 users, one day of events — for a
 * file about the gateway's edge that needs no particular data.
 */
import type { GeneratorOptions } from '../../okta/generator';
import { type System, seedDataDir, startSystem } from '../support/system';

/** Registers the file's beforeAll and afterAll; call the function returned inside a test for the running system. */
export function useSystem(tenant: GeneratorOptions): () => System {
  let system: System | undefined;
  let remove = () => {};
  beforeAll(async () => {
    const seeded = await seedDataDir([tenant]);
    remove = seeded.remove;
    system = await startSystem(seeded.dataDir);
  }, 120_000);
  afterAll(async () => {
    await system?.close();
    remove();
  });
  return () => system!;
}

export function smallSystem(): () => System {
  return useSystem({ tenant: 'acme', users: 4, days: 1, eventsPerUser: 2, start: '2025-03-03', seed: 1 });
}
