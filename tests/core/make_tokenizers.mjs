// Real Llama vocabularies as Hugging Face tokenizer.json files, and their reference encodings.
//
// The npm packages llama3-tokenizer-js and llama-tokenizer-js ship Llama 3's (128,256 tokens)
// and Llama 2's (32,000 tokens, SentencePiece BPE) vocabularies and merges with their own
// encoders. This script writes them in the layout the hub's repositories use:
//   llama3/            tokenizer.json: Split (Llama 3's pattern) + ByteLevel, ignore_merges
//   qwen2/             the same vocabulary under Qwen2's pattern (single digits) and NFC
//   llama2/            tokenizer.json: Prepend + Replace normalizer, byte_fallback BPE
//   llama2-metaspace/  the same vocabulary behind a Metaspace pre-tokenizer (prepend_scheme first,
//                      split false, as Mistral's files have it)
// each with a tokenizer_config.json, then encodes each TEXT_FILE with @huggingface/tokenizers
// (the tokenizers library's semantics in JavaScript) and checks that the package's own encoder
// agrees on the first. It prints {"llama3": [[ids of file 1], ...], "qwen2": ..., "llama2": ...,
// "llama2-metaspace": ...}. A file named *.bytelevel.txt is encoded by the byte-level fixtures
// only (null for the others: the JavaScript SentencePiece-style BPE is slow on megabytes).
//
// usage: NODE_PATH=<node_modules> node make_tokenizers.mjs OUT_DIR TEXT_FILE [TEXT_FILE...]
import fs from 'fs';
import path from 'path';
import { createRequire } from 'module';

const require = createRequire(import.meta.url);
const modules = process.env.NODE_PATH;
const load = async (name, file) => import(path.join(modules, name, file));

const { Tokenizer } = require(path.join(modules, '@huggingface/tokenizers'));
const llama3 = (await load('llama3-tokenizer-js', 'bundle/llama3-tokenizer-with-baked-data.js')).default;
const llama2 = (await load('llama-tokenizer-js', 'llama-tokenizer.js')).default;

const [outDir, ...textFiles] = process.argv.slice(2);
const texts = textFiles.map((f) => fs.readFileSync(f, 'utf-8'));
const text = texts[0];

// Merges in rank order from a package's Map("a b" -> priority).
const mergesOf = (map) => [...map.entries()].sort((a, b) => a[1] - b[1]).map(([m]) => m);

const LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

function byteLevelJson(pattern, firstSpecial, normalizer) {
  const vocab = {};
  const added = [];
  llama3.vocabById.forEach((t, id) => {
    if (id < firstSpecial) vocab[t] = id;
    else added.push({ id, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  });
  return {
    version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer,
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] },
    post_processor: { type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
             { SpecialToken: { id: '<|begin_of_text|>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [firstSpecial], tokens: ['<|begin_of_text|>'] } } },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
             fuse_unk: false, byte_fallback: false, ignore_merges: true, vocab, merges: mergesOf(llama3.merges) },
  };
}

function sentencePieceJson(metaspace) {
  const vocab = {};
  llama2.vocabById.forEach((t, id) => { vocab[t] = id; });
  const added = ['<unk>', '<s>', '</s>'].map((content, id) => (
    { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  return {
    version: '1.0', truncation: null, padding: null, added_tokens: added,
    normalizer: metaspace ? null : { type: 'Sequence', normalizers: [
      { type: 'Prepend', prepend: '\u2581' }, { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }] },
    pre_tokenizer: metaspace ? { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false } : null,
    post_processor: { type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
             { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } } },
    decoder: metaspace ? { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false }
      : { type: 'Sequence', decoders: [
        { type: 'Replace', pattern: { String: '\u2581' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
             fuse_unk: true, byte_fallback: true, vocab, merges: mergesOf(llama2.merges) },
  };
}

const configs = {
  llama3: { bos_token: '<|begin_of_text|>', eos_token: '<|end_of_text|>', tokenizer_class: 'PreTrainedTokenizerFast' },
  llama2: { add_bos_token: true, add_eos_token: false, bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>',
            pad_token: null, tokenizer_class: 'LlamaTokenizer', legacy: false },
};
const fixtures = {
  llama3: [byteLevelJson(LLAMA3_PATTERN, 128000, null), configs.llama3],
  qwen2: [byteLevelJson(QWEN2_PATTERN, 128000, { type: 'NFC' }), configs.llama3],
  llama2: [sentencePieceJson(false), configs.llama2],
  'llama2-metaspace': [sentencePieceJson(true), configs.llama2],
};

const out = {};
for (const [name, [json, config]] of Object.entries(fixtures)) {
  const dir = path.join(outDir, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(config, null, 2));
  const tokenizer = new Tokenizer(json, config);
  const byteLevel = json.pre_tokenizer && json.pre_tokenizer.type === 'Sequence';
  out[name] = texts.map((t, i) => (textFiles[i].endsWith('.bytelevel.txt') && !byteLevel ? null
    : tokenizer.encode(t, { add_special_tokens: false }).ids));
}

// The packages' own encoders, an independent check of the files written above.
const agree = (name, ids) => {
  const ref = out[name][0];
  if (ids.length !== ref.length || ids.some((v, i) => v !== ref[i])) {
    const at = ids.findIndex((v, i) => v !== ref[i]);
    process.stderr.write(`${name}: @huggingface/tokenizers and the package's encoder disagree at ${at}\n`);
    process.exit(1);
  }
};
agree('llama3', llama3.encode(text, { bos: false, eos: false }));
agree('llama2', llama2.encode(text, false, true));
process.stdout.write(JSON.stringify(out));
