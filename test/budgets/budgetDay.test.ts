import { budgetDay, resetsAt } from '../../budgets/budgetDay';

describe('budgetDay and resetsAt', () => {
  test.each([
    // instant (UTC), timezone, local budget day, next local midnight (UTC)
    ['2025-03-04T00:00:00.000Z', 'UTC', '2025-03-04', '2025-03-05T00:00:00.000Z'],
    ['2025-03-04T23:59:59.999Z', 'UTC', '2025-03-04', '2025-03-05T00:00:00.000Z'],
    // EST is UTC−5: local midnight is 05:00Z.
    ['2025-03-04T04:59:59.999Z', 'America/New_York', '2025-03-03', '2025-03-04T05:00:00.000Z'],
    ['2025-03-04T05:00:00.000Z', 'America/New_York', '2025-03-04', '2025-03-05T05:00:00.000Z'],
    // 2025-03-09 springs forward at 02:00: 23 h long, ends at midnight EDT (UTC−4).
    ['2025-03-09T05:00:00.000Z', 'America/New_York', '2025-03-09', '2025-03-10T04:00:00.000Z'],
    // 2025-11-02 falls back at 02:00: 25 h long, from 04:00Z to 05:00Z the next day.
    ['2025-11-02T04:00:00.000Z', 'America/New_York', '2025-11-02', '2025-11-03T05:00:00.000Z'],
    ['2025-11-03T04:59:59.000Z', 'America/New_York', '2025-11-02', '2025-11-03T05:00:00.000Z'],
    // Chile springs forward at midnight: 2025-09-07 has no 00:00 and begins at 01:00 −03 (04:00Z).
    ['2025-09-06T12:00:00.000Z', 'America/Santiago', '2025-09-06', '2025-09-07T04:00:00.000Z'],
    ['2025-09-07T04:00:00.000Z', 'America/Santiago', '2025-09-07', '2025-09-08T03:00:00.000Z'],
    // … and falls back at midnight: 2025-04-05 23:59:59 −03 is followed by 23:00 −04, the day lasts 25 h.
    ['2025-04-06T03:30:00.000Z', 'America/Santiago', '2025-04-05', '2025-04-06T04:00:00.000Z'],
    // Half-hour offset (UTC+5:30), the zones furthest ahead (UTC+14) and behind (UTC−12).
    ['2025-03-04T18:29:59.000Z', 'Asia/Kolkata', '2025-03-04', '2025-03-04T18:30:00.000Z'],
    ['2025-03-04T10:00:00.000Z', 'Pacific/Kiritimati', '2025-03-05', '2025-03-05T10:00:00.000Z'],
    ['2025-03-04T10:00:00.000Z', 'Etc/GMT+12', '2025-03-03', '2025-03-04T12:00:00.000Z'],
    // Samoa skipped 2011-12-30 entirely: the day after the 29th is the 31st.
    ['2011-12-29T12:00:00.000Z', 'Pacific/Apia', '2011-12-29', '2011-12-30T10:00:00.000Z'],
    ['2011-12-30T10:00:00.000Z', 'Pacific/Apia', '2011-12-31', '2011-12-31T10:00:00.000Z'],
  ])('%s in %s is budget day %s, resetting at %s', (instant, timezone, day, nextMidnight) => {
    expect(budgetDay(Date.parse(instant), timezone)).toBe(day);
    expect(resetsAt(Date.parse(instant), timezone)).toBe(nextMidnight);
    expect(budgetDay(Date.parse(nextMidnight), timezone)).not.toBe(day);
    expect(budgetDay(Date.parse(nextMidnight) - 1, timezone)).toBe(day);
  });

  test.each(['Mars/Olympus_Mons', '', 'UTC+1', 'America/New York'])('"%s" is not a timezone: a RangeError naming it', (timezone) => {
    expect(() => budgetDay(0, timezone)).toThrow(RangeError);
    expect(() => resetsAt(0, timezone)).toThrow(`"${timezone}" is not an IANA timezone`);
  });
});
