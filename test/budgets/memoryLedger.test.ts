import { createMemoryLedger } from '../../budgets/memoryLedger';
import { ledgerContract } from './ledgerContract';

ledgerContract('in-memory', async (options) => createMemoryLedger(options));
