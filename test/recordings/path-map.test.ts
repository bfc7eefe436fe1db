import t from 'tap';
import { mapAsteriskPath } from '../../lib/domain/recordings/path-map.js';

t.test('paths under asterisk_dir move under dir; others are unchanged', async (t) => {
  t.equal(mapAsteriskPath('/tmp/ka-1/recordings/a.wav', '/tmp/ka-1/recordings', '/root/x/recordings'), '/root/x/recordings/a.wav');
  t.equal(mapAsteriskPath('/tmp/ka-1/recordings/sub/b.wav', '/tmp/ka-1/recordings/', '/r'), '/r/sub/b.wav');
  t.equal(mapAsteriskPath('/tmp/ka-1/recordingsX/a.wav', '/tmp/ka-1/recordings', '/r'), '/tmp/ka-1/recordingsX/a.wav', 'a sibling prefix is not a match');
  t.equal(mapAsteriskPath('/other/a.wav', '/tmp/ka-1/recordings', '/r'), '/other/a.wav');
  t.equal(mapAsteriskPath('/tmp/ka-1/recordings/../../etc/passwd', '/tmp/ka-1/recordings', '/r'), '/tmp/ka-1/recordings/../../etc/passwd', 'climbing out is not mapped (and is refused later)');
  t.equal(mapAsteriskPath('/x/a.wav', undefined, '/r'), '/x/a.wav', 'no mapping configured');
});
