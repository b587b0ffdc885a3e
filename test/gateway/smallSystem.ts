/**
 * The real system (test/support/system.ts) over one small tenant — acme: 4 users, one day of events —
 * for a test file about the gateway's edge that needs no particular data: started before its tests,
 * closed after them.
 */
import { type System, seedDataDir, startSystem } from '../support/system';

/** Registers the file's beforeAll and afterAll; call the function returned inside a test for the running system. */
export function smallSystem(): () => System {
  let system: System | undefined;
  let remove = () => {};
  beforeAll(async () => {
    const seeded = await seedDataDir([{ tenant: 'acme', users: 4, days: 1, eventsPerUser: 2, start: '2025-03-03', seed: 1 }]);
    remove = seeded.remove;
    system = await startSystem(seeded.dataDir);
  });
  afterAll(async () => {
    await system?.close();
    remove();
  });
  return () => system!;
}
