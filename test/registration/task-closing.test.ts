// registration.tasks.auto_complete (issue 12, part 2) with the in-memory fakes: a missed
// call's call-back task is completed once the client is reached, exactly once, through
// hook 8 (`action: "complete"`); a second missed call meanwhile creates no second task.
import t from 'tap';
import { runPipeline } from '../../lib/domain/registration/pipeline.js';
import { isOpenCallBack } from '../../lib/domain/registration/task-closing.js';
import { harness, makeCall, newRecord, settings } from './helpers.js';

const PHONE = '79991234567';
const missed = (): ReturnType<typeof makeCall> => makeCall({ legs: [{ ext: '101' }] });
const answered = (direction: 'incoming' | 'outgoing' = 'incoming'): ReturnType<typeof makeCall> => makeCall({ direction, legs: [{ ext: '102', answered: true }] });

t.test('missed → task; a second missed call → the same task; answered → completed once', async (t) => {
  const h = harness();
  h.kommo.seedContact({ phones: [PHONE] });
  const first = h.run(newRecord(missed()));
  await runPipeline(h.deps, first);
  t.equal(h.kommo.tasks.length, 1, 'a call-back task');
  const second = h.run(newRecord(missed()));
  await runPipeline(h.deps, second);
  t.equal(h.kommo.tasks.length, 1, 'no second task for the second missed call');
  t.equal(second.record.steps.task_id, first.record.steps.task_id, 'the second call points at the open task');
  t.equal(h.hooks.ran('process_task_creation_params'), 1, 'hook 8 ran only for the one create');

  const reached = h.run(newRecord(answered('outgoing')));
  await runPipeline(h.deps, reached);
  t.equal(h.kommo.count('completeTask'), 1, 'completed');
  const task = h.kommo.tasks[0]!;
  t.equal(task.body.is_completed, true);
  t.match(task.body.result, { text: /^Reached on \d{4}-\d{2}-\d{2} \d{2}:\d{2} by user 5002 \(extension 102\)$/ });
  t.same(reached.record.steps.tasks_completed, [task.id], 'journalled');
  t.equal(reached.record.steps.tasks_completed_done, true);
  const hook = h.hooks.input('process_task_creation_params', 1);
  t.equal(hook?.action, 'complete', 'hook 8 input carries action "complete"');
  t.equal(hook?.task_id, task.id, 'and the task id');
  t.equal(hook?.params.is_completed, true);

  await runPipeline(h.deps, h.run(reached.record));
  t.equal(h.kommo.count('completeTask'), 1, 'a re-run completes nothing twice');
  await runPipeline(h.deps, h.run(newRecord(answered())));
  t.equal(h.kommo.count('completeTask'), 1, 'a later answered call finds no open task');
});

t.test('a crash between two completions: the retry completes only the rest', async (t) => {
  const h = harness();
  h.kommo.seedContact({ phones: [PHONE] });
  await runPipeline(h.deps, h.run(newRecord(missed())));
  // a second open call-back task (e.g. created before auto_complete was turned on)
  h.kommo.tasks.push({ id: 9999, body: { ...h.kommo.tasks[0]!.body } });
  const rec = newRecord(answered());
  const run = h.run(rec);
  await runPipeline(h.deps, run);
  t.equal(h.kommo.count('completeTask'), 2, 'both open tasks completed');
  const again = h.run({ ...run.record, steps: { ...run.record.steps, tasks_completed: [run.record.steps.tasks_completed![0]!], tasks_completed_done: false } });
  h.kommo.tasks[1]!.body = { ...h.kommo.tasks[1]!.body, is_completed: false };
  await runPipeline(h.deps, again);
  t.equal(h.kommo.count('completeTask'), 3, 'only the one not journalled is completed again');
});

t.test('hook 8 may keep the task open or change the result text', async (t) => {
  const keep = harness();
  keep.kommo.seedContact({ phones: [PHONE] });
  keep.hooks.on('process_task_creation_params', (input, defaults) => (input.action === 'complete' ? { ...defaults, is_completed: false } : defaults));
  await runPipeline(keep.deps, keep.run(newRecord(missed())));
  await runPipeline(keep.deps, keep.run(newRecord(answered())));
  t.equal(keep.kommo.count('completeTask'), 0, 'left open');

  const text = harness();
  text.kommo.seedContact({ phones: [PHONE] });
  text.hooks.on('process_task_creation_params', (input, defaults) => (input.action === 'complete' ? { ...defaults, result_text: 'Spoke to them' } : defaults));
  await runPipeline(text.deps, text.run(newRecord(missed())));
  await runPipeline(text.deps, text.run(newRecord(answered())));
  t.match(text.kommo.tasks[0]!.body.result, { text: 'Spoke to them' });
});

t.test('auto_complete off: two missed calls → two tasks, an answered call looks for none', async (t) => {
  const h = harness({ config: settings({ registration: { tasks: { enabled: true, deadline_minutes: 60, task_type_id: 1, auto_complete: false, auto_complete_window_hours: 72 } } }) });
  h.kommo.seedContact({ phones: [PHONE] });
  await runPipeline(h.deps, h.run(newRecord(missed())));
  await runPipeline(h.deps, h.run(newRecord(missed())));
  t.equal(h.kommo.tasks.length, 2);
  const before = h.kommo.count('listTasks');
  await runPipeline(h.deps, h.run(newRecord(answered())));
  t.equal(h.kommo.count('listTasks'), before, 'no look');
  t.equal(h.kommo.count('completeTask'), 0);
});

t.test('isOpenCallBack: type, window and state must all say so', async (t) => {
  const since = 1_000_000;
  t.ok(isOpenCallBack({ id: 1, task_type_id: 1, created_at: since, is_completed: false }, 1, since));
  t.notOk(isOpenCallBack({ id: 1, task_type_id: 2, created_at: since, is_completed: false }, 1, since), 'another type');
  t.notOk(isOpenCallBack({ id: 1, task_type_id: 1, created_at: since - 1, is_completed: false }, 1, since), 'older than the window');
  t.notOk(isOpenCallBack({ id: 1, task_type_id: 1, created_at: since, is_completed: true }, 1, since), 'completed');
  t.notOk(isOpenCallBack({ id: 1, task_type_id: 1 }, 1, since), 'no creation time: not ours to close');
});
