// process_task_creation_params — the call-back task for a missed call.
// Activate: copy to process_task_creation_params.mjs.
//
// Deadline: the end of the working day (18:00 in the PBX's time zone); a call missed
// after 17:00 is due by 12:00 the next day. The text says which line was called.

const END_OF_DAY_HOUR = 18;
const LATE_HOUR = 17;

function deadline(now) {
  const due = new Date(now);
  if (due.getHours() >= LATE_HOUR) {
    due.setDate(due.getDate() + 1);
    due.setHours(12, 0, 0, 0);
  } else {
    due.setHours(END_OF_DAY_HOUR, 0, 0, 0);
  }
  return Math.floor(due.getTime() / 1000);
}

export default function processTaskCreationParams({ call_full, params }) {
  const trunk = call_full.channel.trunk;
  const line = trunk.name || trunk.number;
  return {
    state: 'success',
    data: {
      ...params,
      complete_till: deadline(Date.now()),
      text: line ? `${params.text} (line ${line})` : params.text,
    },
  };
}
