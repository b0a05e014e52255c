import test from 'ava';
import { encode } from 'flatbuffers/mjs/flexbuffers.js';
import { KilnError } from '../../shared/common/errors.js';
import { readFlexMap } from '../../shared/toolchain/tflite/flex-map.js';

test('custom options map (64-bit wide here, as 0.3 needs a double): ints, floats (0.0 included), bools; absent keys are undefined', (t) => {
  const m = readFlexMap(
    encode({
      max_detections: 10,
      nms_score_threshold: 0.0,
      nms_iou_threshold: 0.3,
      y_scale: 10.1,
      use_regular_nms: true,
      big: 2 ** 40,
    }),
  );
  t.is(m.scalar('max_detections'), 10);
  t.is(m.scalar('nms_score_threshold'), 0);
  t.is(m.scalar('y_scale'), 10.1);
  t.is(m.scalar('nms_iou_threshold'), 0.3);
  t.is(m.scalar('use_regular_nms'), true);
  t.is(m.scalar('big'), 2 ** 40);
  t.is(m.scalar('num_classes'), undefined);
  t.is(m.get('num_classes'), undefined);
  t.deepEqual(m.get('max_detections')?.isInt(), true);
});

test('strings in a custom options map', (t) => {
  const m = readFlexMap(encode({ name: 'ssd', n: 2 }));
  t.is(m.scalar('name'), 'ssd');
  t.is(m.scalar('n'), 2);
});

test('bytes that are not a FlexBuffers map are refused as malformed custom options', (t) => {
  for (const bytes of [new Uint8Array([1, 2]), encode([1, 2, 3]), encode(7)]) {
    const e = t.throws(() => readFlexMap(bytes), { instanceOf: KilnError });
    t.is(e?.code, 'E_TFLITE_MALFORMED');
    t.regex(e!.message, /not a valid FlexBuffers map/);
  }
  // a map whose offsets point past the start of the buffer
  const cut = encode({ a: 1, b: 'two' }).slice(6);
  t.throws(() => readFlexMap(cut).scalar('a'), { instanceOf: KilnError, message: /not a valid FlexBuffers map/ });
});
