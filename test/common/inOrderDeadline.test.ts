import { inOrderDeadline } from '../../common/inOrderDeadline';

/** A reply that arrives when the test says so. */
function pending<T>() {
  let answer!: (value: T) => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<T>((resolve, reject) => {
    answer = resolve;
    fail = reject;
  });
  return { promise, answer, fail };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a call answered in time passes its answer through, and leaves nothing overdue', async () => {
  const deadline = inOrderDeadline(50);
  await expect(deadline(async () => 42)).resolves.toBe(42);
  await sleep(80);
  expect(deadline.overdue()).toBe(0);
  await expect(deadline(async () => 'again')).resolves.toBe('again');
});

test('while a call is overdue, later calls fail at once without being sent; the late reply reopens', async () => {
  const deadline = inOrderDeadline(30);
  const frozen = pending<string>();
  const first = deadline(() => frozen.promise);
  await expect(first).rejects.toThrow('no reply within 30 ms');
  expect(deadline.overdue()).toBe(1);

  let sent = 0;
  const started = Date.now();
  await expect(deadline(async () => { sent += 1; return 'x'; })).rejects.toThrow('an earlier command has had no reply for over 30 ms');
  expect(Date.now() - started).toBeLessThan(25); // refused, not timed out
  expect(sent).toBe(0);

  frozen.answer('late'); // the server thaws and answers in order
  await sleep(0);
  expect(deadline.overdue()).toBe(0);
  await expect(deadline(async () => { sent += 1; return 'after'; })).resolves.toBe('after');
  expect(sent).toBe(1);
});

test('an overdue call that finally fails (the connection dropped) reopens too', async () => {
  const deadline = inOrderDeadline(20);
  const frozen = pending<never>();
  await expect(deadline(() => frozen.promise)).rejects.toThrow('no reply within 20 ms');
  frozen.fail(new Error('socket closed'));
  await sleep(0);
  await expect(deadline(async () => 'up')).resolves.toBe('up');
});

test('a call that fails in time is that failure, and does not block the next', async () => {
  const deadline = inOrderDeadline(50);
  await expect(deadline(async () => { throw new Error('WRONGTYPE'); })).rejects.toThrow('WRONGTYPE');
  await expect(deadline(async () => 1)).resolves.toBe(1);
});
