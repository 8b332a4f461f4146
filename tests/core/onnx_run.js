// Runs an ONNX model in onnxruntime-node: node onnx_run.js MODEL.onnx TOKENS.json
// TOKENS.json: [[ids of row 0], [ids of row 1], ...]. Prints {"dims": [...], "logits": [...]}
// (logits flattened, row-major) as JSON on standard output; exits 1 with the error otherwise.
const fs = require('fs');
const ort = require('onnxruntime-node');

(async () => {
  const [model, tokensFile] = process.argv.slice(2);
  const rows = JSON.parse(fs.readFileSync(tokensFile, 'utf8'));
  const B = rows.length, T = rows[0].length;
  const ids = BigInt64Array.from(rows.flat().map(BigInt));
  const session = await ort.InferenceSession.create(model);
  const out = await session.run({input_ids: new ort.Tensor('int64', ids, [B, T])});
  process.stdout.write(JSON.stringify({dims: out.logits.dims, logits: Array.from(out.logits.data)}));
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
