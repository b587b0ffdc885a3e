import { ErrorCode } from '../../common/errors';
import { addDays, dateRange, daysBetween, parseDate } from '../../common/dates';

test.each([
  ['2025-01-31', true], ['2024-02-29', true], ['2025-02-29', false], ['2025-13-01', false],
  ['2025-1-1', false], ['20250101', false], ["2025-01-01' OR 1=1", false], ['', false],
])('parseDate(%p) is valid: %p', (value, valid) => {
  expect(parseDate(value) !== undefined).toBe(valid);
});

test('day arithmetic across month and year ends', () => {
  expect(addDays('2024-12-31', 1)).toBe('2025-01-01');
  expect(addDays('2025-03-01', -1)).toBe('2025-02-28');
  expect(daysBetween('2025-01-01', '2025-12-31')).toBe(365);
});

test.each([
  ['2025-02-30', '2025-03-01', /"from" must be a calendar date/],
  ['2025-03-02', '2025-03-01', /is after "to"/],
  ['2024-01-01', '2025-01-02', /spans 368 days; at most 366/],
])('dateRange(%p, %p) is BAD_USER_INPUT', (from, to, message) => {
  expect(() => dateRange(from, to, 366)).toThrow(message);
  expect(() => dateRange(from, to, 366)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: ErrorCode.BAD_USER_INPUT }) }));
});

test('a valid range passes through', () => {
  expect(dateRange('2025-01-01', '2025-12-31', 366)).toEqual({ from: '2025-01-01', to: '2025-12-31' });
});
