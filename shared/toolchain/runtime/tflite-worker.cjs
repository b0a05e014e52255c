'use strict';
// Child process that hosts the real TensorFlow Lite runtime (npm tfjs-tflite-node). A bad model can crash native
// code, so it never runs inside a Kiln process. Protocol (IPC, advanced serialization):
//   {type:'load', model: Uint8Array, threads} → {type:'loaded', inputs:[info], outputs:[info]} | {type:'error', message}
//   {type:'run', inputs: Uint8Array[]}        → {type:'result', outputs:[{...info, bytes: Uint8Array}]} | {type:'error'}
const path = require('node:path');

let binding;
let interpreter;

function info(t) {
  return {
    name: t.name,
    dtype: t.dataType,
    shape: String(t.shape)
      .split(',')
      .filter((s) => s !== '')
      .map(Number),
  };
}

function bytesOf(typed) {
  return new Uint8Array(typed.buffer.slice(typed.byteOffset, typed.byteOffset + typed.byteLength));
}

process.on('message', (msg) => {
  try {
    if (msg.type === 'load') {
      if (!binding) {
        const pkg = path.dirname(require.resolve('tfjs-tflite-node/package.json'));
        binding = require(path.join(pkg, 'build', 'Release', 'node_tflite_binding.node'));
      }
      const m = msg.model;
      // The binding wants an ArrayBuffer holding exactly the file's bytes.
      const ab = m.buffer.slice(m.byteOffset, m.byteOffset + m.byteLength);
      interpreter = new binding.Interpreter(ab, { threads: msg.threads ?? 1 });
      process.send({
        type: 'loaded',
        inputs: interpreter.getInputs().map(info),
        outputs: interpreter.getOutputs().map(info),
      });
    } else if (msg.type === 'run') {
      const ins = interpreter.getInputs();
      if (msg.inputs.length !== ins.length) throw new Error(`model has ${ins.length} inputs, got ${msg.inputs.length}`);
      ins.forEach((t, i) => {
        const dst = t.data();
        const src = msg.inputs[i];
        if (src.byteLength !== dst.byteLength) {
          throw new Error(`input ${i} (${t.name}) needs ${dst.byteLength} bytes, got ${src.byteLength}`);
        }
        new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength).set(src);
      });
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      if (!interpreter.infer()) throw new Error('TFLite Invoke() failed');
      const inferMs = performance.now() - t0;
      const c1 = process.cpuUsage(c0);
      const inferCpuMs = (c1.user + c1.system) / 1000;
      const outputs = interpreter.getOutputs().map((t) => ({ ...info(t), bytes: bytesOf(t.data()) }));
      process.send({ type: 'result', outputs, inferMs, inferCpuMs });
    }
  } catch (e) {
    process.send({ type: 'error', message: String((e && e.message) || e) });
  }
});
process.on('disconnect', () => process.exit(0));
